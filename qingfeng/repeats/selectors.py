"""Reads from the repeat index: the earlier cases about the same matter, ranked, with reasons."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise

from qingfeng.cases.choices import DisposalWay, InquiryOutcome, Status, Substantiation
from qingfeng.cases.models import Case, CaseAccess, ReportedParty, Reporter
from qingfeng.offices.models import Office
from qingfeng.repeats import embedding
from qingfeng.repeats.models import RepeatBand, RepeatDoc, RepeatPersonKey
from qingfeng.repeats.normalize import (
    JACCARD_CHARS,
    case_text,
    gram_array,
    jaccard,
    shingles,
    stored_reporter_hashes,
)
from qingfeng.repeats.scoring import (
    Evidence,
    Query,
    Signals,
    build_query,
    compare,
    judge,
    threshold,
    title_text,
    weigh,
)
from qingfeng.repeats.vectors import vector_index

# How many proposals each source contributes before exact scoring, for the default 10 shown;
# a larger `limit` takes more (_Pools). Identity and party proposals are the newest, and rank by
# recency among themselves, so a couple beyond the shown do; band proposals come in coarse
# steps (shared bands out of 10), and vector proposals in the int8 index's order, a few places
# off the exact one, so those take more. Measured at 1M cases against pools of 20/20/20/15:
# the same top 10 for 189 of 200 queries (the rest swap near-equal copies of one text), the same
# top 5 for 196, for a tenth less CPU at the median and a fifth less at p95.
POOL_BANDS = 20
BAND_ROWS_CAP = 200
POOL_VECTORS = 15
POOL_IDENTITY = 12
POOL_PARTY = 10
_TEXT_CHARS = 1200
# Below this, a proposal with neither the same reporter nor the same reported party is noise.
MIN_SCORE = 0.2
_SCAN_CAP = 500
# The vector index's approximate cosine (int8) was measured up to 0.03 below the exact one.
_QUANTISATION_SLACK = 0.05


@dataclass
class Candidate:
    """An earlier case that may be about the same matter.

    `restricted` candidates belong to an office the viewer cannot see and matched only through
    the reporter's own earlier reports: only the number and holding office are given.
    """

    case_id: int
    case_number: str
    holding_office: str
    score: float
    flag: bool
    reasons: list[str]
    signals: list[str] = field(default_factory=list)
    restricted: bool = False
    external_id: str | None = None
    title: str = ""
    received_at: datetime | None = None
    status: str = ""
    disposal_way: str = ""
    inquiry_outcome: str = ""
    substantiation: str = ""
    conclusion: str = ""
    problem_solved: bool | None = None
    satisfaction: int | None = None
    text_similarity: float | None = None
    semantic_similarity: float | None = None

    @property
    def status_label(self) -> str:
        return str(_STATUS_LABELS.get(self.status, self.status))

    @property
    def disposal_label(self) -> str:
        return str(_DISPOSAL_LABELS.get(self.disposal_way, ""))

    @property
    def outcome_label(self) -> str:
        return str(_SUBSTANTIATION_LABELS.get(self.substantiation) or _INQUIRY_LABELS.get(self.inquiry_outcome, ""))


# Value -> lazy label, made once: every candidate shown is labelled (str() translates it then).
_STATUS_LABELS: dict[str, str | Promise] = dict(Status.choices)
_DISPOSAL_LABELS: dict[str, str | Promise] = dict(DisposalWay.choices)
_SUBSTANTIATION_LABELS: dict[str, str | Promise] = dict(Substantiation.choices)
_INQUIRY_LABELS: dict[str, str | Promise] = dict(InquiryOutcome.choices)


# The lookups below are plain SQL (portable between SQLite and PostgreSQL): on a lookup of a
# few milliseconds, compiling six ORM querysets cost more than running them.


def _in(values: Iterable[Any]) -> tuple[str, list[Any]]:
    items = list(values)
    return ", ".join(["%s"] * len(items)), items


def _rows(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _newest(ids: Iterable[int], n: int) -> set[int]:
    """The n highest (newest) of these case ids."""
    return set(sorted(set(ids), reverse=True)[:n])


def _t(model: type[Any]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@dataclass(frozen=True)
class _Pools:
    bands: int
    vectors: int
    identity: int
    party: int

    @classmethod
    def for_limit(cls, limit: int) -> _Pools:
        return cls(
            bands=max(POOL_BANDS, 2 * limit),
            vectors=max(POOL_VECTORS, limit + 5),
            identity=max(POOL_IDENTITY, limit + 2),
            party=max(POOL_PARTY, limit),
        )


def _proposals(q: Query, exclude: int | None, pools: _Pools) -> tuple[set[int], set[int], set[int]]:
    """Case ids proposed by every source, those linked to the reporter's person cluster, and
    those proposed by anything but the vector index.

    The database sources go out as one statement, each part tagged with its source: on a
    registration, four round trips had cost more than the lookups themselves.
    """
    parts: list[tuple[str, str, list[Any]]] = []
    if q.bands:
        # At most BAND_ROWS_CAP rows per band, the newest: a band thousands of cases share (a
        # boilerplate phrase) says little and would make one lookup count them all (measured
        # 18 ms at 1M cases against 1 ms typical). A real near-duplicate shares most bands, so
        # the rarer ones still bring it in.
        table = _t(RepeatBand)
        bands = [
            f"SELECT case_id FROM (SELECT case_id FROM {table} WHERE band = %s "
            f"ORDER BY case_id DESC LIMIT {BAND_ROWS_CAP}) AS b{i}"
            for i in range(len(q.bands))
        ]
        sql = (
            f"SELECT case_id FROM ({' UNION ALL '.join(bands)}) AS hits "
            f"GROUP BY case_id ORDER BY COUNT(*) DESC, case_id DESC LIMIT {pools.bands}"
        )
        parts.append(("band", sql, list(q.bands)))
    r = q.reporter
    where: list[str] = []
    params: list[Any] = []
    if r.phones:
        marks, phones = _in(r.phones)
        where += [f"phone_hash IN ({marks})", f"phone2_hash IN ({marks})"]
        params += phones + phones
    if r.id_number:
        where.append("id_number_hash = %s")
        params.append(r.id_number)
    # Identity and cluster rows come unordered and capped, the newest picked here: sorting in
    # the database would let a planner walk the primary key backwards and filter, a full scan
    # when a phone has few reports; an unordered indexed lookup is bounded instead.
    if where:
        parts.append(
            ("identity", f"SELECT case_id FROM {_t(Reporter)} WHERE {' OR '.join(where)} LIMIT {_SCAN_CAP}", params)
        )
    if r.identity_keys:
        marks, keys = _in(r.identity_keys)
        sql = (
            f"SELECT case_id FROM {_t(RepeatDoc)} WHERE reporter_key IN "
            f"(SELECT person_id FROM {_t(RepeatPersonKey)} WHERE {connection.ops.quote_name('key')} IN ({marks})) "
            f"LIMIT {_SCAN_CAP}"
        )
        parts.append(("cluster", sql, keys))
    if q.party_keys:
        # Each key's newest cases straight off its (match_key, case) index: a common name's
        # thousands of rows are never read.
        keys = list(q.party_keys)
        party = [
            f"SELECT case_id FROM (SELECT case_id FROM {_t(ReportedParty)} WHERE match_key = %s "
            f"ORDER BY case_id DESC LIMIT {pools.party}) AS p{i}"
            for i in range(len(keys))
        ]
        parts.append(("party", " UNION ALL ".join(party), keys))
    found: dict[str, list[int]] = defaultdict(list)
    if parts:
        sql = " UNION ALL ".join(
            f"SELECT {i} AS source, case_id FROM ({part}) AS s{i}" for i, (_name, part, _p) in enumerate(parts)
        )
        for source, case_id in _rows(sql, [v for _name, _part, p in parts for v in p]):
            found[parts[source][0]].append(case_id)
    pool: set[int] = set(found["band"])
    pool |= _newest(found["identity"], pools.identity)
    cluster = _newest(found["cluster"], pools.identity)
    pool |= cluster
    pool |= _newest(found["party"], pools.party)
    strong = set(pool)
    if q.vector is not None:
        # Far neighbours would be read from the database only to be dropped below COS_FLOOR.
        floor = threshold("COS_FLOOR") - _QUANTISATION_SLACK
        pool.update(key for key, sim in vector_index.search_scored(q.vector, pools.vectors) if sim >= floor)
    pool.discard(exclude)  # type: ignore[arg-type]
    return pool, cluster, strong


_CASE_COLUMNS = (
    "pk",
    "number",
    "external_id",
    "title",
    "received_at",
    "status",
    "disposal_way",
    "inquiry_outcome",
    "substantiation",
    "conclusion",
    "problem_solved",
    "satisfaction",
    "region_code",
    "desc_head",
    "holding_office",
    "name_hash",
    "phone_hash",
    "phone2_hash",
    "id_number_hash",
    "vector",
    "vector_model",
    "visible",
)


def _case_rows(ids: list[int], viewer_office: Office | None) -> dict[int, dict[str, Any]]:
    """What scoring and display need of each proposed case, in one query."""
    marks, params = _in(ids)
    if viewer_office is None:
        visible = "1"
        head: list[Any] = []
    else:
        visible = (
            f"CASE WHEN EXISTS (SELECT 1 FROM {_t(CaseAccess)} a WHERE a.case_id = c.id AND a.office_id = %s "
            "AND NOT a.hidden) THEN 1 ELSE 0 END"
        )
        head = [viewer_office.pk]
    sql = (
        "SELECT c.id, c.number, c.external_id, c.title, c.received_at, c.status, c.disposal_way, "
        "c.inquiry_outcome, c.substantiation, c.conclusion, c.problem_solved, c.satisfaction, c.region_code, "
        f"SUBSTR(c.description, 1, {_TEXT_CHARS}), o.name, r.name_hash, r.phone_hash, r.phone2_hash, "
        f"r.id_number_hash, d.vector, d.vector_model, {visible} "
        f"FROM {_t(Case)} c JOIN {_t(Office)} o ON o.id = c.holding_office_id "
        f"LEFT JOIN {_t(Reporter)} r ON r.case_id = c.id LEFT JOIN {_t(RepeatDoc)} d ON d.case_id = c.id "
        f"WHERE c.id IN ({marks})"
    )
    out = {}
    for row in _rows(sql, head + params):
        rec = dict(zip(_CASE_COLUMNS, row, strict=True))
        rec["received_at"] = _datetime(rec["received_at"])
        if rec["problem_solved"] is not None:
            rec["problem_solved"] = bool(rec["problem_solved"])
        out[rec["pk"]] = rec
    return out


def _datetime(value: Any) -> datetime | None:
    """A timestamp column as the ORM would give it (SQLite hands back naive UTC, maybe as text)."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is not None and settings.USE_TZ and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def find_repeat_candidates(
    *,
    title: str,
    description: str,
    reporter: Mapping[str, str | None] | None,
    parties: Iterable[Mapping[str, str]] | None,
    region_code: str,
    viewer_office: Office | None,
    exclude_case_id: int | None = None,
    limit: int = 10,
) -> list[Candidate]:
    """Earlier cases about the same matter as this report, best first.

    `reporter` holds the form's plaintext name/phone/phone2/id_number (hashed here, never
    stored); `parties` holds dicts of kind, name and unit. A viewer office sees full details
    of the cases it has access to; another office's case that matched through the reporter's
    own phone or ID number is given by number and holding office only; other cases of other
    offices are left out. `viewer_office=None` is unrestricted (batch tools).
    """
    q = build_query(title=title, description=description, reporter=reporter, parties=parties, region_code=region_code)
    return find_for_query(q=q, viewer_office=viewer_office, exclude_case_id=exclude_case_id, limit=limit)


