"""Known-answer series: constant, linear trend, pure seasonal and intermittent demand recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planning.forecast import ForecastSettings, classify, forecast_demand
from planning.forecast.methods import croston_sba, holt_damped, moving_average, ses, tsb
from planning.forecast.seasonality import week_of_year
from tests.forecast.helpers import AS_OF, tables, weekly_demand

NO_HOLIDAYS = ForecastSettings(holiday_calendar="none")


def forecast_of(run, sku: str) -> np.ndarray:
    frame = run.forecast.frame
    return frame[frame["sku"] == sku].sort_values("week")["units"].to_numpy()


def test_constant_series_forecast_exactly_with_no_error() -> None:
    run = forecast_demand(tables(weekly_demand({"A": [20.0] * 80})), AS_OF, 12, NO_HOLIDAYS)
    assert forecast_of(run, "A") == pytest.approx([20.0] * 12)
    assert run.forecast.frame["units_std"].tolist() == pytest.approx([0.0] * 12)
    assert run.series.loc[0, "demand_class"] == "smooth"


def test_linear_trend_is_extrapolated() -> None:
    # y = 10 + 0.5 t over 104 weeks; week 0 of the horizon is t = 104, so y = 62, then +0.5 a week.
    history = 10 + 0.5 * np.arange(104)
    settings = ForecastSettings(holiday_calendar="none", trend_damping=1.0)
    run = forecast_demand(tables(weekly_demand({"T": history})), AS_OF, 10, settings)
    expected = 10 + 0.5 * np.arange(104, 114)
    assert forecast_of(run, "T") == pytest.approx(expected, rel=0.02)
    assert run.series.loc[0, "method"].startswith("holt_damped")


@pytest.mark.parametrize("n_weeks", [104, 156])
def test_pure_yearly_season_is_recovered(n_weeks: int) -> None:
    # Two or three years of 100 + 30 sin(week of year): the next 26 weeks follow the same curve.
    # With two years the backtest's calendar sees only 65 weeks and must still find the season.
    weeks = pd.date_range(pd.Timestamp(AS_OF) - pd.Timedelta(weeks=n_weeks), periods=n_weeks + 26, freq="7D")
    slot = week_of_year(weeks)
    curve = 100 + 30 * np.sin(2 * np.pi * slot / 52)
    run = forecast_demand(tables(weekly_demand({"S": curve[:n_weeks]})), AS_OF, 26, NO_HOLIDAYS)
    assert forecast_of(run, "S") == pytest.approx(curve[n_weeks:], rel=0.05)
    assert run.series.loc[0, "method"].endswith("_seasonal")
    assert bool(run.series.loc[0, "seasonal"])


def test_intermittent_series_classified_and_forecast_at_its_rate() -> None:
    # 6 units every third week: ADI 3, sizes constant (CV^2 0) -> intermittent, mean rate 2 a week.
    history = np.tile([0.0, 0.0, 6.0], 40)
    run = forecast_demand(tables(weekly_demand({"I": history})), AS_OF, 26, NO_HOLIDAYS)
    meta = run.series.iloc[0]
    assert meta["demand_class"] == "intermittent"
    assert meta["adi"] == pytest.approx(3.0, abs=0.05)  # the series starts at its first sale
    assert meta["method"] in {"croston_sba", "tsb", "ses", "moving_average", "ses_seasonal"}
    assert forecast_of(run, "I").mean() == pytest.approx(2.0, rel=0.1)
    assert meta["censored_weeks"] == 0  # regular zeros are demand, not stockouts


def test_croston_sba_and_tsb_states_on_a_regular_pattern() -> None:
    y = np.tile([0.0, 0.0, 6.0], 30)[None, 2:]  # starts on a sale
    # Croston: size 6, interval 3 from the second sale on -> SBA (1 - 0.1/2) * 6 / 3 = 1.9.
    assert croston_sba(y, 0.1).level[0, -1] == pytest.approx(1.9)
    # TSB: just after a sale the probability is at its cycle's peak p = b / (1 - (1 - b)^3)
    # (p = (1 - b)^3 p + b over one three-week cycle), so the forecast is 6 p; the cycle mean is 2.
    beta = 0.1
    assert tsb(y, 0.1, beta).level[0, -1] == pytest.approx(6 * beta / (1 - (1 - beta) ** 3), rel=1e-3)
    assert np.nanmean(tsb(y, 0.1, beta).level[0, -30:]) == pytest.approx(2.0, rel=0.02)


def test_flat_methods_on_a_constant_and_nan_before_start() -> None:
    y = np.array([[np.nan, np.nan, 5.0, 5.0, 5.0, 5.0]])
    for path in (ses(y, 0.2), moving_average(y, 3), croston_sba(y, 0.1), holt_damped(y, 0.3, 0.1, 0.9)):
        assert np.isnan(path.level[0, :2]).all()
    assert ses(y, 0.2).level[0, -1] == pytest.approx(5.0)
    assert moving_average(y, 3).level[0, -1] == pytest.approx(5.0)
    assert holt_damped(y, 0.3, 0.1, 0.9).forecast(5, 3)[0] == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("sizes", "label"),
    [
        ([5, 5, 6, 5, 5, 6, 5, 5], "smooth"),
        ([1, 20, 1, 30, 2, 25, 1, 40], "erratic"),
        ([5, 0, 0, 5, 0, 0, 6, 0], "intermittent"),
        ([1, 0, 0, 30, 0, 0, 2, 0], "lumpy"),
    ],
)
def test_demand_classes_by_adi_and_cv2(sizes: list[int], label: str) -> None:
    frame = classify(np.array([sizes], dtype=float), 1.32, 0.49)
    assert frame.loc[0, "demand_class"] == label
