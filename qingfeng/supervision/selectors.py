"""Reads for supervision, always scoped by the reading (upper) office.

"Sent down" means: cases the office can see (a CaseAccess row, not hidden) whose holding
office is strictly below it in the tree. Every list is one query (plus a count for paging);
the per-case supervision facts come from correlated subqueries, never from a query per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, StrIndex, Substr
from django.utils import timezone

from qingfeng.cases.models import Case
from qingfeng.cases.selectors import cases_visible_to, deadline_q
from qingfeng.deadlines import rules
from qingfeng.deadlines.services import level_on
from qingfeng.offices.models import Office
from qingfeng.offices.selectors import path_range
from qingfeng.supervision.models import Chase, SupervisionMark

DEADLINE_FILTERS = ("none", "ok", "due_soon", "overdue", "serious")
ORDERINGS: dict[str, list] = {
    "next_due": [F("next_due").asc(nulls_last=True), "id"],
    "held_since": [F("held_since").asc(nulls_last=True), "id"],
    "-held_since": [F("held_since").desc(nulls_last=True), "-id"],
    "-received_at": ["-received_at", "-id"],
}
BOARD_GROUPINGS = ("child", "holder")


@dataclass
class SentDownFilters:
    status: list[str] = field(default_factory=list)
    deadline: str | None = None
    # True: only cases under an open supervision mark of the viewing office; False: only those without.
    supervised: bool | None = None
    # A part of the viewer's subtree: cases held by this office or below it.
    holding_office: Office | None = None
    q: str | None = None
    ordering: str = "next_due"


def sent_down_base(office: Office) -> QuerySet[Case]:
    """Cases the office can see that are held strictly below it."""
    low, high = path_range(office.path)
    return cases_visible_to(office).filter(holding_office__path__gt=low, holding_office__path__lt=high)


def _open_marks() -> QuerySet[SupervisionMark]:
    return SupervisionMark.objects.filter(case=OuterRef("pk"), closed_at__isnull=True)


def sent_down_cases(
    *, office: Office, filters: SentDownFilters | None = None, today: date | None = None
) -> QuerySet[Case]:
    """The sent-down list with holder, held_since, deadlines and supervision facts per case.

    Annotations: open_marks (open marks by any office), our_mark_id / our_mark_due (the
    viewer's open mark), last_chase_at / last_chase_seen_at (the latest chase by anyone).
    """
    f = filters or SentDownFilters()
    today = today or timezone.localdate()
    qs = sent_down_base(office)
    if f.status:
        qs = qs.filter(status__in=f.status)
    if f.deadline:
        qs = qs.filter(deadline_q(f.deadline, today))
    if f.holding_office is not None:
        low, high = path_range(f.holding_office.path)
        qs = qs.filter(holding_office__path__gte=low, holding_office__path__lt=high)
    if f.q:
        term = f.q.strip()
        qs = qs.filter(Q(number__startswith=term) | Q(title__icontains=term))
    ours = _open_marks().filter(office=office)
    if f.supervised is True:
        qs = qs.filter(Exists(ours))
    elif f.supervised is False:
        qs = qs.exclude(Exists(ours))
    latest_chase = Chase.objects.filter(case=OuterRef("pk")).order_by("-created_at", "-id")
    qs = qs.annotate(
        open_marks=Coalesce(
            Subquery(_open_marks().order_by().values("case").annotate(n=Count("pk")).values("n")[:1]),
            Value(0),
            output_field=IntegerField(),
        ),
        our_mark_id=Subquery(ours.values("pk")[:1]),
        our_mark_due=Subquery(ours.values("target_date")[:1]),
        last_chase_at=Subquery(latest_chase.values("created_at")[:1]),
        last_chase_seen_at=Subquery(latest_chase.values("seen_at")[:1]),
    )
    return qs.select_related("holding_office").order_by(*ORDERINGS.get(f.ordering, ORDERINGS["next_due"]))


@dataclass(frozen=True)
class DeadlineInfo:
    level: str  # none, ok, warn, overdue, serious
    label: str
    due: date | None
    days_late: int


def deadline_info(case: Case, today: date) -> DeadlineInfo:
    if case.next_due is None:
        return DeadlineInfo("none", "", None, 0)
    level = level_on(case, today).name
    label = str(rules.LABELS.get(case.next_due_kind, case.next_due_kind))
    return DeadlineInfo(level, label, case.next_due, max((today - case.next_due).days, 0))


def days_held(case: Case, today: date) -> int | None:
    if case.held_since is None:
        return None
    return max((today - timezone.localdate(case.held_since)).days, 0)


# --- the overdue board ----------------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    office: Office
    total: int  # overdue cases, seriously overdue included
    serious: int
    supervised: int  # of those, under the viewer's open supervision
    oldest_due: date
    today: date

    @property
    def overdue_only(self) -> int:
        return self.total - self.serious

    @property
    def max_days_late(self) -> int:
        return (self.today - self.oldest_due).days


def _child_code(office: Office) -> Substr:
    """The code of the viewer's direct child that contains the holder, cut from the holder's path.

    The holder's path is the viewer's path followed by "<child>/...", so the child code is the
    text between the end of the viewer's path and the next "/": plain SUBSTR/INSTR (STRPOS),
    grouped in the database on SQLite and PostgreSQL alike.
    """
    rest = Substr("holding_office__path", len(office.path) + 1)
    return Substr(rest, 1, StrIndex(rest, Value("/")) - 1, output_field=CharField())


def overdue_board(*, office: Office, today: date | None = None, by: str = "child") -> list[BoardRow]:
    """Overdue sent-down cases counted per lower office, worst first. Two queries.

    `by="child"` (the default) groups by the viewer's direct child office that contains the
    holder: the office the viewer supervises directly (a city sees its counties, each
    counting its sub-districts too). `by="holder"` groups by the holding office itself.
    Order: most seriously overdue, then most overdue, then the oldest due date, then the code.
    """
    today = today or timezone.localdate()
    if by not in BOARD_GROUPINGS:
        raise ValueError(by)
    key = _child_code(office) if by == "child" else F("holding_office__code")
    ours = _open_marks().filter(office=office)
    rows = list(
        sent_down_base(office)
        .filter(next_due__lt=today)
        .annotate(group=key)
        .values("group")
        .annotate(
            total=Count("pk"),
            serious=Count("pk", filter=Q(next_serious_on__lt=today)),
            supervised=Count("pk", filter=Q(Exists(ours))),
            oldest_due=Min("next_due"),
        )
        .order_by("-serious", "-total", "oldest_due", "group")
    )
    offices = {o.code: o for o in Office.objects.filter(code__in=[r["group"] for r in rows])}
    return [
        BoardRow(
            office=offices[r["group"]],
            total=r["total"],
            serious=r["serious"],
            supervised=r["supervised"],
            oldest_due=r["oldest_due"],
            today=today,
        )
        for r in rows
        if r["group"] in offices
    ]


# --- summaries and panels ---------------------------------------------------------------------


@dataclass(frozen=True)
class SentDownSummary:
    total: int
    overdue: int
    serious: int
    supervised: int
    chased_unseen: int


def sent_down_summary(*, office: Office, today: date | None = None) -> SentDownSummary:
    """Counts for the upper office's home panel, in one query."""
    today = today or timezone.localdate()
    unseen = Chase.objects.filter(case=OuterRef("pk"), office=office, seen_at__isnull=True)
    agg = sent_down_base(office).aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(next_due__lt=today)),
        serious=Count("pk", filter=Q(next_serious_on__lt=today)),
        supervised=Count("pk", filter=Q(Exists(_open_marks().filter(office=office)))),
        chased_unseen=Count("pk", filter=Q(Exists(unseen))),
    )
    return SentDownSummary(**{k: v or 0 for k, v in agg.items()})


