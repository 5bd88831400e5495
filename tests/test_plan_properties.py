"""Properties on random small instances: every invariant holds on the plan tables, and more
stock on hand never raises the optimal cost. Also: the invariant checks catch a broken plan."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import build_model
from planning.checks import check_plan
from planning.config import RunConfig, parse_config
from planning.forecast import external_forecast
from planning.inputs import load_input_tables
from planning.plan import PlanTables, extract_plan
from planning.problem import PlanningProblem, build_problem
from planning.solve import PlanStatus, load_values, solve_model
from planning.storage import LocalStorage
from tests.inline_tables import write_tables

AS_OF = date(2027, 3, 1)  # a Monday


def instance_tables(
    pack: int, moq: int, lead: int, capacity: str, budget: float | None, on_hand: list[int], demand: list[int]
) -> dict[str, str]:
    """Two SKUs, a warehouse and a marketplace joined by a lane, 6 weeks.

    ``demand`` holds 24 weekly figures (2 SKUs x 2 locations x 6 weeks), reused as error spreads / 5.
    """
    weeks = 6
    cells = iter(demand)
    forecast = "".join(
        f"{sku},{loc},{ch},{AS_OF + timedelta(weeks=t)},{(units := next(cells))},{units // 5}\n"
        for sku in ("A", "B")
        for loc, ch in (("WH", "web"), ("MKT", "amazon"))
        for t in range(weeks)
    )
    tables = {
        "items": "sku,category,unit_cost,selling_price,case_pack,status\nA,Cat,4,10,1,active\nB,Cat,7,15,1,active\n",
        # No warehouse capacity: extra stock must never force a priced capacity overrun (see the property).
        "locations": "location,type,capacity,channels\nWH,warehouse,,web\nMKT,marketplace,,amazon\n",
        "suppliers": f"supplier,currency,po_minimum_value,fixed_cost_per_po,weekly_capacity_units,deposit_share\nS,USD,100,20,{capacity},0.5\n",
        "sourcing_options": (
            "sku,supplier,ship_to,unit_cost,moq,order_multiple,lead_time_weeks\n"
            f"A,S,WH,4,{moq},{pack},{lead}\nB,S,WH,7,{moq},{pack},{lead}\n"
        ),
        "transfer_lanes": "from_location,to_location,lead_time_weeks,cost_per_unit,min_shipment\nWH,MKT,1,0.3,10\n",
        "inventory": f"sku,location,on_hand,as_of_date\nA,WH,{on_hand[0]},{AS_OF}\nB,WH,{on_hand[1]},{AS_OF}\nA,MKT,{on_hand[2]},{AS_OF}\n",
        "demand_history": f"date,sku,location,channel,units\n{AS_OF - timedelta(weeks=1)},A,WH,web,5\n",
        "external_forecast": "sku,location,channel,week_start,units,units_std\n" + forecast,
    }
    if budget is not None:
        tables["budgets"] = "period_start,period,cash_limit\n" + "".join(
            f"{AS_OF + timedelta(weeks=t)},week,{budget}\n" for t in range(weeks)
        )
    return tables


instances = st.builds(
    instance_tables,
    pack=st.sampled_from([1, 6, 12]),
    moq=st.sampled_from([0, 24, 60]),
    lead=st.integers(0, 2),
    capacity=st.sampled_from(["", "80", "200"]),
    budget=st.sampled_from([None, 400.0, 2000.0]),
    on_hand=st.lists(st.integers(0, 60), min_size=3, max_size=3),
    demand=st.lists(st.integers(0, 40), min_size=24, max_size=24),
)


def _problem(tables: dict[str, str]) -> tuple[PlanningProblem, RunConfig]:
    config = parse_config({"horizon": {"weeks": 6}, "solver": {"mip_rel_gap": 0.0, "time_limit_s": 30}})
    with tempfile.TemporaryDirectory() as folder:
        typed = {n: t.typed for n, t in load_input_tables(LocalStorage(write_tables(Path(folder), tables))).items()}
    forecast = external_forecast(typed["external_forecast"], AS_OF, 6)
    return build_problem(typed, forecast, config, AS_OF), config


def _solve(problem: PlanningProblem, config: RunConfig) -> tuple[float, PlanTables]:
    model = build_model(problem)
    result = solve_model(model, config.solver)
    assert result.report.status is PlanStatus.OPTIMAL
    load_values(model, result)
    assert result.report.objective is not None
    return result.report.objective, extract_plan(model, problem, config.horizon.frozen_weeks)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances, st.integers(1, 50))
def test_invariants_hold_and_more_stock_never_costs_more(tables: dict[str, str], extra: int) -> None:
    problem, config = _problem(tables)
    cost, plan = _solve(problem, config)
    assert check_plan(plan, problem) == []
    richer = replace(
        problem, initial_stock={**problem.initial_stock, ("A", "WH"): problem.initial_stock[("A", "WH")] + extra}
    )
    richer_cost, richer_plan = _solve(richer, config)
    assert check_plan(richer_plan, richer) == []
    # The old plan stays feasible with the extra units simply kept: it costs at most their holding
    # over the horizon, less what they add to the closing stock's worth. Stock used instead of buying only helps.
    holding = problem.items["A"].holding_cost * extra * len(problem.week_starts)
    at_wh = plan.inventory[(plan.inventory["sku"] == "A") & (plan.inventory["location"] == "WH")]
    closing = float(at_wh.sort_values("week_start")["closing"].iloc[-1])
    credit = problem.closing_worth(("A", "WH"), closing + extra) - problem.closing_worth(("A", "WH"), closing)
    assert richer_cost <= cost + holding - credit + 1e-6


def test_checks_catch_a_broken_plan(tmp_path: Path) -> None:
    problem, config = _problem(instance_tables(6, 24, 1, "200", 2000.0, [10, 0, 5], [12] * 24))
    _, plan = _solve(problem, config)
    broken_inventory = plan.inventory.copy()
    broken_inventory.loc[0, "closing"] += 5
    broken = replace(plan, inventory=broken_inventory)
    rules = {v.rule for v in check_plan(broken, problem)}
    assert {"balance", "continuity"} <= rules
    assert len(plan.purchases) > 0  # 12 units a week against 15 on hand: the plan must buy
    bad_orders = plan.purchases.copy()
    bad_orders.loc[0, "quantity"] += 0.5
    assert "order_multiple" in {v.rule for v in check_plan(replace(plan, purchases=bad_orders), problem)}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances)
def test_lot_sizing_cuts_cut_off_no_optimal_plan(tables: dict[str, str]) -> None:
    problem, config = _problem(tables)
    with_cuts = build_model(problem)
    without_cuts = build_model(problem)
    without_cuts.lot_sizing_cut.deactivate()
    costs = []
    for model in (with_cuts, without_cuts):
        result = solve_model(model, config.solver)
        assert result.report.status is PlanStatus.OPTIMAL
        costs.append(result.report.objective)
    assert costs[0] == pytest.approx(costs[1], abs=1e-6)


def test_checks_catch_stock_above_warehouse_space() -> None:
    # The warehouse (400 units here) may not hold more than its space unless an overrun is reported.
    tables = instance_tables(6, 24, 1, "200", 2000.0, [10, 0, 5], [12] * 24)
    tables["locations"] = tables["locations"].replace("WH,warehouse,,web", "WH,warehouse,400,web")
    problem, config = _problem(tables)
    _, plan = _solve(problem, config)
    assert check_plan(plan, problem) == []
    crowded = plan.inventory.copy()
    crowded.loc[crowded["location"] == "WH", "closing"] += 1000
    assert "location_capacity" in {v.rule for v in check_plan(replace(plan, inventory=crowded), problem)}
