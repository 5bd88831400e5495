"""Stockout-censored history: weeks out of stock are corrected, not read as zero demand."""

from __future__ import annotations

import numpy as np
import pytest

from planning.forecast import ForecastSettings, forecast_demand
from planning.forecast.history import build_panel
from tests.forecast.helpers import AS_OF, daily_demand, tables, weekly_demand

DAYS = 364  # 52 whole Monday weeks before AS_OF
NO_HOLIDAYS = ForecastSettings(holiday_calendar="none")


def steady_with_stockout(first_day: int, days_out: int) -> tuple[np.ndarray, np.ndarray]:
    """10 units a day, nothing sold while out of stock."""
    units = np.full(DAYS, 10.0)
    stock = np.ones(DAYS, dtype=bool)
    stock[first_day : first_day + days_out] = False
    units[~stock] = 0.0
    return units, stock


def test_in_stock_signal_marks_and_corrects_the_stockout_weeks() -> None:
    # Out of stock for the whole of weeks 30 and 31 (days 210-223) and three days of week 40.
    units, stock = steady_with_stockout(210, 14)
    stock[280:283], units[280:283] = False, 0.0
    panel = build_panel(daily_demand("A", units, stock), AS_OF, NO_HOLIDAYS)
    assert np.flatnonzero(panel.censored[0]).tolist() == [30, 31, 40]
    assert panel.observed[0, [30, 31, 40]].tolist() == [0.0, 0.0, 40.0]
    assert panel.demand[0, [30, 31, 40]] == pytest.approx([70.0, 70.0, 70.0])


def test_zero_run_after_steady_sales_detected_without_in_stock() -> None:
    units, _ = steady_with_stockout(210, 21)  # three zero weeks, no in_stock column values
    run = forecast_demand(tables(daily_demand("A", units, None)), AS_OF, 8, NO_HOLIDAYS)
    assert run.series.loc[0, "censored_weeks"] == 3
    assert run.forecast.frame["units"].to_numpy() == pytest.approx(np.full(8, 70.0))


def test_ongoing_stockout_at_the_end_of_history_is_corrected() -> None:
    units, stock = steady_with_stockout(DAYS - 14, 14)
    run = forecast_demand(tables(daily_demand("A", units, stock)), AS_OF, 4, NO_HOLIDAYS)
    assert run.series.loc[0, "censored_weeks"] == 2
    assert run.forecast.frame["units"].to_numpy() == pytest.approx(np.full(4, 70.0))


def test_uncorrected_history_would_understate_demand() -> None:
    # The same series with the stockout switched off in settings and no in_stock: the zeros pull it down.
    units, _ = steady_with_stockout(DAYS - 14, 14)
    off = ForecastSettings(holiday_calendar="none", detect_stockouts=False)
    run = forecast_demand(tables(daily_demand("A", units, None)), AS_OF, 4, off)
    assert run.series.loc[0, "censored_weeks"] == 0
    assert run.forecast.frame["units"].max() < 70.0


def test_slow_seller_zero_runs_are_not_read_as_stockouts() -> None:
    # About one unit a week: two zero weeks in a row are ordinary (exp(-2) > 1 %).
    rng = np.random.default_rng(3)
    history = rng.poisson(1.0, 104).astype(float)
    history[0] = 1.0
    run = forecast_demand(tables(weekly_demand({"P": history})), AS_OF, 4, NO_HOLIDAYS)
    assert run.series.loc[0, "censored_weeks"] == 0
