"""The k-week demand distribution: cumulative errors, pooled quantiles, the empirical loss and the
safety stock read from them (planning/forecast/spread.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planning.forecast import Forecast, forecast_demand
from planning.forecast.service import safety_stock
from planning.forecast.spread import (
    MIN_POOLED,
    DemandSpread,
    cumulative_errors,
    empirical_loss,
    inverse_empirical_loss,
    quantile_table,
    spread_safety_stock,
)
from planning.problem import _safety_stock
from tests.forecast.helpers import AS_OF, tables, weekly_demand


def test_cumulative_errors_add_the_k_weeks_after_each_origin() -> None:
    # One series, three target weeks: E_1 = 1, 2, 3 and E_2 = 10, 20, 30 (the same weeks forecast
    # two weeks ahead). From origin a, C_2 = E_1[a] + E_2[a + 1]: 1 + 20 = 21 and 2 + 30 = 32.
    errors = np.array([[[1.0, 2.0, 3.0]], [[10.0, 20.0, 30.0]]])
    c1, c2 = cumulative_errors(errors)
    assert c1.tolist() == [[1.0, 2.0, 3.0]] and c2.tolist() == [[21.0, 32.0]]
    errors[1, 0, 2] = np.nan  # week 2 out of stock: the total that holds it is unknown
    assert np.isnan(cumulative_errors(errors)[1][0, 1])


def test_errors_are_pooled_by_class_after_scaling_by_each_series_spread() -> None:
    # Series a (sigma 1) and b (sigma 2) are both smooth; c has no spread and is left out.
    c1 = np.array([[1.0, -1.0], [4.0, 2.0], [5.0, 5.0]])
    spread = DemandSpread.from_errors([c1], np.array([1.0, 2.0, 0.0]), np.array(["smooth", "smooth", "lumpy"]))
    assert spread.pools["smooth"][0].tolist() == [-1.0, 1.0, 1.0, 2.0]  # b's 4 and 2 over its sigma 2
    assert "lumpy" not in spread.pools and spread.pools["all"][0].tolist() == [-1.0, 1.0, 1.0, 2.0]


def _persistent(n: int, k_max: int) -> DemandSpread:
    """Errors that never change sign: a series' k-week error is k times its one-week error."""
    z1 = np.linspace(-2.0, 2.0, n)
    return DemandSpread({"smooth": tuple(np.sort(z1 * k) for k in range(1, k_max + 1))})


def test_persistent_errors_widen_a_k_week_total_k_fold_not_sqrt_k() -> None:
    spread = _persistent(401, 4)
    assert spread.quantile("smooth", 4, 0.975) == pytest.approx(4 * spread.quantile("smooth", 1, 0.975))
    assert spread.rms("smooth", 4) == pytest.approx(4 * spread.rms("smooth", 1))
    # Past the measured 4 weeks the spread grows as sqrt(k / K): 16 weeks = 2 x the 4-week spread.
    assert spread.quantile("smooth", 16, 0.975) == pytest.approx(2 * spread.quantile("smooth", 4, 0.975))


def test_too_few_errors_fall_back_to_the_pool_of_all_classes_then_to_independent_normal_weeks() -> None:
    few = np.sort(np.linspace(-1.0, 1.0, MIN_POOLED - 1))
    many = np.sort(np.linspace(-3.0, 3.0, MIN_POOLED))
    spread = DemandSpread({"lumpy": (few,), "all": (many,)})
    assert spread.quantile("lumpy", 1, 1.0) == pytest.approx(3.0)  # the pool of all classes
    alone = DemandSpread({"lumpy": (few,), "all": (few,)})
    # Normal with independent weeks: z(0.95) sqrt(4) = 1.6449 x 2.
    assert alone.quantile("lumpy", 4, 0.95) == pytest.approx(1.644854 * 2, abs=1e-5)
    assert alone.rms("lumpy", 4) == pytest.approx(2.0)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=40),
    st.floats(-6, 6, allow_nan=False),
)
def test_empirical_loss_is_the_mean_shortfall_and_its_inverse_finds_t(values: list[float], t: float) -> None:
    shape = np.sort(np.asarray(values))
    brute = float(np.mean(np.maximum(shape - t, 0.0)))
    assert float(empirical_loss(shape, t)) == pytest.approx(brute, abs=1e-9)
    if brute > 0:
        found = float(inverse_empirical_loss(shape, brute))
        assert float(empirical_loss(shape, found)) == pytest.approx(brute, abs=1e-9)


def test_without_measured_errors_the_stock_is_the_normal_rule_with_independent_weeks() -> None:
    # No pool: k = L + 1 = 3 weeks of independent normal errors, exactly planning.forecast.safety_stock.
    empty = DemandSpread({})
    for metric, target in (("cycle_service_level", 0.95), ("fill_rate", 0.98)):
        ours = spread_safety_stock(empty, "smooth", 3, [20.0], [5.0], [target], metric, [0.5])
        textbook = safety_stock(20.0, 5.0, 2.0, target, metric, lead_std=0.5)
        assert ours[0] == pytest.approx(float(textbook), rel=1e-6)


