"""The forecasting engine: typed input tables -> weekly forecasts, error spreads and accuracy.

Steps, each a function below:
  1. ``build_panel``: weekly series x week panel, stockout-censored weeks corrected;
  2. ``classify``: demand class per series by ADI and CV^2 (Syntetos-Boylan);
  3. calendar factors (yearly season per SKU, holiday and event uplifts) before the cutoff;
  4. every candidate method run on every series, backtested from rolling origins; the method per
     series is the allowed candidate with the least absolute error on the recent weeks;
  5. the forecast from the last origin with calendar factors re-estimated on all history, and
     units_std = RMS of the chosen method's one-week-ahead errors over the recent weeks;
  6. new items from category analogues with a launch ramp, discontinued items at zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from planning.forecast import methods
from planning.forecast.backtest import (
    Candidate,
    Windows,
    accuracy_table,
    choose,
    error_cube,
    naive_scale,
    seasonal_naive,
    series_errors,
)
from planning.forecast.baseline import FORECAST_COLUMNS, Forecast
from planning.forecast.events import event_weeks, us_holidays
from planning.forecast.history import FloatMatrix, Panel, build_panel
from planning.forecast.newitems import new_item_forecast
from planning.forecast.seasonality import event_mask, event_uplift, seasonal_index, week_of_year
from planning.forecast.settings import ForecastSettings
from planning.forecast.spread import DemandSpread, cumulative_errors

DEMAND_CLASSES = ("smooth", "erratic", "intermittent", "lumpy")
PLAIN = ("ses", "ses_fast", "holt_damped", "moving_average", "croston_sba", "tsb")
CALENDAR = ("ses_seasonal", "ses_fast_seasonal", "holt_damped_seasonal")
CANDIDATES = PLAIN + CALENDAR
ALLOWED_BY_CLASS: dict[str, frozenset[str]] = {
    "smooth": frozenset(CANDIDATES) - {"croston_sba", "tsb"},
    "erratic": frozenset(CANDIDATES) - {"croston_sba", "tsb"},
    # No yearly season for sparse series: their weekly ratios are mostly noise, and on the M5
    # subset a seasonal SES made intermittent items worse (data_contracts/FORECASTING.md).
    "intermittent": frozenset({"croston_sba", "tsb", "ses", "moving_average"}),
    "lumpy": frozenset({"croston_sba", "tsb", "ses", "moving_average"}),
}
MIN_ERROR_POINTS = 4  # fewer one-step errors than this cannot estimate a spread


@dataclass(frozen=True, slots=True)
class ForecastRun:
    """What one forecasting run produced.

    Attributes:
        forecast: Weekly rows sku, location, channel, week (0 = as-of week), units, units_std.
        series: One row per series: sku, location, channel, demand_class, adi, cv2, method,
            censored_weeks (weeks corrected for stockouts), history_weeks, seasonal.
        accuracy: Rolling-origin holdout per demand_class and method: series, points, wape, mase,
            bias; the ``selected`` method against the ``seasonal_naive`` and ``moving_average``
            baselines, on the same scored points.
        errors: Per series and method sums behind ``accuracy`` (regroup with ``accuracy_table``).
    """

    forecast: Forecast
    series: pd.DataFrame
    accuracy: pd.DataFrame
    errors: pd.DataFrame


def classify(demand: FloatMatrix, adi_threshold: float, cv2_threshold: float) -> pd.DataFrame:
    """ADI (weeks per demand week), CV^2 of non-zero sizes and the Syntetos-Boylan class."""
    finite = np.isfinite(demand)
    positive = np.where(finite, demand, 0.0) > 0
    n_pos = positive.sum(axis=1)
    sizes = np.where(positive, demand, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        adi = np.where(n_pos > 0, finite.sum(axis=1) / np.maximum(n_pos, 1), np.inf)
        mean = np.nansum(sizes, axis=1) / np.maximum(n_pos, 1)
        var = np.nansum((sizes - mean[:, None]) ** 2, axis=1) / np.maximum(n_pos, 1)
        cv2 = np.where(mean > 0, var / mean**2, 0.0)
    sparse, variable = adi >= adi_threshold, cv2 >= cv2_threshold
    label = np.where(sparse, np.where(variable, "lumpy", "intermittent"), np.where(variable, "erratic", "smooth"))
    return pd.DataFrame({"demand_class": label, "adi": adi, "cv2": cv2})


@dataclass(frozen=True, slots=True)
class _Calendar:
    """Yearly seasonal index and event uplift per series x week (history and horizon)."""

    season: FloatMatrix
    uplift: FloatMatrix


def _run_candidates(demand: FloatMatrix, cal: _Calendar, s: ForecastSettings) -> dict[str, Candidate]:
    """Every candidate's state path on demand with its calendar factor divided out.

    Known events apply to every candidate (they are facts about the future, not a model
    choice); the yearly season only to the ``_seasonal`` variants, chosen by backtest.
    """
    t = demand.shape[1]
    both = cal.season * cal.uplift
    plain, adjusted = demand / cal.uplift[:, :t], demand / both[:, :t]
    builders: dict[str, Callable[[FloatMatrix], methods.StatePath]] = {
        "ses": lambda y: methods.ses(y, s.alpha),
        "ses_fast": lambda y: methods.ses(y, s.alpha_fast),
        "holt_damped": lambda y: methods.holt_damped(y, s.alpha_fast, s.trend_beta, s.trend_damping),
        "moving_average": lambda y: methods.moving_average(y, s.moving_average_weeks),
        "croston_sba": lambda y: methods.croston_sba(y, s.alpha),
        "tsb": lambda y: methods.tsb(y, s.alpha, s.tsb_beta),
    }
    out = {name: Candidate(builders[name](plain), cal.uplift) for name in PLAIN}
    for name in CALENDAR:
        out[name] = Candidate(builders[name.removesuffix("_seasonal")](adjusted), both)
    return out


def _calendar(panel: Panel, occurrences: pd.DataFrame, cutoff: int, n_total: int, s: ForecastSettings) -> _Calendar:
    """Seasonal index and event uplift per series x week (history and horizon), from weeks < cutoff."""
    codes, _ = pd.factorize(panel.keys["sku"])
    grid = pd.date_range(panel.week_starts[0], periods=n_total, freq="7D")
    mask = event_mask(occurrences, panel.keys["sku"], panel.n_weeks)
    index = seasonal_index(panel.demand, codes, week_of_year(panel.week_starts), cutoff, s.min_seasonal_weeks, mask)
    season = index[:, week_of_year(grid)]
    uplift = event_uplift(
        panel.demand, occurrences, codes, panel.keys["sku"], season, cutoff, n_total, s.event_prior_units
    )
    return _Calendar(np.asarray(season, dtype=float), uplift)


def _occurrences(events: pd.DataFrame | None, panel: Panel, n_total: int, s: ForecastSettings) -> pd.DataFrame:
    grid = pd.date_range(panel.week_starts[0], periods=n_total, freq="7D")
    frames = [] if events is None else [events]
    if s.holiday_calendar == "us":
        frames.append(us_holidays(grid[0].year, grid[-1].year + 1))
    if not frames:
        return event_weeks(pd.DataFrame(columns=["date", "event", "sku"]), grid)
    return event_weeks(pd.concat(frames, ignore_index=True), grid)


def _allowed(classes: pd.Series) -> dict[str, npt.NDArray[np.bool_]]:
    return {name: classes.map(lambda c, n=name: n in ALLOWED_BY_CLASS[c]).to_numpy(bool) for name in CANDIDATES}


def _pick(cubes: Mapping[str, FloatMatrix], choice: npt.NDArray[np.int64]) -> FloatMatrix:
    stacked = np.stack(list(cubes.values()))
    return np.asarray(stacked[choice, :, np.arange(len(choice)), :].transpose(1, 0, 2), dtype=float)


def _error_std(one_step: FloatMatrix, demand: FloatMatrix, window: int) -> npt.NDArray[np.float64]:
    """RMS of the recent one-step errors; the recent demand spread where too few are scored."""
    recent = one_step[:, -window:]
    count = np.isfinite(recent).sum(axis=1)
    rms = np.sqrt(np.nansum(recent**2, axis=1) / np.maximum(count, 1))
    return np.where(count >= MIN_ERROR_POINTS, rms, _spread(demand[:, -window:]))


def _spread(values: FloatMatrix) -> npt.NDArray[np.float64]:
    """Population standard deviation of the finite values per row (0 where there are none)."""
    finite = np.isfinite(values)
    n = np.maximum(finite.sum(axis=1), 1)
    mean = np.where(finite, values, 0.0).sum(axis=1) / n
    return np.asarray(np.sqrt(np.where(finite, (values - mean[:, None]) ** 2, 0.0).sum(axis=1) / n), dtype=float)


@dataclass(frozen=True, slots=True)
class _Backtest:
    choice: npt.NDArray[np.int64]
    one_step: FloatMatrix
    errors: pd.DataFrame
    cumulative: list[FloatMatrix]  # C_1..C_K of the chosen method (planning.forecast.spread)


def _backtest(panel: Panel, calendar: _Calendar, classes: pd.Series, s: ForecastSettings) -> _Backtest:
    """Choose each series' method on the recent weeks and score the choice out of sample."""
    win = Windows.fit(panel.n_weeks, s.selection_weeks, s.evaluation_weeks, s.backtest_horizon)
    actual = np.where(panel.censored, np.nan, panel.observed)[:, win.cutoff :]
    candidates = _run_candidates(panel.demand, calendar, s)
    cubes = {name: error_cube(c, actual, win) for name, c in candidates.items()}
    allowed = _allowed(classes)
    # The baseline is the plain moving average, without the event uplifts the candidate uses.
    baseline_ma = Candidate(methods.moving_average(panel.demand, s.moving_average_weeks))
    ev = win.evaluation_start - win.cutoff
    chosen_early = choose(cubes, allowed, 0, ev)
    choice = choose(cubes, allowed, win.final_selection_start - win.cutoff, win.end - win.cutoff)
    evaluation = {
        "selected": _pick(cubes, chosen_early)[:, :, ev:],
        "seasonal_naive": np.broadcast_to(
            seasonal_naive(panel.demand, win.evaluation_start, win.end) - actual[:, ev:],
            (win.horizon, len(actual), win.end - win.evaluation_start),
        ),
        "moving_average": error_cube(baseline_ma, actual, win)[:, :, ev:],
    }
    scale = naive_scale(np.where(panel.censored, np.nan, panel.observed), win.evaluation_start)
    errors = series_errors(evaluation, actual[:, ev:], scale)
    one_step = _pick(cubes, choice)[0]
    return _Backtest(choice, one_step, errors, cumulative_errors(_chosen_errors(candidates, choice, actual, win, s)))


