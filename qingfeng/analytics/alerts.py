"""The daily early-warning check, and what analysts do with a warning.

`run_early_warning(as_of=…)` tests every (office subtree × problem category or key area / topic
tag) series with `detection` and flags reported parties named by several reporters. History
comes from the monthly count tables, the day-of-week and holiday profile from the daily one;
only the last 28 days' cases are read, for the daily counts and for the evidence.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from celery import shared_task
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from qingfeng.accounts.models import User
from qingfeng.analytics import detection
from qingfeng.analytics.counting import Chains
from qingfeng.analytics.facts import person_key
from qingfeng.analytics.models import CategoryCount, DayCount, EarlyWarning, TagCount
from qingfeng.analytics.periods import add_months, months_between
from qingfeng.cases.models import Case, Category, ReportedParty, Reporter, Tag
from qingfeng.core.errors import Conflict, NotFound
from qingfeng.deadlines import calendar as wd_calendar
from qingfeng.notifications.models import Notification
from qingfeng.notifications.services import notification_create
from qingfeng.offices.models import Office
from qingfeng.offices.selectors import path_range

log = logging.getLogger(__name__)

HISTORY_MONTHS = 36
PARTY_DAYS = 90
PARTY_MIN_REPORTERS = 3
SUPPRESS_DAYS = 14  # one warning per series per fortnight
NOTIFICATION_KIND = getattr(Notification.Kind, "EARLY_WARNING", "early_warning")


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass
class Raised:
    warning: EarlyWarning
    office_code: str
    region_code: str

    def as_json(self) -> dict[str, Any]:
        w = self.warning
        return {
            "kind": w.kind,
            "office": self.office_code,
            "region": self.region_code,
            "series": w.series,
            "label": w.label,
            "observed": w.observed,
            "expected": round(w.expected, 2),
            "band": [round(w.lower, 2), round(w.upper, 2)],
            "score": round(w.score, 2),
            "method": w.method,
            "as_of": w.as_of.isoformat(),
        }


# --- day weights -------------------------------------------------------------------------------


def day_type(day: date, exc: Any) -> int:
    """0–4 working Monday–Friday, 5 a working weekend day, 6 a rest day (weekend or holiday)."""
    if not wd_calendar.is_working_day(day, exc):
        return 6
    return min(day.weekday(), 5)


def day_weights(office_ids: list[int], first: date, last: date) -> dict[int, list[float]]:
    """Per office: the relative intake of each day type over [first, last] (1.0 = an average day)."""
    exc = wd_calendar.exceptions()
    types = {}
    day = first
    while day <= last:
        types[day] = day_type(day, exc)
        day += timedelta(days=1)
    totals: dict[int, list[float]] = defaultdict(lambda: [0.0] * 7)
    for oid, d, n in DayCount.objects.filter(office_id__in=office_ids, day__gte=first, day__lte=last).values_list(
        "office_id", "day", "n"
    ):
        totals[oid][types[d]] += n
    days_of = [0] * 7
    for t in types.values():
        days_of[t] += 1
    out: dict[int, list[float]] = {}
    for oid in office_ids:
        tot = totals.get(oid)
        n_all = sum(tot) if tot else 0
        if n_all < 100:
            out[oid] = []
            continue
        mean = n_all / max(1, len(types))
        w = [(tot[t] / days_of[t]) / mean if days_of[t] >= 3 else 1.0 for t in range(7)]  # type: ignore[index]
        out[oid] = [max(v, 0.05) for v in w]
    return out


DEFAULT_WEIGHTS = [1.2, 1.2, 1.15, 1.15, 1.05, 1.0, 0.6]


# --- series ------------------------------------------------------------------------------------


def _top_category(paths: dict[str, str]) -> dict[str, str]:
    """Category code -> code of its top-level category."""
    by_path = {p: c for c, p in paths.items()}
    out = {}
    for code, path in paths.items():
        top = "/" + path.strip("/").split("/")[0] + "/"
        out[code] = by_path.get(top, code)
    return out


def _series_labels() -> dict[str, str]:
    labels = {f"category:{c}": n for c, n in Category.objects.filter(parent=None).values_list("code", "name")}
    for code, name, kind in Tag.objects.values_list("code", "name", "kind"):
        labels[f"{kind}:{code}"] = name
    return labels


def recent_series(first: date, last: date, chains: Chains) -> tuple[dict[tuple[int, str], list[int]], dict]:
    """Daily counts of every (office, series) over [first, last], and the case ids behind them."""
    n_days = (last - first).days + 1
    lo, hi = _aware(first), _aware(last + timedelta(days=1))
    cases = {
        cid: (holding, timezone.localtime(received).date())
        for cid, holding, received in Case.objects.filter(received_at__gte=lo, received_at__lt=hi).values_list(
            "id", "holding_office_id", "received_at"
        )
    }
    paths = dict(Category.objects.values_list("code", "path"))
    top = _top_category(paths)
    tag_kind = dict(Tag.objects.values_list("code", "kind"))
    labels: list[tuple[int, str]] = []
    through_c = Case.categories.through
    for cid, code in through_c.objects.filter(case__received_at__gte=lo, case__received_at__lt=hi).values_list(
        "case_id", "category__code"
    ):
        labels.append((cid, f"category:{top.get(code, code)}"))
    through_t = Case.tags.through
    for cid, code in through_t.objects.filter(case__received_at__gte=lo, case__received_at__lt=hi).values_list(
        "case_id", "tag__code"
    ):
        labels.append((cid, f"{tag_kind.get(code, 'tag')}:{code}"))
    series: dict[tuple[int, str], list[int]] = {}
    behind: dict[tuple[int, str], list[tuple[date, int]]] = defaultdict(list)
    chain_of: dict[int, tuple[int, ...]] = {}
    for cid, name in set(labels):
        if cid not in cases:
            continue
        holding, day = cases[cid]
        chain = chain_of.get(holding)
        if chain is None:
            chain = chain_of[holding] = tuple(n.id for n in chains.chain(holding))
        i = (day - first).days
        for a in chain:
            key = (a, name)
            row = series.get(key)
            if row is None:
                row = series[key] = [0] * n_days
            row[i] += 1
            behind[key].append((day, cid))
    return series, behind


def _history(keys: list[tuple[int, str]], first: date, before: date) -> dict[tuple[int, str], dict[date, int]]:
    offices = sorted({k[0] for k in keys})
    wanted = set(keys)
    top = _top_category(dict(Category.objects.values_list("code", "path")))
    tag_kind = dict(Tag.objects.values_list("code", "kind"))
    out: dict[tuple[int, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for i in range(0, len(offices), 500):
        part = offices[i : i + 500]
        for oid, month, code, n in (
            CategoryCount.objects.filter(office_id__in=part, month__gte=first, month__lt=before)
            .values_list("office_id", "month", "category")
            .annotate(t=Sum("n"))
            .values_list("office_id", "month", "category", "t")
        ):
            key = (oid, f"category:{top.get(code, code)}")
            if key in wanted:
                out[key][month] += n
        for oid, month, code, n in TagCount.objects.filter(
            office_id__in=part, month__gte=first, month__lt=before
        ).values_list("office_id", "month", "tag", "n"):
            key = (oid, f"{tag_kind.get(code, 'tag')}:{code}")
            if key in wanted:
                out[key][month] += n
    return out


def _suppressed(as_of: date) -> set[tuple[str, int, str]]:
    since = as_of - timedelta(days=SUPPRESS_DAYS)
    return set(
        EarlyWarning.objects.filter(as_of__gt=since, as_of__lte=as_of).values_list("kind", "office_id", "series")
    )


def run_early_warning(*, as_of: date | None = None, params: detection.Params | None = None) -> list[Raised]:
    """The daily check as of a date (default: yesterday, the last whole day): every series, then
    reported parties. Returns the warnings raised."""
    as_of = as_of or timezone.localdate() - timedelta(days=1)
    p = params or detection.Params()
    first = as_of - timedelta(days=p.cusum_days - 1)
    chains = Chains.everything()
    series, behind = recent_series(first, as_of, chains)
    candidates = [k for k, v in series.items() if detection.can_alarm(v, p)]
    cut = first.replace(day=1)  # history: complete months before the recent window's first month
    hist_first = add_months(cut, -HISTORY_MONTHS)
    history = _history(candidates, hist_first, cut)
    months_all = months_between(hist_first, add_months(cut, -1))
    # Day weights: each office's own profile when it has enough cases, else its province's or the nation's.
    profile_first = as_of - timedelta(days=400)
    offices = {k[0] for k in candidates}
    roots = {chains.chain(o)[min(1, len(chains.chain(o)) - 1)].id for o in offices} | {
        chains.chain(o)[0].id for o in offices
    }
    weights = day_weights(sorted(offices | roots), profile_first, as_of - timedelta(days=p.cusum_days))
    exc = wd_calendar.exceptions()
    all_days = [profile_first + timedelta(days=i) for i in range((as_of - profile_first).days + 1)]
    types = {d: day_type(d, exc) for d in all_days}
    recent_days = [first + timedelta(days=i) for i in range(p.cusum_days)]
    suppressed = _suppressed(as_of)
    labels = _series_labels()
    codes = dict(Office.objects.filter(id__in=offices).values_list("id", "code"))
    regions = dict(Office.objects.filter(id__in=offices).values_list("id", "region_code"))
    raised: list[Raised] = []
    for key in sorted(candidates):
        oid, name = key
        if ("surge", oid, name) in suppressed:
            continue
        chain = chains.chain(oid)
        w = next(
            (weights[c.id] for c in (chain[-1], chain[min(1, len(chain) - 1)], chain[0]) if weights.get(c.id)),
            DEFAULT_WEIGHTS,
        )
        hist = history.get(key, {})
        start = next((i for i, mo in enumerate(months_all) if hist.get(mo)), None)
        if start is None:
            continue  # a series with no history at all: nothing to compare against
        months = months_all[start:]
        counts = [float(hist.get(mo, 0)) for mo in months]
        exposures = [_exposure(mo, w, types, exc) for mo in months]
        ev = detection.evaluate(
            history=counts,
            exposures=exposures,
            months=months,
            recent=series[key],
            recent_days=recent_days,
            recent_weights=[w[types.get(d, day_type(d, exc))] for d in recent_days],
            params=p,
        )
        if not ev.alarm:
            continue
        window_first = as_of - timedelta(days=p.window - 1)
        case_ids = sorted({cid for day, cid in behind[key] if day >= window_first})
        evidence = {
            "days": [d.isoformat() for d in recent_days],
            "observed_daily": series[key],
            "expected_daily": ev.daily_expected,
            "window_days": p.window,
            "cusum": ev.cusum,
            "phi": ev.phi,
            "history": {mo.strftime("%Y-%m"): int(c) for mo, c in zip(months[-24:], counts[-24:], strict=False)},
        }
        warning = _create(
            kind=EarlyWarning.Kind.SURGE,
            office_id=oid,
            as_of=as_of,
            series=name,
            label=labels.get(name, name),
            observed=ev.observed,
            expected=ev.expected,
            lower=ev.lower,
            upper=ev.upper,
            score=ev.score,
            method=ev.method,
            evidence=evidence,
            case_ids=case_ids,
        )
        if warning is not None:
            raised.append(Raised(warning, codes[oid], regions[oid]))
    raised.extend(_party_warnings(as_of, chains, suppressed))
    log.info("early warning %s: %d series tested, %d warnings", as_of, len(candidates), len(raised))
    return raised


def _exposure(month: date, w: list[float], types: dict[date, int], exc: Any) -> float:
    total = 0.0
    day = month
    while day.month == month.month:
        total += w[types[day] if day in types else day_type(day, exc)]
        day += timedelta(days=1)
    return total


def _create(*, case_ids: list[int], **fields: Any) -> EarlyWarning | None:
    try:
        with transaction.atomic():
            warning = EarlyWarning.objects.create(**fields)
            if case_ids:
                warning.cases.add(*case_ids[:200])
            office = Office.objects.get(pk=warning.office_id)
            notification_create(
                office_id=warning.office_id,
                kind=NOTIFICATION_KIND,
                message=_warning_message(warning, office),
                dedupe_key=f"warning:{warning.pk}",
            )
            return warning
    except IntegrityError:  # the same warning was raised already (a rerun of the same day)
        return None


def _warning_message(w: EarlyWarning, office: Office) -> str:
    if w.kind == EarlyWarning.Kind.PARTY:
        return _("Early warning: %(label)s is named in reports from %(n)d different reporters (%(office)s).") % {
            "label": w.label,
            "n": w.observed,
            "office": office.name,
        }
    return _(
        "Early warning: %(label)s in %(office)s — %(observed)d cases in %(days)d days, expected %(low).0f–%(high).0f."
    ) % {
        "label": w.label,
        "office": office.name,
        "observed": w.observed,
        "days": 7,
        "low": w.lower,
        "high": w.upper,
    }


def _party_warnings(as_of: date, chains: Chains, suppressed: set[tuple[str, int, str]]) -> list[Raised]:
    """A reported person or unit (ReportedParty.match_key) named by several different reporters.

    Counted within one city's subtree (or the office above it that holds the cases): the same
    name in two provinces is rarely the same unit, and a local concentration is what matters.
    """
    lo, hi = _aware(as_of - timedelta(days=PARTY_DAYS - 1)), _aware(as_of + timedelta(days=1))
    recent = ReportedParty.objects.filter(case__received_at__gte=lo, case__received_at__lt=hi).exclude(
        match_key__in=["", "|"]
    )
    keys = list(
        recent.values("match_key")
        .annotate(c=Count("case", distinct=True))
        .filter(c__gte=PARTY_MIN_REPORTERS)
        .values_list("match_key", flat=True)
    )
    groups: dict[tuple[str, int], list[tuple[int, int, str, str]]] = defaultdict(list)
    for i in range(0, len(keys), 500):
        found = recent.filter(match_key__in=keys[i : i + 500]).values_list(
            "match_key", "case_id", "case__holding_office_id", "name", "unit"
        )
        for key, cid, holding, name, unit in found:
            chain = chains.chain(holding)
            anchor = chain[min(2, len(chain) - 1)].id  # the city (or the holding office above it)
            groups[(key, anchor)].append((cid, holding, name, unit))
    groups = {k: v for k, v in groups.items() if len({r[0] for r in v}) >= PARTY_MIN_REPORTERS}
    case_ids = sorted({r[0] for rows in groups.values() for r in rows})
    person_of: dict[int, str] = {}
    for i in range(0, len(case_ids), 2000):
        for cid, a, b, c in Reporter.objects.filter(case_id__in=case_ids[i : i + 2000]).values_list(
            "case_id", "id_number_hash", "phone_hash", "name_hash"
        ):
            person_of[cid] = person_key(id_number_hash=a, phone_hash=b, name_hash=c, case_id=cid)
    out: list[Raised] = []
    for (match_key, _anchor), members in sorted(groups.items()):
        cases = sorted({r[0] for r in members})
        reporters = {person_of.get(cid, f"c:{cid}") for cid in cases}
        if len(reporters) < PARTY_MIN_REPORTERS:
            continue
        # The warning belongs to the lowest office above every case concerned.
        paths = [chains.by_id[r[1]].path for r in members]
        common = paths[0]
        for path in paths[1:]:
            while not path.startswith(common):
                common = common[: common.rstrip("/").rfind("/") + 1]
        office = chains.by_path[common]
        series = f"party:{match_key}"[:340]
        if ("party", office.id, series) in suppressed:
            continue
        name, unit = members[0][2], members[0][3]
        warning = _create(
            kind=EarlyWarning.Kind.PARTY,
            office_id=office.id,
            as_of=as_of,
            series=series,
            label=f"{name}（{unit}）" if unit else name,
            observed=len(reporters),
            expected=1.0,
            lower=1.0,
            upper=float(PARTY_MIN_REPORTERS - 1),
            score=float(len(reporters)),
            method="reporters",
            evidence={"days": PARTY_DAYS, "cases": len(cases), "reporters": len(reporters)},
            case_ids=cases,
        )
        if warning is not None:
            o = Office.objects.get(pk=office.id)
            out.append(Raised(warning, o.code, o.region_code))
    return out


# --- analysts' decisions -----------------------------------------------------------------------


def warnings_visible_to(office: Office) -> Any:
    low, high = path_range(office.path)
    return EarlyWarning.objects.filter(office__path__gte=low, office__path__lt=high)


def warning_decide(*, warning_id: int, actor: User, state: str, note: str = "") -> EarlyWarning:
    """Acknowledge or dismiss an open warning (once; a second decision is a conflict)."""
    if actor.office is None:
        raise NotFound(_("No such warning."))
    warning = warnings_visible_to(actor.office).filter(pk=warning_id).first()
    if warning is None:
        raise NotFound(_("No such warning."))
    if state not in (EarlyWarning.State.ACKNOWLEDGED, EarlyWarning.State.DISMISSED):
        raise Conflict(_("A warning can only be acknowledged or dismissed."))
    now = timezone.now()
    with transaction.atomic():
        changed = EarlyWarning.objects.filter(pk=warning.pk, state=EarlyWarning.State.OPEN).update(
            state=state, acted_by=actor, acted_at=now, note=note.strip()
        )
        if changed != 1:
            raise Conflict(_("This warning has been dealt with already."), extra={"state": warning.state})
    warning.refresh_from_db()
    return warning


@shared_task(name="qingfeng.analytics.alerts.early_warning_task")
def early_warning_task(as_of: str | None = None) -> int:
    return len(run_early_warning(as_of=date.fromisoformat(as_of) if as_of else None))
