"""Holiday weeks and known future events (promotions) lift the forecast by their past uplift."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from planning.forecast import ForecastSettings, forecast_demand
from planning.forecast.events import easter, event_weeks, us_holidays
from tests.forecast.helpers import tables, weekly_demand

AS_OF = date(2026, 10, 5)  # a Monday; Thanksgiving 2026 falls in horizon week 7 (Monday 2026-11-23)


def history_weeks(n: int) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(AS_OF) - pd.Timedelta(weeks=n), periods=n, freq="7D")


def test_moving_holiday_dates() -> None:
    assert easter(2024) == date(2024, 3, 31) and easter(2025) == date(2025, 4, 20)
    frame = us_holidays(2026, 2026).set_index("event")["date"]
    assert frame["thanksgiving"] == pd.Timestamp("2026-11-26")
    assert frame["memorial_day"] == pd.Timestamp("2026-05-25")
    assert frame["cyber_monday"] == pd.Timestamp("2026-11-30")


def test_thanksgiving_week_uplift_is_learnt_and_applied() -> None:
    weeks = history_weeks(156)
    thanksgiving = event_weeks(us_holidays(2023, 2025).query("event == 'thanksgiving'"), weeks)["week"]
    units = np.full(156, 50.0)
    units[thanksgiving.to_numpy()] = 150.0  # three past Thanksgiving weeks sold triple
    run = forecast_demand(tables(weekly_demand({"H": units}, as_of=AS_OF)), AS_OF, 12, ForecastSettings())
    forecast = run.forecast.frame.sort_values("week")["units"].to_numpy()
    # Credibility-weighted uplift (450 + K) / (150 + K), K = 10 x the variance-to-mean ratio.
    k = 10 * units.var() / units.mean()
    assert forecast[7] == pytest.approx(50 * (450 + k) / (150 + k), rel=0.02)
    assert forecast[:5] == pytest.approx(np.full(5, 50.0), rel=0.1)


def test_promotion_given_as_a_known_event_for_one_sku() -> None:
    weeks = history_weeks(80)
    promo_weeks = [20, 35, 50, 65]
    units = np.full(80, 30.0)
    units[promo_weeks] = 60.0
    events = pd.DataFrame(
        {
            "date": [*weeks[promo_weeks], pd.Timestamp(AS_OF) + pd.Timedelta(weeks=3, days=2)],
            "event": "spring_sale",
            "sku": "P",
        }
    )
    demand = weekly_demand({"P": units, "Q": np.full(80, 30.0)}, as_of=AS_OF)
    run = forecast_demand(tables(demand), AS_OF, 6, ForecastSettings(holiday_calendar="none"), events=events)
    frame = run.forecast.frame.set_index(["sku", "week"])["units"]
    # Four past sales at x2: uplift (240 + K) / (120 + K), K = 10 x var/mean = 10 x 42.75 / 31.5.
    k = 10 * 42.75 / 31.5
    assert frame[("P", 3)] == pytest.approx(30 * (240 + k) / (120 + k), rel=0.01)
    assert frame[("P", 2)] == pytest.approx(30.0, rel=0.05)
    assert frame[("Q", 3)] == pytest.approx(30.0, rel=0.05)  # the event is scoped to P


def test_the_events_input_table_reaches_the_forecast() -> None:
    # The same promotion as above, given as the `events` input table (empty sku = every SKU).
    from planning.config import parse_config
    from planning.run import make_forecast

    weeks = history_weeks(80)
    promo_weeks = [20, 35, 50, 65]
    units = np.full(80, 30.0)
    units[promo_weeks] = 60.0
    typed = tables(weekly_demand({"P": units}, as_of=AS_OF))
    future = pd.Timestamp(AS_OF) + pd.Timedelta(weeks=3, days=2)
    typed["events"] = pd.DataFrame(
        {"date": [*weeks[promo_weeks], future], "event": "spring_sale", "sku": pd.array([None] * 5, dtype="string")}
    )
    config = parse_config({"horizon": {"weeks": 6}, "forecast": {"holiday_calendar": "none"}})
    with_events = make_forecast(typed, AS_OF, config).forecast.frame.set_index("week")["units"]
    without = make_forecast({k: v for k, v in typed.items() if k != "events"}, AS_OF, config).forecast.frame
    assert with_events[3] > 1.5 * without.set_index("week")["units"][3]
