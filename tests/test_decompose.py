"""SKU-block decomposition: valid Lagrangian bounds, feasible repaired plans, the same plan on every executor."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import build_model
from models.lagrangian import BUDGET, coupling_caps
from planning.checks import check_plan
from planning.config import DecompositionConfig, RunConfig, SolverConfig, parse_config
from planning.decompose import (
    BlockTask,
    _Prices,
    decompose,
    make_blocks,
    po_shares,
    price_rows,
    prices_from_rows,
    solve_block,
)
from planning.demo_data import generate_demo_tables, write_demo_tables
from planning.executors import ThreadExecutor
from planning.forecast import trailing_average_forecast
from planning.inputs import load_input_tables
from planning.optimize import repair_orders, runs_of
from planning.plan import extract_plan
from planning.problem import PlanningProblem, build_problem
from planning.publish import previous_coupling_prices
from planning.run import solve_method
from planning.solve import PlanStatus, solve
from planning.storage import LocalStorage, write_table
from tests.models.helpers import (
    budgets,
    config,
    forecast,
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

AS_OF = date(2026, 11, 30)
WEEKS = 8


def demo_config() -> RunConfig:
    return parse_config(
        {
            "as_of": AS_OF.isoformat(),
            "horizon": {"weeks": WEEKS, "frozen_weeks": 0},
            "solver": {"time_limit_s": 60, "mip_rel_gap": 0.0, "threads": 1, "random_seed": 0},
        }
    )


@cache
def demo_problem() -> PlanningProblem:
    """The demo brand cut to 10 SKUs and 8 weeks: budgets, PO minimums, lanes, capacities, closures."""
    with tempfile.TemporaryDirectory() as folder:
        write_demo_tables(generate_demo_tables(seed=7, as_of=AS_OF, n_skus=10), Path(folder))
        typed = {name: t.typed for name, t in load_input_tables(LocalStorage(Path(folder))).items()}
    forecast = trailing_average_forecast(typed["demand_history"], AS_OF, WEEKS)
    return build_problem(typed, forecast, demo_config(), AS_OF)


@cache
def whole_optimum() -> float:
    """The whole model solved to proven optimality (the reference every bound must stay below)."""
    result = solve(build_model(demo_problem()), demo_config().solver)
    assert result.report.status is PlanStatus.OPTIMAL and result.report.objective is not None
    return result.report.objective


def blocks_config(**changes: object) -> DecompositionConfig:
    return DecompositionConfig(method="blocks", block_rel_gap=0.0, block_time_limit_s=20, workers=1).model_copy(
        update=changes
    )


def test_split_gives_the_same_subproblems_as_restrict() -> None:
    problem = demo_problem()
    blocks = make_blocks(problem, 3)
    assert sorted(sku for block in blocks for sku in block) == sorted(problem.skus)
    for block, part in zip(blocks, problem.split(blocks), strict=True):
        assert part == problem.restrict(set(block))


def test_decomposition_bound_and_plan_bracket_the_whole_optimum() -> None:
    problem = demo_problem()
    result, record = decompose(problem, demo_config().solver, blocks_config(max_passes=3))
    optimum = whole_optimum()
    report = result.report
    assert report.has_plan and report.objective is not None and report.best_bound is not None
    assert report.best_bound <= optimum + 1e-6 * abs(optimum)
    assert report.objective >= optimum - 1e-6 * abs(optimum)
    assert report.gap == pytest.approx((report.objective - report.best_bound) / abs(report.objective))
    assert record.blocks == len(problem.skus) and 1 <= len(record.passes) <= 3
    assert result.method == "blocks" and result.details["passes"]
    plan = extract_plan(result.model, problem, 0)
    assert check_plan(plan, problem) == []


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.floats(min_value=0.0, max_value=3.0), min_size=WEEKS, max_size=WEEKS))
def test_lagrangian_bound_is_valid_at_any_budget_prices(weekly_prices: list[float]) -> None:
    problem = demo_problem()
    budget_rows = sorted(row for row in coupling_caps(problem) if row[0] == BUDGET)
    prices = _Prices(problem, {row: weekly_prices[k % WEEKS] for k, row in enumerate(budget_rows)})
    blocks = make_blocks(problem, 2)
    shares = po_shares(problem, blocks)
    exact = SolverConfig(time_limit_s=20, mip_rel_gap=0.0, threads=1)
    results = [
        solve_block(BlockTask(sub, prices.trial, {po: shares[po] for po in sub.po_slots}, exact))
        for sub in problem.split(blocks)
    ]
    bound = prices.bound_at_trial(results)
    assert bound is not None and bound <= whole_optimum() + 1e-6 * abs(whole_optimum())


@pytest.mark.parametrize("assembly_max_skus", [1000, 0], ids=["whole-model completion", "assembled from blocks"])
def test_the_plan_is_the_same_on_one_thread_and_on_two(assembly_max_skus: int) -> None:
    problem = demo_problem()
    runs = []
    for workers in (1, 2):
        executor = ThreadExecutor(workers)
        decomposition = blocks_config(max_passes=2, whole_model_assembly_max_skus=assembly_max_skus)
        try:
            result, _ = decompose(problem, demo_config().solver, decomposition, executor=executor)
        finally:
            executor.close()
        plan = result.plan if result.plan is not None else extract_plan(result.model, problem, 0)
        runs.append((plan.purchases, plan.transfers, result.report.objective))
    assert runs[0][0].equals(runs[1][0]) and runs[0][1].equals(runs[1][1])
    assert runs[0][2] == pytest.approx(runs[1][2], rel=1e-9)


def test_auto_method_solves_small_catalogues_whole() -> None:
    problem = demo_problem()
    assert solve_method(problem, DecompositionConfig(whole_model_max_skus=10)) == "whole"
    assert solve_method(problem, DecompositionConfig(whole_model_max_skus=9)) == "blocks"
    assert solve_method(problem, DecompositionConfig(method="blocks", whole_model_max_skus=1000)) == "blocks"


def test_repair_merges_a_po_below_its_minimum_into_the_neighbouring_week() -> None:
    # Two orders of 3 units at 10 = 30 each, weeks 0 and 1; the PO minimum is 50. Merged into week 0
    # they make one PO of 60 >= 50 (topping up week 1's alone would buy 2 units nobody asked for).
    tables = one_sku(
        [3, 3, 3],
        sourcing_options=options(option()),
        suppliers=suppliers(supplier(po_minimum=50)),
    )
    problem = problem_of(tables, config(3))
    packs = dict.fromkeys(problem.order_slots, 0)
    first, second = sorted(problem.order_slots, key=lambda s: s[1])[:2]
    packs[first], packs[second] = 3, 3
    repair_orders(problem, packs, runs_of(packs), {slot: float(n) for slot, n in packs.items()})
    assert {slot[1]: n for slot, n in packs.items() if n} == {0: 6}


def test_budget_repair_pulls_an_order_forward_into_a_week_with_room() -> None:
    # 4 units at 10 ordered in week 1, whose budget is 20; week 0's budget is 100: the order moves
    # to week 0 (40 <= 100) instead of being cut to 2 units.
    tables = one_sku(
        [0, 4, 4],
        sourcing_options=options(option()),
        budgets=budgets((monday(0), "week", 100, ""), (monday(1), "week", 20, ""), (monday(2), "week", 100, "")),
    )
    problem = problem_of(tables, config(3))
    packs = dict.fromkeys(problem.order_slots, 0)
    week1 = next(slot for slot in problem.order_slots if slot[1] == 1)
    packs[week1] = 4
    repair_orders(problem, packs, runs_of(packs), {slot: float(n) for slot, n in packs.items()})
    assert {slot[1]: n for slot, n in packs.items() if n} == {0: 4}


def test_the_plan_on_a_two_worker_dask_cluster_equals_the_in_process_one() -> None:
    """Both paths on one cluster: completed on the whole model, and assembled from block completions."""
    distributed = pytest.importorskip("distributed")
    problem = demo_problem()
    configs = [blocks_config(max_passes=2), blocks_config(max_passes=2, whole_model_assembly_max_skus=0)]
    in_process = []
    local = ThreadExecutor(2)
    try:
        for config_ in configs:
            in_process.append(decompose(problem, demo_config().solver, config_, executor=local)[0])
    finally:
        local.close()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster:
        for config_, expected in zip(configs, in_process, strict=True):
            on_dask, record = decompose(
                problem, demo_config().solver, config_.model_copy(update={"dask_address": cluster.scheduler_address})
            )
            assert on_dask.report.objective == pytest.approx(expected.report.objective)
            plans = [r.plan if r.plan is not None else extract_plan(r.model, problem, 0) for r in (on_dask, expected)]
            assert plans[0].purchases.equals(plans[1].purchases)
            assert record.blocks == len(problem.skus)


def test_published_prices_map_onto_next_weeks_rows_by_date() -> None:
    problem = demo_problem()
    caps = coupling_caps(problem)
    week_rows = sorted(row for row in caps if row[2] >= 1)[:3]
    budget_row = next(row for row in caps if row[0] == BUDGET)
    rows = price_rows(problem, {**dict.fromkeys(week_rows, 1.5), budget_row: 0.25})
    next_week = dataclasses.replace(problem, week_starts=tuple(s + timedelta(days=7) for s in problem.week_starts))
    moved = prices_from_rows(next_week, rows)
    # A week-1 row of this week is week 0 of the next; budgets are named by their own dates.
    assert moved == {**{(kind, name, week - 1): 1.5 for kind, name, week in week_rows}, budget_row: 0.25}


def test_previous_prices_come_from_the_latest_finished_earlier_run(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    frame = pd.DataFrame({"kind": ["budget"], "name": ["B1"], "week_start": [""], "price": [0.5]})

    def run(as_of: str, run_id: str, *, finished: bool, price: float) -> None:
        prefix = f"plans/as_of={as_of}/run={run_id}"
        write_table(storage, f"{prefix}/coupling_prices.parquet", frame.assign(price=price))
        if finished:
            storage.write_bytes(f"{prefix}/_SUCCESS", run_id.encode())

    run("2026-11-16", "old", finished=True, price=0.1)
    run("2026-11-23", "done", finished=True, price=0.2)
    run("2026-11-23", "half", finished=False, price=9.0)  # never finished: not a plan
    run("2026-11-30", "same", finished=True, price=7.0)  # this week's own run: not "previous"
    previous = previous_coupling_prices(storage, date(2026, 11, 30))
    assert [row["price"] for row in previous] == [0.2]
    assert previous_coupling_prices(storage, date(2026, 11, 16)) == []


def test_a_block_started_past_the_deadline_still_reports_a_valid_bound() -> None:
    problem = demo_problem()
    blocks = make_blocks(problem, 1)
    shares = po_shares(problem, blocks)
    exact = SolverConfig(time_limit_s=20, mip_rel_gap=0.0, threads=1)
    for sub in problem.split(blocks)[:4]:
        own = {po: shares[po] for po in sub.po_slots}
        late = solve_block(BlockTask(sub, {}, own, exact, deadline=time.time() - 60))
        solved = solve_block(BlockTask(sub, {}, own, exact))
        assert late.bound is not None and solved.objective is not None
        assert late.bound <= solved.objective + 1e-6 * max(1.0, abs(solved.objective))


def test_polish_never_costs_more_and_keeps_every_invariant() -> None:
    problem = demo_problem()
    settings_ = demo_config().solver
    plain, _ = decompose(problem, settings_, blocks_config(max_passes=1, polish_skus=0))
    polished, _ = decompose(problem, settings_, blocks_config(max_passes=1, polish_skus=3))
    assert plain.report.objective is not None and polished.report.objective is not None
    assert polished.report.objective <= plain.report.objective + 1e-6 * abs(plain.report.objective)
    assert polished.report.objective >= whole_optimum() - 1e-6 * abs(whole_optimum())
    assert check_plan(extract_plan(polished.model, problem, 0), problem) == []
    costs = polished.details["polish_costs"]
    assert costs == sorted(costs, reverse=True)  # each kept round is cheaper than the one before


def test_a_plan_assembled_from_blocks_costs_what_the_whole_model_would_charge() -> None:
    """Above the assembly threshold no whole model is built: the same orders, completed per block."""
    problem = demo_problem()
    settings_ = demo_config().solver
    whole, _ = decompose(problem, settings_, blocks_config(polish_skus=0, whole_model_assembly_max_skus=10))
    lean, _ = decompose(problem, settings_, blocks_config(polish_skus=0, whole_model_assembly_max_skus=9))
    assert whole.model is not None and whole.plan is None
    assert lean.model is None and lean.plan is not None and lean.details["whole_model"] is False
    assert check_plan(lean.plan, problem) == []
    cost = lean.report.objective
    assert cost is not None and whole.report.objective is not None
    assert cost == pytest.approx(sum(lean.plan.costs.values()))
    # The same repaired orders: the whole model completes them optimally over every SKU at once,
    # the blocks share location space through its price, so they can only cost a little more.
    assert whole.report.objective - 1e-6 * abs(cost) <= cost <= whole.report.objective * (1 + 1e-3)
    assert lean.report.best_bound == whole.report.best_bound
    assert lean.report.best_bound is not None and lean.report.best_bound <= whole_optimum() <= cost + 1e-6
    # Budgets and capacities overrun by the assembled plan are the whole model's priced slack.
    assert {k for k in lean.plan.overruns if not k.startswith("location:")} == {
        k for k in extract_plan(whole.model, problem, 0).overruns if not k.startswith("location:")
    }


def test_a_lane_week_below_its_minimum_is_shut_and_its_blocks_completed_again() -> None:
    from planning.assemble import assemble_plan

    tables = one_sku(
        {"MKT": [10]},
        items=items(item("A"), item("B")),
        sourcing_options=options(option("A"), option("B")),
        transfer_lanes=lanes(("WH", "MKT", 0, 0.5, 15)),
        external_forecast=forecast({("A", "MKT"): [10], ("B", "MKT"): [3]}),
    )
    problem = problem_of(tables, config(weeks=1))
    blocks = [("A",), ("B",)]
    packs = {("A|S|WH|standard", 0): 10, ("B|S|WH|standard", 0): 3}
    assert set(packs) == set(problem.order_slots)
    executor = ThreadExecutor(1)
    try:
        # The pricing pass shipped 20 on the lane, so it starts open; completed, A ships its 10 and
        # B its 3: 13, below the lane's minimum of 15.
        plan = assemble_plan(
            problem, problem.split(blocks), packs, {("WH", "MKT", 0): 20.0}, {}, config(1).solver, 0, executor
        )
    finally:
        executor.close()
    assert (plan.rounds, plan.shut_lane_weeks) == (2, 1)
    assert plan.tables.transfers.empty
    # Shut, all 13 stay at WH: bought 13 x 10 = 130, 13 lost sales x (1000 - 10) = 12,870, and
    # 13 units held a week at WH x 1 = 13: 13,013 (with only 13 units ordered, the whole model's
    # completion cannot reach the minimum either).
    assert plan.report.objective == pytest.approx(13_013.0)
    assert check_plan(plan.tables, problem) == []


def test_the_residual_model_moves_with_the_plan_cost_when_a_group_changes() -> None:
    """A group's residual model differs from the whole plan's cost by a constant: changing the
    group's decisions moves both by the same amount (what the assembled polish relies on)."""
    from planning.assemble import CompletionTask, assemble_plan, complete_block
    from planning.residual import _fix_current, _po_totals, _Pricer, _State, residual_model
    from planning.warm_start import start_from_plan

    problem = demo_problem()
    settings_ = demo_config().solver
    lean, _ = decompose(problem, settings_, blocks_config(polish_skus=0, whole_model_assembly_max_skus=0))
    assert lean.plan is not None and lean.report.objective is not None
    start = start_from_plan(problem, lean.plan.purchases, lean.plan.transfers)
    blocks_of = problem.split([(sku,) for sku in problem.skus])
    executor = ThreadExecutor(1)
    try:
        plan = assemble_plan(problem, blocks_of, start.packs, {}, {}, settings_, 0, executor)
    finally:
        executor.close()
    blocks = list(plan.blocks)
    usage: dict = {}
    lanes: dict = {}
    for block in blocks:
        for row, value in block.usage.items():
            usage[row] = usage.get(row, 0.0) + value
        for lane_week, units in block.lane_units.items():
            lanes[lane_week] = lanes.get(lane_week, 0.0) + units
    po = _po_totals(problem, problem.order_slots, plan.packs)
    state = _State(dict(plan.packs), blocks, usage, lanes, po, sum(b.own_cost for b in blocks))
    pricer = _Pricer(problem)
    assert pricer.cost(state) == pytest.approx(plan.report.objective, rel=1e-9)
    group = [k for k, sub in enumerate(blocks_of) if any(plan.packs.get(s, 0) for s in sub.order_slots)][:3]
    sub = problem.split([{problem.skus[k] for k in group}])[0]
    others = state.others(problem, group, sub.order_slots, frozenset())

    def residual_cost(packs: dict, shipped: dict) -> float:
        m = residual_model(problem, sub, others)
        _fix_current(m, sub, packs, shipped)
        result = solve(m, settings_)
        assert result.report.objective is not None
        return result.report.objective

    current = {slot: plan.packs.get(slot, 0) for slot in sub.order_slots}
    shipped = {slot: units for k in group for slot, units in blocks[k].shipped.items()}
    halved = {slot: count // 2 for slot, count in current.items()}  # the group orders half as much
    before = pricer.cost(state)
    residual_before = residual_cost(current, {})
    completed = {
        k: complete_block(
            CompletionTask(
                blocks_of[k], {s: halved.get(s, 0) for s in blocks_of[k].order_slots}, {}, {}, settings_, 0, {}
            )
        )
        for k in group
    }
    state.swap(problem, sub.order_slots, completed, halved)
    assert pricer.cost(state) - before == pytest.approx(residual_cost(halved, {}) - residual_before, rel=1e-7)
    assert shipped == {}  # this instance ships nothing: lanes play no part in the comparison


@pytest.mark.parametrize("assembly_max_skus", [1000, 0], ids=["whole model", "assembled"])
def test_polish_on_either_path_never_costs_more_and_keeps_every_invariant(assembly_max_skus: int) -> None:
    problem = demo_problem()
    settings_ = demo_config().solver
    configs = [blocks_config(polish_skus=k, whole_model_assembly_max_skus=assembly_max_skus) for k in (0, 3)]
    plain, polished = (decompose(problem, settings_, c)[0] for c in configs)
    assert plain.report.objective is not None and polished.report.objective is not None
    assert polished.report.objective < plain.report.objective  # this instance has room to improve
    assert polished.report.objective >= whole_optimum() - 1e-6 * abs(whole_optimum())
    plan = polished.plan if polished.plan is not None else extract_plan(polished.model, problem, 0)
    assert check_plan(plan, problem) == []
    assert polished.report.objective == pytest.approx(sum(plan.costs.values()), rel=1e-9)
    costs = polished.details["polish_costs"]
    assert costs and costs == sorted(costs, reverse=True)