def _chosen_errors(
    candidates: Mapping[str, Candidate],
    choice: npt.NDArray[np.int64],
    actual: FloatMatrix,
    win: Windows,
    s: ForecastSettings,
) -> FloatMatrix:
    """y - F of the chosen method at horizons 1..``spread_weeks`` (horizon x series x target week)."""
    errors = np.full((s.spread_weeks, *actual.shape), np.nan)
    for k, candidate in enumerate(candidates.values()):  # the order ``choice`` indexes
        rows = choice == k
        if rows.any():
            for h in range(1, s.spread_weeks + 1):
                errors[h - 1, rows] = actual[rows] - candidate.forecasts(win.cutoff, win.end, h)[rows]
    return errors


def _final_forecast(
    panel: Panel, calendar: _Calendar, choice: npt.NDArray[np.int64], weeks: int, s: ForecastSettings
) -> FloatMatrix:
    """Forecast of the horizon weeks from the last history week, calendar on all history."""
    candidates = _run_candidates(panel.demand, calendar, s)
    t = panel.n_weeks
    out = np.zeros((len(choice), weeks))
    for k, candidate in enumerate(candidates.values()):
        rows = choice == k
        if not rows.any():
            continue
        for w in range(weeks):
            value = candidate.path.forecast(t - 1, w + 1)[rows]
            if candidate.calendar is not None:
                value = value * candidate.calendar[rows, t + w]
            out[rows, w] = value
    return np.maximum(np.nan_to_num(out), 0.0)


