"""Keeping the count tables: incremental updates in each event's transaction, and the full rebuild.

Incremental: `on_event` runs as a `cases.services.EVENT_HOOKS` hook. It compares what the case
contributed before the event (its fields as loaded, remembered by apps.py) with what it
contributes now (`facts.contributions`) and applies the difference with one upsert per table:
`INSERT … ON CONFLICT … DO UPDATE SET n = n + excluded.n`, rows in key order so concurrent
transactions lock them in the same order. `rebuild_counts` sums the same contributions over
every case and replaces the tables.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from django.db import connection, connections, models, transaction
from django.db.models import Min, Q

from qingfeng.analytics import models as m
from qingfeng.analytics.facts import (
    STATE_FIELDS,
    CaseFacts,
    CaseState,
    Key,
    Node,
    PersonCase,
    add_contributions,
    ancestor_paths,
    contributions,
    local_day,
    person_contributions,
    person_filter,
    person_key,
)
from qingfeng.cases.models import Case, CaseEvent, ReportedParty, Reporter
from qingfeng.cases.services import current_bulk
from qingfeng.core import lastwrites
from qingfeng.offices.models import Office

log = logging.getLogger(__name__)

SNAPSHOT_ATTR = "_analytics_state"

# table name -> (model, key columns); the order is the lock order.
TABLES: dict[str, tuple[type[models.Model], tuple[str, ...]]] = {
    "day": (m.DayCount, ("office_id", "day")),
    "channel": (m.ChannelCount, ("office_id", "month", "channel")),
    "item_type": (m.ItemTypeCount, ("office_id", "month", "item_type")),
    "origin": (m.OriginCount, ("office_id", "month", "origin")),
    "category": (m.CategoryCount, ("office_id", "month", "category")),
    "tag": (m.TagCount, ("office_id", "month", "tag")),
    "rank": (m.RankCount, ("office_id", "month", "rank")),
    "region": (m.RegionCount, ("office_id", "month", "child_id")),
    "status": (m.StatusCount, ("office_id", "month", "status")),
    "flag": (m.FlagCount, ("office_id", "month", "is_repeat", "is_real_name")),
    "outcome": (m.OutcomeCount, ("office_id", "month", "measure")),
    "deadline": (m.DeadlineCount, ("office_id", "month", "due_on", "serious_on")),
    "person": (m.PersonCount, ("office_id", "month", "kind", "prev_month")),
    "topic": (m.TopicCount, ("topic_id", "office_id", "month", "dimension", "value")),
}


def _db(value: Any) -> Any:
    if isinstance(value, date) and connection.vendor != "postgresql":
        return value.isoformat()
    return value


# Inside `lastwrites.hot_rows_last()` (registration) the deltas of one transaction are summed and
# written in one statement just before commit: the subtree totals of the national and
# provincial offices are rows every registration updates, and their locks last until commit.
COUNTS_ORDER = 10


@functools.cache
def _column_types(table: str) -> tuple[str, ...]:
    model, cols = TABLES[table]
    return tuple(str(model._meta.get_field(c).db_type(connection)) for c in cols)


def apply_delta(delta: Counter[Key]) -> None:
    """Add the (possibly negative) counts to their rows, creating rows as needed."""
    pending = lastwrites.slot("analytics.counts", order=COUNTS_ORDER, factory=Counter, write=write_delta)
    if pending is None:
        write_delta(delta)
    else:
        pending.update(delta)


def write_delta(delta: Counter[Key]) -> None:
    """Write the counts now (`apply_delta` may hold them back to the end of the transaction)."""
    by_table: dict[str, list[tuple[tuple[object, ...], int]]] = defaultdict(list)
    for (table, key), n in delta.items():
        if n:
            by_table[table].append((key, n))
    if not by_table:
        return
    qn = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    statements: list[tuple[str, list[Any]]] = []
    for table, (model, cols) in TABLES.items():
        rows = by_table.get(table)
        if not rows:
            continue
        rows.sort(key=lambda r: tuple(str(v) for v in r[0]))
        name = qn(model._meta.db_table)
        col_sql = ", ".join(qn(c) for c in cols)
        upsert = f"ON CONFLICT ({col_sql}) DO UPDATE SET n = {name}.n + excluded.n"
        if postgres:
            # One array per column: the statement text depends only on the tables touched, so
            # the driver's parsed-statement cache serves it, however many rows there are.
            arrays = ", ".join(f"%s::{t}[]" for t in [*_column_types(table), "integer"])
            sql = f"INSERT INTO {name} ({col_sql}, n) SELECT * FROM UNNEST({arrays}) {upsert}"
            params: list[Any] = [[key[i] for key, _n in rows] for i in range(len(cols))]
            params.append([n for _key, n in rows])
        else:
            one = "(" + ", ".join(["%s"] * (len(cols) + 1)) + ")"
            sql = f"INSERT INTO {name} ({col_sql}, n) VALUES {', '.join([one] * len(rows))} {upsert}"
            params = []
            for key, n in rows:
                params.extend(_db(v) for v in key)
                params.append(n)
        statements.append((sql, params))
    with connection.cursor() as cursor:
        if postgres and len(statements) > 1:
            # One round trip: every upsert as a data-modifying CTE of a single statement.
            ctes = ", ".join(f"u{i} AS ({sql})" for i, (sql, _p) in enumerate(statements))
            cursor.execute(f"WITH {ctes} SELECT 1", [v for _s, p in statements for v in p])
            return
        for sql, params in statements:
            cursor.execute(sql, params)


def _diff(after: Counter[Key], before: Counter[Key] | None) -> Counter[Key]:
    delta = Counter(after)
    if before:
        delta.subtract(before)
    return Counter({k: v for k, v in delta.items() if v})


# --- offices -----------------------------------------------------------------------------------


class Chains:
    """Ancestor chains of offices, loaded with as few queries as possible."""

    def __init__(self) -> None:
        self.by_id: dict[int, Node] = {}
        self.by_path: dict[str, Node] = {}

    def add(self, rows: Iterable[tuple[int, str]]) -> None:
        for oid, path in rows:
            node = Node(oid, path)
            self.by_id[oid] = node
            self.by_path[path] = node

    def load(self, ids: Iterable[int], paths: Iterable[str] = ()) -> None:
        want_ids = [i for i in set(ids) if i not in self.by_id]
        want_paths = [p for p in set(paths) if p not in self.by_path]
        if want_ids or want_paths:
            self.add(Office.objects.filter(Q(id__in=want_ids) | Q(path__in=want_paths)).values_list("id", "path"))
        missing = {p for oid in ids for p in ancestor_paths(self.by_id[oid].path)} - set(self.by_path)
        if missing:
            self.add(Office.objects.filter(path__in=missing).values_list("id", "path"))

    def chain(self, office_id: int) -> tuple[Node, ...]:
        return tuple(self.by_path[p] for p in ancestor_paths(self.by_id[office_id].path))

    @classmethod
    def everything(cls) -> Chains:
        chains = cls()
        chains.add(Office.objects.values_list("id", "path").iterator(chunk_size=10000))
        return chains


# --- incremental -------------------------------------------------------------------------------


def remember_state(instance: Case) -> None:
    """Keep the counted fields of a case as loaded (post_init), if they were all loaded."""
    d = instance.__dict__
    # Loaded with .only()/.defer(): nothing remembered, the event hook falls back on the event.
    with contextlib.suppress(KeyError):
        setattr(instance, SNAPSHOT_ATTR, tuple(d[f] for f in STATE_FIELDS))


def remember_signal(sender: type, instance: Case, **kwargs: object) -> None:
    remember_state(instance)


def _state_before(case: Case, event: CaseEvent, after: CaseState) -> CaseState:
    snap = getattr(case, SNAPSHOT_ATTR, None)
    if snap is not None:
        return CaseState.of(snap)
    log.warning("analytics: case %s had no remembered state at %s; using the event", case.pk, event.action)
    changes: dict[str, Any] = {"status": event.from_status or after.status}
    if event.target_office_id is not None:
        changes["holding_office_id"] = event.office_id
    if event.action == "mark_repeat":
        changes["is_repeat"] = False
    item = (event.data or {}).get("item_type")
    if isinstance(item, dict) and item.get("from"):
        changes["item_type"] = item["from"]
    return replace(after, **changes)


def prefetched(case: Case, name: str) -> list[Any] | None:
    """The related rows the caller already holds (registration sets them), or None."""
    cache = getattr(case, "_prefetched_objects_cache", None) or {}
    return list(cache[name]) if name in cache else None


def _codes(case: Case, name: str) -> tuple[str, ...]:
    rows = prefetched(case, name)
    if rows is not None:
        return tuple(sorted(r.code for r in rows))
    return tuple(sorted(getattr(case, name).values_list("code", flat=True)))


def _relations(case: Case) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    parties = prefetched(case, "reported_parties")
    if parties is not None:
        rank = min(parties, key=lambda p: p.pk).rank if parties else ""
    else:
        rank = ReportedParty.objects.filter(case_id=case.pk).order_by("id").values_list("rank", flat=True).first()
    return _codes(case, "categories"), _codes(case, "tags"), rank or ""


def _topics(case_id: int) -> tuple[int, ...]:
    return tuple(sorted(m.TopicMatch.objects.filter(case_id=case_id).values_list("topic_id", flat=True)))


def _accepts(case_id: int, current_event_id: int | None) -> tuple[date | None, date | None]:
    """First accept day before the current event, and including it."""
    rows = list(
        CaseEvent.objects.filter(case_id=case_id, action="accept")
        .order_by("created_at", "id")
        .values_list("id", "created_at")
    )
    after = local_day(rows[0][1]) if rows else None
    before_rows = [r for r in rows if r[0] != current_event_id]
    before = local_day(before_rows[0][1]) if before_rows else None
    return before, after


def on_event(case: Case, event: CaseEvent) -> None:
    """EVENT_HOOKS entry: move the case between buckets, inside the event's transaction."""
    after_state = CaseState.of(getattr(case, f) for f in STATE_FIELDS)
    register = event.action == "register"
    before_state = None if register else _state_before(case, event, after_state)
    setattr(case, SNAPSHOT_ATTR, tuple(getattr(case, f) for f in STATE_FIELDS))
    if before_state == after_state and event.action != "accept":
        return
    moved = register or before_state is None or before_state.holding_office_id != after_state.holding_office_id
    dues_changed = before_state is not None and (
        (before_state.accept_due, before_state.screening_due) != (after_state.accept_due, after_state.screening_due)
    )
    bulk = current_bulk()
    # Offices do not move during a write: one bulk registration loads their chains once.
    chains = bulk.scratch.setdefault("analytics.chains", Chains()) if bulk is not None else Chains()
    holding = case.holding_office
    ids = [after_state.holding_office_id, after_state.received_office_id]
    if before_state is not None:
        ids.append(before_state.holding_office_id)
    chains.add([(holding.pk, holding.path)])
    chains.load(ids, ancestor_paths(holding.path))
    cats: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    rank = ""
    if moved:
        cats, tags, rank = _relations(case)
    topics: tuple[int, ...] = ()
    # A new case is tagged with topics after its register event (topics.on_registered).
    status_moved = before_state is not None and (before_state.status, before_state.channel) != (
        after_state.status,
        after_state.channel,
    )
    if not register and (moved or status_moved):
        topics = _topics(case.pk)
    accept_before = accept_after = None
    if not register and (moved or dues_changed or event.action == "accept"):
        accept_before, accept_after = _accepts(case.pk, event.pk)
    received_path = chains.by_id[after_state.received_office_id].path
    after = CaseFacts(
        after_state,
        chains.chain(after_state.holding_office_id),
        received_path,
        cats,
        tags,
        rank,
        topics,
        accept_after,
        case.pk,
    )
    delta = contributions(after)
    if before_state is not None:
        before = CaseFacts(
            before_state,
            chains.chain(before_state.holding_office_id),
            chains.by_id[before_state.received_office_id].path,
            cats,
            tags,
            rank,
            topics,
            accept_before,
            case.pk,
        )
        delta = _diff(delta, contributions(before))
    if before_state is None or moved or before_state.is_repeat != after_state.is_repeat:
        delta.update(_person_delta(case, before_state, after_state, chains))
    apply_delta(delta)


