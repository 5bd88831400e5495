"""The accuracy table's metrics on a tiny hand-computed case, and its shape in a real run."""

from __future__ import annotations

import numpy as np
import pytest

from planning.forecast import ForecastSettings, accuracy_table, forecast_demand
from planning.forecast.backtest import naive_scale, series_errors
from tests.forecast.helpers import AS_OF, tables, weekly_demand


def test_wape_mase_bias_by_hand() -> None:
    # Two series, one horizon, two weeks. Series 1's second week is out of stock (NaN): not scored,
    # for either method (like-for-like points).
    actual = np.array([[10.0, 20.0], [5.0, np.nan]])
    cubes = {
        "selected": np.array([[[2.0, -4.0], [1.0, 3.0]]]),  # F - y
        "seasonal_naive": np.array([[[-5.0, 5.0], [0.0, 1.0]]]),
    }
    errors = series_errors(cubes, actual, scale=np.array([2.0, 1.0]))
    errors["demand_class"] = np.where(errors["series"] == 0, "smooth", "lumpy")
    table = accuracy_table(errors).set_index(["demand_class", "method"])
    everything = table.loc[("all", "selected")]
    # WAPE = (2 + 4 + 1) / (10 + 20 + 5) = 0.2; bias = (2 - 4 + 1) / 35.
    assert everything["wape"] == pytest.approx(0.2)
    assert everything["bias"] == pytest.approx(-1 / 35)
    # MASE: series 0 mean |e| 3 / scale 2 = 1.5; series 1: 1 / 1 = 1; mean 1.25.
    assert everything["mase"] == pytest.approx(1.25)
    assert everything["points"] == 3 and everything["series"] == 2
    assert table.loc[("smooth", "seasonal_naive"), "wape"] == pytest.approx(10 / 30)
    assert table.loc[("lumpy", "seasonal_naive"), "wape"] == pytest.approx(0.0)


def test_naive_scale_skips_unscored_weeks() -> None:
    # |20 - 10| and |25 - 20| -> 7.5; the NaN week breaks two differences.
    assert naive_scale(np.array([[10.0, 20.0, 25.0, np.nan, 7.0]]), 5)[0] == pytest.approx(7.5)


def test_run_publishes_selected_against_both_baselines() -> None:
    rng = np.random.default_rng(0)
    demand = weekly_demand({f"S{i}": rng.poisson(20, 130).astype(float) + 1 for i in range(3)})
    run = forecast_demand(tables(demand), AS_OF, 4, ForecastSettings())
    assert set(run.accuracy["method"]) == {"selected", "seasonal_naive", "moving_average"}
    assert "all" in set(run.accuracy["demand_class"])
    assert list(run.accuracy.columns) == ["demand_class", "method", "series", "points", "wape", "mase", "bias"]
    # 13 evaluation weeks x 4 horizons x 3 series, all in stock.
    assert run.accuracy.set_index(["demand_class", "method"]).loc[("all", "selected"), "points"] == 13 * 4 * 3
