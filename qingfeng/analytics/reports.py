"""Analysis reports: what goes into a regular, regional or special-topic report (rendered by report_render).

Figures come from the count tables. Top keywords and example cases read a bounded sample of the
period's cases (the most recent ones in the subtree). Nothing about a reporter is read except
to blank it out: example titles are scrubbed of the reporter's name, phone numbers and ID numbers.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from qingfeng.analytics import models as m
from qingfeng.analytics import selectors
from qingfeng.analytics.periods import Period
from qingfeng.cases.choices import Status
from qingfeng.cases.models import Case, Category, Reporter
from qingfeng.core.text import tokens
from qingfeng.offices.models import Office
from qingfeng.offices.selectors import path_range

KINDS = ("regular", "regional", "topic")
SAMPLE = 3000
EXAMPLES = 8
TOP_KEYWORDS = 20
_STOP = {
    "反映",
    "问题",
    "举报",
    "情况",
    "有关",
    "相关",
    "存在",
    "要求",
    "进行",
    "没有",
    "一个",
    "我们",
    "他们",
    "人员",
    "工作",
    "违规",
    "违纪",
    "关于",
    "对于",
    "以及",
    "其中",
    "某某",
    "请求",
    "希望",
    "领导",
    "部门",
    "单位",
    "群众",
    "相关部门",
    "查处",
    "调查",
    "处理",
    "情况反映",
}
_DIGITS = re.compile(r"\d{7,}[\dXx]?")


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Chart:
    title: str
    kind: str  # "bar", "line", "hbar"
    labels: list[str]
    series: dict[str, list[float]]


@dataclass
class Report:
    kind: str
    title: str
    subtitle: str
    summary: list[str]
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    keywords: list[tuple[str, int]] = field(default_factory=list)
    examples: list[dict[str, str]] = field(default_factory=list)
    filename: str = "report"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}%"


def _change(v: float | None) -> str:
    return "—" if v is None else f"{v:+.1f}%"


def _subtree_cases(office: Office, period: Period) -> QuerySet[Case]:
    low, high = path_range(office.path)
    lo = timezone.make_aware(datetime.combine(period.start, time.min))
    hi = timezone.make_aware(datetime.combine(period.end + timedelta(days=1), time.min))
    return Case.objects.filter(
        holding_office__path__gte=low, holding_office__path__lt=high, received_at__gte=lo, received_at__lt=hi
    )


def top_keywords(qs: QuerySet[Case], limit: int = TOP_KEYWORDS) -> list[tuple[str, int]]:
    """Most frequent words in the titles and keywords of the period's latest cases (reporters blanked out)."""
    sample = list(qs.order_by("-received_at").values_list("id", "title", "keywords")[:SAMPLE])
    secrets = _secrets([cid for cid, _t, _k in sample])
    counter: Counter[str] = Counter()
    for cid, title, kw in sample:
        text = scrub(f"{title} {kw}", secrets.get(cid, []))
        words = {w for w in tokens(text) if len(w) >= 2 and w not in _STOP and not w.isdigit()}
        counter.update(words)
    return counter.most_common(limit)


def _secrets(case_ids: list[int]) -> dict[int, list[str]]:
    """The identity fields of the cases' reporters, only to blank them out of what a report shows."""
    out: dict[int, list[str]] = {}
    for rep in Reporter.objects.filter(case_id__in=case_ids).exclude(is_anonymous=True, name=""):
        out[rep.case_id] = [rep.name, rep.phone, rep.phone2, rep.id_number, rep.email, rep.unit, rep.address]
    return out


def scrub(text: str, secrets: list[str]) -> str:
    """Blank out a reporter's name or contact, and anything that looks like a phone or ID number."""
    for s in secrets:
        if s and len(s) >= 2:
            text = text.replace(s, "***")
    return _DIGITS.sub("***", text)


def examples(qs: QuerySet[Case], limit: int = EXAMPLES) -> list[dict[str, str]]:
    picked = list(
        qs.filter(Q(status__in=[Status.CONCLUDED, Status.FED_BACK, Status.ARCHIVED]) | Q(status=Status.DISPOSED))
        .order_by("-received_at")
        .select_related("holding_office")
        .prefetch_related("categories")[:limit]
    )
    if len(picked) < limit:
        seen = {c.pk for c in picked}
        more = qs.order_by("-received_at").select_related("holding_office").prefetch_related("categories")
        picked += [c for c in more[: limit * 2] if c.pk not in seen][: limit - len(picked)]
    secrets = _secrets([c.pk for c in picked])
    out = []
    for c in picked:
        out.append(
            {
                "number": c.number,
                "received": timezone.localtime(c.received_at).date().isoformat(),
                "office": c.holding_office.name,
                "category": "、".join(cat.name for cat in c.categories.all()) or "—",
                "status": str(Status(c.status).label),
                "title": scrub(c.title, secrets.get(c.pk, [])),
            }
        )
    return out


