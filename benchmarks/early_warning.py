"""Early-warning benchmark: injected surges in realistic synthetic daily series.

    .venv/bin/python benchmarks/early_warning.py                 # 840 series, 2–3 minutes
    .venv/bin/python benchmarks/early_warning.py --series 120 --seed 3

Each series is three years of daily counts of one (region × category) series: a baseline
level (county-, city- and province-sized), a weekly profile (weekends and public holidays
low), yearly seasonality, a slow trend and extra-Poisson noise (a gamma week effect). The
first two years are history; the third is monitored day by day. Half of the series get one
surge in the monitored year, at a random day:

* sudden: the mean jumps to k× for 21 days;
* gradual: the mean climbs linearly to k× over 35 days and stays there 14 days;

with k set so the surge adds 3.5 standard deviations to a week's count, noise included (k is
about 3.5 for the smallest series and 1.5 for the largest).

The statistical method (qingfeng.analytics.detection: Farrington-style quasi-Poisson
regression with seasonality and day weights, a 7-day negative-binomial window test and a
28-day NB CUSUM) runs every day, exactly as `manage.py early_warning` does. The comparison is
the common month-on-month rule, checked at each month's end: warn when the month is 10% (or
20%) above the previous month. Reported, for each method and series size:

* detection rate: surges with a warning within 45 days of their start;
* median delay: days from the surge's start to its first warning;
* false alarms per 1,000 series-months: warnings (a new one at most every 14 days for the
  daily method, every month-end for the rule) outside any surge.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qingfeng.analytics import detection  # noqa: E402

START = date(2023, 1, 1)
YEARS = 3
DETECT_WITHIN = 45
QUIET_AFTER = 60  # days after a surge's start that are not counted for false alarms
REARM = 14

# Levels: (name, mean cases per day).
LEVELS = [
    ("county", 0.3),
    ("county", 0.8),
    ("city", 2.0),
    ("city", 5.0),
    ("province", 15.0),
    ("province", 40.0),
]
WEEK_SHAPE = 50.0  # gamma week effect: coefficient of variation 1/sqrt(50) = 14%
SURGE_SD = 3.5
WEEKDAY = [1.2, 1.2, 1.15, 1.15, 1.05, 0.65, 0.6]


def holidays(year: int) -> set[date]:
    """Spring Festival (a week around a moving date) and National Day week, roughly."""
    spring = {2023: date(2023, 1, 21), 2024: date(2024, 2, 10), 2025: date(2025, 1, 28), 2026: date(2026, 2, 16)}
    start = spring.get(year, date(year, 2, 1))
    out = {start + timedelta(days=i) for i in range(7)}
    out |= {date(year, 10, 1) + timedelta(days=i) for i in range(7)}
    return out


@dataclass
class Series:
    level: str
    base: float
    counts: np.ndarray
    days: list[date]
    weights: np.ndarray
    surge: str  # "", "sudden", "gradual"
    surge_start: int  # index into days, -1 when none
    k: float


def make_days() -> tuple[list[date], np.ndarray]:
    n = (date(START.year + YEARS, 1, 1) - START).days
    days = [START + timedelta(days=i) for i in range(n)]
    hol = set().union(*(holidays(START.year + y) for y in range(YEARS)))
    w = np.array([0.35 if d in hol else WEEKDAY[d.weekday()] for d in days])
    w = w / w.mean()
    return days, w


def make_series(
    rng: np.random.Generator, level: str, base: float, surge: str, days: list[date], w: np.ndarray
) -> Series:
    n = len(days)
    t = np.arange(n) / 365.25
    season = 1 + 0.15 * np.sin(2 * np.pi * (t + rng.uniform(0, 1)))
    trend = (1 + rng.uniform(-0.1, 0.1)) ** t
    week = rng.gamma(WEEK_SHAPE, 1 / WEEK_SHAPE, size=n // 7 + 1).repeat(7)[:n]
    lam = base * season * trend * w * week
    # A surge of SURGE_SD standard deviations of a week's count (Poisson and week noise together).
    sd_week = math.sqrt(7 * base + (7 * base) ** 2 / WEEK_SHAPE)
    k = 1 + SURGE_SD * sd_week / (7 * base)
    start = -1
    mon0 = 365 * (YEARS - 1)
    if surge:
        start = int(rng.integers(mon0 + 20, n - 70))
        mult = np.ones(n)
        if surge == "sudden":
            mult[start : start + 21] = k
        else:
            ramp = np.linspace(1, k, 35)
            mult[start : start + 35] = ramp
            mult[start + 35 : start + 49] = k
        lam = lam * mult
    counts = rng.poisson(lam)
    return Series(level, base, counts, days, w, surge, start, k)


def month_index(days: list[date]) -> tuple[list[date], list[list[int]]]:
    months: list[date] = []
    members: list[list[int]] = []
    for i, d in enumerate(days):
        m = d.replace(day=1)
        if not months or months[-1] != m:
            months.append(m)
            members.append([])
        members[-1].append(i)
    return months, members


def run_statistical(s: Series, params: detection.Params) -> list[int]:
    """Days (indexes) on which a new warning is raised."""
    months, members = month_index(s.days)
    first_of = {m: idx[0] for m, idx in zip(months, members, strict=True)}
    monthly = [int(s.counts[idx].sum()) for idx in members]
    exposure = [float(s.weights[idx].sum()) for idx in members]
    alarms: list[int] = []
    last_alarm = -(10**9)
    cache: dict[int, detection.Model] = {}
    mon0 = 365 * (YEARS - 1)
    for i in range(mon0, len(s.days)):
        d = s.days[i]
        cut = (d - timedelta(days=params.cusum_days - 1)).replace(day=1)
        hist_n = months.index(cut)
        model = cache.get(hist_n)
        if model is None:
            model = cache[hist_n] = detection.fit_history(monthly[:hist_n], exposure[:hist_n], months[:hist_n], params)
        lo = i - params.cusum_days + 1
        recent = s.counts[lo : i + 1]
        if not detection.can_alarm(list(recent), params):
            continue
        ev = detection.check_recent(model, list(recent), s.days[lo : i + 1], list(s.weights[lo : i + 1]), params)
        if ev.alarm and i - last_alarm > REARM:
            alarms.append(i)
            last_alarm = i
        elif ev.alarm:
            last_alarm = i
    del first_of
    return alarms


def run_mom(s: Series, threshold: float) -> list[int]:
    """Month-end checks: this month above the previous by more than `threshold`."""
    months, members = month_index(s.days)
    monthly = [int(s.counts[idx].sum()) for idx in members]
    mon0 = 365 * (YEARS - 1)
    out = []
    for j in range(1, len(months)):
        end = members[j][-1]
        if end < mon0:
            continue
        if (monthly[j - 1] > 0 and monthly[j] > (1 + threshold) * monthly[j - 1]) or (
            monthly[j - 1] == 0 and monthly[j] > 0
        ):
            out.append(end)
    return out


@dataclass
class Score:
    detected: int = 0
    surges: int = 0
    delays: list[int] | None = None
    false_alarms: int = 0
    quiet_days: int = 0

    def add(self, s: Series, alarms: list[int]) -> None:
        if self.delays is None:
            self.delays = []
        mon0 = 365 * (YEARS - 1)
        n = len(s.days)
        if s.surge:
            self.surges += 1
            hits = [a for a in alarms if s.surge_start <= a <= s.surge_start + DETECT_WITHIN]
            if hits:
                self.detected += 1
                self.delays.append(hits[0] - s.surge_start)
        for a in alarms:
            if not (s.surge and s.surge_start <= a <= s.surge_start + QUIET_AFTER):
                self.false_alarms += 1
        quiet = n - mon0
        if s.surge:
            quiet -= min(QUIET_AFTER + 1, n - s.surge_start)
        self.quiet_days += quiet

    def row(self) -> tuple[str, str, str]:
        rate = f"{100 * self.detected / self.surges:5.1f}%" if self.surges else "  -  "
        delay = f"{statistics.median(self.delays):5.1f}" if self.delays else "  -  "
        months = self.quiet_days / 30.44
        fa = f"{1000 * self.false_alarms / months:7.1f}" if months else "  -  "
        return rate, delay, fa


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, default=840, help="series in total (half with a surge)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    params = detection.Params()
    days, w = make_days()
    per = max(4, args.series // (len(LEVELS) * 4))
    methods = ["statistical", "mom10", "mom20"]
    scores: dict[tuple[str, str, str], Score] = {}
    started = time.perf_counter()
    n_series = 0
    for level, base in LEVELS:
        for surge in ("", "", "sudden", "gradual"):
            for _ in range(per):
                s = make_series(rng, level, base, surge, days, w)
                n_series += 1
                results = {
                    "statistical": run_statistical(s, params),
                    "mom10": run_mom(s, 0.10),
                    "mom20": run_mom(s, 0.20),
                }
                for method, alarms in results.items():
                    for key in (
                        (method, level, surge or "none"),
                        (method, "all", surge or "none"),
                        (method, "all", "all"),
                    ):
                        scores.setdefault(key, Score()).add(s, alarms)
    elapsed = time.perf_counter() - started
    print(f"{n_series} series ({per} per level, baseline and kind), 1 monitored year each, {elapsed:.1f}s")
    print(f"params: {params}")
    print()
    head = f"{'method':<12} {'level':<9} {'surge':<8} {'detected':>9} {'median delay (d)':>17}"
    print(f"{head} {'false alarms/1000 series-months':>32}")
    for level in ("county", "city", "province", "all"):
        for surge in ("sudden", "gradual", "all"):
            for method in methods:
                key = (method, level, surge)
                if level != "all" and surge == "all":
                    # per-level false alarms come from the surge-free series
                    sc = scores.get((method, level, "none"))
                    if sc is None:
                        continue
                    rate, delay, fa = "", "", sc.row()[2]
                    print(f"{method:<12} {level:<9} {'(none)':<8} {rate:>9} {delay:>17} {fa:>32}")
                    continue
                sc = scores.get(key)
                if sc is None:
                    continue
                rate, delay, fa = sc.row()
                if surge != "all":
                    fa = ""
                print(f"{method:<12} {level:<9} {surge:<8} {rate:>9} {delay:>17} {fa:>32}")
        print()
    stat = scores[("statistical", "all", "all")]
    verdict = []
    for rule in ("mom10", "mom20"):
        r = scores[(rule, "all", "all")]
        better_rate = stat.detected / stat.surges >= r.detected / r.surges
        better_fa = stat.false_alarms / stat.quiet_days < r.false_alarms / r.quiet_days
        better_delay = statistics.median(stat.delays or [999]) <= statistics.median(r.delays or [999])
        verdict.append(
            f"vs {rule}: detection {'≥' if better_rate else '<'}, delay {'≤' if better_delay else '>'}, "
            f"false alarms {'<' if better_fa else '≥'}"
        )
        if not (better_rate and better_fa):
            verdict[-1] += "  ** does not beat the rule **"
    print("\n".join(verdict))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
