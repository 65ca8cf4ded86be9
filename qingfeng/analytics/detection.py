"""Early-warning statistics for one count series (pure functions, no database).

The model (a Farrington-style regression on the series' own history):

* history: the series' complete months before the recent window, each with an *exposure*,
  the sum over its days of a day weight (the office's day-of-week and holiday profile: a
  Sunday or a public holiday carries less than a Monday), so months of different length and
  with different holidays compare fairly;
* a quasi-Poisson log-linear regression of the monthly counts on exposure, with a yearly
  harmonic (seasonality) once there are 13 months or more and a linear trend once there are
  12 months or more and it is significant; months that were themselves outbreaks
  (standardised residual > 2.58) are down-weighted and the model refitted, as Farrington does;
  the overdispersion φ comes from the Pearson residuals;
* expected count of each recent day = fitted rate at that day × the day's weight.

Two tests on the recent days, both on a negative-binomial predictive distribution with
variance φ·μ:

* window test (sudden rises): the last 7 days' total above the (1 − α) quantile;
* CUSUM (gradual rises): a negative-binomial log-likelihood-ratio CUSUM over the last 28
  days for a rise of the mean by the factor κ (two standard deviations of a week's count),
  alarm when it exceeds h.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np


@dataclass(frozen=True)
class Params:
    window: int = 7  # days of the window test
    alpha: float = 0.002  # window test: one-sided level
    min_count: int = 4  # no warning for fewer cases than this in the window
    cusum_days: int = 28
    # CUSUM: tuned to a rise of the mean by `shift_sd` standard deviations of a week's count
    # (so by ×1.5–3 for small series, by less for large ones), within [kappa_min, kappa_max].
    shift_sd: float = 2.0
    kappa_min: float = 1.2
    kappa_max: float = 3.0
    h: float = 5.0  # CUSUM threshold
    reweight_at: float = 2.58
    max_history: int = 36  # months


@dataclass
class Evaluation:
    alarm: bool
    method: str  # "window", "cusum" or ""
    observed: int  # cases in the window
    expected: float
    lower: float
    upper: float
    score: float  # -log10 of the window's tail probability, or the CUSUM value (whichever alarmed)
    cusum: float
    phi: float
    daily_expected: list[float] = field(default_factory=list)


def _design(t: np.ndarray, moy: np.ndarray, *, trend: bool, season: bool) -> np.ndarray:
    cols = [np.ones_like(t)]
    if trend:
        cols.append(t)
    if season:
        cols.append(np.sin(2 * np.pi * moy / 12.0))
        cols.append(np.cos(2 * np.pi * moy / 12.0))
    return np.column_stack(cols)


def _fit(y: np.ndarray, offset: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Poisson regression by IRLS; returns coefficients and their covariance (unscaled)."""
    mean_rate = (np.sum(w * y) + 0.5) / (np.sum(w * np.exp(offset)) + 1e-9)
    beta = np.zeros(x.shape[1])
    beta[0] = math.log(mean_rate)
    cov = np.eye(x.shape[1])
    for _ in range(25):
        eta = np.clip(x @ beta + offset, -30, 30)
        mu = np.exp(eta)
        z = eta - offset + (y - mu) / np.maximum(mu, 1e-9)
        wt = w * mu
        xtw = x.T * wt
        a = xtw @ x + 1e-8 * np.eye(x.shape[1])
        try:
            cov = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            break
        new = cov @ (xtw @ z)
        if np.max(np.abs(new - beta)) < 1e-7:
            beta = new
            break
        beta = new
    return beta, cov


@dataclass(frozen=True)
class Model:
    beta: np.ndarray
    trend: bool
    season: bool
    phi: float
    t0: float

    def rate(self, t: np.ndarray, moy: np.ndarray) -> np.ndarray:
        x = _design(t - self.t0, moy, trend=self.trend, season=self.season)
        return np.exp(np.clip(x @ self.beta, -30, 30))