def _rows_table(title: str, rows: list[dict[str, Any]], first: str) -> Table:
    return Table(title, [first, _("Cases"), _("Share")], [[r["label"], r["count"], _pct(r["share"])] for r in rows])


def _standard_sections(stats: dict[str, Any], trend: dict[str, Any]) -> tuple[list[Chart], list[Table]]:
    charts = [
        Chart(
            _("Cases received by month"),
            "line",
            trend["months"],
            {_("This period"): trend["received"], _("A year earlier"): trend["last_year"]},
        ),
        Chart(
            _("Problem categories"),
            "hbar",
            [r["label"] for r in stats["category"][:10]],
            {_("Cases"): [r["count"] for r in stats["category"][:10]]},
        ),
    ]
    t = stats["totals"]
    rv = stats["return_visits"]
    key = [
        [_("Cases received"), t["received"]],
        [_("Month-on-month"), _change(t["mom"])],
        [_("Year-on-year"), _change(t["yoy"])],
        [_("Own level"), stats["origin"]["own_level"]],
        [_("Transferred or assigned from above"), stats["origin"]["from_above"]],
        [_("First reports (by case)"), stats["repeat"]["by_case"]["first"]],
        [_("Repeats (by case)"), stats["repeat"]["by_case"]["repeat"]],
        [_("Reporters (by person)"), stats["repeat"]["by_person"]["all"]],
        [_("Reporters of repeats (by person)"), stats["repeat"]["by_person"]["repeat"]],
        [_("Real-name"), stats["real_name"]["real_name"]],
        [_("Anonymous"), stats["real_name"]["anonymous"]],
        [_("Accepted"), stats["acceptance"]["accepted"]],
        [_("Accepted within the time limit"), _pct(stats["acceptance"]["in_time_rate"])],
        [_("Disposed by the four ways"), stats["disposal"]["four_ways"]],
        [_("Conclusion rate"), _pct(stats["conclusion"]["rate"])],
        [_("Overdue now"), stats["overdue"]["overdue"]],
        [_("Problem solved (return visits)"), _pct(rv["solved_rate"])],
        [_("Satisfied (return visits)"), _pct(rv["satisfaction_rate"])],
    ]
    tables = [
        Table(_("Key figures"), [_("Figure"), _("Value")], key),
        _rows_table(_("By item type"), stats["item_type"], _("Item type")),
        _rows_table(_("By channel"), stats["channel"], _("Channel")),
        _rows_table(_("By problem category"), stats["category"], _("Category")),
        _rows_table(_("By rank of the reported person"), [r for r in stats["rank"] if r["count"]], _("Rank")),
        _rows_table(_("By key area"), [r for r in stats["key_area"] if r["count"]], _("Key area")),
        _rows_table(_("By region"), stats["region"], _("Region")),
        _rows_table(_("Disposal"), stats["disposal"]["ways"], _("Way")),
    ]
    return charts, tables


def _summary(name: str, stats: dict[str, Any]) -> list[str]:
    t = stats["totals"]
    top_cat = stats["category"][0]["label"] if stats["category"] and stats["category"][0]["count"] else "—"
    top_region = next((r["label"] for r in stats["region"] if r["count"]), "—")
    return [
        _(
            "%(office)s and the offices below it received %(n)d reports in the period "
            "(month-on-month %(mom)s, year-on-year %(yoy)s)."
        )
        % {"office": name, "n": t["received"], "mom": _change(t["mom"]), "yoy": _change(t["yoy"])},
        _("The most frequent problem category was %(cat)s; the most reports came from %(region)s.")
        % {"cat": top_cat, "region": top_region},
        _("%(first)d first reports and %(rep)d repeats, from %(persons)d reporters; %(real)s were real-name.")
        % {
            "first": stats["repeat"]["by_case"]["first"],
            "rep": stats["repeat"]["by_case"]["repeat"],
            "persons": stats["repeat"]["by_person"]["all"],
            "real": _pct(stats["real_name"]["real_name_share"]),
        },
        _("Conclusion rate %(c)s; %(o)d items are overdue; %(s)s of return visits found the problem solved.")
        % {
            "c": _pct(stats["conclusion"]["rate"]),
            "o": stats["overdue"]["overdue"],
            "s": _pct(stats["return_visits"]["solved_rate"]),
        },
    ]


def _period_label(period: Period) -> str:
    return f"{period.start.isoformat()} — {period.end.isoformat()}"