def marks_on_held_cases(*, office: Office, limit: int = 10) -> QuerySet[SupervisionMark]:
    """Open supervision marks on the cases this office holds, the nearest target date first."""
    return (
        SupervisionMark.objects.filter(closed_at__isnull=True, case__holding_office=office)
        .select_related("case", "office")
        .order_by("target_date", "id")[:limit]
    )


def unseen_chases(*, office: Office, limit: int = 10) -> QuerySet[Chase]:
    """Chases aimed at this office that nobody there has acknowledged yet, newest first."""
    return (
        Chase.objects.filter(target_office=office, seen_at__isnull=True)
        .select_related("case", "office", "created_by")
        .order_by("-created_at", "-id")[:limit]
    )


def unseen_chase_count(*, office: Office) -> int:
    return Chase.objects.filter(target_office=office, seen_at__isnull=True).count()


def case_marks(case: Case) -> QuerySet[SupervisionMark]:
    """Every mark on the case, open ones first."""
    return (
        SupervisionMark.objects.filter(case=case)
        .select_related("office", "target_office", "created_by", "closed_by")
        .order_by(F("closed_at").desc(nulls_first=True), "-created_at", "-id")
    )


def case_chases(case: Case) -> QuerySet[Chase]:
    return (
        Chase.objects.filter(case=case)
        .select_related("office", "target_office", "created_by", "seen_by")
        .order_by("-created_at", "-id")
    )


def mark_is_overdue(mark: SupervisionMark, today: date) -> bool:
    return mark.closed_at is None and mark.target_date < today
