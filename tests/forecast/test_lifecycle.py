"""New items from category analogues and a launch curve; discontinued items at zero."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from pydantic import ValidationError

from planning.forecast import ForecastSettings, forecast_demand
from tests.forecast.helpers import AS_OF, tables, weekly_demand

SETTINGS = ForecastSettings(holiday_calendar="none", new_item_ramp_weeks=3)


def catalogue_history() -> dict:
    demand = weekly_demand({"A": [20.0] * 60, "B": [40.0] * 60, "OLD": [5.0] * 60})
    return tables(
        demand,
        extra_items=["NEW"],
        status={"OLD": "discontinued", "NEW": "new"},
        launch={"NEW": AS_OF + timedelta(weeks=2)},
    )


def rows_of(run, sku: str):
    frame = run.forecast.frame
    return frame[frame["sku"] == sku].sort_values("week")


def test_discontinued_item_gets_a_zero_forecast() -> None:
    run = forecast_demand(catalogue_history(), AS_OF, 8, SETTINGS)
    old = rows_of(run, "OLD")
    assert len(old) == 8 and (old["units"] == 0).all() and (old["units_std"] == 0).all()
    assert run.series.set_index("sku").loc["OLD", "method"] == "discontinued"


def test_new_item_follows_the_category_analogue_with_a_launch_ramp() -> None:
    run = forecast_demand(catalogue_history(), AS_OF, 8, SETTINGS)
    new = rows_of(run, "NEW")
    # Analogue: median of A (20) and B (40) = 30. Launch in week 2; three ramp weeks: 1/4, 2/4, 3/4.
    expected = [0, 0, 7.5, 15, 22.5, 30, 30, 30]
    assert new["units"].to_numpy() == pytest.approx(expected)
    assert new["units_std"].to_numpy() == pytest.approx(0.6 * np.array(expected))
    assert run.series.set_index("sku").loc["NEW", "method"] == "analogue_launch"


def test_young_series_blends_own_history_with_the_analogue() -> None:
    demand = weekly_demand({"A": [20.0] * 60, "B": [40.0] * 60, "Y": [10.0] * 4})
    run = forecast_demand(tables(demand), AS_OF, 2, SETTINGS)
    # Four of eight minimum weeks seen: half own mean (10), half analogue (30) -> 20.
    assert rows_of(run, "Y")["units"].to_numpy() == pytest.approx([20.0, 20.0])


def test_settings_forbid_unknown_keys_and_are_frozen() -> None:
    with pytest.raises(ValidationError):
        ForecastSettings(alpah=0.2)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        SETTINGS.alpha = 0.5  # type: ignore[misc]
