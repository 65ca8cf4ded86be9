"""Bulk synthetic cases for demo data and benchmarks (`manage.py generate_cases`).

Speed matters more than anything here: a million cases, with their access rows, reporters,
reported parties and timeline events, must load in minutes on SQLite and PostgreSQL. So
the rows are built as plain tuples and written with one `executemany` per table and batch
on SQLite and with `COPY` on PostgreSQL, bypassing the ORM. Constraints (primary keys, unique
and foreign keys) stay in place and are checked. A large load drops the plain secondary indexes
of the tables it fills (the GIN full-text index, the list, deadline and lookup indexes) and
builds them again in one pass at the end, which is several times faster than growing them row
by row; the drop is recorded in the same transaction, so an interrupted load is repaired by
the next run (or `generate_cases --restore-indexes`). Otherwise only session settings change
(SQLite page cache; PostgreSQL asynchronous commit, lz4 TOAST compression, a larger GIN pending
list). A helper thread builds the next batch while the current one is written, and on
PostgreSQL two connections write at once, committing in batch order.

What keeps the Python side fast:
- texts come from a pool of skeletons (`textgen`) rendered with per-case names and places
  through precompiled `str.format` templates; their jieba tokens are computed once per
  distinct piece and rendered the same way, so `search_tokens` costs a format call;
- reporter identities come from a pool encrypted once (Fernet tokens and keyed hashes from
  `qingfeng.core.crypto`), reused as raw database values;
- dates are day numbers into precomputed tables (date strings, working-day ranks), times are
  local minutes turned into UTC strings by table lookups.

Each case follows the real workflow (`cases.workflow`): its steps are planned with realistic
delays and only the steps that fall before now happen, so older cases are further along and
every field (disposal, outcome, feedback, deadlines) matches the state the case is in.
"""

from __future__ import annotations

import bisect
import json
import logging
import queue
import random
import re
import threading
import time
import zoneinfo
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Max
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone

from qingfeng.cases.choices import (
    DisposalWay,
    InquiryOutcome,
    ItemType,
    NotAcceptedReason,
    PartyKind,
    Source,
    Status,
    Substantiation,
)
from qingfeng.cases.models import (
    Case,
    CaseAccess,
    CaseEvent,
    CaseNumberSequence,
    Category,
    ReportedParty,
    Reporter,
    Tag,
)
from qingfeng.core import crypto
from qingfeng.intake import textgen
from qingfeng.offices.models import Office

log = logging.getLogger(__name__)

# --- distributions -----------------------------------------------------------------------------

CHANNELS = (("letter", 35), ("online", 35), ("phone", 15), ("visit", 15))
REAL_NAME_SHARE = {"letter": 0.40, "online": 0.35, "phone": 0.55, "visit": 0.95}
GROUP_VISIT_SHARE = 0.15
# Own level, then sources of cases that come down from the parent office, then other sources.
SOURCES = (
    (Source.OWN_LEVEL, 78),
    (Source.TRANSFERRED, 13),
    (Source.ASSIGNED, 4),
    (Source.INSPECTION, 2),
    (Source.AUDIT, 1),
    (Source.REFERRAL, 2),
)
URGENCY = (("normal", 90), ("urgent", 8), ("very_urgent", 2))
ITEM_TYPES = (
    (ItemType.ACCUSATION, 55),
    (ItemType.APPEAL, 8),
    (ItemType.SUGGESTION, 9),
    (ItemType.OUTSIDE_REMIT, 22),
    (ItemType.NO_SUBSTANCE, 6),
)
# After screening, the share not accepted by item type; the rest is accepted.
NOT_ACCEPTED_SHARE = {
    ItemType.ACCUSATION: 0.04,
    ItemType.APPEAL: 0.20,
    ItemType.SUGGESTION: 0.40,
    ItemType.OUTSIDE_REMIT: 0.90,
    ItemType.NO_SUBSTANCE: 0.95,
}
# A new report about the same matter as a recent one at the office: marked as a repeat.
REPEAT_SHARE = 0.09
REPEATABLE = frozenset({ItemType.ACCUSATION.value, ItemType.APPEAL.value})
NOT_ACCEPTED_REASONS = {
    ItemType.ACCUSATION: ((NotAcceptedReason.LITIGATION, 1), (NotAcceptedReason.OTHER_BODY, 2)),
    ItemType.APPEAL: ((NotAcceptedReason.LITIGATION, 1),),
    ItemType.SUGGESTION: ((NotAcceptedReason.OTHER_BODY, 1),),
    ItemType.OUTSIDE_REMIT: ((NotAcceptedReason.OTHER_BODY, 7), (NotAcceptedReason.LITIGATION, 3)),
    ItemType.NO_SUBSTANCE: ((NotAcceptedReason.NO_SUBSTANCE, 1),),
}
DISPOSAL_WAYS = {
    ItemType.ACCUSATION: (
        (DisposalWay.INQUIRY, 28),
        (DisposalWay.VERIFICATION, 22),
        (DisposalWay.SHELVED, 8),
        (DisposalWay.CLOSED, 35),
        (DisposalWay.INVESTIGATION, 7),
    ),
    ItemType.APPEAL: ((DisposalWay.VERIFICATION, 1), (DisposalWay.CLOSED, 1)),
}
# Working days from disposal to conclusion, by way (inquiry: from the recorded outcome).
CONCLUDE_DELAY = {
    DisposalWay.INQUIRY: (2, 10),
    DisposalWay.VERIFICATION: (20, 80),
    DisposalWay.CLOSED: (1, 10),
    DisposalWay.INVESTIGATION: (60, 250),
}
OUTCOMES = ((InquiryOutcome.CLEARED, 50), (InquiryOutcome.REMINDER, 30), (InquiryOutcome.CRITICISM, 20))
SUBSTANTIATION = {
    DisposalWay.VERIFICATION: (
        (Substantiation.SUBSTANTIATED, 25),
        (Substantiation.PARTLY, 30),
        (Substantiation.UNSUBSTANTIATED, 45),
    ),
    DisposalWay.CLOSED: ((Substantiation.PARTLY, 3), (Substantiation.UNSUBSTANTIATED, 7)),
    DisposalWay.INVESTIGATION: ((Substantiation.SUBSTANTIATED, 8), (Substantiation.PARTLY, 2)),
}
OUTCOME_SUBSTANTIATION = {
    InquiryOutcome.CLEARED.value: Substantiation.UNSUBSTANTIATED.value,
    InquiryOutcome.REMINDER.value: Substantiation.PARTLY.value,
    InquiryOutcome.CRITICISM.value: Substantiation.SUBSTANTIATED.value,
}
SATISFACTION = ((5, 40), (4, 30), (3, 15), (2, 10), (1, 5))
STALL_SHARE = 0.01  # a step that never comes: the case stays open and runs overdue
SUBDISTRICT_SHARE = 0.35  # cases whose problem region is a sub-district rather than the county
REPORTER_POOL = 2000
TEXT_POOL = 20000
REPEAT_RING = 30  # recent cases per office that a repeat can point to
WRITERS = 2  # PostgreSQL connections writing at once

STUDY_OPINIONS = {
    DisposalWay.INQUIRY: "经集体研究，拟采取谈话函询方式处置。",
    DisposalWay.VERIFICATION: "经集体研究，拟对反映的问题进行初步核实。",
    DisposalWay.SHELVED: "经集体研究，该线索暂存待查。",
    DisposalWay.CLOSED: "经集体研究，该线索予以了结。",
    DisposalWay.INVESTIGATION: "经集体研究，拟移送审查调查。",
}
CONCLUSIONS = {
    Substantiation.SUBSTANTIATED: "经核查，反映的问题基本属实。",
    Substantiation.PARTLY: "经核查，反映的问题部分属实。",
    Substantiation.UNSUBSTANTIATED: "经核查，反映的问题不属实。",
}
SANCTIONS = {
    Substantiation.SUBSTANTIATED: (
        "给予党内警告处分",
        "给予政务记过处分",
        "给予党内严重警告处分",
        "给予撤销党内职务处分",
        "给予开除党籍处分，涉嫌犯罪问题移送检察机关",
    ),
    Substantiation.PARTLY: ("给予批评教育", "给予诫勉谈话", "责令作出书面检查", "给予党内警告处分"),
}
REASONS = {
    NotAcceptedReason.LITIGATION: "属于诉讼、仲裁或行政复议程序处理的事项，已告知反映人依法向有关机关提出。",
    NotAcceptedReason.OTHER_BODY: "不属于纪检监察机关受理范围，已告知反映人向有关部门反映。",
    NotAcceptedReason.NO_SUBSTANCE: "反映内容空泛，无实质内容。",
    "transfer_down": "按照干部管理权限，转下级纪委监委办理。",
    "assign": "交下级纪委监委办理，请按期报告办理结果。",
    "feed_back": "已向反映人反馈办理结果。",
}

