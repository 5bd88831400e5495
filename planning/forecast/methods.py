"""Forecasting methods as vectorized recursions over weeks, all series at once.

Every method is written in state form: after observing week t a series has a level l[t] and a
trend b[t] (zero for the flat methods), and the forecast h weeks ahead from origin t is

    F[t + h] = (l[t] + (phi + phi^2 + ... + phi^h) * b[t]) * C[t + h]

where C is the calendar factor (yearly seasonal index x event uplift) for the calendar
variants and 1 otherwise. One pass over the history therefore yields the forecasts from every
rolling origin at once, which is what makes backtesting 10,000 series cheap.

Symbols: y[t] demand of week t (NaN before the first sale), alpha level smoothing, beta trend
(or, in TSB, probability) smoothing, phi trend damping.

  SES           l = l + alpha (y - l)
  Holt damped   l' = alpha y + (1 - alpha)(l + phi b);  b = beta (l' - l) + (1 - beta) phi b
  Croston/SBA   on demand weeks: z = z + alpha (y - z), p = p + alpha (q - p), q = weeks since the
                last demand; forecast (1 - alpha/2) z / p  (Syntetos-Boylan bias correction)
  TSB           every week: pi = pi + beta (1[y > 0] - pi); on demand weeks z = z + alpha (y - z);
                forecast pi z  (Teunter-Syntetos-Babai: the forecast decays when demand stops)
  Moving avg.   mean of the last k weeks
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class StatePath:
    """Level and trend of every series after each week (NaN before its first sale)."""

    level: FloatMatrix
    trend: FloatMatrix
    phi: float = 1.0

    def forecast(self, origin: int, h: int) -> npt.NDArray[np.float64]:
        """Forecast h weeks ahead of ``origin`` (before the calendar factor), per series."""
        damp = sum(self.phi**i for i in range(1, h + 1))
        return self.level[:, origin] + damp * self.trend[:, origin]


def ses(y: FloatMatrix, alpha: float) -> StatePath:
    """Simple exponential smoothing, started at each series' first observation."""
    level = np.full_like(y, np.nan)
    current = np.full(len(y), np.nan)
    for t in range(y.shape[1]):
        obs = y[:, t]
        updated = current + alpha * (obs - current)
        current = np.where(np.isnan(current), obs, np.where(np.isnan(obs), current, updated))
        level[:, t] = current
    return StatePath(level, np.zeros_like(y))


def holt_damped(y: FloatMatrix, alpha: float, beta: float, phi: float) -> StatePath:
    """Additive damped-trend exponential smoothing (Gardner-McKenzie), trend started at zero."""
    level, trend = np.full_like(y, np.nan), np.full_like(y, np.nan)
    lev, tr = np.full(len(y), np.nan), np.zeros(len(y))
    for t in range(y.shape[1]):
        obs = y[:, t]
        new_lev = alpha * obs + (1 - alpha) * (lev + phi * tr)
        new_tr = beta * (new_lev - lev) + (1 - beta) * phi * tr
        fresh, missing = np.isnan(lev), np.isnan(obs)
        lev = np.where(fresh, obs, np.where(missing, lev, new_lev))
        tr = np.where(fresh | missing, tr, new_tr)
        level[:, t], trend[:, t] = lev, np.where(np.isnan(lev), np.nan, tr)
    return StatePath(level, trend, phi)


def croston_sba(y: FloatMatrix, alpha: float) -> StatePath:
    """Croston's method with the Syntetos-Boylan approximation (SBA) bias correction."""
    level = np.full_like(y, np.nan)
    size, interval = np.full(len(y), np.nan), np.full(len(y), np.nan)
    since = np.ones(len(y))
    for t in range(y.shape[1]):
        obs = y[:, t]
        demand = obs > 0
        first = demand & np.isnan(size)
        # The first interval is only known at the second demand; until then it counts as one week.
        interval = np.where(
            demand & ~first, np.where(np.isnan(interval), since, interval + alpha * (since - interval)), interval
        )
        size = np.where(first, obs, np.where(demand, size + alpha * (obs - size), size))
        since = np.where(demand, 1.0, since + np.isfinite(obs))
        level[:, t] = (1 - alpha / 2) * size / np.where(np.isnan(interval), 1.0, interval)
    return StatePath(level, np.zeros_like(y))


def tsb(y: FloatMatrix, alpha: float, beta: float) -> StatePath:
    """Teunter-Syntetos-Babai: demand probability updated every week, size on demand weeks."""
    level = np.full_like(y, np.nan)
    size, prob = np.full(len(y), np.nan), np.full(len(y), np.nan)
    for t in range(y.shape[1]):
        obs = y[:, t]
        seen = np.isfinite(obs)
        demand = obs > 0
        first = demand & np.isnan(size)
        prob = np.where(first, 1.0, np.where(seen & ~np.isnan(prob), prob + beta * (demand - prob), prob))
        size = np.where(first, obs, np.where(demand, size + alpha * (obs - size), size))
        level[:, t] = prob * size
    return StatePath(level, np.zeros_like(y))


def moving_average(y: FloatMatrix, window: int) -> StatePath:
    """Mean of the last ``window`` observed weeks (fewer at the start of a series)."""
    finite = np.isfinite(y)
    sums = np.cumsum(np.where(finite, y, 0.0), axis=1)
    counts = np.cumsum(finite, axis=1)
    pad = np.zeros((len(y), window))
    sums_lag = np.concatenate([pad, sums], axis=1)[:, : y.shape[1]]
    counts_lag = np.concatenate([pad, counts], axis=1)[:, : y.shape[1]]
    count = counts - counts_lag
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.where(count > 0, (sums - sums_lag) / np.maximum(count, 1), np.nan)
    return StatePath(level, np.zeros_like(y))