def find_for_query(
    *, q: Query, viewer_office: Office | None, exclude_case_id: int | None, limit: int
) -> list[Candidate]:
    pool, cluster, strong = _proposals(q, exclude_case_id, _Pools.for_limit(limit))
    if not pool:
        return []
    ids = list(pool)
    cases = _case_rows(ids, viewer_office)
    party_keys: dict[int, list[str]] = defaultdict(list)
    if q.party_keys:
        # By case only, filtered here: given both conditions a planner may walk a common key's
        # thousands of rows (measured 6 ms) instead of the candidates' few.
        id_marks, id_params = _in(ids)
        for case_id, key in _rows(
            f"SELECT case_id, match_key FROM {_t(ReportedParty)} WHERE case_id IN ({id_marks})", id_params
        ):
            if key in q.party_keys:
                party_keys[case_id].append(key)

    cos_floor = threshold("COS_FLOOR")
    title_weighs = threshold("TITLE_WEIGHT") != 0
    tag = embedding.vector_tag()
    # Every candidate is weighed; only the ones shown get their reasons worded.
    weighed: list[tuple[tuple[float, float, int], dict[str, Any], Signals, Evidence]] = []
    for case_id, row in cases.items():
        hashes = stored_reporter_hashes(
            name_hash=row["name_hash"] or "",
            phone_hash=row["phone_hash"] or "",
            phone2_hash=row["phone2_hash"] or "",
            id_number_hash=row["id_number_hash"] or "",
        )
        vector = embedding.from_bytes(row["vector"]) if row["vector_model"] == tag else None
        if case_id not in strong and (vector is None or q.vector is None or float(vector @ q.vector) < cos_floor):
            continue  # only the vector index proposed it, and it is not close: skip the text work
        title = title_text(row["title"], row["desc_head"])
        signals = compare(
            q,
            cand_shingles=None,
            cand_grams=gram_array(case_text(row["title"], row["desc_head"]), max_chars=JACCARD_CHARS),
            # Without a title weight the title term only words a reason: computed for the shown ones.
            cand_title_shingles=shingles(title, max_chars=200) if title_weighs else None,
            cand_title=title,
            cand_vector=vector,
            cand_reporter=hashes,
            same_person=case_id in cluster,
            cand_party_keys=party_keys.get(case_id, ()),
            cand_region=row["region_code"],
        )
        ev = weigh(signals)
        if not (ev.score >= MIN_SCORE or signals.reporter_match or signals.party_match):
            continue
        if row["visible"]:
            received = row["received_at"]
            key = (-ev.score, -(received.timestamp() if received else 0), -case_id)
        elif signals.reporter_match:
            key = (-_RESTRICTED_SCORE, 0.0, -case_id)
        else:
            continue
        weighed.append((key, row, signals, ev))
    weighed.sort(key=lambda w: w[0])
    shown = weighed[:limit]
    if not title_weighs and q.title_shingles is not None:
        for _key, row, signals, _ev in shown:
            title = title_text(row["title"], row["desc_head"])
            signals.title_jaccard = jaccard(q.title_shingles, shingles(title, max_chars=200))
    return [_candidate(row, signals, ev) for _key, row, signals, ev in shown]


