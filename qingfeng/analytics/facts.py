"""What one case contributes to the count tables.

`contributions(facts)` is the single definition of every bucket a case is counted in; the
incremental hooks (`counting.on_event`) apply the difference of a case's contributions before
and after an event, and `rebuild_counts` sums the contributions of every case. Both therefore
agree by construction, and a test checks that they do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache

from django.utils import timezone

NO_PREV = date(1900, 1, 1)  # PersonCount.prev_month of a person's first report in the subtree
FROM_ABOVE = frozenset({"transferred", "assigned"})

# Case fields a count depends on, remembered when a case is loaded (see apps.py) so that an
# event can move the case out of its old buckets.
STATE_FIELDS = (
    "holding_office_id",
    "received_office_id",
    "received_at",
    "channel",
    "source",
    "item_type",
    "status",
    "is_repeat",
    "is_real_name",
    "disposal_way",
    "concluded_at",
    "problem_solved",
    "satisfaction",
    "next_due",
    "next_serious_on",
    "accept_due",
    "screening_due",
)

Key = tuple[str, tuple[object, ...]]  # (table name, key values)


@dataclass(frozen=True)
class Node:
    id: int
    path: str


@dataclass(frozen=True)
class CaseState:
    """The scalar case fields the counts depend on."""

    holding_office_id: int
    received_office_id: int
    received_at: datetime
    channel: str
    source: str
    item_type: str
    status: str
    is_repeat: bool
    is_real_name: bool
    disposal_way: str
    concluded_at: datetime | None
    problem_solved: bool | None
    satisfaction: int | None
    next_due: date | None
    next_serious_on: date | None
    accept_due: date | None
    screening_due: date | None

    @classmethod
    def of(cls, values: Iterable[object]) -> CaseState:
        return cls(*values)  # type: ignore[arg-type]

    @property
    def day(self) -> date:
        return local_day(self.received_at)


def local_day(value: datetime) -> date:
    """The day in the platform's time zone (settings.TIME_ZONE, whatever zone a request activated)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone()).date()


@lru_cache(maxsize=1)
def _zone() -> tzinfo:
    return timezone.get_default_timezone()


@dataclass(frozen=True)
class CaseFacts:
    state: CaseState
    chain: tuple[Node, ...]  # national .. holding office
    received_path: str
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    rank: str = ""
    topics: tuple[int, ...] = ()
    first_accept: date | None = None  # local day of the case's first "accept" event
    case_id: int = 0

    def with_state(self, state: CaseState, chain: tuple[Node, ...]) -> CaseFacts:
        return replace(self, state=state, chain=chain)


def origin_for(node: Node, received_path: str, source: str) -> str:
    """Where the case came from, seen from `node`: from above it, or its own level (and how)."""
    inside = received_path.startswith(node.path)
    if source in FROM_ABOVE:
        return source if not inside else "own_level"
    return source if inside else "transferred"


def measures(f: CaseFacts) -> list[str]:
    s = f.state
    out = []
    if f.first_accept is not None:
        out.append("accepted")
        due = s.accept_due or s.screening_due
        if due is not None and f.first_accept <= due:
            out.append("accepted_in_time")
    if s.disposal_way:
        out.append(f"disposal:{s.disposal_way}")
    if s.concluded_at is not None:
        out.append("concluded")
    if s.problem_solved is not None:
        out.append("visited")
        if s.problem_solved:
            out.append("solved")
    if s.satisfaction:
        out.append(f"sat:{s.satisfaction}")
    return out


def contributions(f: CaseFacts) -> Counter[Key]:
    """Every (table, key) bucket the case is counted in, with multiplicity."""
    out: Counter[Key] = Counter()
    add_contributions(f, out)
    return out


def add_contributions(f: CaseFacts, out: dict[Key, int]) -> None:
    """Add the case's buckets to `out` (the rebuild sums millions of cases this way)."""
    s = f.state
    day = s.day
    month = day.replace(day=1)
    outcome = measures(f)
    chain = f.chain
    get = out.get
    keys: list[Key] = []
    add = keys.append
    for i, node in enumerate(chain):
        a = node.id
        child = chain[i + 1].id if i + 1 < len(chain) else a
        add(("day", (a, day)))
        add(("channel", (a, month, s.channel)))
        add(("item_type", (a, month, s.item_type)))
        add(("origin", (a, month, origin_for(node, f.received_path, s.source))))
        add(("rank", (a, month, f.rank)))
        add(("region", (a, month, child)))
        add(("status", (a, month, s.status)))
        add(("flag", (a, month, bool(s.is_repeat), bool(s.is_real_name))))
        for code in f.categories:
            add(("category", (a, month, code)))
        for code in f.tags:
            add(("tag", (a, month, code)))
        for m in outcome:
            add(("outcome", (a, month, m)))
        if s.next_due is not None:
            add(("deadline", (a, month, s.next_due, s.next_serious_on or s.next_due)))
        for t in f.topics:
            add(("topic", (t, a, month, "total", "")))
            add(("topic", (t, a, month, "child", str(child))))
            add(("topic", (t, a, month, "status", s.status)))
            add(("topic", (t, a, month, "channel", s.channel)))
            for code in f.categories:
                add(("topic", (t, a, month, "category", code)))
    for k in keys:
        out[k] = get(k, 0) + 1


# --- persons -----------------------------------------------------------------------------------


def person_key(*, id_number_hash: str, phone_hash: str, name_hash: str, case_id: int) -> str:
    """Who reported: the ID number, else the phone, else the name (keyed hashes), else the case itself.

    The one place the platform decides that two reports come from the same person. When the
    repeats app provides person clusters, return the cluster id here (and in `person_filter`).
    """
    if id_number_hash:
        return f"i:{id_number_hash}"
    if phone_hash:
        return f"p:{phone_hash}"
    if name_hash:
        return f"n:{name_hash}"
    return f"c:{case_id}"


def person_filter(key: str) -> dict[str, str]:
    """Reporter lookups that find every report of the person with this key (see `person_key`)."""
    kind, value = key.split(":", 1)
    if kind == "i":
        return {"id_number_hash": value}
    if kind == "p":
        return {"id_number_hash": "", "phone_hash": value}
    if kind == "n":
        return {"id_number_hash": "", "phone_hash": "", "name_hash": value}
    return {"case_id": value}


@dataclass(frozen=True)
class PersonCase:
    case_id: int
    received_at: datetime
    month: date
    chain: tuple[int, ...]
    is_repeat: bool


def person_contributions(cases: Iterable[PersonCase]) -> Counter[Key]:
    """PersonCount buckets of one person's reports: each counted with the month of the previous one."""
    out: Counter[Key] = Counter()
    last: dict[tuple[int, str], date] = {}
    for c in sorted(cases, key=lambda c: (c.received_at, c.case_id)):
        for kind in ("all", "repeat" if c.is_repeat else "first"):
            for a in c.chain:
                prev = last.get((a, kind), NO_PREV)
                out[("person", (a, c.month, kind, prev))] += 1
                last[(a, kind)] = c.month
    return out


def ancestor_paths(path: str) -> list[str]:
    """ "/0/11/1101/" -> ["/0/", "/0/11/", "/0/11/1101/"]."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
