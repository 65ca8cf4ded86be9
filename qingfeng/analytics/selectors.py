"""Reads of the count tables: the standard statistics of an office's subtree over a period.

Every function reads the rows of one office (the subtree root) over a range of days or months:
index range scans on (office, day) or (office, month, …), a few hundred rows at most, whatever
the number of cases. Nothing here reads a reporter.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import Sum
from django.utils.translation import gettext as _

from qingfeng.analytics import models as m
from qingfeng.analytics.periods import Period, add_months, months_between
from qingfeng.cases.choices import Channel, DisposalWay, ItemType, Rank, Source, Status
from qingfeng.cases.models import Category, Tag
from qingfeng.offices.models import Office

FOUR_WAYS = (DisposalWay.INQUIRY, DisposalWay.VERIFICATION, DisposalWay.SHELVED, DisposalWay.CLOSED)


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _change(now: int, before: int) -> float | None:
    return round(100.0 * (now - before) / before, 1) if before else None


def _rows(counts: dict[str, int], labels: Iterable[tuple[str, Any]], base: int) -> list[dict[str, Any]]:
    out = []
    seen = set()
    for code, label in labels:
        seen.add(code)
        n = counts.get(code, 0)
        out.append({"code": code, "label": str(label), "count": n, "share": _pct(n, base)})
    for code, n in sorted(counts.items()):
        if code not in seen and n:
            out.append({"code": code, "label": code or _("Not given"), "count": n, "share": _pct(n, base)})
    return out


def categories_tree(counts: dict[str, int], base: int) -> list[dict[str, Any]]:
    cats = _categories()
    by_id = {c[4]: c for c in cats}
    top: dict[str, dict[str, Any]] = {}
    for code, name, _path, parent_id, _cid in cats:
        if parent_id is None:
            top[code] = {"code": code, "label": name, "count": counts.get(code, 0), "children": []}
    for code, name, _path, parent_id, _cid in cats:
        if parent_id is not None:
            root = by_id[parent_id]
            while root[3] is not None:
                root = by_id[root[3]]
            n = counts.get(code, 0)
            top[root[0]]["count"] += n
            if n:
                top[root[0]]["children"].append({"code": code, "label": name, "count": n, "share": _pct(n, base)})
    rows = list(top.values())
    for r in rows:
        r["share"] = _pct(r["count"], base)
    rows.sort(key=lambda r: -r["count"])
    return rows


def regions(office: Office, counts: dict[int, int], base: int) -> list[dict[str, Any]]:
    children = list(Office.objects.filter(parent=office).order_by("code").values_list("id", "code", "name", "level"))
    out: list[dict[str, Any]] = [
        {
            "code": code,
            "label": name,
            "level": level,
            "count": counts.get(oid, 0),
            "share": _pct(counts.get(oid, 0), base),
        }
        for oid, code, name, level in children
    ]
    own = counts.get(office.pk, 0)
    out.sort(key=lambda r: -r["count"])
    if own:
        out.append(
            {
                "code": office.code,
                "label": _("Held at this level"),
                "level": office.level,
                "count": own,
                "share": _pct(own, base),
                "own_level": True,
            }
        )
    return out


_BREAKDOWNS = (
    ("channel", m.ChannelCount, "channel"),
    ("item_type", m.ItemTypeCount, "item_type"),
    ("origin", m.OriginCount, "origin"),
    ("category", m.CategoryCount, "category"),
    ("tag", m.TagCount, "tag"),
    ("rank", m.RankCount, "rank"),
    ("region", m.RegionCount, "child_id"),
    ("status", m.StatusCount, "status"),
    ("outcome", m.OutcomeCount, "measure"),
)


def breakdowns(
    office: Office, first: date, last: date, today: date, ranges: dict[str, tuple[date, date]]
) -> dict[str, dict[str, int]]:
    """Every breakdown of the office's months [first, last], and day totals for `ranges`: one query.

    One round trip instead of fifteen matters more than anything else here: each part is an
    index range scan of a few hundred rows.
    """
    qn = connection.ops.quote_name
    parts: list[str] = []
    params: list[Any] = []

    def month_part(label: str, table: str, value_sql: str, extra: str = "", extra_params: tuple = ()) -> None:
        parts.append(
            f"SELECT '{label}', {value_sql}, SUM(n) FROM {qn(table)} "
            f"WHERE office_id = %s AND month >= %s AND month <= %s{extra} GROUP BY {value_sql}"
        )
        params.extend([office.pk, _db(first), _db(last), *extra_params])

    for label, model, column in _BREAKDOWNS:
        month_part(label, model._meta.db_table, f"CAST({qn(column)} AS TEXT)")
    flag_sql = "CASE WHEN is_repeat THEN 'r' ELSE 'f' END || CASE WHEN is_real_name THEN 'n' ELSE 'a' END"
    month_part("flag", m.FlagCount._meta.db_table, flag_sql)
    month_part("person", m.PersonCount._meta.db_table, "kind", " AND prev_month < %s", (_db(first),))
    deadline = qn(m.DeadlineCount._meta.db_table)
    for label, column in (("overdue", "due_on"), ("serious", "serious_on")):
        parts.append(
            f"SELECT 'deadline', '{label}', SUM(n) FROM {deadline} "
            f"WHERE office_id = %s AND month >= %s AND month <= %s AND {column} < %s"
        )
        params.extend([office.pk, _db(first), _db(last), _db(today)])
    day = qn(m.DayCount._meta.db_table)
    for name, (a, b) in ranges.items():
        parts.append(f"SELECT 'total', '{name}', SUM(n) FROM {day} WHERE office_id = %s AND day >= %s AND day <= %s")
        params.extend([office.pk, _db(a), _db(b)])
    out: dict[str, dict[str, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for dim, value, n in cursor.fetchall():
            if n:
                out[dim][value] = out[dim].get(value, 0) + int(n)
    return out


def _db(value: date) -> Any:
    return value if connection.vendor == "postgresql" else value.isoformat()


_CACHE: dict[str, tuple[float, Any]] = {}


def _cached(key: str, load: Any, ttl: float = 60.0) -> Any:
    """Code lists (categories, tags) change rarely: keep them a minute per process."""
    now = time.monotonic()
    hit = _CACHE.get(key)
    if hit is None or now - hit[0] > ttl:
        hit = _CACHE[key] = (now, load())
    return hit[1]


def invalidate() -> None:
    _CACHE.clear()


def _categories() -> list[tuple[str, str, str, int | None, int]]:
    return _cached(
        "categories",
        lambda: list(Category.objects.order_by("path").values_list("code", "name", "path", "parent_id", "id")),
    )


def _tags() -> list[tuple[str, str, str]]:
    return _cached("tags", lambda: list(Tag.objects.values_list("code", "name", "kind")))


def standard_statistics(*, office: Office, period: Period) -> dict[str, Any]:
    """Every standard statistic (domain.md) of the office's subtree for the period."""
    first, last = period.first_month, period.last_month
    ranges = {
        "received": (period.start, period.effective_end),
        "previous": period.previous(),
        "last_year": period.last_year(),
    }
    got = breakdowns(office, first, last, period.today, ranges)
    totals = {k: got["total"].get(k, 0) for k in ranges}
    fl = got["flag"]
    flags = {
        (rep, real): fl.get(("r" if rep else "f") + ("n" if real else "a"), 0)
        for rep in (False, True)
        for real in (False, True)
    }
    base = sum(flags.values())
    outcome = got["outcome"]
    deadlines = got["deadline"]
    tag_counts = got["tag"]
    tags = _tags()
    who = {k: got["person"].get(k, 0) for k in ("all", "first", "repeat")}
    accepted = outcome.get("accepted", 0)
    visited = outcome.get("visited", 0)
    sats = {k: outcome.get(f"sat:{k}", 0) for k in range(1, 6)}
    rated = sum(sats.values())
    origin = got["origin"]
    from_above = origin.get(Source.TRANSFERRED, 0) + origin.get(Source.ASSIGNED, 0)
    disposal = {w.value: outcome.get(f"disposal:{w.value}", 0) for w in DisposalWay}
    region_counts = {int(k): v for k, v in got["region"].items()}
    return {
        "office": {"code": office.code, "name": office.name, "level": office.level},
        "period": period.as_dict(),
        "totals": {
            "received": totals["received"],
            "previous": totals["previous"],
            "last_year": totals["last_year"],
            "mom": _change(totals["received"], totals["previous"]),
            "yoy": _change(totals["received"], totals["last_year"]),
            "previous_period": [d.isoformat() for d in period.previous()],
            "last_year_period": [d.isoformat() for d in period.last_year()],
        },
        "origin": {
            "own_level": base - from_above,
            "from_above": from_above,
            "own_level_share": _pct(base - from_above, base),
            "rows": _rows(origin, Source.choices, base),
        },
        "item_type": _rows(got["item_type"], ItemType.choices, base),
        "channel": _rows(got["channel"], Channel.choices, base),
        "category": categories_tree(got["category"], base),
        "rank": _rows(got["rank"], [*Rank.choices, ("", _("Not given"))], base),
        "region": regions(office, region_counts, base),
        "key_area": _rows(tag_counts, [(c, n) for c, n, k in tags if k == Tag.Kind.KEY_AREA], base),
        "topic_tags": _rows(tag_counts, [(c, n) for c, n, k in tags if k == Tag.Kind.TOPIC], base),
        "status": _rows(got["status"], Status.choices, base),
        "repeat": {
            "by_case": {
                "first": flags[(False, True)] + flags[(False, False)],
                "repeat": flags[(True, True)] + flags[(True, False)],
                "repeat_share": _pct(flags[(True, True)] + flags[(True, False)], base),
            },
            "by_person": {"all": who["all"], "first": who["first"], "repeat": who["repeat"]},
        },
        "real_name": {
            "real_name": flags[(False, True)] + flags[(True, True)],
            "anonymous": flags[(False, False)] + flags[(True, False)],
            "real_name_share": _pct(flags[(False, True)] + flags[(True, True)], base),
        },
        "acceptance": {
            "accepted": accepted,
            "in_time": outcome.get("accepted_in_time", 0),
            "in_time_rate": _pct(outcome.get("accepted_in_time", 0), accepted),
        },
        "disposal": {
            "ways": _rows(disposal, DisposalWay.choices, sum(disposal.values())),
            "four_ways": sum(disposal[w.value] for w in FOUR_WAYS),
            "investigation": disposal[DisposalWay.INVESTIGATION.value],
            "total": sum(disposal.values()),
        },
        "conclusion": {
            "concluded": outcome.get("concluded", 0),
            "accepted": accepted,
            "rate": _pct(outcome.get("concluded", 0), accepted),
        },
        "overdue": {
            "overdue": deadlines.get("overdue", 0),
            "seriously_overdue": deadlines.get("serious", 0),
            "as_of": period.today.isoformat(),
        },
        "return_visits": {
            "visits": visited,
            "solved": outcome.get("solved", 0),
            "solved_rate": _pct(outcome.get("solved", 0), visited),
            "satisfaction": sats,
            "satisfied": sats[4] + sats[5],
            "satisfaction_rate": _pct(sats[4] + sats[5], rated),
            "mean_satisfaction": round(sum(k * v for k, v in sats.items()) / rated, 2) if rated else None,
        },
        "cases": base,
    }


