"""Last week's plan shifted onto this week's slots (planning.warm_start) and used as a start."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from planning.checks import check_plan
from planning.colgen import plan_by_columns
from planning.problem import PlanningProblem
from planning.publish import previous_plan_tables
from planning.run import optimize_problem
from planning.storage import LocalStorage, write_table
from planning.warm_start import orders_from_plan, start_from_plan, transfers_from_plan
from tests.colgen_helpers import blocks_config, demo_config, demo_problem, whole_optimum
from tests.models.helpers import config, item, items, lanes, one_sku, option, options, problem_of


def _problem(weeks: int = 4) -> PlanningProblem:
    tables = one_sku(
        {"WH": [10] * weeks, "MKT": [5] * weeks},
        items=items(item("A", case_pack=6)),
        sourcing_options=options(option("A"), option("A", mode="air", cost=12)),
        transfer_lanes=lanes(("WH", "MKT", 1, 0.5, 0)),
    )
    return problem_of(tables, config(weeks=weeks))


def _line(
    problem: PlanningProblem, days: int, quantity: float, mode: str = "standard", sku: str = "A"
) -> dict[str, object]:
    return {
        "sku": sku,
        "supplier": "S",
        "ship_to": "WH",
        "mode": mode,
        "order_date": pd.Timestamp(problem.as_of + timedelta(days=days)),
        "quantity": quantity,
    }


def test_plan_lines_map_onto_this_weeks_slots_by_option_and_date() -> None:
    problem = _problem()
    option_of = {(o.sku, o.mode): o.option_id for o in problem.options.values()}
    standard, air = option_of[("A", "standard")], option_of[("A", "air")]
    assert problem.options[standard].pack_size == problem.options[air].pack_size == 6  # the case pack
    purchases = pd.DataFrame(
        [
            _line(problem, -7, 60),  # last week's first week: placed (an open order now), dropped
            _line(problem, 0, 24),  # 24 / 6 = 4 packs in week 0
            _line(problem, 14, 23),  # 23 / 6 = 3.8 -> 4 packs in week 2
            _line(problem, 21, 600),  # 100 packs in week 3: capped at the slot's pack bound
            _line(problem, 7, 12, mode="air"),  # 12 / 6 = 2 packs in week 1
            _line(problem, 7, 12, sku="GONE"),  # an option that no longer exists: dropped
            _line(problem, 10, 12),  # not a week start of this horizon: dropped
            _line(problem, 28, 12),  # beyond the 4-week horizon: dropped
        ]
    )
    packs = orders_from_plan(problem, purchases)
    bound = problem.order_pack_bound[(standard, 3)]
    assert bound < 100
    assert packs == {(standard, 0): 4, (standard, 2): 4, (standard, 3): bound, (air, 1): 2}


def test_transfer_lines_map_onto_transfer_slots_by_lane_and_date() -> None:
    problem = _problem()
    transfers = pd.DataFrame(
        {
            "sku": ["A", "A", "A"],
            "from_location": ["WH", "WH", "MKT"],
            "to_location": ["MKT", "MKT", "WH"],  # no MKT -> WH lane: dropped
            "ship_date": [pd.Timestamp(problem.as_of + timedelta(days=d)) for d in (7, -7, 7)],
            "quantity": [5.0, 5.0, 5.0],
        }
    )
    assert transfers_from_plan(problem, transfers) == {("A", "WH", "MKT", 1): 5.0}


def test_a_plan_without_the_columns_it_needs_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"purchase_plan: columns \['order_date'\] missing"):
        orders_from_plan(
            _problem(), pd.DataFrame({"sku": [], "supplier": [], "ship_to": [], "mode": [], "quantity": []})
        )


@pytest.mark.parametrize("polish_rounds", [0, 10])
def test_a_start_from_a_finished_plan_is_a_column_and_never_costs_more(polish_rounds: int) -> None:
    problem = demo_problem()
    settings_ = demo_config().solver
    decomposition = blocks_config(polish_rounds=polish_rounds)
    cold = plan_by_columns(problem, settings_, decomposition)
    assert cold.details["start_plan_cost"] is None
    start = start_from_plan(problem, cold.plan.purchases, cold.plan.transfers)
    assert sum(start.packs.values()) > 0
    seeded = plan_by_columns(problem, settings_, decomposition, start=start)
    start_cost = seeded.details["start_plan_cost"]
    assert isinstance(start_cost, float) and seeded.report.objective is not None and cold.report.objective is not None
    # The start is last week's (here: the same week's) orders, each block completed with them
    # fixed: one column per block, a candidate of the master MIP, so the published plan never
    # costs more. Completed block by block (location space unpriced) it is about the cold plan.
    assert start_cost in seeded.details["candidate_costs"]  # type: ignore[operator]
    assert seeded.report.objective <= start_cost + 1e-6 * abs(start_cost)
    assert start_cost <= cold.report.objective * (1 + 1e-3)
    assert seeded.report.objective >= whole_optimum() - 1e-6 * abs(whole_optimum())
    assert check_plan(seeded.plan, problem) == []


def test_last_weeks_plan_is_read_from_the_latest_finished_earlier_run(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)

    def run(as_of: str, run_id: str, *, finished: bool, units: float) -> None:
        prefix = f"plans/as_of={as_of}/run={run_id}"
        write_table(storage, f"{prefix}/purchase_plan.parquet", pd.DataFrame({"sku": ["A"], "quantity": [units]}))
        write_table(storage, f"{prefix}/transfer_plan.parquet", pd.DataFrame({"sku": ["A"], "quantity": [units]}))
        if finished:
            storage.write_bytes(f"{prefix}/_SUCCESS", run_id.encode())

    run("2026-11-16", "old", finished=True, units=1)
    run("2026-11-23", "done", finished=True, units=2)
    run("2026-11-23", "half", finished=False, units=9)  # never finished: not a plan
    run("2026-11-30", "same", finished=True, units=7)  # this week's own run: not "last week's"
    found = previous_plan_tables(storage, date(2026, 11, 30))
    assert found is not None
    assert [frame["quantity"].tolist() for frame in found] == [[2.0], [2.0]]
    assert previous_plan_tables(storage, date(2026, 11, 16)) is None


def test_the_weekly_run_starts_the_blocks_from_last_weeks_plan() -> None:
    problem = demo_problem()
    run_config = demo_config().model_copy(update={"decomposition": blocks_config()})
    cold = optimize_problem(problem, run_config)
    assert cold.method == "blocks" and cold.details["start_plan_cost"] is None
    warm = optimize_problem(problem, run_config, previous_plan=(cold.plan.purchases, cold.plan.transfers))
    assert warm.details["start_plan_cost"] is not None
    assert warm.report.objective is not None and warm.report.objective <= warm.details["start_plan_cost"] + 1e-6
    # Last week's lines are priced to keep (plan_change_cost), block by block: the published
    # terms, that constant included, still add up to the objective.
    assert cold.plan.costs["plan_change_cost"] == 0.0 and warm.plan.costs["plan_change_cost"] >= 0.0
    assert sum(warm.plan.costs.values()) == pytest.approx(warm.report.objective, rel=1e-9)
    # Without a whole model the budget prices are the master LP's duals of the budget rows.
    prices = warm.budget_prices
    assert set(prices) == {b.budget_id for b in problem.budgets} and all(price >= 0 for price in prices.values())