def build_report(*, kind: str, office: Office, period: Period, topic: m.Topic | None = None) -> Report:
    if kind == "topic":
        assert topic is not None
        return _topic_report(topic, office, period)
    stats = selectors.standard_statistics(office=office, period=period)
    trend = selectors.monthly_trend(office=office, first=period.first_month, last=period.last_month)
    charts, tables = _standard_sections(stats, trend)
    qs = _subtree_cases(office, period)
    if kind == "regional":
        children = [r for r in stats["region"] if not r.get("own_level")]
        charts.insert(
            0,
            Chart(
                _("Reports by region"),
                "bar",
                [r["label"] for r in children],
                {_("Cases"): [r["count"] for r in children]},
            ),
        )
        tables.insert(1, _regional_table(office, period, stats))
        title = _("Regional analysis report")
    else:
        title = (
            _("Analysis report")
            if period.n_months not in (1, 3)
            else (_("Monthly analysis report") if period.n_months == 1 else _("Quarterly analysis report"))
        )
    return Report(
        kind=kind,
        title=f"{office.name} {title}",
        subtitle=_period_label(period),
        summary=_summary(office.name, stats),
        charts=charts,
        tables=tables,
        keywords=top_keywords(qs),
        examples=examples(qs),
        filename=f"{kind}-{office.code}-{period.start:%Y%m%d}-{period.end:%Y%m%d}",
    )


def _regional_table(office: Office, period: Period, stats: dict[str, Any]) -> Table:
    """Each child region: cases, share, change on a year earlier and its top problem category."""
    children = list(Office.objects.filter(parent=office).order_by("code"))
    ids = [c.pk for c in children]
    first, last = period.first_month, period.last_month
    ly_first, ly_last = (d.replace(day=1) for d in period.last_year())
    now = dict(
        m.FlagCount.objects.filter(office_id__in=ids, month__gte=first, month__lte=last)
        .values_list("office_id")
        .annotate(t=Sum("n"))
        .values_list("office_id", "t")
    )
    before = dict(
        m.FlagCount.objects.filter(office_id__in=ids, month__gte=ly_first, month__lte=ly_last)
        .values_list("office_id")
        .annotate(t=Sum("n"))
        .values_list("office_id", "t")
    )
    names = dict(Category.objects.values_list("code", "name"))
    top: dict[int, tuple[str, int]] = {}
    for oid, code, n in (
        m.CategoryCount.objects.filter(office_id__in=ids, month__gte=first, month__lte=last)
        .values_list("office_id", "category")
        .annotate(t=Sum("n"))
        .values_list("office_id", "category", "t")
    ):
        if n > top.get(oid, ("", 0))[1]:
            top[oid] = (names.get(code, code), n)
    base = stats["cases"]
    rows = []
    for c in sorted(children, key=lambda c: -(now.get(c.pk) or 0)):
        n = now.get(c.pk) or 0
        b = before.get(c.pk) or 0
        rows.append(
            [
                c.name,
                n,
                _pct(round(100 * n / base, 1) if base else None),
                _change(round(100 * (n - b) / b, 1) if b else None),
                top.get(c.pk, ("—", 0))[0],
            ]
        )
    return Table(_("Regions"), [_("Region"), _("Cases"), _("Share"), _("Year-on-year"), _("Top category")], rows)


def _topic_report(topic: m.Topic, office: Office, period: Period) -> Report:
    stats = selectors.topic_statistics(topic=topic, office=office, period=period)
    t = stats["totals"]
    qs = _subtree_cases(office, period).filter(id__in=m.TopicMatch.objects.filter(topic=topic).values("case_id"))
    charts = [
        Chart(_("Cases by month"), "line", stats["trend"]["months"], {_("Cases"): stats["trend"]["received"]}),
        Chart(
            _("By region"),
            "bar",
            [r["label"] for r in stats["region"][:15]],
            {_("Cases"): [r["count"] for r in stats["region"][:15]]},
        ),
    ]
    tables = [
        Table(
            _("Key figures"),
            [_("Figure"), _("Value")],
            [
                [_("Cases"), t["received"]],
                [_("Month-on-month"), _change(t["mom"])],
                [_("Year-on-year"), _change(t["yoy"])],
            ],
        ),
        _rows_table(_("By region"), stats["region"], _("Region")),
        _rows_table(_("By problem category"), [r for r in stats["category"] if r["count"]], _("Category")),
        _rows_table(_("By channel"), stats["channel"], _("Channel")),
        _rows_table(_("By state"), [r for r in stats["status"] if r["count"]], _("State")),
    ]
    summary = [
        _("Special topic “%(topic)s”: %(n)d reports in %(office)s and below in the period (year-on-year %(yoy)s).")
        % {"topic": topic.name, "n": t["received"], "office": office.name, "yoy": _change(t["yoy"])},
        _("Defined by keywords: %(kw)s.") % {"kw": "、".join(topic.keywords) or "—"},
    ]
    return Report(
        kind="topic",
        title=f"{office.name} {_('Special topic report')}: {topic.name}",
        subtitle=_period_label(period),
        summary=summary,
        charts=charts,
        tables=tables,
        keywords=top_keywords(qs),
        examples=examples(qs),
        filename=f"topic-{topic.code}-{office.code}-{period.start:%Y%m%d}-{period.end:%Y%m%d}",
    )
