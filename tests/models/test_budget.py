"""Cash budgets: weekly and monthly limits, payment terms, category scope, carry-forward, overrun.

Defaults (tests/models/helpers.py): SKU A costs 10, holding 1 per unit-week. Here the selling
price is 30, so a lost sale costs 20, far below the budget overrun price of 1000 per currency
unit: the overrun is never worth using for a free decision.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pyomo.environ as pyo
import pytest

from planning.checks import check_plan
from planning.metrics import budget_usage, cash_by_week, cash_payments
from tests.models.helpers import (
    AS_OF,
    budgets,
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

PRICED = items(item(price=30))  # a lost sale costs 30 - 10 = 20


def weekly(*limits: float, category: str = "") -> str:
    return budgets(*((monday(t), "week", limit, category) for t, limit in enumerate(limits)))


@pytest.mark.parametrize(
    ("week0_limit", "expected_orders", "expected_cost"),
    [
        # No budget: one line of 30 in week 0: 300 + 25 + holding (20 + 10) = 355.
        (None, {0: 30.0}, 355.0),
        # 150 in week 0 buys at most 15: buy week 0's 10 then 20 in week 1:
        # 300 + 2 lines x 25 + holding 10 (week 1) = 360 (15 + 15 holds 5 + 10).
        (150.0, {0: 10.0, 1: 20.0}, 360.0),
    ],
)
def test_binding_weekly_budget_delays_an_order(
    week0_limit: float | None, expected_orders: dict[int, float], expected_cost: float
) -> None:
    tables = one_sku(
        [10, 10, 10],
        items=items(item(price=30, line_cost=25)),
        budgets=weekly(week0_limit) if week0_limit is not None else None,
    )
    solved = solve(tables, weeks=3)
    assert solved.orders() == expected_orders
    assert solved.plan.overruns == {}
    assert solved.objective == pytest.approx(expected_cost)


def test_binding_weekly_budget_loses_sales_rather_than_overrun() -> None:
    solved = solve(one_sku([10], items=PRICED, budgets=weekly(50)), weeks=1)
    assert solved.orders() == {0: 5.0}
    assert solved.plan.overruns == {}
    # 5 x 10 + 5 lost x 20 = 150 (an overrun of 50 would cost 50 x 1000).
    assert solved.objective == pytest.approx(150.0)


@pytest.mark.parametrize(
    ("deposit", "units", "cash", "expected_cost"),
    [
        # 30% at order, 70% on arrival (week 2): 0.3 x 10 q <= 30 and 0.7 x 10 q <= 60 -> q = 8:
        # 80 + 2 lost x 20 = 120; paid 24 in week 0 and 56 in week 2.
        (0.3, 8.0, [24.0, 0.0, 56.0], 120.0),
        # Paid in full at order: 10 q <= 30 -> q = 3: 30 + 7 lost x 20 = 170.
        (1.0, 3.0, [30.0, 0.0, 0.0], 170.0),
        # Paid on arrival: 10 q <= 60 -> q = 6: 60 + 4 lost x 20 = 140.
        (0.0, 6.0, [0.0, 0.0, 60.0], 140.0),
    ],
)
def test_deposit_share_splits_cash_between_order_and_arrival_week(
    deposit: float, units: float, cash: list[float], expected_cost: float
) -> None:
    tables = one_sku(
        [0, 0, 10],
        items=PRICED,
        suppliers=suppliers(supplier(deposit=deposit)),
        sourcing_options=options(option(lead=2)),
        budgets=weekly(30, 1000, 60),
    )
    solved = solve(tables, weeks=3)
    assert solved.orders() == {0: units}
    assert [pyo.value(solved.model.cash_paid[t]) for t in range(3)] == pytest.approx(cash)
    assert solved.objective == pytest.approx(expected_cost)


def test_monthly_budget_covers_the_weeks_starting_in_the_month() -> None:
    tables = one_sku(
        [0, 0, 0, 0, 0, 10],
        items=PRICED,
        budgets=budgets((date(2027, 3, 1), "month", 100, ""), (date(2027, 4, 1), "month", 0, "")),
    )
    solved = solve(tables, weeks=6)
    # April (week 5, from 5 April) has no cash; week 4 starts on 29 March, so it spends March's:
    # buy there and hold a week: 10 x 10 + 10 x 1 = 110.
    assert solved.orders() == {4: 10.0}
    assert solved.objective == pytest.approx(110.0)


def test_category_budget_limits_only_its_category() -> None:
    tables = one_sku(
        [0],
        items=items(item("A", category="Apparel", price=30), item("B", category="Gear", price=30)),
        sourcing_options=options(option("A"), option("B")),
        inventory=inventory({("A", "WH"): 0, ("B", "WH"): 0}),
        external_forecast=forecast({("A", "WH"): [10], ("B", "WH"): [10]}),
        budgets=weekly(50, category="Apparel"),
    )
    solved = solve(tables, weeks=1)
    # Apparel (A) can spend 50 -> 5 units, 5 lost; Gear (B) is unlimited:
    # 5 x 10 + 5 x 20 + 10 x 10 = 250.
    assert solved.orders("sku") == {"A": 5.0, "B": 10.0}
    assert solved.objective == pytest.approx(250.0)


@pytest.mark.parametrize(
    ("carry", "expected_orders", "expected_cost"),
    [
        # 50 a week buys 5 a week, all held until week 2: 150 + holding 5 + 10 = 165.
        (False, {0: 5.0, 1: 5.0, 2: 5.0}, 165.0),
        # Unused cash rolls forward: by week 2 the plan may have spent 150: buy all 15 then: 150.
        (True, {2: 15.0}, 150.0),
    ],
)
def test_carry_budget_forward(carry: bool, expected_orders: dict[int, float], expected_cost: float) -> None:
    tables = one_sku([0, 0, 15], items=PRICED, budgets=weekly(50, 50, 50))
    solved = solve(tables, weeks=3, costs={"carry_budget_forward": carry})
    assert solved.orders() == expected_orders
    assert solved.plan.overruns == {}
    assert solved.objective == pytest.approx(expected_cost)


@pytest.mark.parametrize(
    ("locked", "expected_orders", "overrun", "expected_cost"),
    [
        # Free choice: buy what 150 allows, lose 5: 150 + 5 x 20 = 250, no overrun.
        (False, {0: 15.0}, 0.0, 250.0),
        # An approved 20-unit order is kept: 200 paid, 50 over budget: 200 + 50 x 1000 = 50200.
        (True, {0: 20.0}, 50.0, 50200.0),
    ],
)
def test_budget_overrun_only_when_locked_orders_exceed_it(
    locked: bool, expected_orders: dict[int, float], overrun: float, expected_cost: float
) -> None:
    locked_orders = None
    if locked:
        locked_orders = table(
            "order_id,sku,supplier,ship_to,mode,order_date,quantity", [f"OK-1,A,S,WH,standard,{AS_OF},20"]
        )
    solved = solve(one_sku([20], items=PRICED, budgets=weekly(150), locked_orders=locked_orders), weeks=1)
    assert solved.orders() == expected_orders
    expected_overruns = {f"budget:B0:{AS_OF}:all:all": pytest.approx(overrun)} if overrun else {}
    assert solved.plan.overruns == expected_overruns
    assert solved.objective == pytest.approx(expected_cost)


def test_checks_hold_carry_forward_budgets_to_their_running_total() -> None:
    tables = one_sku([0, 0, 15], items=PRICED, budgets=weekly(50, 50, 50))
    solved = solve(tables, weeks=3, costs={"carry_budget_forward": True})
    # 15 units in week 2 cost 150 = the running limit 50 + 50 + 50: the plan passes (checked in solve).
    # One unit more is 160 > 150 with no overrun reported: the invariant must catch it.
    tampered = solved.plan.purchases.copy()
    tampered.loc[0, ["quantity", "line_value"]] = [16.0, 160.0]
    rules = {v.rule for v in check_plan(replace(solved.plan, purchases=tampered), solved.problem)}
    assert "budget" in rules


def _owing(units: float, week: int) -> str:
    """An open purchase order of SKU A from S, arriving on the Monday of ``week``."""
    return table(
        "order_id,sku,origin,origin_type,destination,quantity,expected_arrival",
        [f"PO-OPEN,A,S,supplier,WH,{units},{monday(week)}"],
    )


@pytest.mark.parametrize(
    ("week2_limit", "expected_orders", "expected_overrun", "expected_cost"),
    [
        # Paid on arrival (deposit 0), lead 1: only an order of week 1 reaches week 2's 20 (week 0's
        # would pay in week 1, whose limit is 0). The open PO's 6 units owe 6 x 10 = 60 in week 2, so
        # 100 - 60 = 40 is left: 4 units; 20 - 6 - 4 = 10 lost x 20: 40 + 200 = 240.
        # (Not counting the commitment: 10 units, 4 lost: 100 + 80 = 180.)
        (100.0, {1: 4.0}, 0.0, 240.0),
        # The commitment alone is 10 over a limit of 50: nothing is left for new lines and nothing
        # new is bought: 14 lost x 20 = 280. The 10 already committed is no plan overrun (no
        # 10 x 1000 constant in the objective); budget_usage shows it as headroom 50 - 60 = -10.
        (50.0, {}, 0.0, 280.0),
    ],
)
def test_what_open_purchase_orders_still_owe_counts_against_the_budget(
    week2_limit: float, expected_orders: dict[int, float], expected_overrun: float, expected_cost: float
) -> None:
    tables = one_sku(
        [0, 0, 20],
        items=PRICED,
        suppliers=suppliers(supplier(deposit=0.0)),
        sourcing_options=options(option(lead=1)),
        budgets=weekly(1000, 0, week2_limit),
        open_orders=_owing(6, 2),
    )
    solved = solve(tables, weeks=3)
    assert solved.orders() == expected_orders
    budget_overrun = sum(v for k, v in solved.plan.overruns.items() if k.startswith("budget:"))
    assert budget_overrun == pytest.approx(expected_overrun)
    assert solved.objective == pytest.approx(expected_cost)
    # Published: the week-2 row spends the commitment plus the new line's balance.
    payments = cash_payments(solved.plan.purchases, solved.problem)
    usage = budget_usage(payments, solved.problem, {}, solved.plan.overruns).set_index("first_week")
    assert usage.loc[2, "committed"] == pytest.approx(60.0)
    assert usage.loc[2, "spend"] == pytest.approx(60.0 + 10 * expected_orders.get(1, 0.0))
    assert usage.loc[2, "headroom"] == pytest.approx(week2_limit - usage.loc[2, "spend"])
    assert ("owe 10 USD more than this limit" in usage.loc[2, "note"]) == (week2_limit == 50.0)
    by_week = cash_by_week(payments, solved.problem, {})
    assert by_week["committed"].tolist() == pytest.approx([0.0, 0.0, 60.0])
    assert by_week["cash_paid"].tolist() == pytest.approx([0.0, 0.0, 60.0 + 10 * expected_orders.get(1, 0.0)])


def test_the_plan_check_counts_commitments() -> None:
    """A plan that fits the limit only if the open PO's balance is forgotten is refused."""
    tables = one_sku(
        [0, 0, 20],
        items=PRICED,
        suppliers=suppliers(supplier(deposit=0.0)),
        sourcing_options=options(option(lead=1)),
        budgets=weekly(1000, 0, 100),
        open_orders=_owing(6, 2),
    )
    solved = solve(tables, weeks=3)
    bigger = solved.plan.purchases.assign(quantity=10.0, line_value=100.0)  # fits 100 without the 60 owed
    violations = check_plan(replace(solved.plan, purchases=bigger), solved.problem)
    assert any(
        v.rule == "budget" and "new spend 100.00 > 40.00 left by the limit 100.00" in v.detail for v in violations
    )
