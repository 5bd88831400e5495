"""Demand history -> a dense series x week panel, with stockout-censored weeks corrected.

All series share one weekly grid (Monday weeks up to the week before ``as_of``), so every
method downstream runs as a vectorized recursion over weeks with numpy, not a loop over series.

Censoring. A week in which the item could not be sold is not a week of zero demand:
  * where ``in_stock`` is given, a week with any out-of-stock day is censored;
  * where it is not, a run of at least ``stockout_min_run_weeks`` zero weeks that follows steady
    sales is censored when Poisson demand at the prior level would make the run less likely than
    ``stockout_p_value`` (``exp(-level * run) < p``).
A censored week's demand is read as the larger of what sold and the mean of the last
uncensored weeks; the number of corrected weeks is reported per series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.forecast.settings import ForecastSettings

FloatMatrix = npt.NDArray[np.float64]
BoolMatrix = npt.NDArray[np.bool_]
SERIES_KEYS = ["sku", "location", "channel"]
IMPUTE_WINDOW = 8  # uncensored weeks averaged to impute a censored one: two months of recent level


@dataclass(frozen=True, slots=True)
class Panel:
    """Weekly demand of many series on one grid.

    Attributes:
        keys: One row per series (sku, location, channel), in panel row order.
        week_starts: Monday of each column.
        observed: Units sold per series x week (NaN before the series' first sale).
        demand: ``observed`` with censored weeks corrected (the history methods learn from).
        censored: True where the week was out of stock (given or detected).
        started: True from the series' first sale on.
    """

    keys: pd.DataFrame
    week_starts: pd.DatetimeIndex
    observed: FloatMatrix
    demand: FloatMatrix
    censored: BoolMatrix
    started: BoolMatrix

    @property
    def n_weeks(self) -> int:
        return len(self.week_starts)


def _monday(dates: pd.Series) -> pd.Series:
    return dates.dt.normalize() - pd.to_timedelta(dates.dt.day_of_week, unit="D")


def build_panel(demand: pd.DataFrame, as_of: date, settings: ForecastSettings) -> Panel:
    """Aggregate typed demand rows (daily or weekly) to the weekly panel and correct censoring.

    Args:
        demand: Columns date, sku, location, channel, units and optionally in_stock (nullable).
        as_of: Monday the horizon starts; only history before it is read.
        settings: Forecast settings (stockout detection).

    Returns:
        The panel; series without any sale are left out.
    """
    start = pd.Timestamp(as_of)
    rows = demand[demand["date"] < start]
    weeks = _monday(rows["date"])
    first = weeks.min() if len(rows) else start - pd.Timedelta(weeks=1)
    week_starts = pd.date_range(first, start - pd.Timedelta(weeks=1), freq="7D")
    codes, keys = _series_codes(rows)
    col = ((weeks - first).dt.days // 7).to_numpy()
    n, t = len(keys), len(week_starts)
    flat = codes * t + col
    units = np.bincount(flat, weights=rows["units"].to_numpy(dtype=float), minlength=n * t).reshape(n, t)
    stock = rows["in_stock"] if "in_stock" in rows else pd.Series(pd.NA, index=rows.index, dtype="boolean")
    stock = stock.astype("boolean")
    out_days = np.bincount(flat, weights=stock.eq(False).fillna(False).to_numpy(float), minlength=n * t)
    known_days = np.bincount(flat, weights=stock.notna().to_numpy(float), minlength=n * t)
    out_of_stock = out_days.reshape(n, t) > 0
    unknown = known_days.reshape(n, t) == 0
    started = np.maximum.accumulate(units > 0, axis=1)
    observed = np.where(started, units, np.nan)
    censored = out_of_stock & started
    if settings.detect_stockouts:
        censored |= detect_stockouts(observed, unknown & started, settings)
    keep = started.any(axis=1)
    return Panel(
        keys=pd.DataFrame(keys[keep]).reset_index(drop=True),
        week_starts=week_starts,
        observed=observed[keep],
        demand=impute_censored(observed[keep], censored[keep]),
        censored=censored[keep],
        started=started[keep],
    )


def _series_codes(rows: pd.DataFrame) -> tuple[npt.NDArray[np.int64], pd.DataFrame]:
    grouped = rows.groupby(SERIES_KEYS, sort=True, observed=True)
    codes = np.asarray(grouped.ngroup().to_numpy(), dtype=np.int64)
    keys = grouped.size().reset_index()[SERIES_KEYS]
    return codes, keys


def _trailing_mean(values: FloatMatrix, window: int) -> tuple[FloatMatrix, FloatMatrix]:
    """Mean and count of the non-NaN values in the ``window`` weeks before each week."""
    finite = np.isfinite(values)
    sums = np.concatenate([np.zeros((len(values), 1)), np.cumsum(np.where(finite, values, 0.0), axis=1)], axis=1)
    counts = np.concatenate([np.zeros((len(values), 1)), np.cumsum(finite, axis=1)], axis=1)
    upper = np.arange(values.shape[1])
    lower = np.maximum(upper - window, 0)
    total, count = sums[:, upper] - sums[:, lower], counts[:, upper] - counts[:, lower]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan), count


def detect_stockouts(observed: FloatMatrix, eligible: BoolMatrix, settings: ForecastSettings) -> BoolMatrix:
    """Zero runs after steady sales that Poisson demand at the prior level makes implausible.

    Args:
        observed: Units per series x week (NaN before the first sale).
        eligible: Weeks without an in-stock signal (only those may be read as stockouts).
        settings: Minimum run length and p-value.
    """
    zero = eligible & (observed == 0)
    n, t = zero.shape
    run_pos = np.zeros((n, t), dtype=np.int64)  # position inside the current zero run, 1-based
    run_left = np.zeros((n, t), dtype=np.int64)  # weeks of the run from here to its end
    for j in range(t):
        run_pos[:, j] = np.where(zero[:, j], (run_pos[:, j - 1] if j else 0) + 1, 0)
    for j in range(t - 1, -1, -1):
        run_left[:, j] = np.where(zero[:, j], (run_left[:, j + 1] if j < t - 1 else 0) + 1, 0)
    length = run_pos + run_left - 1
    level, _ = _trailing_mean(observed, IMPUTE_WINDOW)
    nonzero_share, count = _trailing_mean(np.where(np.isfinite(observed), observed > 0, np.nan), IMPUTE_WINDOW)
    run_start = np.clip(np.arange(t)[None, :] - run_pos + 1, 0, t - 1)
    rows = np.arange(n)[:, None]
    prior_level = level[rows, run_start]
    # Steady: at least half the prior window observed and three in four of those weeks sold something.
    steady = (count[rows, run_start] >= IMPUTE_WINDOW / 2) & (nonzero_share[rows, run_start] >= 0.75)
    # Returns can push the level below zero; a non-positive level explains any zero run.
    rate = np.clip(np.nan_to_num(prior_level), 0.0, None) * np.maximum(length, 0)
    unlikely = np.exp(-rate) < settings.stockout_p_value
    return zero & (length >= settings.stockout_min_run_weeks) & steady & unlikely


def impute_censored(observed: FloatMatrix, censored: BoolMatrix) -> FloatMatrix:
    """Censored weeks read as max(sold, mean of the last uncensored weeks; the next ones if none)."""
    clean = np.where(censored, np.nan, observed)
    level, _ = _trailing_mean(clean, IMPUTE_WINDOW)
    level = pd.DataFrame(level).ffill(axis=1).to_numpy()
    # Censoring right at the start of a series has no past: look forward instead.
    ahead, _ = _trailing_mean(clean[:, ::-1], IMPUTE_WINDOW)
    level = np.where(np.isnan(level), ahead[:, ::-1], level)
    level = pd.DataFrame(level).bfill(axis=1).to_numpy()
    filled = np.where(censored, np.fmax(observed, level), observed)
    return np.where(np.isnan(observed), np.nan, filled)