def on_topics_changed(case: Case, before_topics: Sequence[int], after_topics: Sequence[int]) -> None:
    """A case was tagged with (or untagged from) special topics: move its topic counts."""
    if tuple(before_topics) == tuple(after_topics):
        return
    state = CaseState.of(getattr(case, f) for f in STATE_FIELDS)
    chains = Chains()
    paths: Iterable[str] = ()
    if Case.holding_office.is_cached(case):  # type: ignore[attr-defined]
        chains.add([(case.holding_office.pk, case.holding_office.path)])
        paths = ancestor_paths(case.holding_office.path)
    chains.load([state.holding_office_id, state.received_office_id], paths)
    cats = _codes(case, "categories")
    base = CaseFacts(state, chains.chain(state.holding_office_id), chains.by_id[state.received_office_id].path, cats)
    after = Counter(
        {k: v for k, v in contributions(replace(base, topics=tuple(after_topics))).items() if k[0] == "topic"}
    )
    before = Counter(
        {k: v for k, v in contributions(replace(base, topics=tuple(before_topics))).items() if k[0] == "topic"}
    )
    apply_delta(_diff(after, before))


def _lock_person(key: str) -> None:
    _lock_persons([key])


def _lock_persons(keys: Iterable[str]) -> None:
    """Transaction locks on these persons, taken in one order (lock id) so that two bulk writes
    sharing persons cannot deadlock."""
    if connection.vendor == "postgresql":
        ids = sorted(
            {int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest(), "big", signed=True) for k in keys}
        )
        if ids:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(k, i) ORDER BY i",
                    [ids],
                )


