"""The rule-based policies reproduce their textbook behaviour on a hand-made forecast."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from planning.backtest.policies import (
    WeekView,
    cumulative_forecast,
    reorder_point_policy,
    weeks_of_cover_policy,
)
from planning.backtest.replay import typed_tables
from planning.forecast import Forecast, ForecastRun
from planning.problem import build_problem
from tests.backtest.helpers import START, raw_tables, tiny_config


def view(
    on_hand: tuple[float, float],
    *,
    a: tuple[float, float] = (10.0, 4.0),
    b: tuple[float, float] = (0.0, 0.0),
    budget: float = 10_000.0,
    po_minimum: float = 0.0,
    deposit: float = 1.0,
    open_units: float = 0.0,
) -> WeekView:
    """Week 0 with a flat forecast: A at a[0] units a week (error spread a[1]), B at b[0]."""
    raw = raw_tables(on_hand=on_hand, budget=budget)
    raw["sourcing_options"]["lead_time_std_weeks"] = 0.0
    raw["suppliers"]["po_minimum_value"] = po_minimum
    raw["suppliers"]["deposit_share"] = deposit
    if open_units:  # an open line of A due in week 1
        raw["open_orders"] = pd.DataFrame(
            {
                "order_id": ["PO-OPEN"],
                "sku": ["A"],
                "origin": ["SUP"],
                "destination": ["WH"],
                "quantity": [open_units],
                "expected_arrival": [pd.Timestamp(START) + pd.Timedelta(days=9)],
            }
        )
    tables = typed_tables(raw)
    config = tiny_config(weeks=8)
    frame = pd.DataFrame(
        [
            {"sku": sku, "location": "WH", "channel": "shop", "week": k, "units": units, "units_std": std}
            for sku, (units, std) in (("A", a), ("B", b))
            for k in range(8)
        ]
    )
    forecast = Forecast(frame, "hand-made")
    empty = pd.DataFrame()
    problem = build_problem(tables, forecast, config, START)
    return WeekView(START, tables, ForecastRun(forecast, empty, empty, empty), problem, config)


def ordered(decisions: object) -> dict[str, float]:
    return {line.sku: line.units for line in decisions.purchases}  # type: ignore[attr-defined]


# Reorder point for A (z = 1.5, L = 1, R = 1, sigma = 4, no lead-time spread):
#   s = F(2) + z sqrt(L + R) sigma = 20 + 1.5 * sqrt(2) * 4 = 28.485
#   EOQ = sqrt(2 * 10 * 15 / 0.3) = sqrt(1000) = 31.623 (line cost 15, holding 0.3 a unit-week)
#   S = s + max(EOQ, MOQ 20) = 60.108
S_REORDER = 20 + 1.5 * math.sqrt(2) * 4
S_UP_TO = S_REORDER + math.sqrt(1000)


def test_reorder_point_orders_exactly_when_the_position_is_at_or_below_s() -> None:
    policy = reorder_point_policy(1.5)
    assert pytest.approx(28.485, abs=1e-3) == S_REORDER
    # Position 28 <= s: order S - 28 = 32.1, rounded up to whole cases of 10 -> 40.
    assert ordered(policy.decide(view((28.0, 100.0)))) == {"A": 40.0}
    # Position 29 > s: no order.
    assert ordered(policy.decide(view((29.0, 100.0)))) == {}


def test_reorder_point_with_a_larger_safety_factor_orders_earlier_and_more() -> None:
    # z = 10: s = 20 + 10 * sqrt(2) * 4 = 76.6, S = 108.2; position 59: order 49.2 -> 5 cases = 50.
    assert ordered(reorder_point_policy(10.0).decide(view((59.0, 100.0)))) == {"A": 50.0}
    # z = 0: s = 20; position 20: order 31.6 -> 40.
    assert ordered(reorder_point_policy(0.0).decide(view((20.0, 100.0)))) == {"A": 40.0}


def test_small_needs_are_rounded_up_to_the_moq() -> None:
    # N = 3, M = 2.7: trigger F(1 + 2.7) = 37, order up to F(4) = 40. Position 36 needs 4 units:
    # the MOQ of A is 20 (2 cases), so 20 are ordered.
    assert ordered(weeks_of_cover_policy(3.0, 0.9).decide(view((36.0, 100.0)))) == {"A": 20.0}


def test_weeks_of_cover_orders_up_to_n_weeks_when_cover_falls_below_m() -> None:
    # N = 4, M = 2 beyond the lead time (1 week): trigger F(3) = 30, order up to F(5) = 50.
    policy = weeks_of_cover_policy(4.0, 0.5)
    # Position 25 < 30: order 50 - 25 = 25 -> 3 cases = 30.
    assert ordered(policy.decide(view((25.0, 100.0)))) == {"A": 30.0}
    assert ordered(policy.decide(view((30.0, 100.0)))) == {}


def test_budget_cuts_a_line_to_the_cases_that_fit_and_defers_below_the_moq() -> None:
    policy = reorder_point_policy(1.5)
    # The line wants 40 units = 80 of cash; a budget of 50 fits 2 cases of 20 = 20 units (the MOQ).
    assert ordered(policy.decide(view((28.0, 100.0), budget=50.0))) == {"A": 20.0}
    # A budget of 30 fits one case, below the MOQ of 20 units: deferred.
    assert ordered(policy.decide(view((28.0, 100.0), budget=30.0))) == {}


def test_balances_open_orders_still_owe_are_committed_budget() -> None:
    # Paid on arrival (deposit 0): a new line of A (lead 1) pays its value in week 1, budget 100.
    # Position 28: wants 40 units = 80 <= 100: ordered whole.
    assert ordered(reorder_point_policy(1.5).decide(view((28.0, 100.0), budget=100.0, deposit=0.0))) == {"A": 40.0}
    # Position 0 + an open line of 20 due in week 1 (owing 20 x 2 = 40 then): wants S - 20 = 40.1
    # -> 50 units = 100, but only 100 - 40 = 60 is left in week 1: 3 cases = 30 units.
    decisions = reorder_point_policy(1.5).decide(view((0.0, 100.0), budget=100.0, deposit=0.0, open_units=20.0))
    assert ordered(decisions) == {"A": 30.0}


def test_the_least_covered_point_gets_the_budget_first() -> None:
    # B: 6 a week, no spread, lead 2, position 0 (0 weeks of cover): s = F(3) = 18,
    #    EOQ = sqrt(2 * 6 * 15 / 0.3) = 24.5 -> S = 42.5 -> 8 cases of 6 = 48 units = 144 of cash.
    # A: position 28 (2.8 weeks of cover) wants 40 units = 80. A budget of 150 leaves 6 after B.
    decisions = reorder_point_policy(1.5).decide(view((28.0, 0.0), b=(6.0, 0.0), budget=150.0))
    assert ordered(decisions) == {"B": 48.0}


def test_a_purchase_order_below_the_supplier_minimum_is_topped_up() -> None:
    # 40 units of A = 80 < the PO minimum of 100: one more case (10 units = 20) reaches it.
    assert ordered(reorder_point_policy(1.5).decide(view((28.0, 100.0), po_minimum=100.0))) == {"A": 50.0}
    # If the budget cannot reach the minimum, the PO is deferred whole.
    assert ordered(reorder_point_policy(1.5).decide(view((28.0, 100.0), po_minimum=100.0, budget=90.0))) == {}


def test_cumulative_forecast_counts_fractions_and_extends_past_the_horizon() -> None:
    weekly = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert cumulative_forecast(weekly, 2.5) == pytest.approx(1 + 2 + 0.5 * 3)
    # Past the horizon at the mean of the last four weeks (2 + 3 + 4 + 5) / 4 = 3.5.
    assert cumulative_forecast(weekly, 6.5) == pytest.approx(15 + 3.5 + 0.5 * 3.5)
    assert cumulative_forecast(weekly, 0.0) == 0.0


def test_a_point_without_a_supplier_is_fed_by_transfer_keeping_the_origins_own_demand() -> None:
    raw = raw_tables(on_hand=(40.0, 100.0))
    raw["sourcing_options"]["lead_time_std_weeks"] = 0.0
    raw["locations"] = pd.DataFrame(
        {"location": ["WH", "FBA"], "type": ["warehouse", "marketplace"], "channels": ["shop", "amz"]}
    )
    raw["transfer_lanes"] = pd.DataFrame(
        {"from_location": ["WH"], "to_location": ["FBA"], "lead_time_weeks": [1.0], "cost_per_unit": [0.5]}
    )
    tables = typed_tables(raw)
    config = tiny_config(weeks=8)
    frame = pd.DataFrame(
        [
            {"sku": "A", "location": loc, "channel": ch, "week": k, "units": units, "units_std": 0.0}
            for loc, ch, units in (("WH", "shop", 10.0), ("FBA", "amz", 6.0))
            for k in range(8)
        ]
    )
    forecast = Forecast(frame, "hand-made")
    empty = pd.DataFrame()
    problem = build_problem(tables, forecast, config, START)
    decisions = reorder_point_policy(0.0).decide(
        WeekView(START, tables, ForecastRun(forecast, empty, empty, empty), problem, config)
    )
    # FBA (lane lead 1, R = 1): s = F(2) = 12, S = 12 + sqrt(2 * 6 * 15 / 0.3) = 36.5; position 0.
    # WH keeps its own demand until the shipment lands plus a week, F(2) = 20, so 40 - 20 = 20 ship.
    assert [(t.origin, t.destination, t.units, t.lead_weeks) for t in decisions.transfers] == [("WH", "FBA", 20.0, 1)]
    # WH orders for itself and FBA (16 a week): s = F(2) = 32 < position 40, so no purchase.
    assert ordered(decisions) == {}
