"""Objective: the end-of-horizon credit, and every named cost term on one instance.

Defaults (tests/models/helpers.py): unit cost 10, holding 1 per unit-week, one option S -> WH
with lead 0. The credit share is 0 there; these tests set it.
"""

from __future__ import annotations

import pytest

from models import COST_TERMS
from tests.models.helpers import (
    AS_OF,
    budgets,
    inventory,
    item,
    items,
    lanes,
    location,
    locations,
    monday,
    one_sku,
    option,
    options,
    solve,
    supplier,
    suppliers,
    table,
)


@pytest.mark.parametrize(
    ("moq", "expected_orders", "expected_cost"),
    [
        # MOQ 50 leaves 20 at the end: 50 x 10 + holding 20 x 2 weeks x 1 - credit 0.5 x 10 x 20 = 440.
        (50, {0: 50.0}, 440.0),
        # Without an MOQ the credit (5 a unit) never pays for a unit bought at 10: buy 30, 300.
        (0, {0: 30.0}, 300.0),
    ],
)
def test_end_of_horizon_credit_values_closing_stock(
    moq: float, expected_orders: dict[int, float], expected_cost: float
) -> None:
    solved = solve(
        one_sku([30, 0], sourcing_options=options(option(moq=moq))),
        weeks=2,
        costs={"end_of_horizon_value_share": 0.5},
    )
    assert solved.orders() == expected_orders
    assert solved.cost("end_of_horizon_credit") == pytest.approx(-0.5 * 10 * (expected_orders[0] - 30))
    assert solved.objective == pytest.approx(expected_cost)


@pytest.mark.parametrize(
    ("basis", "expected_orders", "expected_cost"),
    [
        # Price 14, cost 10: a lost sale's margin (4) is below the unit's cost, so at the margin
        # basis the 5 units are cheaper to lose than to buy: 5 x 4 = 20, nothing ordered.
        ("margin", {}, 20.0),
        # At the revenue basis losing a unit costs 10 + 4 = 14 > 10: buy the 5, 5 x 10 = 50.
        ("revenue", {0: 5.0}, 50.0),
    ],
)
def test_a_lost_sale_costs_the_revenue_it_loses(
    basis: str, expected_orders: dict[int, float], expected_cost: float
) -> None:
    solved = solve(one_sku([5], items=items(item(price=14))), weeks=1, costs={"lost_sale_basis": basis})
    assert solved.orders() == expected_orders
    assert solved.objective == pytest.approx(expected_cost)


def test_a_backlog_week_costs_the_margin_whatever_the_basis() -> None:
    # Backorders, lead 1: 5 owed in week 0 and bought then arrive in week 1. One backlog-week at
    # the margin 4 each: 5 x 4 + 5 x 10 = 70 (never buying would owe 5 x 4 x 4 weeks = 80).
    # At the revenue rate the backlog-week would cost 5 x 14 = 70.
    solved = solve(
        one_sku([5, 0, 0, 0], items=items(item(price=14)), sourcing_options=options(option(lead=1))),
        weeks=4,
        costs={"lost_sale_basis": "revenue", "backorders": True},
    )
    assert solved.orders() == {0: 5.0}
    assert solved.cost("shortage_cost") == pytest.approx(20.0)
    assert solved.objective == pytest.approx(70.0)


def _every_term_tables() -> dict[str, str]:
    """Five SKUs over two weeks, each switching on some cost terms, none interacting.

    A  locked 20 in week 0 for its own demand, line cost 5, PO cost 7, its category's week-0
       budget is 190: purchase, ordering, budget overrun.
    T  12 on hand at WH, 10 wanted at MKT in week 1 over a 1-week lane at 0.5: transfer, holding, credit.
    C  30 on hand at MKT, whose space is 25 units, no demand: capacity overrun, holding, credit.
    B  4 on hand, 10 wanted, no supply, price = cost: shortage, fill rate.
    D  1 on hand, no demand but a forecast spread of 5 with a z = 1 target: safety stock, holding, credit.
    """
    fcst = table(
        "sku,location,channel,week_start,units,units_std",
        [
            f"A,WH,web,{monday(0)},20,0",
            f"T,MKT,amazon,{monday(1)},10,0",
            f"B,WH,web,{monday(0)},10,0",
            f"D,WH,web,{monday(0)},0,5",
            f"D,WH,web,{monday(1)},0,5",
        ],
    )
    return one_sku(
        [0],
        items=items(
            item("A", category="CatA", line_cost=5),
            item("T"),
            item("C"),
            item("B", unit_cost=20, price=20, holding=2),
            item("D"),
        ),
        suppliers=suppliers(supplier(po_cost=7)),
        sourcing_options=options(option("A")),
        locations=locations(location("WH"), location("MKT", capacity=25)),
        transfer_lanes=lanes(("WH", "MKT", 1, 0.5, 0)),
        inventory=inventory({("T", "WH"): 12, ("C", "MKT"): 30, ("B", "WH"): 4, ("D", "WH"): 1}),
        external_forecast=fcst,
        locked_orders=table(
            "order_id,sku,supplier,ship_to,mode,order_date,quantity", [f"OK-1,A,S,WH,standard,{AS_OF},20"]
        ),
        budgets=budgets((monday(0), "week", 190, "CatA")),
        service_targets=table("scope,scope_value,metric,target", ["sku,D,cycle_service_level,0.8413447460685429"]),
    )


def test_every_named_cost_term() -> None:
    solved = solve(
        _every_term_tables(),
        weeks=2,
        costs={"end_of_horizon_value_share": 0.5},
        service={"fill_rate_shortfall_penalty": 2.0},
    )
    expected = {
        "purchase_cost": 200.0,  # A: 20 x 10
        "ordering_cost": 12.0,  # A: 1 line x 5 + 1 PO x 7
        "holding_cost": 66.0,  # T: 2 left at WH x 2 weeks; C: 30 x 2 weeks; D: 1 x 2 weeks (all at 1)
        "transfer_cost": 5.0,  # T: 10 moved x 0.5
        "shortage_cost": 6.0,  # B: 10 - 4 = 6 lost x max(floor 1, margin 0)
        "safety_stock_cost": 16.0,  # D: (5 - 1) short x 2 weeks x 0.2 x 10
        "fill_rate_cost": 220.0,  # B: 0.95 x 10 - 4 served = 5.5 below target x 2 x 20
        "reservation_cost": 0.0,  # no channel reservations here: priced in test_channel_allocation
        "capacity_overrun_cost": 50.0,  # MKT: (30 - 25) x 2 weeks x 5
        "budget_overrun_cost": 10000.0,  # A: 200 paid - 190 = 10 x 1000
        "plan_change_cost": 0.0,  # no earlier plan: priced in test_plan_change
        "end_of_horizon_credit": -165.0,  # -0.5 x 10 x (T 2 + C 30 + D 1)
    }
    assert set(expected) == set(COST_TERMS)
    assert solved.plan.costs == pytest.approx(expected)
    # 200 + 12 + 66 + 5 + 6 + 16 + 220 + 50 + 10000 - 165 = 10410.
    assert solved.objective == pytest.approx(10410.0)
    assert solved.plan.overruns == pytest.approx(
        {
            f"budget:B0:{AS_OF}:CatA:all": 10.0,
            "location:MKT:0": 5.0,
            "location:MKT:1": 5.0,
        }
    )
