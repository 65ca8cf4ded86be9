"""Reads from the repeat index: the earlier cases about the same matter, ranked, with reasons."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Substr

from qingfeng.cases.choices import DisposalWay, InquiryOutcome, Status, Substantiation
from qingfeng.cases.models import Case, CaseAccess, ReportedParty, Reporter
from qingfeng.offices.models import Office
from qingfeng.repeats import embedding
from qingfeng.repeats.models import RepeatBand, RepeatDoc, RepeatPersonKey
from qingfeng.repeats.normalize import JACCARD_CHARS, case_text, shingles, stored_reporter_hashes
from qingfeng.repeats.scoring import Query, build_query, compare, judge, threshold
from qingfeng.repeats.vectors import vector_index

# How many proposals each source contributes before exact scoring.
POOL_BANDS = 20
POOL_VECTORS = 20
POOL_IDENTITY = 20
POOL_PARTY = 15
_TEXT_CHARS = 1200
# Below this, a proposal with neither the same reporter nor the same reported party is noise.
MIN_SCORE = 0.2
_SCAN_CAP = 500


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
        return str(Status(self.status).label) if self.status in Status.values else self.status

    @property
    def disposal_label(self) -> str:
        return str(DisposalWay(self.disposal_way).label) if self.disposal_way in DisposalWay.values else ""

    @property
    def outcome_label(self) -> str:
        if self.substantiation in Substantiation.values:
            return str(Substantiation(self.substantiation).label)
        if self.inquiry_outcome in InquiryOutcome.values:
            return str(InquiryOutcome(self.inquiry_outcome).label)
        return ""


def _newest(ids: QuerySet[Any, int], n: int) -> set[int]:
    """The n highest (newest) ids among at most _SCAN_CAP rows.

    Sorting in the database would let a planner walk the primary key backwards and filter,
    a full scan when a phone has few reports; an unordered indexed lookup is bounded instead.
    """
    return set(sorted(ids.order_by()[:_SCAN_CAP], reverse=True)[:n])


def _proposals(q: Query, exclude: int | None) -> tuple[set[int], set[int], set[int]]:
    """Case ids proposed by every source, those linked to the reporter's person cluster, and
    those proposed by anything but the vector index."""
    pool: set[int] = set()
    if q.bands:
        rows = (
            RepeatBand.objects.filter(band__in=q.bands)
            .values("case_id")
            .annotate(n=Count("id"))
            .order_by("-n", "-case_id")[:POOL_BANDS]
        )
        pool.update(r["case_id"] for r in rows)
    r = q.reporter
    ident = Q()
    if r.phones:
        ident |= Q(phone_hash__in=r.phones) | Q(phone2_hash__in=r.phones)
    if r.id_number:
        ident |= Q(id_number_hash=r.id_number)
    if ident:
        pool.update(_newest(Reporter.objects.filter(ident).values_list("case_id", flat=True), POOL_IDENTITY))
    cluster: set[int] = set()
    if r.identity_keys:
        persons = RepeatPersonKey.objects.filter(key__in=r.identity_keys).values("person_id")
        cluster = _newest(
            RepeatDoc.objects.filter(reporter_key__in=Subquery(persons)).values_list("case_id", flat=True),
            POOL_IDENTITY,
        )
        pool |= cluster
    if q.party_keys:
        keys = list(q.party_keys)
        pool.update(
            _newest(ReportedParty.objects.filter(match_key__in=keys).values_list("case_id", flat=True), POOL_PARTY)
        )
    strong = set(pool)
    if q.vector is not None:
        pool.update(vector_index.search(q.vector, POOL_VECTORS))
    pool.discard(exclude)  # type: ignore[arg-type]
    return pool, cluster, strong


_CASE_FIELDS = (
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
    "holding_office__name",
    "reporter__name_hash",
    "reporter__phone_hash",
    "reporter__phone2_hash",
    "reporter__id_number_hash",
)


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
    pool, cluster, strong = _proposals(q, exclude_case_id)
    if not pool:
        return []
    ids = list(pool)
    qs = Case.objects.filter(pk__in=ids).annotate(
        desc_head=Substr("description", 1, _TEXT_CHARS),
        vector=F("repeat_doc__vector"),
        vector_model=F("repeat_doc__vector_model"),
    )
    if viewer_office is not None:
        access = CaseAccess.objects.filter(case=OuterRef("pk"), office=viewer_office, hidden=False)
        qs = qs.annotate(visible=Exists(access))
    else:
        qs = qs.annotate(visible=Value(True, output_field=BooleanField()))
    cases = {row["pk"]: row for row in qs.values(*_CASE_FIELDS, "desc_head", "vector", "vector_model", "visible")}
    party_keys: dict[int, list[str]] = defaultdict(list)
    if q.party_keys:
        for case_id, key in ReportedParty.objects.filter(case_id__in=ids, match_key__in=list(q.party_keys)).values_list(
            "case_id", "match_key"
        ):
            party_keys[case_id].append(key)

    out: list[Candidate] = []
    for case_id, row in cases.items():
        hashes = stored_reporter_hashes(
            name_hash=row["reporter__name_hash"] or "",
            phone_hash=row["reporter__phone_hash"] or "",
            phone2_hash=row["reporter__phone2_hash"] or "",
            id_number_hash=row["reporter__id_number_hash"] or "",
        )
        vector = embedding.from_bytes(row["vector"]) if row["vector_model"] == embedding.MODEL_NAME else None
        if case_id not in strong and (
            vector is None or q.vector is None or float(vector @ q.vector) < threshold("COS_FLOOR")
        ):
            continue  # only the vector index proposed it, and it is not close: skip the text work
        signals = compare(
            q,
            cand_shingles=shingles(case_text(row["title"], row["desc_head"]), max_chars=JACCARD_CHARS),
            cand_vector=vector,
            cand_reporter=hashes,
            same_person=case_id in cluster,
            cand_party_keys=party_keys.get(case_id, ()),
            cand_region=row["region_code"],
        )
        verdict = judge(signals)
        if not (verdict.score >= MIN_SCORE or signals.reporter_match or signals.party_match):
            continue
        if not row["visible"]:
            if not signals.reporter_match:
                continue
            # The reporter's own earlier report elsewhere: say that it exists and where, no more.
            keep = {"same_id_number", "same_phone", "same_person"}
            out.append(
                Candidate(
                    case_id=case_id,
                    case_number=row["number"],
                    holding_office=row["holding_office__name"],
                    score=0.3,
                    flag=False,
                    reasons=[t for c, t in zip(verdict.codes, verdict.reasons, strict=True) if c in keep],
                    signals=[c for c in verdict.codes if c in keep],
                    restricted=True,
                )
            )
            continue
        out.append(
            Candidate(
                case_id=case_id,
                case_number=row["number"],
                holding_office=row["holding_office__name"],
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
        )
    out.sort(key=lambda c: (-c.score, -(c.received_at.timestamp() if c.received_at else 0), -c.case_id))
    return out[:limit]


def repeat_reporter_count(*, case_ids: Iterable[int] | QuerySet[Any, int]) -> int:
    """How many distinct persons reported these cases (for "by person" statistics).

    Reports linked by a phone or ID number count once; a report whose reporter left neither
    counts as its own person.
    """
    docs = RepeatDoc.objects.filter(case_id__in=case_ids)
    linked = docs.exclude(reporter_key=None).values("reporter_key").distinct().count()
    return linked + docs.filter(reporter_key=None).count()
