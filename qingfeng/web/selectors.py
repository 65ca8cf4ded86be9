"""Read-only queries the staff pages need that no other app offers (small, scoped, bounded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import get_language

from qingfeng.accounts.models import Role, User
from qingfeng.cases.choices import Status
from qingfeng.cases.models import Case, Category, Tag
from qingfeng.cases.selectors import deadline_q
from qingfeng.cases.workflow import TRANSITIONS, Action
from qingfeng.deadlines import rules
from qingfeng.deadlines.services import open_deadlines
from qingfeng.offices.models import Office
from qingfeng.offices.selectors import office_subtree

# --- names by language ------------------------------------------------------------------------


def english_active() -> bool:
    return (get_language() or "").lower().startswith("en")


def localized_name(obj: Any) -> str:
    """A Category's or Tag's name in the active language: `name` (Chinese) or `name_en`."""
    name_en = getattr(obj, "name_en", None)
    if name_en and english_active():
        return str(name_en)
    name = getattr(obj, "name", None)
    return str(name if name is not None else obj)


# --- home page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkItem:
    key: str
    count: int
    status: str  # the list filter that shows these cases


# (key, state, the action whose roles decide who sees the item, extra condition)
_WORK: list[tuple[str, str, str, Q]] = [
    ("to_screen", Status.RECEIVED, Action.SCREEN, Q()),
    ("to_accept", Status.SCREENED, Action.ACCEPT, Q()),
    ("to_dispose", Status.ACCEPTED, Action.DISPOSE, Q()),
    ("to_feed_back", Status.CONCLUDED, Action.FEED_BACK, Q()),
    ("return_visits", Status.FED_BACK, Action.RECORD_RETURN_VISIT, Q(problem_solved__isnull=True)),
]


@dataclass
class HomeSummary:
    work: list[WorkItem] = field(default_factory=list)
    due_soon: int = 0
    overdue: int = 0
    serious: int = 0
    by_status: list[tuple[str, int]] = field(default_factory=list)
    total_held: int = 0


def home_summary(*, user: User, office: Office, today: date) -> HomeSummary:
    """Counts for the home page, all on cases HELD by the user's office: two queries."""
    held = Case.objects.filter(holding_office=office)
    wanted = [w for w in _WORK if user.has_role(*TRANSITIONS[w[2]].roles)]
    aggregates: dict[str, Any] = {
        key: Count("pk", filter=Q(status=state) & extra) for key, state, _action, extra in wanted
    }
    aggregates.update(
        due_soon=Count("pk", filter=deadline_q("due_soon", today)),
        overdue=Count("pk", filter=deadline_q("overdue", today)),
        serious=Count("pk", filter=deadline_q("serious", today)),
    )
    counts = held.aggregate(**aggregates)
    by_status = dict(held.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return HomeSummary(
        work=[WorkItem(key, counts[key], state) for key, state, _a, _e in wanted],
        due_soon=counts["due_soon"],
        overdue=counts["overdue"],
        serious=counts["serious"],
        by_status=[(s, by_status.get(s, 0)) for s in Status.values],
        total_held=sum(by_status.values()),
    )


# --- registration choices -------------------------------------------------------------------------


@dataclass
class CategoryNode:
    category: Category
    children: list[CategoryNode] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.category.code

    @property
    def label(self) -> str:
        return localized_name(self.category)


def category_tree() -> list[CategoryNode]:
    """Active problem categories as a tree, in their configured order: one query."""
    rows = list(Category.objects.filter(active=True).order_by("sort", "path"))
    nodes = {c.pk: CategoryNode(c) for c in rows}
    roots: list[CategoryNode] = []
    for c in rows:
        parent = nodes.get(c.parent_id) if c.parent_id else None
        (parent.children if parent else roots).append(nodes[c.pk])
    return roots


def category_choices(*, indent: str = "\u3000") -> list[tuple[str, str]]:
    """(code, label) for every active category, children indented under their parent."""
    out: list[tuple[str, str]] = []

    def walk(nodes: list[CategoryNode], depth: int) -> None:
        for node in nodes:
            out.append((node.code, indent * depth + node.label))
            walk(node.children, depth + 1)

    walk(category_tree(), 0)
    return out


def tag_groups() -> list[tuple[str, list[Tag]]]:
    """Active tags grouped by kind (key areas, special topics)."""
    groups: dict[str, list[Tag]] = {}
    for tag in Tag.objects.filter(active=True).order_by("kind", "code"):
        groups.setdefault(tag.kind, []).append(tag)
    return [(str(Tag.Kind(kind).label), tags) for kind, tags in groups.items()]


def region_suggestions(office: Office, *, limit: int = 200) -> list[Office]:
    """The office and the offices just below it: the region codes a clerk types most."""
    return list(
        office_subtree(office)
        .filter(level__lte=office.level + 1)
        .only("code", "region_code", "region_name", "name")[:limit]
    )


def region_label(code: str) -> str:
    """The region's name for a code, when an office of that region is known."""
    if not code:
        return ""
    row = Office.objects.filter(region_code=code).values_list("region_name", "name").first()
    if row is None:
        return ""
    return row[0] or row[1]


# --- case page ------------------------------------------------------------------------------------


def offices_below(office: Office, *, depth: int = 2) -> list[Office]:
    """Offices up to `depth` levels below: where a case can be transferred or assigned."""
    return list(office_subtree(office, include_self=False).filter(level__lte=office.level + depth).order_by("path"))


def handler_choices(office: Office) -> list[User]:
    """Users of the office who can handle a case (handlers and department heads)."""
    return list(
        User.objects.filter(office=office, is_active=True, roles__role__in=[Role.HANDLER, Role.DEPARTMENT_HEAD])
        .distinct()
        .order_by("username")
    )


@dataclass(frozen=True)
class DeadlineRow:
    kind: str
    label: str
    due: date
    warn_on: date
    serious_on: date
    level: str  # ok, warn, overdue, serious


def deadline_level(due: date, warn_on: date, serious_on: date, today: date) -> str:
    """The same levels as deadlines.services.level_on, for any one deadline."""
    if today > serious_on:
        return "serious"
    if today > due:
        return "overdue"
    if today >= warn_on:
        return "warn"
    return "ok"


def deadline_rows(case: Case, today: date) -> list[DeadlineRow]:
    """Each open deadline of the case with its due date and warning level, earliest first."""
    out = []
    for kind, due in sorted(open_deadlines(case).items(), key=lambda item: item[1]):
        rule = rules.rule(kind)
        warn_on, serious_on = rule.warn_on(due), rule.serious_on(due)
        out.append(
            DeadlineRow(
                kind=kind,
                label=str(rules.LABELS.get(kind, kind)),
                due=due,
                warn_on=warn_on,
                serious_on=serious_on,
                level=deadline_level(due, warn_on, serious_on, today),
            )
        )
    return out