def fit_history(counts: Sequence[float], exposures: Sequence[float], months: Sequence[date], p: Params) -> Model:
    y = np.asarray(counts[-p.max_history :], dtype=float)
    e = np.maximum(np.asarray(exposures[-p.max_history :], dtype=float), 1e-6)
    ms = list(months[-p.max_history :])
    n = len(y)
    t = np.array([mo.year * 12 + mo.month - 1 for mo in ms], dtype=float) + 0.5
    t0 = float(t[-1]) if n else 0.0
    moy = np.array([mo.month - 1 for mo in ms], dtype=float) + 0.5
    offset = np.log(e)
    if n == 0 or y.sum() == 0:
        return Model(np.array([math.log(0.5 / max(float(e.sum()), 1.0))]), False, False, 1.0, t0)
    season = n >= 13
    trend = n >= 12
    w = np.ones(n)
    x = _design(t - t0, moy, trend=trend, season=season)
    beta, cov = _fit(y, offset, x, w)
    phi = 1.0
    for _ in range(2):
        mu = np.exp(np.clip(x @ beta + offset, -30, 30))
        dof = max(1, n - x.shape[1])
        phi = max(1.0, float(np.sum(w * (y - mu) ** 2 / np.maximum(mu, 1e-9)) / dof))
        if trend and abs(beta[1]) < 2 * math.sqrt(max(cov[1, 1] * phi, 1e-12)):
            trend = False  # keep a trend only when it is significant (Farrington)
            x = _design(t - t0, moy, trend=False, season=season)
            beta, cov = _fit(y, offset, x, w)
            mu = np.exp(np.clip(x @ beta + offset, -30, 30))
        # Down-weight past outbreaks: standardised residuals above the limit.
        resid = (y - mu) / np.sqrt(np.maximum(phi * mu, 1e-9))
        new_w = np.where(resid > p.reweight_at, (p.reweight_at / np.maximum(resid, 1e-9)) ** 2, 1.0)
        if np.allclose(new_w, w):
            break
        w = new_w
        beta, cov = _fit(y, offset, x, w)
    return Model(beta, trend, season, phi, t0)


# --- the negative-binomial predictive distribution ---------------------------------------------


def _nb_size(mu: float, phi: float) -> float | None:
    return None if phi <= 1.0001 else mu / (phi - 1.0)


def tail_probability(y: int, mu: float, phi: float) -> float:
    """P(Y >= y) for Y negative binomial with mean mu and variance phi*mu (Poisson when phi = 1)."""
    if y <= 0:
        return 1.0
    mu = max(mu, 1e-9)
    k = _nb_size(mu, phi)
    if mu > 200:  # normal approximation on the 2/3-power scale (Farrington)
        sd = (2.0 / 3.0) * math.sqrt(phi) * mu ** (1.0 / 6.0)
        z = ((y - 0.5) ** (2.0 / 3.0) - mu ** (2.0 / 3.0)) / sd
        return 0.5 * math.erfc(z / math.sqrt(2))
    if k is None:
        log_p = -mu
        step = lambda i: math.log(mu) - math.log(i + 1)  # noqa: E731
    else:
        log_p = k * math.log(k / (k + mu))
        step = lambda i: math.log(i + k) - math.log(i + 1) + math.log(mu / (k + mu))  # noqa: E731
    cdf = 0.0
    for i in range(y):
        cdf += math.exp(log_p)
        log_p += step(i)
    return max(0.0, 1.0 - cdf)


def quantile(q: float, mu: float, phi: float) -> float:
    """Smallest y with P(Y <= y) >= q."""
    mu = max(mu, 1e-9)
    if mu > 200:
        # invert the 2/3-power normal approximation
        z = math.sqrt(2) * _erfinv(2 * q - 1)
        return max(0.0, (mu ** (2.0 / 3.0) + z * (2.0 / 3.0) * math.sqrt(phi) * mu ** (1.0 / 6.0)) ** 1.5)
    k = _nb_size(mu, phi)
    log_p = -mu if k is None else k * math.log(k / (k + mu))
    cdf, y = 0.0, 0
    while y < 100000:
        cdf += math.exp(log_p)
        if cdf >= q:
            return float(y)
        if k is None:
            log_p += math.log(mu) - math.log(y + 1)
        else:
            log_p += math.log(y + k) - math.log(y + 1) + math.log(mu / (k + mu))
        y += 1
    return float(y)