_PERSON_ROW = ("case_id", "case__received_at", "case__holding_office_id", "case__is_repeat")


def _person_rows(key: str, case_id: int) -> list[tuple[Any, ...]]:
    """The person's other reports (case, received, holding office, is repeat), under the person's lock.

    In a bulk registration the reports of every person in it are read once, with one lock each
    taken up front in key order, and a report sees only those registered before it.
    """
    bulk = current_bulk()
    if bulk is None:
        _lock_person(key)
        return list(Reporter.objects.filter(**person_filter(key)).exclude(case_id=case_id).values_list(*_PERSON_ROW))
    grouped: dict[str, list[tuple[Any, ...]]] | None = bulk.scratch.get("analytics.person_rows")
    if grouped is None:
        keys = sorted({k for k in map(_held_person_key, bulk.cases) if k is not None and not k.startswith("c:")})
        grouped = defaultdict(list)
        if keys:
            _lock_persons(keys)
            match = Q()
            for k in keys:
                match |= Q(**person_filter(k))
            hashes = ("id_number_hash", "phone_hash", "name_hash")
            for row in Reporter.objects.filter(match).values_list(*hashes, *_PERSON_ROW):
                owner = person_key(id_number_hash=row[0], phone_hash=row[1], name_hash=row[2], case_id=row[3])
                grouped[owner].append(row[3:])
        bulk.scratch["analytics.person_rows"] = grouped
    return [r for r in grouped.get(key, ()) if r[0] != case_id and r[0] not in bulk.later]