def monthly_trend(*, office: Office, first: date, last: date) -> dict[str, Any]:
    """Cases received per month, repeats and real-name reports, with the same months a year earlier."""
    months = months_between(first, last)
    rows = (
        m.FlagCount.objects.filter(office=office, month__gte=add_months(first, -12), month__lte=last)
        .values_list("month", "is_repeat", "is_real_name")
        .annotate(t=Sum("n"))
        .values_list("month", "is_repeat", "is_real_name", "t")
    )
    total: dict[date, int] = defaultdict(int)
    repeat: dict[date, int] = defaultdict(int)
    real: dict[date, int] = defaultdict(int)
    for month, rep, rn, n in rows:
        total[month] += n
        if rep:
            repeat[month] += n
        if rn:
            real[month] += n
    return {
        "months": [mo.strftime("%Y-%m") for mo in months],
        "received": [total[mo] for mo in months],
        "last_year": [total[add_months(mo, -12)] for mo in months],
        "repeat": [repeat[mo] for mo in months],
        "real_name": [real[mo] for mo in months],
    }


DIMENSIONS: dict[str, tuple[type[Any], str]] = {
    "channel": (m.ChannelCount, "channel"),
    "item_type": (m.ItemTypeCount, "item_type"),
    "origin": (m.OriginCount, "origin"),
    "category": (m.CategoryCount, "category"),
    "tag": (m.TagCount, "tag"),
    "rank": (m.RankCount, "rank"),
    "status": (m.StatusCount, "status"),
    "region": (m.RegionCount, "child__code"),
}


