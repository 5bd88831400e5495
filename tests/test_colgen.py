"""Column generation over SKU plans (planning.colgen): valid bounds, exact plan costs, one plan everywhere.

Most tests use the demo brand cut to 10 SKUs x 8 weeks (``tests.colgen_helpers``) with small work
limits (5 rounds, 10 polish rounds); the hand-computed ones use ``tests.models.helpers``.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from functools import cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import build_model
from models.coupling import absent_rows, coupling_rhs
from planning.blocks import BlockForm, PricingTask, compile_block, price_block, priced_objective
from planning.checks import check_plan
from planning.colgen import ColumnPlan, _Loop, make_blocks, plan_by_columns, refine_bound
from planning.config import DecompositionConfig, RunConfig, SolverConfig
from planning.executors import BlockExecutor, DaskExecutor, ThreadExecutor
from planning.forecast import FORECAST_COLUMNS, Forecast, ForecastRun
from planning.master import Master
from planning.optimize import complete_orders, optimize
from planning.run import finish_run, optimize_problem, solve_method
from planning.solve import NoPlanFoundError, PlanStatus
from planning.warm_start import start_from_plan
from planning.work import Clock, WorkBudget
from tests.colgen_helpers import blocks_config, demo_config, demo_problem, same_tables, whole_optimum
from tests.models.helpers import (
    budgets,
    config,
    forecast,
    inventory,
    item,
    items,
    lanes,
    monday,
    one_sku,
    option,
    options,
    problem_of,
    supplier,
    suppliers,
)

TOLERANCE = 1e-6


def _tol(value: float) -> float:
    return TOLERANCE * max(1.0, abs(value))


@cache
def reference_plan() -> ColumnPlan:
    """The demo problem planned on one worker thread (the default executor of ``blocks_config``)."""
    return plan_by_columns(demo_problem(), demo_config().solver, blocks_config())


def _plan_on(executor: BlockExecutor, **changes: object) -> ColumnPlan:
    try:
        return plan_by_columns(demo_problem(), demo_config().solver, blocks_config(**changes), executor=executor)
    finally:
        executor.close()


# ------------------------------------------------------------------------------ bound and plan


def test_the_bound_and_the_plan_bracket_the_whole_optimum() -> None:
    problem = demo_problem()
    result = reference_plan()
    report, optimum = result.report, whole_optimum()
    assert report.has_plan and report.objective is not None and report.best_bound is not None
    assert report.best_bound <= optimum + _tol(optimum) <= report.objective + 2 * _tol(optimum)
    assert report.gap == pytest.approx((report.objective - report.best_bound) / abs(report.objective))
    assert check_plan(result.plan, problem) == []
    # The report's objective is the published plan's exact cost, term by term.
    assert sum(result.plan.costs.values()) == pytest.approx(report.objective, rel=1e-12)
    assert result.details["published_choice_cost"] == pytest.approx(report.objective, rel=1e-9)
    assert 1 <= len(result.details["rounds"]) <= 5  # type: ignore[arg-type]
    assert result.details["blocks"] == len(problem.skus) and result.details["clock_fired"] is False
    # Every round's bound is a bound: none above the optimum, the best one is the published one
    # (exact pricing closes every block, so there is nothing to refine).
    rounds = result.details["rounds"]
    assert all(r["bound"] <= optimum + _tol(optimum) for r in rounds)  # type: ignore[attr-defined]
    assert max(r["bound"] for r in rounds) == pytest.approx(report.best_bound)  # type: ignore[attr-defined]
    assert result.details["bound_refinement"] is None


def test_blocks_left_open_are_priced_again_with_packs_continuous_and_the_bound_stays_valid() -> None:
    """``refine_bound`` re-prices exactly the blocks left open at the best bound's duals, with packs
    continuous, and keeps per block the higher of the two bounds: the bound rises from the open
    blocks' weak bounds but stays below the exact Lagrangian bound (a relaxation never proves more
    than the block's optimum) and so below the whole model's optimum. The open blocks are made
    here: every other block's bound is its exact optimum, two are given a bound 1,000 too low."""
    master, forms = _pricing_setup()
    y = np.zeros(master.lp.rows)
    exact = []
    for form in forms:
        cost, constant = priced_objective(form, *master.block_duals(y, form.index))
        exact.append(price_block(PricingTask(form, cost, constant, EXACT_PRICING, {"mip_max_nodes": 1_000_000})))
    weakened = [dataclasses.replace(r, bound=r.bound - 1000.0) if r.block in (0, 3) else r for r in exact]
    exact_bound = master.lagrangian_bound(y, [r.bound for r in exact])
    weak_bound = master.lagrangian_bound(y, [r.bound for r in weakened])  # = exact_bound - 2,000
    loop = _Loop(best_bound=weak_bound, centre=y, centre_results=weakened)
    budget = WorkBudget.of(demo_config().solver, blocks_config(block_max_nodes=1_000_000, block_rel_gap=1e-4))
    runner = ThreadExecutor(1)
    try:
        refine_bound(master, forms, loop, budget, Clock(600.0), runner, demo_config().solver)
    finally:
        runner.close()
    assert loop.refinement is not None
    assert (loop.refinement.blocks, loop.refinement.bound_before) == (2, weak_bound)
    assert weak_bound + 1000.0 < loop.best_bound <= exact_bound + _tol(exact_bound)
    assert loop.best_bound == loop.refinement.bound_after <= whole_optimum() + _tol(whole_optimum())


