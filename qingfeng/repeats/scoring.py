"""Signals between a new report and one earlier case, and how they combine into score and flag.

`flag` means "same matter": it needs textual evidence (near-identical text, or reworded text
whose title agrees too, see DEFAULTS). Who reported it and whom it is about lower the bar for
near-identical text; a reporter's unrelated earlier report is listed (score below 0.5) but
never flagged.

The thresholds were tuned on a development part of the paraphrase sets and of the message
corpus's same-user pairs (benchmarks/repeats.py); settings may override them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from qingfeng.repeats import embedding, minhash
from qingfeng.repeats.normalize import (
    JACCARD_CHARS,
    ReporterHashes,
    case_text,
    gram_array,
    jaccard,
    jaccard_arrays,
    party_match_key,
    reporter_hashes,
    shingles,
)
from qingfeng.repeats.places import Places, place_names, places_differ

# Raw e5 cosine: unrelated Chinese complaints sit around 0.80-0.86, so similarity is shown
# rescaled from COS_FLOOR (0 %) to 1.0 (100 %).
DEFAULTS: dict[str, float] = {
    "COS_FLOOR": 0.88,
    # Reworded text is judged by cosine + TITLE_WEIGHT * title Jaccard against COS_FLAG, whether
    # or not the reports share a reporter or reported party (a shared reporter neither makes
    # close text one matter nor makes a re-ask less of one). Tuned on the tuning half of the
    # message board's labelled pairs, text alone (benchmarks/repeats.py quality --tune, 128
    # characters embedded): its same-user pairs without the user and its cross-user pairs.
    # Held-out F1 0.94 over both kinds (0.96 same-user, 0.90 cross-user).
    "COS_FLAG": 0.935,
    "COS_FLAG_LINKED": 0.935,
    "JAC_FLOOR": 0.05,
    "JAC_FLAG": 0.45,
    "JAC_FLAG_LINKED": 0.45,
    # Labelled from titles alone, the pairs had favoured a title term (weight 0.2 with 64
    # characters embedded). Labelled from both bodies, with 128 characters embedded, no weight
    # did better than none on the tuning half (0.947 at 0, 0.938 at 0.05-0.1, 0.929 at 0.3).
    "TITLE_WEIGHT": 0.0,
}

# Characters of the description that stand in for a missing title in the title term.
TITLE_STAND_IN_CHARS = 30


def title_text(title: str, description: str) -> str:
    """The title, or the opening of the description when there is none."""
    title = (title or "").strip()
    return title or (description or "").strip()[:TITLE_STAND_IN_CHARS]


_merged: tuple[object, dict[str, float]] | None = None
_NO_OVERRIDES: Mapping[str, float] = {}


def thresholds() -> dict[str, float]:
    """DEFAULTS with the REPEATS_THRESHOLDS overrides applied.

    Merged once per overrides object: a lookup judges dozens of candidates, and reading
    Django's settings for each threshold of each cost more than the judging itself.
    """
    global _merged
    overrides: Mapping[str, float] = getattr(settings, "REPEATS_THRESHOLDS", None) or _NO_OVERRIDES
    if _merged is None or _merged[0] is not overrides:
        _merged = (overrides, {k: float(overrides.get(k, v)) for k, v in DEFAULTS.items()})
    return _merged[1]


def threshold(name: str) -> float:
    return thresholds()[name]


@dataclass
class Query:
    text: str
    shingles: set[str]  # for the LSH bands
    cmp_shingles: set[str]  # for exact Jaccard (first JACCARD_CHARS characters)
    bands: list[int]
    vector: np.ndarray | None
    reporter: ReporterHashes
    party_keys: dict[str, str]  # match_key -> kind
    region_code: str
    # cmp_shingles packed for the database path (normalize.gram_array); same Jaccard, cheaper.
    cmp_grams: np.ndarray | None = None
    # shingles(title_text(...)): a title is short, and for a short text a set is the cheaper form.
    title_shingles: set[str] | None = None
    places: Places = field(default_factory=dict)  # place_names(title_text(...))


def build_query(
    *,
    title: str,
    description: str,
    reporter: Mapping[str, str | None] | None,
    parties: Iterable[Mapping[str, str]] | None,
    region_code: str,
    vector: np.ndarray | None = None,
    embed: bool = True,
) -> Query:
    text = case_text(title, description)
    sh = shingles(text)
    keys: dict[str, str] = {}
    for p in parties or ():
        key = party_match_key(p.get("name") or "", p.get("unit") or "")
        if key:
            keys[key] = p.get("kind") or "person"
    if vector is None and embed:
        vector = embedding.embed_case(title, description)
    head = title_text(title, description)
    return Query(
        text=text,
        shingles=sh,
        cmp_shingles=shingles(text, max_chars=JACCARD_CHARS),
        bands=minhash.bands(minhash.signature(sh)),
        vector=vector,
        reporter=reporter_hashes(reporter),
        party_keys=keys,
        region_code=(region_code or "").strip(),
        cmp_grams=gram_array(text, max_chars=JACCARD_CHARS),
        title_shingles=shingles(head, max_chars=200),
        places=place_names(head),
    )


@dataclass
class Signals:
    jaccard: float = 0.0
    cosine: float | None = None
    title_jaccard: float = 0.0
    same_id: bool = False
    same_phone: bool = False
    same_name: bool = False
    same_person: bool = False  # linked through earlier reports (person cluster)
    party_kinds: list[str] = field(default_factory=list)  # kinds of the shared reported parties
    party_name_only: bool = False
    same_region: bool = False
    same_county: bool = False
    other_place: bool = False  # close in meaning, but the titles name different places at one level
    other_region: bool = False  # the problem regions are in different counties (or cities, provinces)

    @property
    def reporter_match(self) -> bool:
        """The reporter's own earlier report: a shared phone or ID number, directly or via a cluster."""
        return self.same_id or self.same_phone or self.same_person

    @property
    def party_match(self) -> bool:
        return bool(self.party_kinds) and (not self.party_name_only or self.same_region)


