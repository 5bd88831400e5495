"""Service levels: the safety-stock shortfall and the fill-rate target, both soft and priced.

For a cycle-service-level target, safety stock per week = z(target) x forecast units_std x
sqrt(shortest lead time + 1) (no lead-time spread here). The targets below are picked so that z x sqrt(lead + 1) = 1, i.e. the safety stock equals units_std:
Phi(1) = 0.8413447460685429 for lead 0, Phi(1 / sqrt 2) = 0.7602499389065233 for lead 1.
A unit-week below safety stock costs 0.2 x unit cost (costs.safety_stock_shortfall_penalty).
"""

from __future__ import annotations

import pytest

from planning.forecast import normal_loss
from tests.models.helpers import config, item, items, monday, one_sku, option, options, problem_of, solve, table

CSL = "cycle_service_level"
Z1_LEAD0 = 0.8413447460685429
Z1_LEAD1 = 0.7602499389065233


def targets(target: float, metric: str = "fill_rate") -> str:
    return table("scope,scope_value,metric,target", [f"all,,{metric},{target}"])


@pytest.mark.parametrize(
    ("holding", "expected_closing", "expected_cost"),
    [
        # Holding 1 < shortfall 2 per unit-week: keep 5 after week 0 (they sell in week 1); after
        # the last week a kept unit would be bought for nothing (10 + 1 > 2): 20 x 10 + 5 held x 1
        # + 5 short x 2 (week 1) = 215.
        (1.0, [5.0, 0.0], 215.0),
        # Holding 3 > 2: no safety stock at all: 20 x 10 + 5 short x 2 weeks x 2 = 220.
        (3.0, [0.0, 0.0], 220.0),
    ],
)
def test_safety_stock_shortfall_is_priced_against_holding(
    holding: float, expected_closing: list[float], expected_cost: float
) -> None:
    tables = one_sku([10, 10], std=5, items=items(item(holding=holding)), service_targets=targets(Z1_LEAD0, CSL))
    solved = solve(tables, weeks=2)
    assert dict(solved.problem.safety_stock) == pytest.approx({("A", "WH", 0): 5.0, ("A", "WH", 1): 5.0})
    assert solved.closing() == expected_closing
    assert solved.column("safety_stock") == pytest.approx([5.0, 5.0])
    short = sum(5.0 - c for c in expected_closing)
    assert solved.cost("safety_stock_cost") == pytest.approx(2.0 * short)
    assert solved.objective == pytest.approx(expected_cost)


@pytest.mark.parametrize(
    ("target", "expected_units", "expected_cost"),
    [
        # Price = cost, so a lost sale costs only the floor 1; below the 95% target a unit costs
        # 1 + 2 x 10 = 21 > 10 to lose. Serve 19 of 20: 19 x 10 + 1 lost x 1 = 191.
        (0.95, 19.0, 191.0),
        # Target 50%: serve 10: 10 x 10 + 10 lost x 1 = 110.
        (0.5, 10.0, 110.0),
    ],
)
def test_fill_rate_target_is_met_where_its_penalty_beats_buying(
    target: float, expected_units: float, expected_cost: float
) -> None:
    tables = one_sku([20], items=items(item(price=10)), service_targets=targets(target))
    solved = solve(tables, weeks=1, service={"fill_rate_shortfall_penalty": 2.0})
    assert solved.orders() == {0: expected_units}
    assert solved.cost("fill_rate_cost") == pytest.approx(0.0)
    assert solved.cost("shortage_cost") == pytest.approx(20.0 - expected_units)
    assert solved.objective == pytest.approx(expected_cost)


def test_safety_stock_in_the_last_week_of_demand_can_be_bought() -> None:
    fcst = table(
        "sku,location,channel,week_start,units,units_std",
        [f"A,WH,web,{monday(1)},10,5", f"A,WH,web,{monday(2)},0,0"],  # demand ends after week 1
    )
    tables = one_sku(
        [0], external_forecast=fcst, sourcing_options=options(option(lead=1)), service_targets=targets(Z1_LEAD1, CSL)
    )
    solved = solve(tables, weeks=3, costs={"safety_stock_shortfall_penalty": 5.0})
    assert dict(solved.problem.safety_stock) == pytest.approx({("A", "WH", 1): 5.0})
    # Shortfall costs 5 x 10 = 50 per unit-week: keep 5 units from week 1 on:
    # 15 x 10 + holding 5 x 2 weeks x 1 = 160 (short instead: 10 x 10 + 5 x 50 = 350).
    assert solved.orders() == {0: 15.0}
    assert solved.objective == pytest.approx(160.0)


def test_fill_rate_target_sets_safety_stock_through_the_normal_loss_function() -> None:
    # d = 10 a week, sigma = 5, lead 0 + 1 review week: G(k) = (1 - 0.95) x 10 / 5 = 0.1, and
    # G(k) = phi(k) - k (1 - Phi(k)) = 0.1 at k = 0.9023 (G(0.90) = 0.1004): safety stock 0.9023 x 5 = 4.51.
    tables = one_sku([10, 10], std=5, service_targets=targets(0.95))
    problem = problem_of(tables, config(2))
    stock = problem.safety_stock[("A", "WH", 0)]
    k = stock / 5.0
    assert normal_loss(k) == pytest.approx(0.1, abs=1e-6)
    assert stock == pytest.approx(4.51, abs=0.01)
    zero = problem_of(one_sku([0, 0], std=5, service_targets=targets(0.95)), config(2))
    assert zero.safety_stock == {}  # no demand to fill: no stock kept for a fill-rate target


@pytest.mark.parametrize(
    ("holding", "expected_closing", "expected_cost"),
    [
        # from_target prices a unit-week short at h a / (1 - a); a = Phi(1) = 0.8413: h x 5.3030.
        # Safety stock 1 x 5 = 5 a week (lead 0). Holding 1: a unit-week short costs 5.30, so keep
        # 5 after week 0 (held 1 each, sold in week 1) but not after the last week, where a kept
        # unit must be bought (10 + 1 > 5.30): 20 x 10 + 5 x 1 + 5 x 5.3030 = 231.515.
        (1.0, [5.0, 0.0], 200.0 + 5.0 + 5 * Z1_LEAD0 / (1 - Z1_LEAD0)),
        # Holding 6: short costs 31.82 > 10 + 6: keep both weeks: 25 x 10 + 10 held x 6 = 310.
        (6.0, [5.0, 5.0], 310.0),
    ],
)
def test_the_service_target_prices_the_safety_stock_shortfall(
    holding: float, expected_closing: list[float], expected_cost: float
) -> None:
    tables = one_sku([10, 10], std=5, items=items(item(holding=holding)), service_targets=targets(Z1_LEAD0, CSL))
    solved = solve(tables, weeks=2, costs={"safety_stock_shortfall_penalty": "from_target"})
    price = holding * Z1_LEAD0 / (1 - Z1_LEAD0)
    assert solved.problem.penalties.safety_stock_shortfall["A"] == pytest.approx(price)
    assert solved.closing() == pytest.approx(expected_closing)
    assert solved.cost("safety_stock_cost") == pytest.approx(price * sum(5.0 - c for c in expected_closing))
    assert solved.objective == pytest.approx(expected_cost)