def _held_person_key(case: Case) -> str | None:
    """The person key of a case whose reporter is held in memory (None when it is not loaded)."""
    if not Case.reporter.is_cached(case):  # type: ignore[attr-defined]
        return None
    held: Reporter | None = Case.reporter.related.get_cached_value(case)  # type: ignore[attr-defined,assignment]
    if held is None:
        return f"c:{case.pk}"
    return person_key(
        id_number_hash=held.id_number_hash, phone_hash=held.phone_hash, name_hash=held.name_hash, case_id=case.pk
    )


def _person_delta(case: Case, before: CaseState | None, after: CaseState, chains: Chains) -> Counter[Key]:
    key = _held_person_key(case)
    if key is None:
        rep = Reporter.objects.filter(case_id=case.pk).values_list("id_number_hash", "phone_hash", "name_hash").first()
        key = person_key(
            id_number_hash=rep[0] if rep else "",
            phone_hash=rep[1] if rep else "",
            name_hash=rep[2] if rep else "",
            case_id=case.pk,
        )

    def one(state: CaseState, case_id: int) -> PersonCase:
        day = state.day
        chains.load([state.holding_office_id])
        return PersonCase(
            case_id,
            state.received_at,
            day.replace(day=1),
            tuple(n.id for n in chains.chain(state.holding_office_id)),
            bool(state.is_repeat),
        )

    if key.startswith("c:"):
        others: list[PersonCase] = []
    else:
        others = []
        rows = _person_rows(key, case.pk)
        chains.load([r[2] for r in rows])
        for cid, received_at, holding_id, is_repeat in rows:
            day = local_day(received_at)
            chain = tuple(n.id for n in chains.chain(holding_id))
            others.append(PersonCase(cid, received_at, day.replace(day=1), chain, bool(is_repeat)))
    after_c = person_contributions([*others, one(after, case.pk)])
    before_c = person_contributions([*others, one(before, case.pk)] if before is not None else others)
    return _diff(after_c, before_c)