def test_cycle_service_stock_is_the_k_week_quantile_of_the_measured_errors() -> None:
    spread = _persistent(401, 3)
    # No lead-time spread: SS = sigma_1 q_3(0.9) = 5 x (3 x the 0.9-quantile of linspace(-2, 2)) = 5 x 3 x 1.6.
    stock = spread_safety_stock(spread, "smooth", 3, [20.0], [5.0], [0.9], "cycle_service_level")
    assert stock[0] == pytest.approx(5 * 3 * 1.6)
    # Persistent errors need sqrt(3) times the stock independent weeks would give for the same shape.
    independent = DemandSpread({"smooth": tuple(np.sort(np.linspace(-2, 2, 401) * np.sqrt(k)) for k in (1, 2, 3))})
    assert stock[0] / spread_safety_stock(independent, "smooth", 3, [20.0], [5.0], [0.9], "cycle_service_level")[
        0
    ] == pytest.approx(np.sqrt(3))


def test_fill_rate_stock_leaves_the_allowed_shortage_under_the_measured_distribution() -> None:
    spread = _persistent(401, 2)
    demand, sigma_1, target = 10.0, 4.0, 0.95
    stock = spread_safety_stock(spread, "smooth", 2, [demand], [sigma_1], [target], "fill_rate")[0]
    # The expected shortage of the 2-week total with that stock is (1 - 0.95) x 10 x 1 week = 0.5.
    errors = spread.pools["smooth"][1] * sigma_1
    assert float(np.mean(np.maximum(errors - stock, 0.0))) == pytest.approx(0.5, abs=1e-6)
    assert spread_safety_stock(spread, "smooth", 2, [0.0], [sigma_1], [target], "fill_rate")[0] == 0.0


def test_quantile_table_publishes_k_week_totals_and_their_quantiles() -> None:
    frame = pd.DataFrame(
        {
            "sku": "A",
            "location": "WH",
            "channel": "web",
            "week": [0, 1, 2],
            "units": [10.0, 12.0, 8.0],
            "units_std": 3.0,
        }
    )
    spread = _persistent(401, 3).with_classes({("A", "WH", "web"): "smooth"})
    table = quantile_table(frame, spread, 3)
    assert table["weeks_ahead"].tolist() == [1, 2, 3] and table["units"].tolist() == [10.0, 22.0, 30.0]
    # Week 0's median is its forecast (the errors are symmetric); 2 weeks' 99 % quantile is
    # 22 + 3 x 2 x the 0.99-quantile of linspace(-2, 2) (1.96).
    assert table["q50"].iloc[0] == pytest.approx(10.0)
    assert table["q99"].iloc[1] == pytest.approx(22 + 3 * 2 * 1.96)
    ordered = table[["q50", "q80", "q90", "q95", "q99"]].to_numpy()
    assert (np.diff(ordered, axis=1) >= 0).all() and (ordered >= 0).all()


def test_the_planning_problem_reads_safety_stock_from_the_measured_distribution() -> None:
    frame = pd.DataFrame(
        {"sku": "A", "location": "WH", "channel": "web", "week": [0, 1], "units": 10.0, "units_std": 2.0}
    )
    targets = {"A": ("cycle_service_level", 0.9)}
    lead = {("A", "WH"): (1, 0.0)}  # k = 1 + 1 review week = 2
    # Independent weeks: z(0.9) sqrt(2) x 2 = 1.28155 x 2.8284 = 3.6248.
    plain = _safety_stock(Forecast(frame, "test"), targets, lead, 2)
    assert plain[("A", "WH", 0)] == pytest.approx(1.281552 * np.sqrt(2) * 2, rel=1e-5)
    # Persistent errors: q_2(0.9) = 2 x 1.6, so 2 x 3.2 = 6.4.
    spread = _persistent(401, 2).with_classes({("A", "WH", "web"): "smooth"})
    measured = _safety_stock(Forecast(frame, "test", spread=spread), targets, lead, 2)
    assert measured[("A", "WH", 0)] == pytest.approx(6.4)


def test_the_engine_measures_that_persistent_errors_widen_k_week_totals() -> None:
    # 40 smooth series whose level wanders slowly (AR(1), phi 0.95) under small weekly noise: a
    # forecast that is low one week stays low, so the 4-week error spread is well above sqrt(4)
    # times the one-week spread (independent weeks would give exactly sqrt(4) = 2).
    rng = np.random.default_rng(3)
    series = {}
    for i in range(40):
        level, values = 0.0, []
        for _ in range(104):
            level = 0.95 * level + rng.normal(0.0, 6.0)
            values.append(max(0.0, 100.0 + level + rng.normal(0.0, 2.0)))
        series[f"S{i:02d}"] = values
    run = forecast_demand(tables(weekly_demand(series)), AS_OF, 13)
    spread = run.forecast.spread
    assert spread is not None and spread.weeks == 13
    assert set(spread.classes.values()) == {"smooth"}
    assert spread.rms("smooth", 4) / spread.rms("smooth", 1) > 2.5
    quantiles = quantile_table(run.forecast.frame, spread, 13)
    assert len(quantiles) == 40 * 13