def _established(
    panel: Panel, as_of: date, weeks: int, s: ForecastSettings, events: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, DemandSpread]:
    """Forecast rows, series metadata, backtest errors and the k-week error pools of the series
    with enough history."""
    t = panel.n_weeks
    n_total = t + weeks
    classes = classify(panel.demand, s.adi_threshold, s.cv2_threshold)
    occurrences = _occurrences(events, panel, n_total, s)
    win = Windows.fit(t, s.selection_weeks, s.evaluation_weeks, s.backtest_horizon)
    early = _calendar(panel, occurrences, win.cutoff, n_total, s)
    test = _backtest(panel, early, classes["demand_class"], s)
    full = _calendar(panel, occurrences, t, n_total, s)
    units = _final_forecast(panel, full, test.choice, weeks, s)
    std = _error_std(test.one_step, panel.demand, s.error_window_weeks)
    meta = panel.keys.assign(
        **classes,
        method=np.asarray(CANDIDATES)[test.choice],
        censored_weeks=panel.censored.sum(axis=1),
        history_weeks=panel.started.sum(axis=1),
        seasonal=np.abs(full.season[:, :t] - 1).max(axis=1, initial=0.0) > 1e-9,
    )
    rows = panel.keys.loc[np.repeat(np.arange(len(units)), weeks)].reset_index(drop=True)
    frame = rows.assign(
        week=np.tile(np.arange(weeks), len(units)), units=units.ravel(), units_std=np.repeat(std, weeks)
    )
    errors = test.errors.merge(meta[["demand_class"]], left_on="series", right_index=True)
    spread = DemandSpread.from_errors(test.cumulative, std, classes["demand_class"].to_numpy(str))
    return frame, meta, errors, spread


