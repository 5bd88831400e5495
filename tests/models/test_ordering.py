"""Ordering family: MOQ, packs, line and PO fixed costs, PO minimums, supplier capacity,
closed weeks, the choice between sourcing options, locked orders.

Defaults (tests/models/helpers.py): SKU A costs 10, holding 1 per unit-week, a lost sale 990;
one option S -> WH, lead 0, no MOQ, packs of 1; no line, PO or end-of-horizon terms.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.models.helpers import (
    AS_OF,
    forecast,
    inventory,
    item,
    items,
    monday,
    one_sku,
    option,
    options,
    solve,
    supplier,
    suppliers,
    table,
)

LOCKED_HEADER = "order_id,sku,supplier,ship_to,mode,order_date,quantity"


@pytest.mark.parametrize(
    ("moq", "expected_orders", "expected_cost"),
    [
        # No MOQ: buy each week's need when it falls: 2 lines x 30 x 10 = 600, nothing held.
        (0, {0: 30.0, 2: 30.0}, 600.0),
        # MOQ 50: a 30-unit top-up in week 2 is not allowed (0 or >= 50), and 50 + 50 is dearer
        # than buying both weeks at once: 60 x 10 + holding 30 units x 2 weeks x 1 = 660.
        (50, {0: 60.0}, 660.0),
    ],
)
def test_moq_is_semi_continuous(moq: float, expected_orders: dict[int, float], expected_cost: float) -> None:
    solved = solve(one_sku([30, 0, 30], sourcing_options=options(option(moq=moq))), weeks=3)
    assert solved.orders() == expected_orders
    assert solved.objective == pytest.approx(expected_cost)


def test_moq_buys_more_than_needed_rather_than_lose_sales() -> None:
    solved = solve(one_sku([30, 0], sourcing_options=options(option(moq=50))), weeks=2)
    assert solved.orders() == {0: 50.0}
    assert solved.closing() == [20.0, 20.0]
    # 50 x 10 + holding 20 units x 2 weeks x 1 = 540 (losing 30 sales would cost 30 x 990).
    assert solved.objective == pytest.approx(540.0)


@pytest.mark.parametrize(
    ("case_pack", "multiple", "pack", "quantity", "expected_cost"),
    [
        (1, 1, 1, 25.0, 250.0),  # 25 x 10
        (4, 1, 4, 28.0, 283.0),  # 7 cases: 28 x 10 + 3 left x 1 week x 1
        (1, 6, 6, 30.0, 305.0),  # 5 multiples: 30 x 10 + 5 left x 1
        (4, 6, 12, 36.0, 371.0),  # lcm(4, 6) = 12, 3 packs: 36 x 10 + 11 left x 1
    ],
)
def test_orders_are_whole_packs_of_lcm_case_pack_and_order_multiple(
    case_pack: int, multiple: int, pack: int, quantity: float, expected_cost: float
) -> None:
    tables = one_sku([25], items=items(item(case_pack=case_pack)), sourcing_options=options(option(multiple=multiple)))
    solved = solve(tables, weeks=1)
    purchases = solved.plan.purchases
    assert purchases[["pack_size", "case_pack", "order_multiple"]].values.tolist() == [[pack, case_pack, multiple]]
    assert solved.orders() == {0: quantity}
    assert solved.objective == pytest.approx(expected_cost)


@pytest.mark.parametrize(
    ("line_cost", "costs", "expected_orders", "expected_cost"),
    [
        # Configured line cost 25 (item cell empty): one order of 30 in week 0:
        # 30 x 10 + 1 line x 25 + holding (20 + 10) x 1 = 355; weekly orders would cost 300 + 75.
        ("", {"order_line_cost": 25.0}, {0: 30.0}, 355.0),
        # Item override 5 beats the configured 25: order every week: 300 + 3 lines x 5 = 315
        # (one order would cost 300 + 5 + holding 30 = 335).
        (5, {"order_line_cost": 25.0}, {0: 10.0, 1: 10.0, 2: 10.0}, 315.0),
    ],
)
def test_fixed_cost_per_order_line(
    line_cost: float | str, costs: dict[str, float], expected_orders: dict[int, float], expected_cost: float
) -> None:
    solved = solve(one_sku([10, 10, 10], items=items(item(line_cost=line_cost))), weeks=3, costs=costs)
    assert solved.orders() == expected_orders
    assert solved.cost("ordering_cost") == pytest.approx(25.0 if line_cost == "" else 15.0)
    assert solved.objective == pytest.approx(expected_cost)


def _two_skus_one_supplier(b_holding: float) -> dict[str, str]:
    demand = {("A", "WH"): [10, 0], ("B", "WH"): [0, 10]}
    return one_sku(
        [0],
        items=items(item("A"), item("B", holding=b_holding)),
        suppliers=suppliers(supplier(po_cost=30)),
        sourcing_options=options(option("A"), option("B")),
        inventory=inventory({("A", "WH"): 0, ("B", "WH"): 0}),
        external_forecast=forecast(demand),
    )


@pytest.mark.parametrize(
    ("b_holding", "expected_pos", "expected_cost"),
    [
        # One PO in week 0 carries both lines: 20 x 10 + 1 PO x 30 + B held 10 x 1 week x 1 = 240
        # (a PO per week would cost 200 + 2 x 30 = 260).
        (1.0, 1, 240.0),
        # B dear to hold (40): two POs, 200 + 2 x 30 = 260 (one PO: 200 + 30 + 10 x 40 = 630).
        (40.0, 2, 260.0),
    ],
)
def test_po_fixed_cost_is_shared_by_the_lines_of_one_po(
    b_holding: float, expected_pos: int, expected_cost: float
) -> None:
    solved = solve(_two_skus_one_supplier(b_holding), weeks=2)
    assert solved.plan.purchases["po_id"].nunique() == expected_pos
    assert solved.orders("sku") == {"A": 10.0, "B": 10.0}
    assert solved.objective == pytest.approx(expected_cost)


@pytest.mark.parametrize(
    ("po_minimum", "expected_orders", "expected_cost"),
    [
        (0, {0: 20.0, 2: 30.0}, 500.0),  # 50 x 10, nothing held
        # Each order alone is worth 200 or 300 < 500: buy both at once:
        # 50 x 10 + holding 30 x 2 weeks x 1 = 560.
        (500, {0: 50.0}, 560.0),
    ],
)
def test_po_minimum_value(po_minimum: float, expected_orders: dict[int, float], expected_cost: float) -> None:
    solved = solve(one_sku([20, 0, 30], suppliers=suppliers(supplier(po_minimum=po_minimum))), weeks=3)
    assert solved.orders() == expected_orders
    assert solved.objective == pytest.approx(expected_cost)


def test_po_minimum_above_the_value_of_all_demand_is_bought_up_to() -> None:
    solved = solve(one_sku([20, 0, 0], suppliers=suppliers(supplier(po_minimum=500))), weeks=3)
    # The PO must be worth 500 = 50 units: 50 x 10 + holding 30 left x 3 weeks x 1 = 590
    # (losing the 20 sales instead costs 20 x 990 = 19800).
    assert solved.orders() == {0: 50.0}
    assert solved.objective == pytest.approx(590.0)


def test_supplier_weekly_capacity_moves_orders_earlier() -> None:
    solved = solve(one_sku([0, 50], suppliers=suppliers(supplier(capacity=30))), weeks=2)
    assert solved.orders() == {0: 20.0, 1: 30.0}
    assert solved.plan.overruns == {}
    # 50 x 10 + 20 built ahead and held 1 week x 1 = 520.
    assert solved.objective == pytest.approx(520.0)


def test_supplier_capacity_overrun_is_priced_slack() -> None:
    solved = solve(one_sku([50], suppliers=suppliers(supplier(capacity=30))), weeks=1)
    assert solved.orders() == {0: 50.0}
    assert solved.plan.overruns == {"supplier:S:0": pytest.approx(20.0)}
    # 50 x 10 + 20 units over capacity x 100 = 2500 (cheaper than 20 lost sales x 990).
    assert solved.cost("capacity_overrun_cost") == pytest.approx(2000.0)
    assert solved.objective == pytest.approx(2500.0)


@pytest.mark.parametrize(
    ("closed_days", "expected_orders", "expected_cost"),
    [
        (None, {1: 20.0}, 200.0),  # open: order the week it sells, 20 x 10
        # Closed on Wednesday-Thursday of week 1: the whole week is closed; order in week 0:
        # 20 x 10 + holding 20 x 1 week x 1 = 220.
        ((2, 3), {0: 20.0}, 220.0),
    ],
)
def test_no_orders_in_weeks_overlapping_a_supplier_closure(
    closed_days: tuple[int, int] | None, expected_orders: dict[int, float], expected_cost: float
) -> None:
    closures = None
    if closed_days:
        start, end = (monday(1) + timedelta(days=d) for d in closed_days)
        closures = table("supplier,start_date,end_date,reason", [f"S,{start},{end},stocktake"])
    solved = solve(one_sku([0, 20, 0], supplier_closures=closures), weeks=3)
    assert solved.orders() == expected_orders
    assert solved.objective == pytest.approx(expected_cost)


def test_ocean_or_air_chosen_by_cost_and_lead_time() -> None:
    tables = one_sku(
        [0, 10, 0, 10],
        sourcing_options=options(option(mode="ocean", cost=8, lead=3), option(mode="air", cost=12, lead=1)),
    )
    solved = solve(tables, weeks=4)
    # Week 1 is reachable by air only (ordered in week 0); week 3 by ocean ordered in week 0 (8 a
    # unit) or air ordered in week 2 (12): 10 x 12 + 10 x 8 = 200, nothing held.
    assert solved.orders("mode", "order_week") == {("air", 0): 10.0, ("ocean", 0): 10.0}
    assert solved.objective == pytest.approx(200.0)


def test_locked_order_is_kept_even_when_not_optimal() -> None:
    locked = table(LOCKED_HEADER, [f"OK-1,A,S,WH,standard,{AS_OF},40"])
    solved = solve(one_sku([0, 0, 30], sourcing_options=options(option(lead=1)), locked_orders=locked), weeks=3)
    purchases = solved.plan.purchases
    assert purchases[["order_week", "quantity", "locked"]].to_dict("records") == [
        {"order_week": 0, "quantity": 40.0, "locked": True}
    ]
    # Unlocked, the plan buys 30 in week 1 for 300. Locked: 40 x 10 + holding 40 (week 1) + 10 (week 2) = 450.
    assert solved.closing() == [0.0, 40.0, 10.0]
    assert solved.objective == pytest.approx(450.0)


def test_locked_order_below_po_minimum_is_kept() -> None:
    locked = table(LOCKED_HEADER, [f"OK-1,A,S,WH,standard,{AS_OF},20"])
    tables = one_sku([20], suppliers=suppliers(supplier(po_minimum=500)), locked_orders=locked)
    solved = solve(tables, weeks=1)
    # The approved PO is worth 200 < 500 but is exempt from the minimum: 20 x 10 = 200, no top-up.
    assert solved.orders() == {0: 20.0}
    assert solved.objective == pytest.approx(200.0)


def test_locked_order_below_moq_is_kept_as_approved() -> None:
    locked = table(LOCKED_HEADER, [f"OK-1,A,S,WH,standard,{AS_OF},40"])
    tables = one_sku([0, 0, 30], sourcing_options=options(option(lead=1, moq=100)), locked_orders=locked)
    solved = solve(tables, weeks=3)
    # The supplier accepted 40 units: 40 x 10 + holding 40 + 10 = 450, as without an MOQ.
    assert solved.orders() == {0: 40.0}
    assert solved.objective == pytest.approx(450.0)


def test_locked_orders_dated_outside_the_plans_weeks_are_left_out() -> None:
    """Validation warns about them (``locked_orders.order_date.in_horizon``); the plan leaves them out
    rather than publish a line in a week it does not plan."""
    locked = table(
        LOCKED_HEADER,
        [
            f"BEFORE,A,S,WH,standard,{monday(-1)},40",  # placed already: an open order now
            f"AFTER,A,S,WH,standard,{monday(3)},40",  # after the 3-week horizon
        ],
    )
    solved = solve(one_sku([0, 0, 30], sourcing_options=options(option(lead=1)), locked_orders=locked), weeks=3)
    assert solved.problem.locked_units == {}
    # As if unlocked: 30 ordered in week 1 for week 2, 300.
    assert solved.orders() == {1: 30.0}
    assert not solved.plan.purchases["locked"].any()
    assert solved.objective == pytest.approx(300.0)