# --- rebuild -----------------------------------------------------------------------------------


def _first_per_case(rows: Iterable[tuple[int, Any]]) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for cid, value in rows:
        out.setdefault(cid, value)
    return out


def iter_facts(
    *,
    ids: Sequence[int] | None = None,
    chunk_size: int = 20000,
    chains: Chains | None = None,
    id_range: tuple[int, int] | None = None,
) -> Iterable[tuple[CaseFacts, tuple[str, str, str]]]:
    """Facts of every case (or of `ids`, or of ids in [lo, hi)), with the reporter's hashes, a chunk at a time."""
    chains = chains or Chains.everything()
    chain_cache: dict[int, tuple[Node, ...]] = {}
    through_cat = Case.categories.through
    through_tag = Case.tags.through
    last_id, pos = (id_range[0] - 1, 0) if id_range else (0, 0)
    while True:
        if ids is None:
            qs = Case.objects.filter(id__gt=last_id).order_by("id")
            if id_range:
                qs = qs.filter(id__lt=id_range[1])
            rows = list(qs.values_list("id", *STATE_FIELDS)[:chunk_size])
            if not rows:
                break
        else:
            if pos >= len(ids):
                break
            part = ids[pos : pos + chunk_size]
            pos += chunk_size
            rows = list(Case.objects.filter(id__in=part).order_by("id").values_list("id", *STATE_FIELDS))
            if not rows:
                continue
        lo, hi = rows[0][0], rows[-1][0]
        last_id = hi
        rng = {"case_id__gte": lo, "case_id__lte": hi}
        cats: dict[int, list[str]] = defaultdict(list)
        for cid, code in through_cat.objects.filter(**rng).values_list("case_id", "category__code"):
            cats[cid].append(code)
        tags: dict[int, list[str]] = defaultdict(list)
        for cid, code in through_tag.objects.filter(**rng).values_list("case_id", "tag__code"):
            tags[cid].append(code)
        ranks = _first_per_case(
            ReportedParty.objects.filter(**rng).order_by("case_id", "id").values_list("case_id", "rank")
        )
        accepts = dict(
            CaseEvent.objects.filter(action="accept", **rng)
            .values("case_id")
            .annotate(first=Min("created_at"))
            .values_list("case_id", "first")
        )
        topics: dict[int, list[int]] = defaultdict(list)
        for cid, tid in m.TopicMatch.objects.filter(**rng).values_list("case_id", "topic_id"):
            topics[cid].append(tid)
        reporters = {
            cid: (a, b, c)
            for cid, a, b, c in Reporter.objects.filter(**rng).values_list(
                "case_id", "id_number_hash", "phone_hash", "name_hash"
            )
        }
        for row in rows:
            cid = row[0]
            state = CaseState.of(row[1:])
            chain = chain_cache.get(state.holding_office_id)
            if chain is None:
                chain = chain_cache[state.holding_office_id] = chains.chain(state.holding_office_id)
            first = accepts.get(cid)
            facts = CaseFacts(
                state,
                chain,
                chains.by_id[state.received_office_id].path,
                tuple(sorted(cats.get(cid, ()))),
                tuple(sorted(tags.get(cid, ()))),
                ranks.get(cid) or "",
                tuple(sorted(topics.get(cid, ()))),
                local_day(first) if first is not None else None,
                cid,
            )
            yield facts, reporters.get(cid, ("", "", ""))