def test_the_pack_relaxed_pricing_bound_is_below_the_exact_block_optimum() -> None:
    """A relaxation's proven bound, at any node limit, never exceeds the block's exact optimum."""
    master, forms = _pricing_setup()
    y = np.zeros(master.lp.rows)
    for form in forms:
        cost, constant = priced_objective(form, *master.block_duals(y, form.index))
        exact = price_block(PricingTask(form, cost, constant, EXACT_PRICING, {"mip_max_nodes": 1_000_000}))
        for nodes in (1, 1_000_000):
            relaxed = price_block(
                PricingTask(form, cost, constant, EXACT_PRICING, {"mip_max_nodes": nodes}, relax_packs=True)
            )
            assert relaxed.x is None  # fractional packs: never a column
            assert exact.objective is not None and relaxed.bound <= exact.objective + _tol(exact.objective)


@cache
def _pricing_setup() -> tuple[Master, tuple[BlockForm, ...]]:
    """One block per SKU, compiled as ``plan_by_columns`` does, and an empty master over them."""
    problem = demo_problem()
    subproblems = problem.split(make_blocks(problem, 1))
    rhs, absent = coupling_rhs(problem), absent_rows(problem)
    forms = tuple(compile_block(sub, k, rhs, absent) for k, sub in enumerate(subproblems))
    return Master(problem, forms, demo_config().solver), forms


EXACT_PRICING = SolverConfig(time_limit_s=30, mip_rel_gap=0.0, threads=1, random_seed=0)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_lagrangian_bound_is_valid_at_any_budget_duals(data: st.DataObject) -> None:
    """L(y) <= optimum for any y <= 0 on the budget rows (0 elsewhere), blocks priced to optimality.

    Duals below the overrun penalty (-1000) make a budget's slack column's reduced cost negative
    and unbounded, so the bound is -inf there: valid, but no test; the draws mostly stay above it.
    """
    master, forms = _pricing_setup()
    budget_rows = [master.row_of[key] for key in master.row_keys if key[0] == "budget_limit"]
    assert budget_rows
    duals = data.draw(
        st.lists(
            st.one_of(st.floats(-5.0, 0.0), st.floats(-1000.0, 0.0)),
            min_size=len(budget_rows),
            max_size=len(budget_rows),
        )
    )
    y = np.zeros(master.lp.rows)
    y[budget_rows] = duals
    results = []
    for form in forms:
        usage_dual, link_dual = master.block_duals(y, form.index)
        cost, constant = priced_objective(form, usage_dual, link_dual)
        result = price_block(PricingTask(form, cost, constant, EXACT_PRICING, {"mip_max_nodes": 1_000_000}))
        assert result.objective is not None and result.bound == pytest.approx(result.objective, abs=1e-6)
        results.append(result)
    bound = master.lagrangian_bound(y, [r.bound for r in results])
    assert np.isfinite(bound)
    assert bound <= whole_optimum() + _tol(whole_optimum())


# ------------------------------------------------------------------------------ one plan everywhere