def _erfinv(x: float) -> float:
    a = 0.147
    ln = math.log(1 - x * x)
    first = 2 / (math.pi * a) + ln / 2
    return math.copysign(math.sqrt(math.sqrt(first * first - ln / a) - first), x)


def cusum(y: Sequence[int], mu: Sequence[float], phi: float, kappa: float) -> float:
    """Negative-binomial (Poisson when phi = 1) log-likelihood-ratio CUSUM for mean × kappa; final value."""
    s = 0.0
    for yi, mi in zip(y, mu, strict=True):
        mi = max(mi, 1e-9)
        k = _nb_size(mi, phi)
        if k is None:
            llr = yi * math.log(kappa) - (kappa - 1.0) * mi
        else:
            # Out of control: mean kappa*mu with the same size k.
            llr = yi * math.log(kappa * (k + mi) / (k + kappa * mi)) + k * math.log((k + mi) / (k + kappa * mi))
        s = max(0.0, s + llr)
    return s


def evaluate(
    *,
    history: Sequence[float],
    exposures: Sequence[float],
    months: Sequence[date],
    recent: Sequence[int],
    recent_days: Sequence[date],
    recent_weights: Sequence[float],
    params: Params | None = None,
    model: Model | None = None,
) -> Evaluation:
    """Test the recent days of a series against what its history predicts for them.

    `model` may be given when the history was fitted already (it changes once a month).
    """
    p = params or Params()
    if model is None:
        model = fit_history(history, exposures, months, p)
    return check_recent(model, recent, recent_days, recent_weights, p)


def check_recent(
    model: Model, recent: Sequence[int], recent_days: Sequence[date], recent_weights: Sequence[float], p: Params
) -> Evaluation:
    t = np.array([d.year * 12 + d.month - 1 + (d.day - 0.5) / 31.0 for d in recent_days], dtype=float)
    moy = np.array([d.month - 1 + (d.day - 0.5) / 31.0 for d in recent_days], dtype=float)
    mu = model.rate(t, moy) * np.asarray(recent_weights, dtype=float)
    y = list(recent)
    window_y = int(sum(y[-p.window :]))
    window_mu = float(mu[-p.window :].sum())
    upper = quantile(1 - p.alpha, window_mu, model.phi)
    lower = quantile(0.025, window_mu, model.phi)
    tail = tail_probability(window_y, window_mu, model.phi)
    score = -math.log10(max(tail, 1e-300))
    week_mu = max(float(mu[-p.cusum_days :].mean()) * 7, 1e-6)
    kappa = min(p.kappa_max, max(p.kappa_min, 1 + p.shift_sd * math.sqrt(model.phi / week_mu)))
    c = cusum(y[-p.cusum_days :], list(mu[-p.cusum_days :]), model.phi, kappa)
    method = ""
    if window_y >= p.min_count and window_y > upper:
        method = "window"
    elif c > p.h and sum(y[-p.cusum_days :]) >= p.min_count and window_y > window_mu:
        method = "cusum"
        score = max(score, c)
    return Evaluation(
        alarm=bool(method),
        method=method,
        observed=window_y,
        expected=round(window_mu, 2),
        lower=lower,
        upper=upper,
        score=round(score, 2),
        cusum=round(c, 2),
        phi=round(model.phi, 2),
        daily_expected=[round(float(v), 3) for v in mu],
    )


def can_alarm(recent: Sequence[int], p: Params) -> bool:
    """Cheap pre-check: too few recent cases for either test to fire."""
    total = sum(recent[-p.cusum_days :])
    return total >= p.min_count