def compare(
    q: Query,
    *,
    cand_shingles: set[str] | None,
    cand_vector: np.ndarray | None,
    cand_reporter: ReporterHashes,
    same_person: bool,
    cand_party_keys: Iterable[str],
    cand_region: str,
    cand_grams: np.ndarray | None = None,
    cand_title_shingles: set[str] | None = None,
    cand_places: Places | None = None,
    cand_title: str | None = None,
) -> Signals:
    """Signals between the query and one candidate; its text as a set (`cand_shingles`) or
    packed (`cand_grams`, against `q.cmp_grams`)."""
    s = Signals()
    if cand_grams is not None and q.cmp_grams is not None:
        s.jaccard = jaccard_arrays(q.cmp_grams, cand_grams)
    elif cand_shingles is not None:
        s.jaccard = jaccard(q.cmp_shingles, cand_shingles)
    if q.vector is not None and cand_vector is not None:
        s.cosine = float(np.dot(q.vector, cand_vector))
    if q.title_shingles is not None and cand_title_shingles is not None:
        s.title_jaccard = jaccard(q.title_shingles, cand_title_shingles)
    r = q.reporter
    s.same_id = bool(r.id_number) and r.id_number == cand_reporter.id_number
    s.same_phone = bool(set(r.phones) & set(cand_reporter.phones))
    s.same_name = bool(r.name) and r.name == cand_reporter.name
    s.same_person = same_person and not (s.same_id or s.same_phone)
    shared = [k for k in cand_party_keys if k in q.party_keys]
    s.party_kinds = sorted({q.party_keys[k] for k in shared})
    s.party_name_only = bool(shared) and all(k.endswith("|") for k in shared)
    region = q.region_code
    s.same_region = bool(region) and region == cand_region
    s.same_county = not s.same_region and len(region) >= 6 and region[:6] == (cand_region or "")[:6]
    s.other_region = regions_differ(region, cand_region or "")
    if q.places and s.cosine is not None and s.cosine >= threshold("COS_FLOOR"):
        # Only where meaning is close: the rule vetoes a semantic flag, and reading the
        # candidate's title for places (cand_title, when not read already) costs a few µs each.
        if cand_places is None and cand_title is not None:
            cand_places = place_names(cand_title)
        s.other_place = cand_places is not None and places_differ(q.places, cand_places)
    return s


def _down_to_county(code: str) -> str:
    """A region code cut to county level, a padded one ("410000", "410100") unpadded."""
    code = code.strip()[:6]
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code if code.isdigit() and len(code) % 2 == 0 else ""


def regions_differ(a: str, b: str) -> bool:
    """Different provinces, cities or counties at the level both codes reach (towns are not
    compared: two clerks may code one matter to different towns of its county)."""
    a, b = _down_to_county(a), _down_to_county(b)
    n = min(len(a), len(b))
    return n >= 2 and a[:n] != b[:n]


