"""Rolling-origin backtest: candidate forecasts from every origin, method choice, accuracy table.

Windows on the weekly grid of T history weeks (targets are the weeks forecast):

    |-- fit only --|-- selection A (S wk) --|-- evaluation (E wk) --|  as_of
                   cutoff                    T - E                   T

Calendar factors are estimated before ``cutoff``. Each series' method for the accuracy table
is chosen on selection A and scored on the evaluation weeks it did not see; the method used for
the plan's forecast is chosen on the last S weeks. Every target week is scored at horizons
1..H (each origin forecasts H weeks). Weeks out of stock are not scored: their demand is unknown.

Metrics, over the scored (series, week, horizon) points of a group:
  WAPE = sum |F - y| / sum y;   bias = sum (F - y) / sum y  (positive: over-forecast);
  MASE = mean over series of  mean |F - y| / mean |y_t - y_{t-1}|  (in-sample naive scale,
         weeks before the evaluation window; series with a zero scale are left out).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.forecast.methods import StatePath

FloatMatrix = npt.NDArray[np.float64]
SEASON = 52
BASELINES = ("seasonal_naive", "moving_average")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One method's state path and, for calendar variants, its calendar factor (series x week)."""

    path: StatePath
    calendar: FloatMatrix | None = None

    def forecasts(self, first: int, last: int, h: int) -> FloatMatrix:
        """Forecasts of target weeks first..last-1 made h weeks earlier (series x week)."""
        origins = np.arange(first, last) - h
        damp = sum(self.path.phi**i for i in range(1, h + 1))
        safe = np.clip(origins, 0, None)
        values = self.path.level[:, safe] + damp * self.path.trend[:, safe]
        values = np.where(origins[None, :] >= 0, values, np.nan)
        if self.calendar is not None:
            values = values * self.calendar[:, first:last]
        return np.asarray(np.maximum(values, 0.0), dtype=float)


@dataclass(frozen=True, slots=True)
class Windows:
    """Week indices of the backtest windows on the history grid."""

    cutoff: int
    evaluation_start: int
    final_selection_start: int
    end: int
    horizon: int

    @classmethod
    def fit(cls, n_weeks: int, selection: int, evaluation: int, horizon: int) -> Windows:
        """Shrink the configured windows on short histories so each keeps at least half the data."""
        quarter = max(n_weeks // 4, 0)
        sel, ev = min(selection, quarter), min(evaluation, quarter)
        return cls(n_weeks - sel - ev, n_weeks - ev, n_weeks - sel, n_weeks, horizon)


def seasonal_naive(demand: FloatMatrix, first: int, last: int) -> FloatMatrix:
    """Demand of the same week one year earlier (NaN where there is no such week)."""
    lagged = np.arange(first, last) - SEASON
    values = demand[:, np.clip(lagged, 0, None)]
    return np.where(lagged[None, :] >= 0, values, np.nan)


def error_cube(candidate: Candidate, actual: FloatMatrix, windows: Windows) -> FloatMatrix:
    """Signed errors F - y of the targets from cutoff to the end: horizon x series x week."""
    return np.stack(
        [candidate.forecasts(windows.cutoff, windows.end, h) - actual for h in range(1, windows.horizon + 1)]
    )


def choose(
    errors: Mapping[str, FloatMatrix], allowed: Mapping[str, npt.NDArray[np.bool_]], first: int, last: int
) -> npt.NDArray[np.int64]:
    """Index (in ``errors`` order) of the candidate with the least absolute error per series.

    ``first`` and ``last`` are offsets into the error cubes' week axis. A candidate not allowed
    for a series' demand class, or with no scored point, is never chosen; ties go to the earlier
    (simpler) candidate.
    """
    scores = []
    for name, cube in errors.items():
        window = np.abs(cube[:, :, first:last])
        total = np.nansum(window, axis=(0, 2))
        scored = np.isfinite(window).any(axis=(0, 2))
        scores.append(np.where(allowed[name] & scored, total, np.inf))
    return np.argmin(np.stack(scores), axis=0).astype(np.int64)


def naive_scale(actual: FloatMatrix, last: int) -> npt.NDArray[np.float64]:
    """Mean absolute one-week change of each series before week ``last`` (the MASE denominator)."""
    diffs = np.abs(np.diff(actual[:, :last], axis=1))
    with np.errstate(invalid="ignore"):
        count = np.isfinite(diffs).sum(axis=1)
        return np.where(count > 0, np.nansum(diffs, axis=1) / np.maximum(count, 1), np.nan)


def series_errors(
    cubes: Mapping[str, FloatMatrix], actual: FloatMatrix, scale: npt.NDArray[np.float64]
) -> pd.DataFrame:
    """Per method and series: sums over the points every method scored (a like-for-like mask).

    Args:
        cubes: Signed errors per method, horizon x series x evaluation week.
        actual: Demand of the evaluation weeks (NaN = not scored), series x week.
        scale: MASE scale per series.
    """
    mask = np.broadcast_to(np.isfinite(actual), next(iter(cubes.values())).shape)
    for cube in cubes.values():
        mask = mask & np.isfinite(cube)
    truth = np.where(mask, np.broadcast_to(actual, mask.shape), 0.0).sum(axis=(0, 2))
    points = mask.sum(axis=(0, 2))
    frames = []
    for name, cube in cubes.items():
        err = np.where(mask, cube, 0.0)
        abs_sum = np.abs(err).sum(axis=(0, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            mase = np.where((points > 0) & (scale > 0), abs_sum / np.maximum(points, 1) / scale, np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "series": np.arange(len(truth)),
                    "method": name,
                    "points": points,
                    "actual": truth,
                    "abs_error": abs_sum,
                    "error": err.sum(axis=(0, 2)),
                    "mase": mase,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def accuracy_table(errors: pd.DataFrame, group: str = "demand_class") -> pd.DataFrame:
    """WAPE, MASE and bias per ``group`` and method, plus an ``all`` row per method.

    Args:
        errors: ``series_errors`` rows with a ``group`` column added.
        group: Column to group by (the demand class, or any other label).
    """
    scored = errors[errors["points"] > 0]
    whole = scored.assign(**{group: "all"})
    both = pd.concat([scored, whole], ignore_index=True)
    table = both.groupby([group, "method"], as_index=False, sort=True).agg(
        series=("series", "nunique"),
        points=("points", "sum"),
        actual=("actual", "sum"),
        abs_error=("abs_error", "sum"),
        error=("error", "sum"),
        mase=("mase", "mean"),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        table["wape"] = np.where(table["actual"] > 0, table["abs_error"] / table["actual"], np.nan)
        table["bias"] = np.where(table["actual"] > 0, table["error"] / table["actual"], np.nan)
    columns = [group, "method", "series", "points", "wape", "mase", "bias"]
    return table[columns].reset_index(drop=True)
