"""Reads of cases, always scoped by the reading office."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qingfeng.accounts.models import User
from qingfeng.cases.models import Case, CaseAccess, CaseEvent
from qingfeng.core.errors import NotFound
from qingfeng.core.text import query_terms
from qingfeng.offices.models import Office
from qingfeng.offices.selectors import path_range


def cases_visible_to(office: Office) -> QuerySet[Case]:
    """Cases an office may read: those it holds or has held and sent on, unless hidden from it."""
    return Case.objects.filter(Exists(CaseAccess.objects.filter(case_id=OuterRef("pk"), office=office, hidden=False)))


def case_can_view(*, office: Office | None, case: Case) -> bool:
    if office is None:
        return False
    return CaseAccess.objects.filter(case=case, office=office, hidden=False).exists()


def case_get_for_user(*, user: User, number: str) -> Case:
    """The case with this number if the user's office may read it; otherwise NotFound.

    An office that may not read a case learns nothing, not even that the number exists.
    """
    case = Case.objects.select_related("holding_office", "received_office", "repeat_of").filter(number=number).first()
    if case is None or not case_can_view(office=user.office, case=case):
        raise NotFound(_("No case %(number)s is visible to your office.") % {"number": number})
    return case


DEADLINE_STATUSES = ("none", "ok", "due_soon", "overdue", "serious")


@dataclass
class CaseFilters:
    status: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    item_type: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    category: str | None = None
    region: str | None = None
    holding_office: Office | None = None  # a part of the subtree: this office and below
    deadline: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    q: str | None = None
    is_repeat: bool | None = None
    is_real_name: bool | None = None
    ordering: str = "-received_at"


ORDERINGS = {
    "-received_at": ["-received_at", "-id"],
    "received_at": ["received_at", "id"],
    "next_due": ["next_due", "id"],
    "-next_due": ["-next_due", "-id"],
    "number": ["number"],
    "-number": ["-number"],
    "status": ["status", "-received_at"],
}


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


# The office's own access row carries received_at (CaseAccess.received_at is the case's), so
# newest-first lists read the office's index range in order and stop after a page.
_BY_ACCESS = {
    "-received_at": ["-access__received_at", "-id"],
    "received_at": ["access__received_at", "id"],
}


def case_list(*, office: Office, filters: CaseFilters, today: date | None = None) -> QuerySet[Case]:
    # A join, not EXISTS: CaseAccess is unique per (case, office), so one row per case, and the
    # ordering below can come from the access row.
    qs = Case.objects.filter(access__office=office, access__hidden=False)
    if settings.IS_POSTGRES and (filters.q or filters.status or filters.deadline):
        # The office's cases by the GIN index over visible_to (migrations cases 0005, 0006), so
        # that a selective filter (full text, state, deadline) intersects two index bitmaps
        # instead of checking each case the office sees. It only narrows: the access row is
        # still checked above. Not without such a filter: the planner, taking the two
        # conditions for independent, would then expect a handful of rows and sort them all
        # rather than read the office's access rows in order and stop after a page.
        qs = qs.extra(where=["cases_case.visible_to @> ARRAY[%s]::bigint[]"], params=[office.pk])
    qs = _apply_filters(qs, filters, today or timezone.localdate())
    ordering = filters.ordering if filters.ordering in ORDERINGS else "-received_at"
    return qs.select_related("holding_office").order_by(*_BY_ACCESS.get(ordering, ORDERINGS[ordering]))


def _apply_filters(qs: QuerySet[Case], f: CaseFilters, today: date) -> QuerySet[Case]:
    if f.status:
        qs = qs.filter(status__in=f.status)
    if f.channel:
        qs = qs.filter(channel__in=f.channel)
    if f.item_type:
        qs = qs.filter(item_type__in=f.item_type)
    if f.source:
        qs = qs.filter(source__in=f.source)
    if f.category:
        # A category matches itself and everything below it in the tree.
        qs = qs.filter(
            Exists(
                Case.categories.through.objects.filter(
                    case_id=OuterRef("pk"), category__path__startswith=_category_path(f.category)
                )
            )
        )
    if f.region:
        qs = qs.filter(region_code__startswith=f.region)
    if f.holding_office is not None:
        low, high = path_range(f.holding_office.path)
        qs = qs.filter(holding_office__path__gte=low, holding_office__path__lt=high)
    if f.received_from:
        qs = qs.filter(received_at__gte=_day_start(f.received_from))
    if f.received_to:
        qs = qs.filter(received_at__lt=_day_start(f.received_to) + timedelta(days=1))
    if f.is_repeat is not None:
        qs = qs.filter(is_repeat=f.is_repeat)
    if f.is_real_name is not None:
        qs = qs.filter(is_real_name=f.is_real_name)
    if f.deadline:
        qs = qs.filter(deadline_q(f.deadline, today))
    if f.q:
        qs = _full_text(qs, f.q)
    return qs


def deadline_q(status: str, today: date) -> Q:
    if status == "none":
        return Q(next_due__isnull=True)
    if status == "ok":
        return Q(next_warn_on__gt=today)
    if status == "due_soon":
        return Q(next_warn_on__lte=today, next_due__gte=today)
    if status == "overdue":
        return Q(next_due__lt=today)
    if status == "serious":
        return Q(next_serious_on__lt=today)
    raise ValueError(status)


def _category_path(code: str) -> str:
    from qingfeng.cases.models import Category

    cat = Category.objects.filter(code=code).only("path").first()
    return cat.path if cat else "\x00no-such-category"


def _full_text(qs: QuerySet[Case], query: str) -> QuerySet[Case]:
    """Every jieba word of the query must be among the case's stored words (search_tokens)."""
    terms = query_terms(query)
    if not terms:
        return qs
    if settings.IS_POSTGRES:
        # Served by the GIN index on (to_tsvector('simple', search_tokens), visible_to) (migration cases 0006).
        lexemes = " & ".join("'" + t.replace("\\", "").replace("'", "''") + "'" for t in terms)
        return qs.extra(
            where=["to_tsvector('simple', cases_case.search_tokens) @@ to_tsquery('simple', %s)"], params=[lexemes]
        )
    # search_tokens is stored as " w1 w2 … " so a padded substring is a whole-word match.
    for term in terms:
        qs = qs.filter(search_tokens__contains=f" {term} ")
    return qs


def case_timeline(case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor", "office", "target_office").order_by("created_at", "id")


def case_detail_prefetch(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related(
        "holding_office", "received_office", "repeat_of", "assigned_by", "handler"
    ).prefetch_related("categories", "tags", "reported_parties", "attachments")


def offices_with_access(case: Case) -> list[Any]:
    return list(CaseAccess.objects.filter(case=case).select_related("office").order_by("granted_at"))