def _ramp(x: float, lo: float, thr: float, top: float = 1.0) -> float:
    """lo -> 0, thr -> 0.5, top -> 1, linear in between."""
    if x <= lo:
        return 0.0
    if x < thr:
        return 0.5 * (x - lo) / (thr - lo)
    return min(1.0, 0.5 + 0.5 * (x - thr) / max(1e-9, top - thr))


def semantic_percent(cosine: float, floor: float | None = None) -> int:
    floor = threshold("COS_FLOOR") if floor is None else floor
    return round(100 * max(0.0, min(1.0, (cosine - floor) / (1.0 - floor))))


@dataclass
class Verdict:
    score: float
    flag: bool
    reasons: list[str]
    codes: list[str]


@dataclass
class Evidence:
    score: float
    flag: bool
    text_ev: float
    semantic_ev: float


def weigh(s: Signals) -> Evidence:
    """Score and flag alone: a lookup weighs every candidate and words reasons for the shown ones."""
    th = thresholds()
    linked = s.reporter_match or s.party_match
    cos_thr = th["COS_FLAG_LINKED" if linked else "COS_FLAG"]
    jac_thr = th["JAC_FLAG_LINKED" if linked else "JAC_FLAG"]
    text_ev = _ramp(s.jaccard, th["JAC_FLOOR"], jac_thr)
    semantic_ev = 0.0
    if s.cosine is not None:
        weight = th["TITLE_WEIGHT"]
        semantic = s.cosine + weight * s.title_jaccard
        semantic_ev = _ramp(semantic, th["COS_FLOOR"], cos_thr, top=max(1.0 + weight, cos_thr + 0.01))
        if s.other_place or s.other_region:
            # The same kind of problem somewhere else: listed, never flagged on meaning alone.
            semantic_ev = min(semantic_ev, 0.49)
        text_ev = max(text_ev, semantic_ev)
    flag = text_ev >= 0.5
    # Without matching text, who and whom still say something: listed, never flagged.
    link_ev = 0.0
    if s.same_id or s.same_phone:
        link_ev += 0.3
    elif s.same_person:
        link_ev += 0.25
    if s.party_match:
        link_ev += 0.15
    if s.same_region:
        link_ev += 0.03
    # Same text plus same people ranks above same text alone; the bonus never crosses 0.5.
    score = max(text_ev, min(0.49, link_ev)) + 0.02 * linked + 0.01 * s.same_region
    score = min(1.0, score) if flag else min(0.499, score)
    return Evidence(score=round(score, 4), flag=flag, text_ev=text_ev, semantic_ev=semantic_ev)


def judge(s: Signals, evidence: Evidence | None = None) -> Verdict:
    ev = evidence or weigh(s)
    th = thresholds()
    text_ev, semantic_ev = ev.text_ev, ev.semantic_ev
    reasons: list[str] = []
    codes: list[str] = []

    def add(code: str, text: str) -> None:
        codes.append(code)
        reasons.append(text)

    if s.same_id:
        add("same_id_number", "same ID number")
    if s.same_phone:
        add("same_phone", "same phone")
    if s.same_person:
        add("same_person", "same reporter (linked through earlier reports)")
    if s.same_name and (s.reporter_match or text_ev >= 0.25):
        add("same_name", "same reporter name")
    if s.party_kinds:
        noun = "reported organisation" if s.party_kinds == ["organisation"] else "reported person"
        if s.party_name_only:
            add("same_party_name", f"same {noun} name")
        else:
            add("same_party", f"same {noun}")
    if s.jaccard >= 0.3:
        add("similar_text", f"text {round(100 * s.jaccard)}% similar")
    elif s.title_jaccard >= 0.5:
        add("similar_title", f"title {round(100 * s.title_jaccard)}% similar")
    if s.cosine is not None and semantic_ev >= 0.25:
        add("similar_meaning", f"meaning {semantic_percent(s.cosine, th['COS_FLOOR'])}% similar")
    if s.other_place:
        add("other_place", "the titles name different places")
    if s.other_region:
        add("other_region", "problem regions differ")
    if s.same_region:
        add("same_place", "same place")
    elif s.same_county:
        add("same_county", "same county")
    return Verdict(score=ev.score, flag=ev.flag, reasons=reasons, codes=codes)