def dimension_trend(*, office: Office, first: date, last: date, dimension: str) -> dict[str, Any]:
    """Per month and value of one breakdown (e.g. category or key area) for the office's subtree."""
    model, field = DIMENSIONS[dimension]
    months = months_between(first, last)
    series: dict[str, list[int]] = {}
    index = {mo: i for i, mo in enumerate(months)}
    qs = model.objects.filter(office=office, month__gte=first, month__lte=last)
    for month, value, n in qs.values_list("month", field).annotate(t=Sum("n")).values_list("month", field, "t"):
        series.setdefault(str(value), [0] * len(months))[index[month]] += n
    return {"months": [mo.strftime("%Y-%m") for mo in months], "series": series}


def daily_totals(*, office: Office, first: date, last: date) -> list[tuple[date, int]]:
    rows = dict(m.DayCount.objects.filter(office=office, day__gte=first, day__lte=last).values_list("day", "n"))
    out = []
    day = first
    while day <= last:
        out.append((day, rows.get(day, 0)))
        day += timedelta(days=1)
    return out


def topic_statistics(*, topic: m.Topic, office: Office, period: Period) -> dict[str, Any]:
    """A special topic's own statistics for the office's subtree: total, trend and breakdowns."""
    first, last = period.first_month, period.last_month
    prev_first = add_months(first, -period.n_months)
    rows = (
        m.TopicCount.objects.filter(topic=topic, office=office, month__gte=min(prev_first, add_months(first, -12)))
        .filter(month__lte=last)
        .values_list("month", "dimension", "value")
        .annotate(t=Sum("n"))
        .values_list("month", "dimension", "value", "t")
    )
    months = months_between(first, last)
    monthly: dict[date, int] = defaultdict(int)
    dims: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for month, dim, value, n in rows:
        if dim == "total":
            monthly[month] += n
        elif first <= month <= last:
            dims[dim][value] += n
    total = sum(monthly[mo] for mo in months)
    previous = sum(n for mo, n in monthly.items() if prev_first <= mo < first)
    last_year = sum(monthly[add_months(mo, -12)] for mo in months)
    child_ids = [int(v) for v in dims["child"]]
    names = dict(Office.objects.filter(id__in=child_ids).values_list("id", "name"))
    codes = dict(Office.objects.filter(id__in=child_ids).values_list("id", "code"))
    region_rows = [
        {
            "code": codes.get(int(v), ""),
            "label": names.get(int(v), v) if int(v) != office.pk else _("Held at this level"),
            "count": n,
            "share": _pct(n, total),
        }
        for v, n in sorted(dims["child"].items(), key=lambda kv: -kv[1])
        if n
    ]
    return {
        "topic": {"code": topic.code, "name": topic.name, "keywords": topic.keywords, "tagged": bool(topic.tagged_at)},
        "office": {"code": office.code, "name": office.name, "level": office.level},
        "period": period.as_dict(),
        "totals": {
            "received": total,
            "previous": previous,
            "last_year": last_year,
            "mom": _change(total, previous),
            "yoy": _change(total, last_year),
        },
        "trend": {"months": [mo.strftime("%Y-%m") for mo in months], "received": [monthly[mo] for mo in months]},
        "region": region_rows,
        "category": categories_tree(dict(dims["category"]), total),
        "channel": _rows(dict(dims["channel"]), Channel.choices, total),
        "status": _rows(dict(dims["status"]), Status.choices, total),
    }