def forecast_demand(
    tables: Mapping[str, pd.DataFrame],
    as_of: date,
    weeks: int,
    settings: ForecastSettings | None = None,
    events: pd.DataFrame | None = None,
) -> ForecastRun:
    """Weekly forecasts per SKU x location x channel, their error spread and a backtest.

    Args:
        tables: Typed input tables; reads ``demand_history`` and ``items`` (status, category,
            launch_date).
        as_of: First day of week 0 (the Monday of the plan); only history before it is used.
        weeks: Horizon length in weeks.
        settings: Forecast settings (defaults if omitted).
        events: Optional known events (promotions, extra holidays): columns date, event and an
            optional sku (empty = all SKUs); their uplift is learnt from past occurrences.

    Returns:
        The forecast (with units_std, the one-week-ahead error std), per-series metadata and the
        rolling-origin accuracy table.
    """
    s = settings or ForecastSettings()
    as_of = as_of - timedelta(days=as_of.weekday())
    items = _items(tables.get("items"))
    panel = build_panel(tables["demand_history"], as_of, s)
    active = _active_rows(panel, items, s)
    established = active & (panel.started.sum(axis=1) >= s.min_history_weeks)
    frame, meta, errors, spread = _established(_subset(panel, established), as_of, weeks, s, events)
    young, young_meta = new_item_forecast(_subset(panel, active & ~established), frame, items, as_of, weeks, s)
    gone, gone_meta = _discontinued(_subset(panel, ~active), items, weeks)
    forecast = pd.concat([frame, young, gone], ignore_index=True)[list(FORECAST_COLUMNS)]
    series = pd.concat([meta, young_meta, gone_meta], ignore_index=True)
    classes = dict(
        zip(
            zip(series["sku"].astype(str), series["location"].astype(str), series["channel"].astype(str), strict=True),
            series["demand_class"].astype(str),
            strict=True,
        )
    )
    return ForecastRun(
        forecast=Forecast(frame=forecast, method="engine", spread=spread.with_classes(classes)),
        series=series,
        accuracy=accuracy_table(errors),
        errors=errors,
    )


def _items(items: pd.DataFrame | None) -> pd.DataFrame:
    columns = ["sku", "category", "status", "launch_date"]
    if items is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return items[columns].drop_duplicates("sku")


def _active_rows(panel: Panel, items: pd.DataFrame, s: ForecastSettings) -> npt.NDArray[np.bool_]:
    """Series still selling in the last ``active_weeks`` and not discontinued."""
    recent = np.nan_to_num(panel.observed[:, -s.active_weeks :]).sum(axis=1) > 0
    status = panel.keys["sku"].map(items.set_index("sku")["status"]).fillna("active")
    return np.asarray(recent & (status != "discontinued").to_numpy(bool), dtype=bool)


def _subset(panel: Panel, rows: npt.NDArray[np.bool_]) -> Panel:
    return Panel(
        keys=panel.keys[rows].reset_index(drop=True),
        week_starts=panel.week_starts,
        observed=panel.observed[rows],
        demand=panel.demand[rows],
        censored=panel.censored[rows],
        started=panel.started[rows],
    )


def _discontinued(panel: Panel, items: pd.DataFrame, weeks: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Zero rows for discontinued SKUs (never replenished); dormant series are dropped."""
    status = panel.keys["sku"].map(items.set_index("sku")["status"])
    gone = (status == "discontinued").to_numpy(bool)
    keys = panel.keys[gone].reset_index(drop=True)
    rows = keys.merge(pd.DataFrame({"week": np.arange(weeks)}), how="cross").assign(units=0.0, units_std=0.0)
    meta = keys.assign(
        demand_class="discontinued",
        method="discontinued",
        censored_weeks=panel.censored[gone].sum(axis=1),
        history_weeks=panel.started[gone].sum(axis=1),
    )
    return rows, meta