def _dask_plan(workers: int) -> ColumnPlan:
    distributed = pytest.importorskip("distributed")
    # dashboard on a free port: another cluster on this machine may hold 8787 (a warning, so an error here).
    with distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
    ) as cluster:
        result = _plan_on(DaskExecutor(cluster.scheduler_address))
    assert result.details["workers"] == workers
    return result


@pytest.mark.parametrize(
    "run",
    [
        pytest.param(lambda: _plan_on(ThreadExecutor(1)), id="1 thread"),
        pytest.param(lambda: _plan_on(ThreadExecutor(2)), id="2 threads"),
        pytest.param(lambda: _dask_plan(1), id="dask, 1 worker"),
        pytest.param(lambda: _dask_plan(2), id="dask, 2 workers"),
    ],
)
def test_the_plan_is_the_same_on_threads_and_on_dask(run: object) -> None:
    expected = reference_plan()
    got = run()  # type: ignore[operator]
    assert got.report.objective == expected.report.objective
    assert got.report.best_bound == expected.report.best_bound
    same_tables(got.plan, expected.plan)


@pytest.fixture
def cpu_burners() -> Iterator[None]:
    """One busy-looping Python process per core, killed afterwards whatever happens."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(max(2, os.cpu_count() or 1))]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
        for burner in burners:
            burner.wait(timeout=30)


def test_the_plan_does_not_depend_on_machine_load(cpu_burners: None) -> None:
    """Work limits, not seconds, decide the plan: the same tables idle and with every core busy."""
    idle = reference_plan()
    loaded = plan_by_columns(demo_problem(), demo_config().solver, blocks_config())
    assert idle.details["clock_fired"] is False and loaded.details["clock_fired"] is False
    assert loaded.report.objective == idle.report.objective
    assert loaded.report.status is idle.report.status
    same_tables(loaded.plan, idle.plan)


# ------------------------------------------------------------------------------ hand-computed cases


def _two_skus(*places: str, **tables: str) -> dict[str, str]:
    """SKUs A and B, both bought from S into WH; ``places``: the locations besides WH."""
    base = one_sku(
        {place: [0] for place in ("WH", *places)},
        items=items(item("A"), item("B")),
        sourcing_options=options(option("A"), option("B")),
        inventory=inventory({("A", "WH"): 0, ("B", "WH"): 0}),
    )
    return {**base, **tables}


def test_two_skus_share_one_purchase_order_to_reach_its_minimum() -> None:
    # A and B each need 6 units in week 0 at 10 each from S, whose PO minimum is 100 and PO cost 50.
    # Alone, each SKU's 60 is below the minimum: buying A alone means topping it up to 10 units
    # (100 + 50 PO + 4 units held a week x 1 = 154) and losing B's 6 sales (6 x 990 = 5,940).
    # Together, one PO holds 6 + 6 = 12 units = 120 >= 100: 120 purchase + 50 PO = 170, nothing lost.
    tables = _two_skus(
        suppliers=suppliers(supplier(po_minimum=100, po_cost=50)),
        external_forecast=forecast({("A", "WH"): [6], ("B", "WH"): [6]}),
    )
    run = config(1)
    problem = problem_of(tables, run)
    whole = optimize(problem, run.solver)
    # One SKU per block, no polish: the master alone must put the two plans on one PO.
    columns = plan_by_columns(problem, run.solver, blocks_config(block_skus=1, polish_rounds=0))
    assert whole.report.status is PlanStatus.OPTIMAL and whole.report.objective == pytest.approx(170.0)
    assert columns.report.objective == pytest.approx(170.0)
    assert columns.details["blocks"] == 2
    assert columns.report.best_bound is not None and columns.report.best_bound <= 170.0 + 1e-6
    purchases = columns.plan.purchases
    assert sorted(purchases["sku"]) == ["A", "B"] and purchases["quantity"].tolist() == [6.0, 6.0]
    assert purchases["po_id"].nunique() == 1
    assert columns.plan.costs["ordering_cost"] == pytest.approx(50.0)
    assert check_plan(columns.plan, problem) == []


def test_a_lane_week_below_its_minimum_is_filled_up_rather_than_shut() -> None:
    # MKT needs A 10 and B 3 in week 0; they are bought at WH (10 each) and the WH -> MKT lane costs
    # 0.5 a unit with a minimum shipment of 15. Shipping 13 is below the minimum; shutting the lane
    # loses 13 sales (13 x 990 + ...). Best: ship 15, buying 2 units more than needed:
    # 15 x 10 purchase + 15 x 0.5 transfer + 2 units left at MKT x 1 holding = 150 + 7.5 + 2 = 159.5.
    tables = _two_skus(
        "MKT",
        transfer_lanes=lanes(("WH", "MKT", 0, 0.5, 15)),
        external_forecast=forecast({("A", "MKT"): [10], ("B", "MKT"): [3]}),
    )
    run = config(1)
    problem = problem_of(tables, run)
    whole = optimize(problem, run.solver)
    columns = plan_by_columns(problem, run.solver, blocks_config(block_skus=1))
    assert whole.report.objective == pytest.approx(159.5)
    assert columns.report.objective == pytest.approx(159.5)
    assert columns.plan.transfers["quantity"].sum() == pytest.approx(15.0)
    assert check_plan(columns.plan, problem) == []


@pytest.mark.parametrize(
    ("method", "skus"),
    [
        ("whole", "A"),
        ("blocks", "A"),
        ("whole", "AB"),
        ("blocks", "AB"),
    ],
)
def test_budget_prices_are_positive_on_a_binding_budget_and_zero_on_a_slack_one(method: str, skus: str) -> None:
    # Each SKU wants 10 units a week for 2 weeks at 10 each. Week 0's budget is 50 per SKU (half of
    # what is wanted: it binds, 5 sales per SKU are lost at 990 each); week 1's is 1,000 (slack).
    # Cost per SKU: 5 x 10 + 10 x 10 + 5 x 990 = 5,100. One more unit of week-0 cash buys 0.1 unit,
    # saving 0.1 x 990 - 1 = 98; more week-1 cash saves nothing.
    tables = _two_skus(
        external_forecast=forecast({(sku, "WH"): [10, 10] for sku in skus}),
        budgets=budgets((monday(0), "week", 50 * len(skus), ""), (monday(1), "week", 1000, "")),
    )
    if skus == "A":
        tables = one_sku([10, 10], budgets=tables["budgets"])
    run = _with_method(config(2), method)
    problem = problem_of(tables, run)
    result = optimize_problem(problem, run)
    assert result.method == method
    assert result.report.objective == pytest.approx(5100 * len(skus))
    week0, week1 = (b.budget_id for b in sorted(problem.budgets, key=lambda b: b.weeks[0]))
    assert set(result.budget_prices) == {week0, week1}
    assert result.budget_prices[week0] == pytest.approx(98.0)
    assert result.budget_prices[week1] == pytest.approx(0.0, abs=1e-9)


def _with_method(run: RunConfig, method: str) -> RunConfig:
    decomposition = blocks_config() if method == "blocks" else DecompositionConfig(method="whole")
    return run.model_copy(update={"decomposition": decomposition})


# ------------------------------------------------------------------------------ the publishing guard


def _empty_forecast_run() -> ForecastRun:
    empty = pd.DataFrame()
    return ForecastRun(Forecast(pd.DataFrame(columns=list(FORECAST_COLUMNS)), "none"), empty, empty, empty)


def test_a_plan_ordering_nothing_while_demand_goes_unmet_is_published_only_when_proven() -> None:
    # A sells at 5 but costs 10: a lost sale costs the floor of 1, so the optimum buys nothing and
    # loses all 10 units (cost 10). Proven optimal, that plan is published; the same tables from a
    # solve that stopped on a limit look like a solve cut short, and are refused.
    tables = one_sku([10], items=items(item(price=5)))
    run = config(1)
    problem = problem_of(tables, run)
    result = optimize(problem, run.solver)
    assert result.report.status is PlanStatus.OPTIMAL and result.report.objective == pytest.approx(10.0)
    assert result.plan.purchases.empty and result.plan.inventory["unmet"].sum() == pytest.approx(10.0)
    published = finish_run(problem.as_of, problem, result, _empty_forecast_run(), run)
    assert published.plan is result.plan
    for status in (PlanStatus.LIMIT_WITH_PLAN, PlanStatus.TIME_LIMIT_WITH_PLAN):
        cut_short = dataclasses.replace(result, report=dataclasses.replace(result.report, status=status))
        with pytest.raises(NoPlanFoundError, match="orders nothing while 10 units of demand go unmet"):
            finish_run(problem.as_of, problem, cut_short, _empty_forecast_run(), run)


def test_a_plan_that_orders_is_published_at_a_work_limit() -> None:
    tables = one_sku([10])
    run = config(1)
    problem = problem_of(tables, run)
    result = optimize(problem, run.solver)
    assert not result.plan.purchases.empty
    limited = dataclasses.replace(result, report=dataclasses.replace(result.report, status=PlanStatus.LIMIT_WITH_PLAN))
    assert finish_run(problem.as_of, problem, limited, _empty_forecast_run(), run).plan is result.plan


# ------------------------------------------------------------------------------ blocks, methods, polish


def test_split_gives_the_same_subproblems_as_restrict() -> None:
    problem = demo_problem()
    blocks = make_blocks(problem, 3)
    assert sorted(sku for block in blocks for sku in block) == sorted(problem.skus)
    assert [len(block) for block in blocks] == [3, 3, 3, 1]
    for block, part in zip(blocks, problem.split(blocks), strict=True):
        assert part == problem.restrict(set(block))


def test_auto_method_solves_small_catalogues_whole() -> None:
    problem = demo_problem()
    assert solve_method(problem, DecompositionConfig(whole_model_max_skus=10)) == "whole"
    assert solve_method(problem, DecompositionConfig(whole_model_max_skus=9)) == "blocks"
    assert solve_method(problem, DecompositionConfig(method="blocks", whole_model_max_skus=1000)) == "blocks"
    assert solve_method(problem, DecompositionConfig(method="whole", whole_model_max_skus=0)) == "whole"


def test_the_whole_model_and_column_generation_agree_on_the_demo() -> None:
    problem = demo_problem()
    run = demo_config()
    whole = optimize_problem(problem, _with_method(run, "whole"))
    blocks = optimize_problem(problem, _with_method(run, "blocks"))
    assert (whole.method, blocks.method) == ("whole", "blocks")
    assert whole.report.status is PlanStatus.OPTIMAL
    assert whole.report.objective == pytest.approx(whole_optimum(), rel=1e-9)
    assert check_plan(whole.plan, problem) == [] and check_plan(blocks.plan, problem) == []
    cost, bound = blocks.report.objective, blocks.report.best_bound
    assert cost is not None and bound is not None
    assert cost == pytest.approx(sum(blocks.plan.costs.values()), rel=1e-12)
    assert bound <= whole_optimum() + _tol(cost) <= cost + 2 * _tol(cost)
    # The whole model, given the published plan's orders and shipments, can do no better than the
    # plan itself costs (the plan is one of its completions, priced exactly).
    start = start_from_plan(problem, blocks.plan.purchases, blocks.plan.transfers)
    completed = complete_orders(build_model(problem), problem, start.packs, start.shipped, run.solver)
    assert completed.report.objective is not None
    assert whole_optimum() - _tol(cost) <= completed.report.objective <= cost + _tol(cost)
    # Both publish a price for every budget, and agree on which budgets have any value.
    assert set(whole.budget_prices) == set(blocks.budget_prices) == {b.budget_id for b in problem.budgets}


def test_polish_never_costs_more_and_keeps_every_invariant() -> None:
    problem = demo_problem()
    plain = plan_by_columns(problem, demo_config().solver, blocks_config(polish_rounds=0))
    polished = reference_plan()
    assert plain.report.objective is not None and polished.report.objective is not None
    assert plain.details["polish"] == []
    assert polished.report.objective < plain.report.objective  # this instance has room to improve
    assert polished.report.objective >= whole_optimum() - _tol(whole_optimum())
    assert check_plan(polished.plan, problem) == []
    records = polished.details["polish"]
    assert 1 <= len(records) <= 10  # type: ignore[arg-type]
    costs = [r["cost"] for r in records]  # type: ignore[attr-defined]
    assert costs == sorted(costs, reverse=True)  # a round is kept only when the plan gets cheaper
    assert costs[-1] == pytest.approx(polished.report.objective, rel=1e-9)