def compute_counts(
    *, chunk_size: int = 20000, progress: Callable[[int], None] | None = None, workers: int = 1
) -> Counter[Key]:
    """Every count, from the cases and their events (what rebuild_counts writes).

    With `workers` > 1 (PostgreSQL, outside a transaction's uncommitted writes) the cases are
    split into id ranges summed by forked processes on connections of their own, and the
    persons, gathered from all ranges, are split the same way by key: the sum is the same.
    """
    if workers > 1 and can_fork_workers():
        return _compute_counts_forked(chunk_size=chunk_size, progress=progress, workers=workers)
    total, persons = _sum_range(None, chunk_size, progress)
    for cases in persons.values():
        _add(total, person_contributions(cases))
    return Counter({k: v for k, v in total.items() if v})


def _sum_range(
    id_range: tuple[int, int] | None, chunk_size: int, progress: Callable[[int], None] | None
) -> tuple[dict[Key, int], dict[str, list[PersonCase]]]:
    """Case buckets of the range, and its persons' cases by person (their buckets need all of them)."""
    total: dict[Key, int] = {}
    persons: dict[str, list[PersonCase]] = defaultdict(list)
    for done, (facts, rep) in enumerate(iter_facts(chunk_size=chunk_size, id_range=id_range), start=1):
        add_contributions(facts, total)
        state = facts.state
        cid = facts.case_id
        key = person_key(id_number_hash=rep[0], phone_hash=rep[1], name_hash=rep[2], case_id=cid)
        pc = PersonCase(
            cid, state.received_at, state.day.replace(day=1), tuple(n.id for n in facts.chain), bool(state.is_repeat)
        )
        if key.startswith("c:"):
            _add(total, person_contributions([pc]))
        else:
            persons[key].append(pc)
        if progress and done % chunk_size == 0:
            progress(done)
    return total, dict(persons)


def can_fork_workers() -> bool:
    # Forked children read on connections of their own, so they see committed rows only.
    return connection.vendor == "postgresql" and not connection.in_atomic_block and hasattr(os, "fork")


# What forked children read: set by the parent just before it forks (inherited, never pickled).
_FORK_INPUT: dict[str, Any] = {}
_INHERITED: list[Any] = []


def _detach_inherited_connections() -> None:
    """Pool initializer: open fresh connections in the child and never touch the parent's.

    Closing an inherited connection would end the parent's session (and its transaction and
    table locks) on the shared socket; keeping a reference stops it being finalised, and the
    child leaves with os._exit.
    """
    for conn in connections.all(initialized_only=True):
        _INHERITED.append(conn.connection)
        conn.connection = None
        conn.in_atomic_block = False
        conn.savepoint_ids = []
        conn.atomic_blocks = []
        conn.needs_rollback = False


def _range_worker(id_range: tuple[int, int]) -> tuple[dict[Key, int], dict[str, list[PersonCase]]]:
    return _sum_range(id_range, _FORK_INPUT["chunk_size"], None)


def _person_worker(part: int) -> dict[Key, int]:
    total: dict[Key, int] = {}
    parts = _FORK_INPUT["parts"]
    for key, cases in _FORK_INPUT["persons"].items():
        if zlib.crc32(key.encode()) % parts == part:
            _add(total, person_contributions(cases))
    return total