# Deadline kinds and their defaults (qingfeng.deadlines.rules): working days, months, warn, serious.
_DEFAULT_RULES = {
    "screening": (5, None, 1, 5),
    "accept": (5, None, 1, 5),
    "acceptance_notice": (15, None, 3, 10),
    "inquiry_answer": (15, None, 3, 10),
    "inquiry_report": (None, 1, 5, 10),
    "assignment": (None, None, 3, 10),
    "feedback": (15, None, 3, 10),
}

NEVER = 1 << 60  # time of a step that does not happen
S_RECEIVED, S_SCREENED, S_ACCEPTED = Status.RECEIVED.value, Status.SCREENED.value, Status.ACCEPTED.value
S_DISPOSED, S_SHELVED, S_CONCLUDED = Status.DISPOSED.value, Status.SHELVED.value, Status.CONCLUDED.value
S_FED_BACK, S_ARCHIVED = Status.FED_BACK.value, Status.ARCHIVED.value
S_NOT_ACCEPTED, S_REPEAT = Status.NOT_ACCEPTED.value, Status.REPEAT.value
_DONE = frozenset({S_CONCLUDED, S_FED_BACK, S_ARCHIVED, S_NOT_ACCEPTED, S_REPEAT})


_JSON: dict[tuple[tuple[str, Any], ...], str] = {}


def _jdump(*pairs: tuple[str, Any]) -> str:
    """Event data as JSON; the few distinct values are encoded once."""
    hit = _JSON.get(pairs)
    if hit is None:
        hit = _JSON[pairs] = json.dumps(dict(pairs), ensure_ascii=False, separators=(",", ":"))
    return hit