# The reporter's own earlier report elsewhere ranks as a bare identity match would.
_RESTRICTED_SCORE = 0.3


def _candidate(row: dict[str, Any], signals: Signals, ev: Evidence) -> Candidate:
    verdict = judge(signals, ev)
    if not row["visible"]:
        # The reporter's own earlier report elsewhere: say that it exists and where, no more.
        keep = {"same_id_number", "same_phone", "same_person"}
        return Candidate(
            case_id=row["pk"],
            case_number=row["number"],
            holding_office=row["holding_office"],
            score=_RESTRICTED_SCORE,
            flag=False,
            reasons=[t for c, t in zip(verdict.codes, verdict.reasons, strict=True) if c in keep],
            signals=[c for c in verdict.codes if c in keep],
            restricted=True,
        )
    return Candidate(
        case_id=row["pk"],
        case_number=row["number"],
        holding_office=row["holding_office"],
        score=verdict.score,
        flag=verdict.flag,
        reasons=verdict.reasons,
        signals=verdict.codes,
        external_id=row["external_id"],
        title=row["title"],
        received_at=row["received_at"],
        status=row["status"],
        disposal_way=row["disposal_way"],
        inquiry_outcome=row["inquiry_outcome"],
        substantiation=row["substantiation"],
        conclusion=row["conclusion"],
        problem_solved=row["problem_solved"],
        satisfaction=row["satisfaction"],
        text_similarity=round(signals.jaccard, 4),
        semantic_similarity=round(signals.cosine, 4) if signals.cosine is not None else None,
    )


def repeat_reporter_count(*, case_ids: Iterable[int] | QuerySet[Any, int]) -> int:
    """How many distinct persons reported these cases (for "by person" statistics).

    Reports linked by a phone or ID number count once; a report whose reporter left neither
    counts as its own person.
    """
    docs = RepeatDoc.objects.filter(case_id__in=case_ids)
    linked = docs.exclude(reporter_key=None).values("reporter_key").distinct().count()
    return linked + docs.filter(reporter_key=None).count()