def _compute_counts_forked(*, chunk_size: int, progress: Callable[[int], None] | None, workers: int) -> Counter[Key]:
    import multiprocessing

    agg = Case.objects.aggregate(lo=Min("id"), hi=models.Max("id"))
    if agg["lo"] is None:
        return Counter()
    lo, hi = agg["lo"], agg["hi"] + 1
    # More ranges than workers, so one slow range does not leave a core idle at the end.
    n_ranges = workers * 4
    step = max(1, -(-(hi - lo) // n_ranges))
    ranges = [(a, min(hi, a + step)) for a in range(lo, hi, step)]
    ctx = multiprocessing.get_context("fork")
    total: dict[Key, int] = {}
    persons: dict[str, list[PersonCase]] = defaultdict(list)
    _FORK_INPUT.clear()
    _FORK_INPUT["chunk_size"] = chunk_size
    try:
        done = 0
        with ctx.Pool(workers, initializer=_detach_inherited_connections) as pool:
            for (a, b), (part_total, part_persons) in zip(ranges, pool.imap(_range_worker, ranges), strict=True):
                _add(total, part_total)
                for key, cases in part_persons.items():
                    persons[key].extend(cases)
                done += b - a
                if progress:
                    progress(min(done, hi - lo))
        _FORK_INPUT.update(persons=persons, parts=workers)
        with ctx.Pool(workers, initializer=_detach_inherited_connections) as pool:
            for part_total in pool.imap_unordered(_person_worker, range(workers)):
                _add(total, part_total)
    finally:
        _FORK_INPUT.clear()
    return Counter({k: v for k, v in total.items() if v})


def _add(total: dict[Key, int], part: dict[Key, int]) -> None:
    get = total.get
    for k, v in part.items():
        total[k] = get(k, 0) + v


def _write_table(model: type[models.Model], cols: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    col_sql = ", ".join(qn(c) for c in (*cols, "n"))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({col_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * (len(cols) + 1))
            for i in range(0, len(rows), 5000):
                cursor.executemany(
                    f"INSERT INTO {table} ({col_sql}) VALUES ({marks})",
                    [tuple(_db(v) for v in r) for r in rows[i : i + 5000]],
                )


def rebuild_counts(*, progress: Callable[[int], None] | None = None, workers: int = 1) -> dict[str, int]:
    """Replace every count table with counts recomputed from the cases and events. Returns rows per table.

    On PostgreSQL the tables are locked first, so events that arrive meanwhile wait and then
    apply their change on top of the rebuilt counts. With `workers` > 1 (PostgreSQL, not inside
    a caller's transaction, whose uncommitted rows other connections cannot see) the sum is
    spread over that many forked processes while the lock is held.
    """
    forked = workers > 1 and can_fork_workers()
    with transaction.atomic():
        _lock_tables()
        if forked:
            counts = _compute_counts_forked(chunk_size=20000, progress=progress, workers=workers)
        else:
            counts = compute_counts(progress=progress)
        return _replace_tables(counts)


def _lock_tables() -> None:
    if connection.vendor == "postgresql":
        names = ", ".join(connection.ops.quote_name(model._meta.db_table) for model, _ in TABLES.values())
        with connection.cursor() as cursor:
            # Deferred foreign-key checks of rows written earlier in this transaction would block TRUNCATE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")


def _replace_tables(counts: Counter[Key]) -> dict[str, int]:
    grouped: dict[str, list[tuple[object, ...]]] = defaultdict(list)
    for (table, key), n in counts.items():
        grouped[table].append((*key, n))
    written = {}
    for table, (model, cols) in TABLES.items():
        if connection.vendor == "postgresql":
            _truncate(model)
        else:
            model._default_manager.all().delete()
        rows = grouped.get(table, [])
        _write_table(model, cols, rows)
        written[table] = len(rows)
    return written


def _truncate(model: type[models.Model]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {connection.ops.quote_name(model._meta.db_table)}")


def stored_counts() -> Counter[Key]:
    """The count tables as they are (non-zero rows), in the same shape as `compute_counts`."""
    out: Counter[Key] = Counter()
    for table, (model, cols) in TABLES.items():
        fields = list(cols)
        for row in model._default_manager.exclude(n=0).values_list(*fields, "n"):
            *key, n = row
            out[(table, tuple(key))] += n
    return out
