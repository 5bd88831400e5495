"""The whole-model solve path: LP bound, rounded feasible start, warm-started MIP."""

from __future__ import annotations

import dataclasses

import pytest

from models import build_model
from planning.checks import check_plan
from planning.optimize import _with_bound, optimize, rounded_orders
from planning.plan import extract_plan
from planning.run import budget_shadow_prices
from planning.solve import PlanStatus, solve
from tests.models.helpers import budgets, config, monday, one_sku, option, options, problem_of


def test_optimize_small_instance_is_optimal_and_checked() -> None:
    # Demand 10 a week for 4 weeks, MOQ 30, holding 1: order 30 in week 0 and 10 in week 3 is not
    # allowed (MOQ), so 40 in week 0: 40 x 10 purchase + holding (30 + 20 + 10 + 0) = 460.
    tables = one_sku([10, 10, 10, 10], sourcing_options=options(option(moq=30)))
    run = config(4)
    problem = problem_of(tables, run)
    result = optimize(problem, run.solver)
    assert result.report.status is PlanStatus.OPTIMAL
    assert result.report.objective == pytest.approx(460.0)
    assert result.report.best_bound is not None and result.report.best_bound <= result.report.objective + 1e-6
    assert result.lp_bound is not None and result.lp_bound <= 460.0 + 1e-6
    plan = extract_plan(result.model, problem, 0)
    assert check_plan(plan, problem) == []
    assert plan.purchases["quantity"].tolist() == [40.0]


def test_rounding_accumulates_fractional_lp_orders_into_one_moq_order() -> None:
    # An LP that buys exactly the demand each week (10, 10, 10) against an MOQ of 30 (a relaxed
    # line makes that possible). Accumulated, 10 + 10 = 20 >= 0.5 x 30 in week 1: one MOQ order of
    # 30 placed in week 0, the first week of the run; the third 10 starts a run that never reaches
    # 15 and is dropped.
    tables = one_sku([10, 10, 10], sourcing_options=options(option(moq=30)))
    run = config(3)
    problem = problem_of(tables, run)
    m = build_model(problem)
    lp_values = {m.packs[slot].name: 10.0 for slot in m.ORDER_SLOTS}
    packs = rounded_orders(m, problem, lp_values)
    assert {slot[1]: n for slot, n in packs.items() if n} == {0: 30}


def test_budget_repair_moves_an_order_later_before_cutting_it() -> None:
    # LP orders 10 a week against 10 a week of demand; rounding places 30 (MOQ) in week 0 at 10 each =
    # 300 of cash, but week 0's budget is 150 while week 1's is 1000: the order moves to week 1.
    tables = one_sku(
        [10, 10, 10],
        on_hand=10,
        sourcing_options=options(option(moq=30)),
        budgets=budgets((monday(0), "week", 150, ""), (monday(1), "week", 1000, "")),
    )
    run = config(3)
    problem = problem_of(tables, run)
    m = build_model(problem)
    lp = solve(m, run.solver, relax_integrality=True)
    packs = rounded_orders(m, problem, lp.values)
    ordered = {slot[1]: n for slot, n in packs.items() if n}
    assert 0 not in ordered and sum(ordered.values()) >= 20


def test_a_start_plan_never_publishes_its_own_restricted_bound() -> None:
    tables = one_sku([10, 10])
    run = config(2)
    problem = problem_of(tables, run)
    m = build_model(problem)
    report = solve(m, run.solver).report
    no_bound = dataclasses.replace(report, best_bound=None, is_mip=True)
    published = _with_bound(report, no_bound, from_start=True, lp_bound=None)
    assert published.best_bound is None and published.gap is None
    assert published.status is PlanStatus.TIME_LIMIT_WITH_PLAN
    with_lp = _with_bound(report, no_bound, from_start=True, lp_bound=150.0)
    assert with_lp.best_bound == 150.0
    assert with_lp.gap == pytest.approx((report.objective - 150.0) / report.objective)


def test_budget_shadow_price_is_what_one_more_unit_of_cash_saves() -> None:
    # 10 wanted in week 0 at cost 10, a lost sale costs 990, week 0's budget is 50: buy 5, lose 5.
    # One more unit of cash buys 0.1 unit more: saves 0.1 x 990 lost - 1 paid = 98.
    tables = one_sku([10], budgets=budgets((monday(0), "week", 50, "")))
    run = config(1)
    problem = problem_of(tables, run)
    result = optimize(problem, run.solver)
    assert result.report.objective == pytest.approx(50 + 5 * 990)
    assert budget_shadow_prices(result, run) == {problem.budgets[0].budget_id: pytest.approx(98.0)}
