"""Plan changes: lines a re-plan adds to or drops from last week's plan are charged.

SKU A (unit cost 10, holding 1 per unit-week, lead 0) with a line cost of 20 and demand 0, 10, 10
in weeks 0..2. Alone, one line of 20 in week 1 is cheapest: 200 + 20 + 10 held for a week = 230;
two lines (weeks 1 and 2) cost 200 + 40 = 240.
"""

from __future__ import annotations

import pandas as pd
import pytest

from models import build_model
from planning.checks import check_plan
from planning.plan import extract_plan
from planning.solve import PlanStatus, load_values, solve_model
from planning.warm_start import with_prior_lines
from tests.models.helpers import config, item, items, monday, one_sku, problem_of

TABLES = one_sku([0, 10, 10], items=items(item(line_cost=20)))


def _last_weeks_plan(*weeks: int) -> pd.DataFrame:
    """Last week's published lines of A, 10 units in each of these weeks of this plan."""
    return pd.DataFrame(
        {
            "sku": "A",
            "supplier": "S",
            "ship_to": "WH",
            "mode": "standard",
            "order_date": [monday(t) for t in weeks],
            "quantity": 10.0,
        }
    )


@pytest.mark.parametrize(
    ("penalty", "window", "prior_weeks", "expected_orders", "expected_cost"),
    [
        # No earlier plan: the cheapest plan, one line in week 1: 230.
        (15.0, 4, None, {1: 20.0}, 230.0),
        # Last week planned lines in weeks 1 and 2. Keeping both costs 240; merging them drops the
        # week-2 line: 230 + 15 = 245. Both are kept.
        (15.0, 4, (1, 2), {1: 10.0, 2: 10.0}, 240.0),
        # A change price of 5 makes merging pay: 230 + 5 = 235 < 240.
        (5.0, 4, (1, 2), {1: 20.0}, 235.0),
        # Week 2 lies outside a 2-week window: dropping that line is free, 230.
        (15.0, 2, (1, 2), {1: 20.0}, 230.0),
        # Last week planned a line in week 0 only. Buying all 20 there: 200 + 20 + held 20 then 10
        # = 250; moving the line to week 1 drops one and adds one: 230 + 2 x 15 = 260. It stays.
        (15.0, 4, (0,), {0: 20.0}, 250.0),
        # Off (0): last week's plan changes nothing.
        (0.0, 4, (1, 2), {1: 20.0}, 230.0),
    ],
)
def test_changing_last_weeks_lines_is_charged(
    penalty: float,
    window: int,
    prior_weeks: tuple[int, ...] | None,
    expected_orders: dict[int, float],
    expected_cost: float,
) -> None:
    run = config(3, costs={"plan_change_penalty": penalty, "plan_change_window_weeks": window})
    problem = problem_of(TABLES, run)
    if prior_weeks is not None:
        problem = with_prior_lines(problem, _last_weeks_plan(*prior_weeks))
    model = build_model(problem)
    result = solve_model(model, run.solver)
    assert result.report.status is PlanStatus.OPTIMAL
    load_values(model, result)
    plan = extract_plan(model, problem, 0)
    assert check_plan(plan, problem) == []
    orders = plan.purchases.groupby("order_week")["quantity"].sum()
    assert {int(k): float(v) for k, v in orders.items() if v > 0} == expected_orders
    assert result.report.objective == pytest.approx(expected_cost)
    assert sum(plan.costs.values()) == pytest.approx(expected_cost)
    change = expected_cost - 200 - 20 * len(expected_orders) - plan.costs["holding_cost"]
    assert plan.costs["plan_change_cost"] == pytest.approx(change)


def test_lines_no_slot_can_hold_are_not_kept() -> None:
    """A line dated before this week's as-of (now an open order) or for an unknown option is no prior line."""
    problem = problem_of(TABLES, config(3))
    plan = pd.concat(
        [_last_weeks_plan(1), _last_weeks_plan(1).assign(supplier="GONE"), _last_weeks_plan(-1)], ignore_index=True
    )
    assert with_prior_lines(problem, plan).prior_lines == frozenset({("A|S|WH|standard", 1)})
