"""Inventory balance: starting stock, open-order arrivals, lead-time offsets, lost sales and backorders.

Defaults (tests/models/helpers.py): SKU A costs 10, holding 1 per unit-week; one option S -> WH.
Where sales may be lost the selling price is 30, so a lost sale (or a backlog-week) costs
margin 30 - 10 = 20.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.models.helpers import AS_OF, item, items, monday, one_sku, option, options, solve, table

CHEAP_SALE = items(item(price=30))  # lost-sale penalty = 30 - 10 = 20 per unit


@pytest.mark.parametrize(
    ("on_hand", "usable", "expected_orders", "expected_cost"),
    [
        # 50 on hand - 20 allocated = 30 usable: buy the missing 10 in week 1: 10 x 10 + 10 held in week 0 = 110.
        ((50, 20), 30.0, {1: 10.0}, 110.0),
        # More allocated than on hand: nothing usable (not negative): 40 x 10 = 400.
        ((10, 15), 0.0, {0: 20.0, 1: 20.0}, 400.0),
    ],
)
def test_opening_stock_is_on_hand_minus_allocated(
    on_hand: tuple[float, float], usable: float, expected_orders: dict[int, float], expected_cost: float
) -> None:
    solved = solve(one_sku([20, 20], on_hand=on_hand), weeks=2)
    assert solved.column("opening")[0] == usable
    assert solved.orders() == expected_orders
    assert solved.objective == pytest.approx(expected_cost)


def test_open_orders_arrive_in_their_week_and_late_ones_in_week_0() -> None:
    open_orders = table(
        "order_id,sku,origin,origin_type,destination,quantity,expected_arrival",
        [
            f"PO-LATE,A,S,supplier,WH,15,{AS_OF - timedelta(days=3)}",  # overdue: still expected, counts now
            f"PO-WED,A,S,supplier,WH,15,{monday(2) + timedelta(days=2)}",  # a Wednesday in week 2
            f"PO-AFTER,A,S,supplier,WH,100,{monday(3)}",  # after the 3-week horizon: ignored
        ],
    )
    solved = solve(one_sku([20, 0, 20], open_orders=open_orders), weeks=3)
    # Each open order covers 15 of its week's 20: top up 5 in weeks 0 and 2: 10 x 10 = 100, nothing held.
    # (Dropping the late order would mean 20 in week 0: 250.)
    assert solved.orders() == {0: 5.0, 2: 5.0}
    assert solved.column("receipts") == [20.0, 0.0, 20.0]
    assert solved.objective == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("lead", "expected_orders", "expected_cost"),
    [
        # Lead 1: week 1 from an order in week 0, week 2 from week 1: 15 x 10 = 150.
        ("1", {0: 5.0, 1: 10.0}, 150.0),
        # Lead 2: nothing reaches week 1, its 5 are lost (5 x 20); week 2 from week 0: 10 x 10 + 100 = 200.
        ("2", {0: 10.0}, 200.0),
        # 1.2 weeks is sellable in the second week after ordering, as lead 2.
        ("1.2", {0: 10.0}, 200.0),
    ],
)
def test_orders_arrive_lead_time_weeks_later(
    lead: str, expected_orders: dict[int, float], expected_cost: float
) -> None:
    tables = one_sku([0, 5, 10], items=CHEAP_SALE, sourcing_options=options(option(lead=lead)))
    solved = solve(tables, weeks=3)
    assert solved.orders() == expected_orders
    assert solved.objective == pytest.approx(expected_cost)


@pytest.mark.parametrize(
    ("backorders", "expected_orders", "expected_served", "expected_cost"),
    [
        # Lost sales: week 0 cannot be served (lead 1): 10 lost x 20 + 20 bought x 10 = 400.
        (False, {0: 10.0, 1: 10.0}, [0.0, 10.0, 10.0], 400.0),
        # Backorders: week 0's 10 are owed one week and served in week 1 with week 1's own 10:
        # 30 bought x 10 + 10 backlog x 1 week x 20 = 500 (never serving them: 10 x 3 weeks x 20 + 200 = 800).
        (True, {0: 20.0, 1: 10.0}, [0.0, 20.0, 10.0], 500.0),
    ],
)
def test_lost_sales_or_backorders(
    backorders: bool, expected_orders: dict[int, float], expected_served: list[float], expected_cost: float
) -> None:
    tables = one_sku([10, 10, 10], items=CHEAP_SALE, sourcing_options=options(option(lead=1)))
    solved = solve(tables, weeks=3, costs={"backorders": backorders})
    assert solved.orders() == expected_orders
    assert solved.column("served") == expected_served
    assert solved.column("unmet") == [10.0, 0.0, 0.0]
    assert solved.objective == pytest.approx(expected_cost)


def test_backlog_stays_owed_through_weeks_without_forecast() -> None:
    # No supply reaches the horizon (lead 3 = horizon): week 0's 10 stay owed all 3 weeks.
    tables = one_sku([10, 0, 0], items=CHEAP_SALE, sourcing_options=options(option(lead=3)))
    solved = solve(tables, weeks=3, costs={"backorders": True})
    assert solved.column("unmet") == [10.0, 10.0, 10.0]
    # 10 owed x 3 weeks x 20 = 600.
    assert solved.objective == pytest.approx(600.0)


def test_backorders_can_be_caught_up_by_a_later_receipt() -> None:
    tables = one_sku([10, 1, 1], items=CHEAP_SALE, sourcing_options=options(option(lead=1)))
    solved = solve(tables, weeks=3, costs={"backorders": True})
    # Order 11 in week 0 (arrives week 1: backlog 10 + week 1's 1) and 1 in week 1:
    # 12 x 10 + 10 owed x 1 week x 20 = 320.
    assert solved.orders() == {0: 11.0, 1: 1.0}
    assert solved.objective == pytest.approx(320.0)