def _picker(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Callable[[], Any]:
    """A fast weighted choice: one random number and a bisect."""
    values = [str(v) if isinstance(v, str) else v for v, _ in weighted]
    cum = list(accumulate(w for _, w in weighted))
    total = cum[-1]
    rand = rng.random
    bis = bisect.bisect_right
    last = len(values) - 1

    def pick() -> Any:
        return values[min(bis(cum, rand() * total), last)]

    return pick


# --- calendar and clock --------------------------------------------------------------------------


def _working_day_test() -> Callable[[date], bool]:
    """The project's working-day calendar, or Monday–Friday when it is not available."""
    try:
        from qingfeng.deadlines import calendar as wd_calendar

        exc = wd_calendar.exceptions()
        return lambda day: wd_calendar.is_working_day(day, exc)
    except Exception:  # no calendar module or table yet: a plain working week
        log.warning("generate_cases: working-day calendar unavailable, using Monday-Friday")
        return lambda day: day.weekday() < 5


def _deadline_rules() -> dict[str, tuple[int | None, int | None, int, int]]:
    try:
        from qingfeng.deadlines import rules

        return {
            kind: (r.working_days, r.months, r.warn_working_days, r.serious_working_days)
            for kind, r in rules.rules().items()
            if kind in _DEFAULT_RULES
        } | {k: v for k, v in _DEFAULT_RULES.items() if k not in rules.rules()}
    except Exception:
        return dict(_DEFAULT_RULES)


class _Days:
    """Day numbers from `first`: ISO strings, years, working-day arithmetic, UTC offsets."""

    def __init__(self, first: date, last: date, *, ts_suffix: str) -> None:
        self.first = first
        n = (last - first).days + 1
        days = [first + timedelta(days=i) for i in range(n)]
        is_wd = _working_day_test()
        self.iso = [d.isoformat() for d in days]
        self.year = [d.year for d in days]
        self.working = [is_wd(d) for d in days]
        self.wd_list = [i for i, w in enumerate(self.working) if w]
        le, count = [], 0
        for w in self.working:
            count += w
            le.append(count)
        self.wd_le = le  # working days with number <= i
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.offset = [
            int((datetime(d.year, d.month, d.day, 12, tzinfo=tz).utcoffset() or timedelta()).total_seconds()) // 60
            for d in days
        ]
        self.hm = [f" {m // 60:02d}:{m % 60:02d}:00{ts_suffix}" for m in range(1440)]
        self.n = n

    def number(self, day: date) -> int:
        return (day - self.first).days

    def add_wd(self, d: int, n: int) -> int:
        """The n-th working day after day d (n > 0), before it (n < 0), or d moved to a working day."""
        wl = self.wd_list
        if n > 0:
            return wl[min(self.wd_le[d] + n - 1, len(wl) - 1)]
        lt = self.wd_le[d] - self.working[d]
        return wl[max(lt + n, 0)] if n < 0 else wl[min(lt, len(wl) - 1)]

    def add_months(self, d: int, months: int) -> int:
        start = self.first + timedelta(days=d)
        mi = start.month - 1 + months
        y, m = start.year + mi // 12, mi % 12 + 1
        last_day = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day
        target = date(y, m, min(start.day, last_day))
        return self.add_wd(min(self.number(target), self.n - 1), 0)

    def utc(self, t: int) -> str:
        """Local minute number -> UTC timestamp string for the database."""
        u = t - self.offset[t // 1440]
        return self.iso[u // 1440] + self.hm[u % 1440]


# --- the offices -------------------------------------------------------------------------------

_OFFICE_SUFFIXES = ("纪律检查委员会", "纪检监察工委", "纪委监委", "监察委员会", "纪工委", "纪委", "监委")
_PLACE_ENDINGS = ("区", "县", "市", "旗", "州", "盟", "镇", "乡", "街道", "省", "自治区", "苏木")


def region_name_of(office: Office, rng: random.Random | None = None) -> str:
    """The place an office serves: its region_name, else its name without the commission suffix."""
    name = (getattr(office, "region_name", "") or "").strip()
    if not name:
        name = office.name or ""
        for suffix in _OFFICE_SUFFIXES:
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                break
    if name.endswith("市辖区") and len(name) > 3:
        name = name[:-3]
    if not name.endswith(_PLACE_ENDINGS):
        name = textgen.county_name(rng or random.Random(office.code))
    return name


@dataclass
class _OfficeInfo:
    id: int
    code: str
    region_code: str
    name: str
    level: int
    parent_id: int | None
    parent_code: str
    city: str
    # (region code, town name) of the sub-districts; towns without a code when there are none.
    subdistricts: list[tuple[str, str]] = field(default_factory=list)
    towns: list[str] = field(default_factory=list)


def _office_infos(offices: Sequence[Office], rng: random.Random) -> list[_OfficeInfo]:
    parent_ids = {o.parent_id for o in offices if o.parent_id}
    parents = {p.id: p for p in Office.objects.filter(id__in=parent_ids)}
    subs: dict[int, list[tuple[str, str]]] = {}
    for o in Office.objects.filter(parent_id__in=[o.id for o in offices], level=Office.Level.SUBDISTRICT).order_by(
        "code"
    ):
        subs.setdefault(o.parent_id or 0, []).append((o.region_code, region_name_of(o, rng)))
    infos = []
    for o in sorted(offices, key=lambda x: x.code):
        parent = parents.get(o.parent_id) if o.parent_id else None
        name = region_name_of(o, rng)
        city = region_name_of(parent, rng) if parent and parent.level > Office.Level.NATIONAL else name
        info = _OfficeInfo(
            o.id,
            o.code,
            o.region_code,
            name,
            o.level,
            o.parent_id,
            parent.code if parent else "",
            city,
            subs.get(o.id, []),
        )
        info.towns = [textgen.town_name(rng) for _ in range(6)]
        infos.append(info)
    return infos


# --- database writing --------------------------------------------------------------------------


class _Table:
    """Insert plan for one table: the columns we fill, plus constant defaults for the rest."""

    def __init__(
        self, model: type[models.Model], ours: Sequence[str], *, include_pk: bool = False, raw: Sequence[str] = ()
    ) -> None:
        """`raw`: columns outside the model (kept by the database, e.g. cases_case.visible_to) to fill too."""
        meta = model._meta
        self.table = meta.db_table
        by_attname = {f.attname: f for f in meta.concrete_fields}
        kept = [name in by_attname or name in raw for name in ours]
        self.keep = None if all(kept) else itemgetter(*[i for i, k in enumerate(kept) if k])
        self.columns: list[str] = [
            str(by_attname[name].column) if name in by_attname else name
            for name, k in zip(ours, kept, strict=True)
            if k
        ]
        self.extra: tuple[Any, ...] = ()
        now = timezone.now()
        for f in meta.concrete_fields:
            if f.attname in ours or (f.primary_key and not include_pk):
                continue
            if getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
                continue
            if f.has_default():
                value = f.get_default()
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif f.null:
                value = None
            elif f.empty_strings_allowed:
                value = ""
            else:
                raise RuntimeError(f"generate_cases cannot fill {meta.label}.{f.name}: give it a default")
            self.columns.append(str(f.column))
            self.extra += (f.get_db_prep_save(value, connection),)

    def rows(self, rows: Iterable[tuple[Any, ...]]) -> Iterable[tuple[Any, ...]]:
        keep, extra = self.keep, self.extra
        if keep is not None:
            rows = map(keep, rows)
        if extra:
            rows = (r + extra for r in rows)
        return rows


class _Writer:
    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        self.qn = connection.ops.quote_name

    def insert(self, table: _Table, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cols = ", ".join(self.qn(c) for c in table.columns)
        if self.vendor == "postgresql":
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {self.qn(table.table)} ({cols}) FROM STDIN") as copy,
            ):
                write = copy.write_row
                for row in table.rows(rows):
                    write(row)
        elif self.vendor == "sqlite":
            # Constant columns go into the statement as literals: fewer values to bind per row.
            literals = [_sql_literal(v) for v in table.extra]
            consts = [c for c in literals if c is not None]
            if len(consts) < len(literals):
                sql = f"INSERT INTO {self.qn(table.table)} ({cols}) VALUES ({', '.join('?' * len(table.columns))})"
                connection.connection.executemany(sql, table.rows(rows))
                return
            marks = ", ".join(["?"] * (len(table.columns) - len(consts)) + consts)
            sql = f"INSERT INTO {self.qn(table.table)} ({cols}) VALUES ({marks})"
            keep = table.keep
            connection.connection.executemany(sql, map(keep, rows) if keep is not None else rows)
        else:
            marks = ", ".join(["%s"] * len(table.columns))
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {self.qn(table.table)} ({cols}) VALUES ({marks})", list(table.rows(rows))
                )


def _sql_literal(value: Any) -> str | None:
    """SQL text of a simple constant, or None when it should be bound."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None


# fmt: off
CASE_COLUMNS = (
    "id", "number", "received_office_id", "holding_office_id", "received_at", "channel", "source", "item_type",
    "urgency", "is_group_visit", "head_count", "region_code", "keywords", "title", "description", "search_tokens",
    "handling_mode", "status", "is_real_name", "is_repeat", "repeat_of_id", "not_accepted_reason", "study_opinion",
    "disposal_way", "inquiry_outcome", "substantiation", "sanctions", "losses_recovered", "name_cleared",
    "conclusion", "concluded_at", "fed_back_at", "acceptance_notified_at", "archived_at", "problem_solved",
    "satisfaction", "assigned_by_id", "screening_due", "accept_due", "acceptance_notice_due", "inquiry_answer_due",
    "inquiry_report_due", "assignment_due", "feedback_due", "next_due", "next_due_kind", "next_warn_on",
    "next_serious_on", "deadline_level", "status_changed_at", "created_at", "updated_at", "held_since", "disposed_at",
    "visible_to",
)
# fmt: on
ACCESS_COLUMNS = ("case_id", "office_id", "received_at", "hidden", "granted_at")
# fmt: off
REPORTER_COLUMNS = (
    "case_id", "region_code", "is_anonymous", "name", "id_number", "phone", "email", "address", "gender",
    "party_member", "occupation", "unit", "name_hash", "phone_hash", "id_number_hash",
)
# fmt: on
# fmt: off
PARTY_COLUMNS = (
    "case_id", "kind", "name", "gender", "birth_date", "party_member", "post", "rank", "unit", "unit_nature",
    "region_code", "managed_at_this_level", "match_key",
)
# fmt: on
# fmt: off
EVENT_COLUMNS = (
    "case_id", "action", "from_status", "to_status", "office_id", "target_office_id", "reason", "data", "created_at",
)
# fmt: on


# --- secondary indexes during a large load -----------------------------------------------------

# Created by migration cases 0004: the indexes dropped for a load and not yet rebuilt. A row
# is written in the transaction that drops its index and deleted in the one that rebuilds it,
# so an interrupted load (even killed) leaves a record that the next run works from.
DROPPED_INDEXES = "cases_bulk_dropped_index"
REBUILD_MIN = 20000  # smaller loads keep their indexes: rebuilding costs more than it saves
_CREATE_INDEX = re.compile(r"^\s*CREATE\s+INDEX\s+(IF\s+NOT\s+EXISTS\s+)?", re.IGNORECASE)


def bulk_tables() -> list[str]:
    """The tables generate_cases fills."""
    tables = [m._meta.db_table for m in (Case, CaseAccess, Reporter, ReportedParty, CaseEvent)]
    for name in ("categories", "tags"):
        f = Case._meta.get_field(name)
        assert isinstance(f, models.ManyToManyField)
        tables.append(f.remote_field.through._meta.db_table)  # type: ignore[union-attr]
    return tables


def _secondary_indexes(tables: Sequence[str]) -> list[tuple[str, str, str]]:
    """(name, table, CREATE INDEX statement) of the plain indexes of these tables.

    Unique indexes, primary keys and indexes behind constraints stay: they check the rows
    as they arrive. The rest only speed up reads and can be built after the load.
    """
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute(
                "SELECT ic.relname, t.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                " JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid"
                " WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace"
                " AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
                " ORDER BY t.relname, ic.relname",
                [list(tables)],
            )
            return [(n, t, d) for n, t, d in c.fetchall() if _CREATE_INDEX.match(d)]
        if connection.vendor != "sqlite":
            return []
        out = []
        for table in tables:
            c.execute(f"PRAGMA index_list({connection.ops.quote_name(table)})")
            plain = {row[1] for row in c.fetchall() if not row[2] and not row[4]}  # not unique, not partial
            c.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
            out += [(n, table, d) for n, d in c.fetchall() if n in plain and _CREATE_INDEX.match(d)]
        return sorted(out, key=itemgetter(1, 0))


def drop_secondary_indexes(tables: Sequence[str] | None = None) -> list[str]:
    """Drop the plain indexes of the bulk tables for a load, recording each in the same transaction."""
    found = _secondary_indexes(tables or bulk_tables())
    if not found:
        return []
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as c:
        _check_deferred_now(c)
        for name, table, definition in found:
            c.execute(
                f"INSERT INTO {DROPPED_INDEXES} (name, table_name, definition) VALUES (%s, %s, %s)",
                [name, table, definition],
            )
            c.execute(f"DROP INDEX {qn(name)}")
    return [name for name, _, _ in found]


def _check_deferred_now(cursor: Any) -> None:
    """PostgreSQL refuses to change a table's indexes while deferred checks (the foreign keys)
    are pending on it, as they are inside a longer transaction (tests): run them now."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def dropped_indexes() -> list[tuple[str, str, str]]:
    """(name, table, definition) of indexes dropped for a load and not rebuilt yet."""
    with connection.cursor() as c:
        c.execute(f"SELECT name, table_name, definition FROM {DROPPED_INDEXES} ORDER BY table_name, name")
        return [tuple(r) for r in c.fetchall()]  # type: ignore[misc]


def restore_secondary_indexes(*, parallel: bool | None = None) -> list[str]:
    """Rebuild every index a load dropped (this one's or an interrupted earlier one's).

    Each index is created and its record deleted in one transaction. On PostgreSQL the
    session gets more memory for sorting and parallel workers for the B-tree builds, and
    when not inside a transaction two connections build at once (the GIN full-text index,
    which builds on one core, alongside the B-trees).
    """
    todo = dropped_indexes()
    if not todo:
        return []
    pg = connection.vendor == "postgresql"
    # Full text first: it is the longest build, and the others can run beside it.
    todo.sort(key=lambda r: (" gin " not in r[2].lower(), r[1] != Case._meta.db_table, r[1], r[0]))
    # Builders on connections of their own (with their session settings) unless inside a
    # transaction, whose uncommitted tables other connections cannot see.
    builders = 0 if not pg or connection.in_atomic_block else (1 if parallel is False else 2)
    pending = deque(todo)
    lock = threading.Lock()
    done: list[str] = []
    errors: list[BaseException] = []

    def build(own_connection: bool) -> None:
        try:
            with connection.cursor() as c:
                if pg and own_connection:  # a connection of its own, closed afterwards
                    c.execute("SET maintenance_work_mem = '1GB'")
                    c.execute("SET max_parallel_maintenance_workers = 2")
                while not errors:
                    with lock:
                        if not pending:
                            return
                        name, _table, definition = pending.popleft()
                    with transaction.atomic():
                        _check_deferred_now(c)
                        c.execute(_CREATE_INDEX.sub("CREATE INDEX IF NOT EXISTS ", definition, count=1))
                        c.execute(f"DELETE FROM {DROPPED_INDEXES} WHERE name = %s", [name])
                    with lock:
                        done.append(name)
        except BaseException as exc:
            errors.append(exc)
        finally:
            if own_connection:
                connection.close()

    if builders:
        threads = [
            threading.Thread(target=build, args=(True,), name=f"generate-cases-index-{i}") for i in range(builders)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        build(False)
    if errors:
        raise errors[0]
    return done


# --- pools -------------------------------------------------------------------------------------


class _Tokens:
    """Search words as registration stores them (qingfeng.core.text), computed once per piece of text."""

    def __init__(self) -> None:
        try:
            from qingfeng.core.text import tokens

            self._tokens: Callable[[str], list[str]] = lambda text: tokens(text, for_search=True)
        except ImportError:  # older tree: plain jieba
            import jieba

            jieba.setLogLevel(logging.WARNING)
            self._tokens = lambda text: [t.lower() for t in jieba.cut_for_search(text) if t.strip()]
        self._cache: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        hit = self._cache.get(text)
        if hit is None:
            hit = self._cache[text] = " ".join(self._tokens(text))
        return hit

    def template(self, pieces: Sequence[textgen.Piece]) -> str:
        """A format template whose rendering holds the words of the rendered pieces (with repeats)."""
        parts = []
        for p in pieces:
            if isinstance(p, textgen.Slot):
                parts.append(f"{{{textgen.SLOT_INDEX[p.name]}}}")
            else:
                words = self(p)
                if words:
                    parts.append(words.replace("{", "{{").replace("}", "}}"))
        return " ".join(parts)


def search_tokens(words: str) -> str:
    """Words as stored in search_tokens: each once, in order of first use, padded with spaces."""
    return " " + " ".join(dict.fromkeys(words.split())) + " "


@dataclass(frozen=True)
class _Text:
    title: str  # str.format templates over textgen.SLOTS
    description: str
    tokens: str
    keywords: str
    item_type: str
    kind: str
    party_name: str  # templates too: the person's name slot, or the organisation's name
    post: str
    rank: str
    unit: str
    nature: str
    category_id: int | None
    tag_ids: tuple[int, ...]


def _category_ids() -> tuple[dict[str, int], dict[str, int]]:
    cats = dict(Category.objects.filter(active=True).values_list("code", "id"))
    tags = dict(Tag.objects.filter(active=True).values_list("code", "id"))
    return cats, tags


def _compile(sk: textgen.Skeleton, tok: _Tokens, cats: dict[str, int], tags: dict[str, int]) -> _Text:
    category_id = None
    if cats:
        code = sk.category
        category_id = cats.get(code) or cats.get(code.split(".")[0]) or cats.get("other") or next(iter(cats.values()))
    party = sk.party
    person = party.kind == PartyKind.PERSON
    return _Text(
        title=textgen.format_template(sk.title),
        description=textgen.format_template(sk.description),
        tokens=" ".join((tok.template(sk.title), tok.template(sk.description), tok(sk.keywords))),
        keywords=sk.keywords,
        item_type=sk.item_type,
        kind=party.kind,
        party_name="{0}" if person else textgen.format_template(party.unit),
        post=textgen.format_template(party.post),
        rank=party.rank,
        unit=textgen.format_template(party.unit) if person else "",
        nature=party.unit_nature,
        category_id=category_id,
        tag_ids=tuple(tags[t] for t in sk.tags if t in tags),
    )


def _text_pools(
    rng: random.Random, years: Sequence[int], size: int, use_shared: bool, tok: _Tokens
) -> tuple[dict[int, list[tuple[_Text, _Text]]], bool]:
    """Per year: (first report, follow-up of it) pairs. True when the shared texts were used."""
    cats, tags = _category_ids()
    shared = list(textgen.iter_shared_messages()) if use_shared else []
    pools: dict[int, list[tuple[_Text, _Text]]] = {}
    if shared:
        chosen = rng.sample(shared, k=min(len(shared), size))
        entries = []
        for title, body in chosen:
            sk = textgen.shared_skeleton(title, body, rng)
            follow = textgen.with_follow_up(sk, rng.choice((2, 2, 3)), rng, year=years[-1])
            entries.append((_compile(sk, tok, cats, tags), _compile(follow, tok, cats, tags)))
        return dict.fromkeys(years, entries), True
    pick_type = _picker(rng, ITEM_TYPES)
    per_year = max(50, size // len(years))
    for year in years:
        entries = []
        for _ in range(per_year):
            sk = textgen.compose(rng, item_type=pick_type(), follow_up=0, year=year)
            follow = textgen.with_follow_up(sk, rng.choice((2, 2, 3)), rng, year=year)
            entries.append((_compile(sk, tok, cats, tags), _compile(follow, tok, cats, tags)))
        pools[year] = entries
    return pools, False


def _id_number(rng: random.Random, region: str) -> str:
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    body = f"{region[:6].ljust(6, '0')}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


_OCCUPATIONS = ("农民", "个体工商户", "退休职工", "企业职工", "教师", "公务员", "村民", "务工人员", "医生", "自由职业")
_STREETS = ("人民路", "解放路", "建设路", "中山路", "胜利街", "文化路", "新华街", "幸福路")


def _reporter_pool(rng: random.Random, regions: Sequence[str], size: int) -> list[tuple[Any, ...]]:
    """Real-name reporter identities as raw column values (REPORTER_COLUMNS after region_code)."""
    enc = crypto.encrypt
    pool = []
    for _ in range(size):
        name, gender = textgen.person_name(rng)
        phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
        id_number = _id_number(rng, rng.choice(regions)) if rng.random() < 0.6 else ""
        address = f"{rng.choice(_STREETS)}{rng.randint(1, 300)}号" if rng.random() < 0.5 else ""
        email = f"u{rng.randrange(10**8)}@example.com" if rng.random() < 0.1 else ""
        pool.append(
            (
                False,
                enc(name),
                enc(id_number) if id_number else "",
                enc(phone),
                enc(email) if email else "",
                enc(address) if address else "",
                gender,
                rng.random() < 0.3 if rng.random() < 0.7 else None,
                rng.choice(_OCCUPATIONS),
                "",
                crypto.name_hash(name),
                crypto.phone_hash(phone),
                crypto.id_number_hash(id_number),
            )
        )
    return pool


_ANONYMOUS = (True, "", "", "", "", "", "", None, "", "", "", "", "")


def _match_key() -> Callable[[str, str], str]:
    """ReportedParty.match_key as repeat detection computes it, with its two halves memoised."""
    try:
        from qingfeng.repeats.normalize import normalize_unit, party_match_key
    except ImportError:  # repeat detection not installed: the same shape, "name|unit"

        def party_match_key(name: str, unit: str = "") -> str:
            n = crypto.normalize_name(name)
            return f"{n}|{crypto.normalize_name(unit)}"[:300] if n else ""

        def normalize_unit(unit: str) -> str:
            return crypto.normalize_name(unit)

    names: dict[str, str] = {}
    units: dict[str, str] = {}

    def key(name: str, unit: str) -> str:
        n = names.get(name)
        if n is None:
            n = names[name] = party_match_key(name, "")
        if not n:
            return ""
        u = units.get(unit)
        if u is None:
            u = normalize_unit(unit)
            if len(units) < 1_000_000:
                units[unit] = u
        return (n + u)[:300]

    sample = ("张 三", "某某镇人民政府")
    return key if key(*sample) == party_match_key(*sample) else party_match_key


# --- the generator -----------------------------------------------------------------------------


def generate_cases(
    *,
    count: int,
    offices: Sequence[Office] | None,
    seed: int,
    start: date,
    end: date,
    batch_size: int = 5000,
    use_shared_texts: bool = True,
    progress: Callable[[int, int], None] | None = None,
    indexes: str = "auto",
    note: Callable[[str], None] | None = None,
) -> int:
    """Create `count` synthetic cases received between `start` and `end` (inclusive) by `offices`.

    Default offices: every county-level office. Deterministic for a seed and database state.
    Returns the number of cases created.

    `indexes`: "rebuild" drops the plain secondary indexes of the bulk tables for the load
    and builds them again afterwards (also when the load fails), "keep" leaves them, "auto"
    rebuilds when the load is large and at least half the size of what is already there.
    Indexes left dropped by an interrupted earlier run are rebuilt first in every case.
    """
    if count <= 0:
        return 0
    if end < start:
        raise ValueError("end must not be before start")
    if indexes not in ("auto", "rebuild", "keep"):
        raise ValueError("indexes must be auto, rebuild or keep")
    if offices is None:
        offices = list(Office.objects.filter(level=Office.Level.COUNTY))
    if not offices:
        raise ValueError("no offices to generate cases for: run `manage.py load_offices` first")
    say = note or (lambda message: None)
    leftover = restore_secondary_indexes()
    if leftover:
        say(f"rebuilt {len(leftover)} index(es) an interrupted earlier load had dropped")
    rebuild = indexes == "rebuild" or (indexes == "auto" and count >= REBUILD_MIN and 2 * count >= Case.objects.count())
    gen = _Generator(offices=offices, seed=seed, start=start, end=end, count=count, use_shared_texts=use_shared_texts)
    return gen.run(batch_size=batch_size, progress=progress, rebuild_indexes=rebuild, note=say)


class _Generator:
    def __init__(
        self, *, offices: Sequence[Office], seed: int, start: date, end: date, count: int, use_shared_texts: bool
    ) -> None:
        self.rng = rng = random.Random(seed)
        self.count = count
        self.vendor = connection.vendor
        local_now = timezone.localtime()
        today = local_now.date()
        if end >= today:
            now_day, now_minute = max(end, today), local_now.hour * 60 + local_now.minute if end == today else 1439
        else:
            now_day, now_minute = today, local_now.hour * 60 + local_now.minute
        self.days = days = _Days(
            start - timedelta(days=3),
            max(now_day, end) + timedelta(days=500),
            ts_suffix="+00" if self.vendor == "postgresql" else "",
        )
        self.start_day = days.number(start)
        self.span = (end - start).days + 1
        self.now_day = days.number(now_day)
        self.now_t = self.now_day * 1440 + now_minute
        self.rules = _deadline_rules()
        self.offices = _office_infos(offices, rng)
        self.by_id = {o.id: o for o in self.offices}
        weights = [rng.lognormvariate(0, 0.6) for _ in self.offices]
        self.office_cum = list(accumulate(weights))
        self.tok = _Tokens()
        years = list(range(start.year, end.year + 1))
        pool_size = min(TEXT_POOL, max(200, count))
        self.pools, self.shared = _text_pools(rng, years, pool_size, use_shared_texts, self.tok)
        regions = [o.region_code for o in self.offices]
        self.reporters = _reporter_pool(rng, regions, min(REPORTER_POOL, max(50, count)))
        names = [textgen.person_name(rng) for _ in range(min(20000, max(500, count)))]
        self.names = [(n, g, self.tok(n)) for n, g in names]
        self.villages = [(v, self.tok(v)) for v in sorted({textgen.village_name(rng) for _ in range(200)})]
        self.match_key = _match_key()
        self.tables = {
            # PostgreSQL's visible_to (migration cases 0005) is filled here, as the triggers would
            # compute it, so that they find nothing to change.
            "case": _Table(
                Case, CASE_COLUMNS, include_pk=True, raw=("visible_to",) if self.vendor == "postgresql" else ()
            ),
            "access": _Table(CaseAccess, ACCESS_COLUMNS),
            "reporter": _Table(Reporter, REPORTER_COLUMNS),
            "party": _Table(ReportedParty, PARTY_COLUMNS),
            "event": _Table(CaseEvent, EVENT_COLUMNS),
        }
        cat_field = Case._meta.get_field("categories")
        tag_field = Case._meta.get_field("tags")
        self.m2m = {}
        for key, f in (("cat", cat_field), ("tag", tag_field)):
            assert isinstance(f, models.ManyToManyField)
            through: Any = f.remote_field.through
            self.m2m[key] = _Table(through, (f.m2m_column_name(), f.m2m_reverse_name()))
        self.writer = _Writer()
        # Sequences: every receiving office (the holding ones and their parents), by year.
        office_ids = {o.id for o in self.offices} | {o.parent_id for o in self.offices if o.parent_id}
        self.codes = dict(Office.objects.filter(id__in=office_ids).values_list("id", "code"))
        self.seq: dict[tuple[int, int], int] = {
            (o, y): v
            for o, y, v in CaseNumberSequence.objects.filter(office_id__in=office_ids).values_list(
                "office_id", "year", "last_value"
            )
        }
        self.committed_seq: dict[tuple[int, int], int] = {}
        self.rings: dict[int, deque[tuple[Any, ...]]] = {}
        self.place_cache: dict[tuple[int, str], tuple[tuple[str, ...], tuple[str, ...]]] = {}

    # --- the run ----------------------------------------------------------------------------

    def run(
        self,
        *,
        batch_size: int,
        progress: Callable[[int, int], None] | None,
        rebuild_indexes: bool = False,
        note: Callable[[str], None] = lambda message: None,
    ) -> int:
        """Build batches in a helper thread while the previous ones are written.

        Building is pure Python; writing spends most of its time in SQLite's C code or waiting
        for PostgreSQL, with the GIL released, so the two overlap. On PostgreSQL two connections
        write at once (the server's work per row is the larger part), committing in batch
        order so that a repeat always points at a case that is already committed.
        """
        self.next_id = self._first_id()
        parallel = self.vendor == "postgresql" and not connection.in_atomic_block
        n_writers = WRITERS if parallel else 1
        batches: queue.Queue[tuple[int, dict[str, Any]] | BaseException | None] = queue.Queue(maxsize=n_writers + 1)
        stop = threading.Event()
        turn = threading.Condition()
        state = {"next": 0, "done": 0}
        errors: list[BaseException] = []

        def offer(item: tuple[int, dict[str, Any]] | BaseException | None) -> None:
            while not stop.is_set():
                try:
                    batches.put(item, timeout=0.2)
                    return
                except queue.Full:
                    continue

        def build() -> None:
            try:
                done, k = 0, 0
                while done < self.count and not stop.is_set():
                    n = min(batch_size, self.count - done)
                    offer((k, self._build(done, n)))
                    done, k = done + n, k + 1
                for _ in range(n_writers):
                    offer(None)
            except BaseException as exc:  # handed to a writer, which re-raises it
                offer(exc)

        def write_all(own_connection: bool) -> None:
            restore = self._tune_connection() if own_connection else None
            try:
                while not stop.is_set():
                    try:
                        item = batches.get(timeout=0.2)
                    except queue.Empty:
                        continue
                    if item is None:
                        return
                    if isinstance(item, BaseException):
                        raise item
                    k, batch = item
                    with transaction.atomic():
                        self._write(batch)
                        with turn:  # commit in batch order
                            while state["next"] != k and not stop.is_set():
                                turn.wait(0.5)
                            if stop.is_set():
                                raise RuntimeError("another writer failed")
                    with turn:
                        state["next"] = k + 1
                        state["done"] += len(batch["case"])
                        for key, value in batch["seq"].items():
                            self.committed_seq[key] = max(value, self.committed_seq.get(key, 0))
                        turn.notify_all()
                        if progress:
                            progress(state["done"], self.count)
            except BaseException as exc:
                errors.append(exc)
                stop.set()
                with turn:
                    turn.notify_all()
            finally:
                if own_connection:
                    if restore:
                        restore()
                    connection.close()

        builder = threading.Thread(target=build, name="generate-cases-builder", daemon=True)
        if rebuild_indexes:  # all or none, recorded: the finally below or the next run rebuilds them
            dropped = drop_secondary_indexes()
            note(f"dropped {len(dropped)} secondary indexes for the load; they are rebuilt at the end")
        restore = self._tune_connection()
        builder.start()
        try:
            if n_writers == 1:
                write_all(own_connection=False)
            else:
                writers = [
                    threading.Thread(target=write_all, args=(True,), name=f"generate-cases-writer-{i}", daemon=True)
                    for i in range(n_writers)
                ]
                for w in writers:
                    w.start()
                for w in writers:
                    w.join()
        finally:
            stop.set()
            builder.join()
            try:
                if rebuild_indexes:
                    t0 = time.perf_counter()
                    rebuilt = restore_secondary_indexes()
                    note(f"rebuilt {len(rebuilt)} indexes in {time.perf_counter() - t0:.1f}s")
            finally:
                self._finish(restore)
        if errors:
            raise errors[0]
        return state["done"]

    def _first_id(self) -> int:
        top = Case.objects.aggregate(m=Max("id"))["m"] or 0
        if self.vendor == "postgresql":
            with connection.cursor() as c:
                c.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Case._meta.db_table])
                seq = c.fetchone()[0]
                if seq:
                    c.execute(f"SELECT last_value, is_called FROM {seq}")
                    last, called = c.fetchone()
                    top = max(top, last if called else last - 1)
        return top + 1

    def _tune_connection(self) -> Callable[[], None]:
        """Session settings for a bulk load; none of them weakens a constraint."""
        if self.vendor == "sqlite":
            with connection.cursor() as c:
                c.execute("PRAGMA cache_size")
                old = c.fetchone()[0]
                c.execute("PRAGMA cache_size = -1048576")  # 1 GiB: the index pages stay in memory

            def restore_sqlite() -> None:
                with connection.cursor() as c:
                    c.execute(f"PRAGMA cache_size = {int(old)}")

            return restore_sqlite
        if self.vendor != "postgresql":
            return lambda: None
        names = ("synchronous_commit", "default_toast_compression", "gin_pending_list_limit", "work_mem")
        with connection.cursor() as c:
            olds = {}
            for name in names:
                c.execute(f"SHOW {name}")
                olds[name] = c.fetchone()[0]
            # Commits need not wait for the disk (a crash loses at most the last batches, never
            # consistency); lz4 compresses the long texts far faster than pglz; a larger GIN
            # pending list lets the search index take its entries in big sorted merges.
            for sql in (
                "SET synchronous_commit = off",
                "SET default_toast_compression = lz4",
                "SET gin_pending_list_limit = '64MB'",
                "SET work_mem = '256MB'",
            ):
                try:
                    with transaction.atomic():
                        c.execute(sql)
                except DatabaseError:  # e.g. a server built without lz4
                    pass

        def restore_pg() -> None:
            with connection.cursor() as c:
                for name, value in olds.items():
                    c.execute("SELECT set_config(%s, %s, false)", [name, value])

        return restore_pg

    def _finish(self, restore: Callable[[], None]) -> None:
        """Bring the number sequences and the id sequence past what was committed."""
        if self.committed_seq:
            table = CaseNumberSequence._meta.db_table
            qn = connection.ops.quote_name
            greatest = "GREATEST" if self.vendor == "postgresql" else "MAX"
            sql = (
                f"INSERT INTO {qn(table)} (office_id, year, last_value) VALUES (%s, %s, %s) "
                f"ON CONFLICT (office_id, year) DO UPDATE SET "
                f"last_value = {greatest}({qn(table)}.last_value, excluded.last_value)"
            )
            rows = [(o, y, v) for (o, y), v in sorted(self.committed_seq.items())]
            with transaction.atomic(), connection.cursor() as c:
                for i in range(0, len(rows), 5000):
                    c.executemany(sql, rows[i : i + 5000])
        with connection.cursor() as c:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Case]):
                c.execute(sql)
            if self.vendor == "postgresql" and self.committed_seq:
                tables = [m._meta.db_table for m in (Case, CaseAccess, Reporter, ReportedParty, CaseEvent)]
                # Merge what is left in GIN pending lists (the search index) so searches need not scan them.
                c.execute(
                    "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i"
                    " JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam"
                    " WHERE am.amname = 'gin' AND i.indrelid::regclass::text = ANY(%s)",
                    [tables],
                )
                listed = {Case._meta.db_table, CaseAccess._meta.db_table}
                for table in tables:
                    # The case list counts through index-only scans of these two, which need
                    # the visibility map that only VACUUM sets (it cannot run in a transaction).
                    vacuum = table in listed and not connection.in_atomic_block
                    c.execute(f"{'VACUUM (ANALYZE)' if vacuum else 'ANALYZE'} {connection.ops.quote_name(table)}")
        restore()

    def _write(self, batch: dict[str, Any]) -> None:
        w, t = self.writer, self.tables
        w.insert(t["case"], batch["case"])
        w.insert(t["access"], batch["access"])
        w.insert(t["reporter"], batch["reporter"])
        w.insert(t["party"], batch["party"])
        w.insert(t["event"], batch["event"])
        w.insert(self.m2m["cat"], batch["cat"])
        w.insert(self.m2m["tag"], batch["tag"])

    # --- one batch --------------------------------------------------------------------------

    def _place(self, office: _OfficeInfo, town: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Slot fills of an office and town, and their tokens (name and village left empty)."""
        key = (office.id, town)
        hit = self.place_cache.get(key)
        if hit is None:
            f = textgen.make_fills(name="", county=office.name, town=town, village="", city=office.city)
            values = tuple(f[s] for s in textgen.SLOTS)
            hit = (values, tuple(self.tok(v) for v in values))
            self.place_cache[key] = hit
        return hit

    def _build(self, offset: int, n: int) -> dict[str, Any]:
        rng = self.rng
        rand = rng.random
        days = self.days
        iso, utc, add_wd, year_of, working = days.iso, days.utc, days.add_wd, days.year, days.working
        now_t, now_day = self.now_t, self.now_day
        offices, office_cum = self.offices, self.office_cum
        total_w = office_cum[-1]
        bis = bisect.bisect_right
        pools, names, villages, reporters = self.pools, self.names, self.villages, self.reporters
        seq, codes, rings = self.seq, self.codes, self.rings
        match_key = self.match_key
        rules = self.rules
        pick_channel = _picker(rng, CHANNELS)
        pick_source = _picker(rng, SOURCES)
        pick_urgency = _picker(rng, URGENCY)
        pick_outcome = _picker(rng, OUTCOMES)
        pick_sat = _picker(rng, SATISFACTION)
        pick_way = {k: _picker(rng, v) for k, v in DISPOSAL_WAYS.items()}
        pick_sub = {k: _picker(rng, v) for k, v in SUBSTANTIATION.items()}
        pick_reason = {k: _picker(rng, v) for k, v in NOT_ACCEPTED_REASONS.items()}
        closed_way = DisposalWay.CLOSED.value

        def step(t: int, lo: int, hi: int) -> int:
            """A time lo..hi working days after t, in office hours; NEVER stays NEVER."""
            if t >= NEVER or rand() < STALL_SHARE:
                return NEVER
            delay = lo + int(rand() * (hi - lo + 1))
            d = t // 1440
            if delay == 0:
                m = t % 1440
                return t + 1 + int(rand() * max(1, min(60, 1080 - m))) if m < 1079 else t + 1
            d2 = add_wd(d, delay)
            return d2 * 1440 + 510 + int(rand() * 540)

        out_case: list[tuple[Any, ...]] = []
        out_access: list[tuple[Any, ...]] = []
        out_rep: list[tuple[Any, ...]] = []
        out_party: list[tuple[Any, ...]] = []
        out_event: list[tuple[Any, ...]] = []
        out_cat: list[tuple[int, int]] = []
        out_tag: list[tuple[int, int]] = []
        batch_seq: dict[tuple[int, int], int] = {}
        count, span, start_day = self.count, self.span, self.start_day
        last_day = start_day + span - 1

        for k in range(offset, offset + n):
            case_id = self.next_id
            self.next_id += 1
            # --- arrival ---
            day = start_day + min(span - 1, int((k + rand()) * span / count))
            office = offices[min(bis(office_cum, rand() * total_w), len(offices) - 1)]
            channel = pick_channel()
            if not working[day] and channel != "online":  # letters, calls and visits wait for a workday
                day = add_wd(day, 0)
                if day > last_day:
                    day = add_wd(day, -1)
            minute = int(rand() * 1440) if channel == "online" else 510 + int(rand() * 540)
            t0 = day * 1440 + minute
            if t0 > now_t:  # received later today than it is now
                t0 = now_t - int(rand() * min(60, now_t % 1440))
            source = pick_source()
            moved = source in ("transferred", "assigned") and office.parent_id is not None
            if not moved and source in ("transferred", "assigned"):
                source = "own_level"
            real = rand() < REAL_NAME_SHARE[channel]
            group = channel == "visit" and rand() < GROUP_VISIT_SHARE
            head_count = (5 + int(rand() ** 2 * 60)) if group else None
            year = year_of[day]
            # --- text, place and reported person ---
            ring = rings.get(office.id)
            repeat_of = None
            if ring and rand() < REPEAT_SHARE:
                repeat_of = ring[int(rand() * len(ring))]
                if repeat_of[2][0].item_type not in REPEATABLE:
                    repeat_of = None
            if repeat_of is not None:
                _eid, _enumber, entry, fills, tfills, region_code, name_gender = repeat_of
                text = entry[1]  # the follow-up ("再问") of the earlier text, about the same person
            else:
                pool = pools[year]
                entry = pool[int(rand() * len(pool))]
                text = entry[0]
                name, name_gender, ntok = names[int(rand() * len(names))]
                village, vtok = villages[int(rand() * len(villages))]
                if office.subdistricts and rand() < SUBDISTRICT_SHARE:
                    region_code, town = office.subdistricts[int(rand() * len(office.subdistricts))]
                else:
                    region_code, town = office.region_code, office.towns[int(rand() * len(office.towns))]
                values, toks = self._place(office, town)
                fills = (name, values[1], values[2], village, *values[4:])
                tfills = (ntok, toks[1], toks[2], vtok, *toks[4:])
            item_type = text.item_type
            # --- the plan: times of each step (NEVER when it does not happen) ---
            receiver: int = office.parent_id if moved else office.id  # type: ignore[assignment]
            t_move = NEVER
            if moved:
                t_pscreen = step(t0, 0, 6)
                t_move = t_pscreen + 5 if t_pscreen < NEVER else NEVER
                t_screen = step(t_move, 0, 7)
            else:
                t_pscreen = NEVER
                t_screen = step(t0, 0, 7)
            if repeat_of is not None:
                decision = "repeat"
            else:
                decision = "not_accept" if rand() < NOT_ACCEPTED_SHARE[item_type] else "accept"  # type: ignore[index]
            t_decide = step(t_screen, 0, 2)
            t_notify = t_dispose = t_outcome = t_conclude = t_feedback = t_visit = t_archive = NEVER
            way = outcome = sub = reason = ""
            if decision == "accept":
                if real:
                    t_notify = step(t_decide, 1, 10) if rand() < 0.9 else step(t_decide, 12, 25)
                t_dispose = step(t_decide, 5, 30)
                if t_notify < NEVER and t_dispose < NEVER and t_dispose <= t_notify:
                    t_dispose = t_notify + 30
                wp = pick_way.get(item_type)
                way = wp() if wp else closed_way
                if way == "inquiry":
                    t_outcome = step(t_dispose, 10, 25)
                    outcome = pick_outcome()
                    sub = OUTCOME_SUBSTANTIATION[outcome]  # type: ignore[index]
                    lo, hi = CONCLUDE_DELAY[way]  # type: ignore[index]
                    t_conclude = step(t_outcome, lo, hi)
                elif way != "shelved":
                    lo, hi = CONCLUDE_DELAY[way]  # type: ignore[index]
                    t_conclude = step(t_dispose, lo, hi)
                    sub = pick_sub[way]()  # type: ignore[index]
                if real:
                    t_feedback = step(t_conclude, 2, 14) if rand() < 0.9 else step(t_conclude, 16, 30)
                    t_visit = step(t_feedback, 5, 30) if rand() < 0.8 else NEVER
                    t_archive = step(max(t_feedback, t_visit) if t_visit < NEVER else t_feedback, 10, 60)
                else:
                    t_archive = step(t_conclude, 10, 60)
            elif decision == "not_accept":
                reason = pick_reason[item_type]()  # type: ignore[index]
                if real:
                    t_feedback = step(t_decide, 1, 10)
                    t_archive = step(t_feedback, 10, 60)
                else:
                    t_archive = step(t_decide, 10, 60)
            else:
                t_archive = step(t_decide, 10, 60)
            if rand() < 0.15:
                t_archive = NEVER  # not every finished file is archived yet
            # --- what has happened by now ---
            number_year = year
            key = (receiver, number_year)
            value = seq.get(key, 0) + 1
            seq[key] = value
            batch_seq[key] = value
            number = f"{codes[receiver]}-{number_year}-{value:06d}"
            ev = out_event.append
            t0s = utc(t0)
            ev((case_id, "register", "", S_RECEIVED, receiver, None, "", _jdump(("channel", channel)), t0s))
            status, last_change = S_RECEIVED, t0
            holder = receiver
            at = office.id
            if moved:
                if t_pscreen <= now_t:
                    ev((case_id, "screen", S_RECEIVED, S_SCREENED, receiver, None, "", "{}", utc(t_pscreen)))
                    status, last_change = S_SCREENED, t_pscreen
                if t_move <= now_t:
                    action = "assign" if source == "assigned" else "transfer_down"
                    ev((case_id, action, status, S_RECEIVED, receiver, office.id, REASONS[action], "{}", utc(t_move)))
                    status, last_change, holder = S_RECEIVED, t_move, office.id
                else:
                    source = "own_level"
            if t_screen <= now_t:
                ev((case_id, "screen", S_RECEIVED, S_SCREENED, at, None, "", "{}", utc(t_screen)))
                status, last_change = S_SCREENED, t_screen
            decided = t_decide <= now_t
            not_accepted_reason = handling_mode = ""
            is_repeat = False
            repeat_of_id = None
            if decided:
                if decision == "accept":
                    ev((case_id, "accept", S_SCREENED, S_ACCEPTED, at, None, "", "{}", utc(t_decide)))
                    status = S_ACCEPTED
                    handling_mode = "self" if not moved else ("assign" if source == "assigned" else "transfer")
                elif decision == "not_accept":
                    ev(
                        (
                            case_id,
                            "not_accept",
                            S_SCREENED,
                            S_NOT_ACCEPTED,
                            at,
                            None,
                            REASONS[reason],
                            _jdump(("not_accepted_reason", reason)),
                            utc(t_decide),
                        )
                    )
                    status, not_accepted_reason = S_NOT_ACCEPTED, reason
                else:
                    assert repeat_of is not None
                    ev(
                        (
                            case_id,
                            "mark_repeat",
                            S_SCREENED,
                            S_REPEAT,
                            at,
                            None,
                            "",
                            json.dumps({"repeat_of": repeat_of[1]}),
                            utc(t_decide),
                        )
                    )
                    status, is_repeat, repeat_of_id = S_REPEAT, True, repeat_of[0]
                last_change = t_decide
            notified = None
            if t_notify <= now_t and t_notify < t_dispose:
                notified = utc(t_notify)
                ev((case_id, "notify_acceptance", status, status, at, None, "", "{}", notified))
            disposal_way = inquiry_outcome = substantiation = study = sanctions = conclusion = ""
            disposed_at = concluded_at = fed_back_at = archived_at = losses = None
            name_cleared = False
            problem_solved = satisfaction = None
            if t_dispose <= now_t:
                disposal_way, study, disposed_at = way, STUDY_OPINIONS[way], utc(t_dispose)  # type: ignore[index]
                new = S_SHELVED if way == "shelved" else S_DISPOSED
                ev((case_id, "dispose", status, new, at, None, "", _jdump(("way", way)), disposed_at))
                status, last_change = new, t_dispose
                if notified is None and t_notify <= now_t:
                    notified = utc(t_notify)
                    ev((case_id, "notify_acceptance", status, status, at, None, "", "{}", notified))
            if t_outcome <= now_t:
                inquiry_outcome = outcome
                ev(
                    (
                        case_id,
                        "record_inquiry_outcome",
                        status,
                        status,
                        at,
                        None,
                        "",
                        _jdump(("outcome", outcome)),
                        utc(t_outcome),
                    )
                )
            if t_conclude <= now_t:
                substantiation, concluded_at = sub, utc(t_conclude)
                conclusion = CONCLUSIONS[sub]  # type: ignore[index]
                if sub in SANCTIONS:
                    options = SANCTIONS[sub]  # type: ignore[index]
                    sanctions = options[int(rand() * len(options))]
                    if sub == "substantiated" and rand() < 0.4:
                        losses = f"{int(rand() * 500000) + 1000}.00"
                elif rand() < 0.15:
                    name_cleared = True
                    conclusion += "已为被反映人澄清正名。"
                ev(
                    (
                        case_id,
                        "conclude",
                        status,
                        S_CONCLUDED,
                        at,
                        None,
                        "",
                        _jdump(("substantiation", sub), ("name_cleared", name_cleared)),
                        concluded_at,
                    )
                )
                status, last_change = S_CONCLUDED, t_conclude
            if t_feedback <= now_t:
                fed_back_at = utc(t_feedback)
                ev((case_id, "feed_back", status, S_FED_BACK, at, None, REASONS["feed_back"], "{}", fed_back_at))
                status, last_change = S_FED_BACK, t_feedback
            if t_visit <= now_t:
                problem_solved = rand() < 0.7
                satisfaction = pick_sat() if problem_solved else 1 + int(rand() * 3)
                ev(
                    (
                        case_id,
                        "record_return_visit",
                        status,
                        status,
                        at,
                        None,
                        "",
                        _jdump(("problem_solved", problem_solved), ("satisfaction", satisfaction)),
                        utc(t_visit),
                    )
                )
            if t_archive <= now_t:
                archived_at = utc(t_archive)
                ev((case_id, "archive", status, S_ARCHIVED, at, None, "", "{}", archived_at))
                status, last_change = S_ARCHIVED, t_archive
            last_event_t = max(t for t in (last_change, t_notify, t_outcome, t_visit) if t <= now_t)
            # --- deadlines (as deadlines.services.open_deadlines sees them) ---
            d0 = t0 // 1440
            moved_now = holder != receiver
            screening_due = add_wd(d0, rules["screening"][0] or 5) if not moved_now else None
            accept_due = add_wd(t_move // 1440, rules["accept"][0] or 5) if moved_now else None
            assignment_due = (
                add_wd(t_move // 1440, 20 + int(rand() * 40)) if moved_now and source == "assigned" else None
            )
            notice_due = add_wd(d0, rules["acceptance_notice"][0] or 15) if real else None
            answer_due = report_due = feedback_due = None
            if disposal_way == "inquiry":
                dd = t_dispose // 1440
                answer_due = add_wd(dd, rules["inquiry_answer"][0] or 15)
                report_due = days.add_months(dd, rules["inquiry_report"][1] or 1)
            if concluded_at is not None and real:
                feedback_due = add_wd(t_conclude // 1440, rules["feedback"][0] or 15)
            opens: list[tuple[int, int, str]] = []
            if status in (S_RECEIVED, S_SCREENED):
                if accept_due is not None:
                    opens.append((accept_due, 0, "accept"))
                elif screening_due is not None:
                    opens.append((screening_due, 1, "screening"))
            if notice_due is not None and not is_repeat and notified is None and status not in _DONE:
                opens.append((notice_due, 2, "acceptance_notice"))
            if status == S_DISPOSED and disposal_way == "inquiry" and not inquiry_outcome:
                opens.append((answer_due, 3, "inquiry_answer"))  # type: ignore[arg-type]
                opens.append((report_due, 4, "inquiry_report"))  # type: ignore[arg-type]
            if assignment_due is not None and status not in _DONE:
                opens.append((assignment_due, 5, "assignment"))
            if status == S_CONCLUDED and feedback_due is not None:
                opens.append((feedback_due, 6, "feedback"))
            next_due = next_warn = next_serious = None
            next_kind = ""
            level = 0
            if opens:
                due, _, next_kind = min(opens)
                _wd, _months, warn_days, serious_days = rules[next_kind]
                warn = add_wd(due, -warn_days) if warn_days else due
                serious = add_wd(due, serious_days)
                next_due, next_warn, next_serious = iso[due], iso[warn], iso[serious]
                if now_day > serious:
                    level = 3
                elif now_day > due:
                    level = 2
                elif now_day >= warn:
                    level = 1
            # --- rows ---
            title = text.title.format(*fills)
            description = text.description.format(*fills)
            tokens = search_tokens(text.tokens.format(*tfills))
            moved_src = source if moved_now else ("own_level" if source in ("transferred", "assigned") else source)
            # fmt: off
            out_case.append((
                case_id, number, receiver, holder, t0s, channel, moved_src, item_type, pick_urgency(), group,
                head_count, region_code, text.keywords, title, description, tokens, handling_mode, status, real,
                is_repeat, repeat_of_id, not_accepted_reason, study, disposal_way, inquiry_outcome, substantiation,
                sanctions, losses, name_cleared, conclusion, concluded_at, fed_back_at, notified, archived_at,
                problem_solved, satisfaction, receiver if moved_now and source == "assigned" else None,
                iso[screening_due] if screening_due is not None else None,
                iso[accept_due] if accept_due is not None else None,
                iso[notice_due] if notice_due is not None else None,
                iso[answer_due] if answer_due is not None else None,
                iso[report_due] if report_due is not None else None,
                iso[assignment_due] if assignment_due is not None else None,
                iso[feedback_due] if feedback_due is not None else None, next_due, next_kind, next_warn, next_serious,
                level, utc(last_change), t0s, utc(last_event_t), utc(t_move) if moved_now else t0s, disposed_at,
                f"{{{min(receiver, holder)},{max(receiver, holder)}}}" if moved_now else f"{{{holder}}}",
            ))
            # fmt: on
            out_access.append((case_id, receiver, t0s, False, t0s))
            if moved_now:
                out_access.append((case_id, office.id, t0s, False, utc(t_move)))
            if real:
                out_rep.append((case_id, region_code, *reporters[int(rand() * len(reporters))]))
            else:
                out_rep.append((case_id, "", *_ANONYMOUS))
            person = text.kind == "person"
            unit = text.unit.format(*fills) if person else ""
            pname = text.party_name.format(*fills)
            rank = text.rank
            birth = None
            if person and rand() < 0.2:
                birth = f"{1955 + int(rand() * 40)}-{1 + int(rand() * 12):02d}-{1 + int(rand() * 28):02d}"
            # fmt: off
            out_party.append((
                case_id, text.kind, pname[:100], name_gender if person else "", birth,
                (rand() < 0.85) if person and rank not in ("enterprise", "other", "") else None,
                text.post.format(*fills)[:100] if person else "", rank, unit[:200], text.nature, region_code,
                (rank != "county") if person and rank != "other" else None, match_key(pname, unit),
            ))
            # fmt: on
            if text.category_id is not None:
                out_cat.append((case_id, text.category_id))
            for tag_id in text.tag_ids:
                out_tag.append((case_id, tag_id))
            if repeat_of is None:
                if ring is None:
                    ring = rings[office.id] = deque(maxlen=REPEAT_RING)
                ring.append((case_id, number, entry, fills, tfills, region_code, name_gender))
        return {
            "case": out_case,
            "access": out_access,
            "reporter": out_rep,
            "party": out_party,
            "event": out_event,
            "cat": out_cat,
            "tag": out_tag,
            "seq": batch_seq,
        }
