"""The clairvoyant: the window's actual demand as its forecast, one solve, executed as planned."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from planning.backtest.clairvoyant import ClairvoyantPolicy, actual_demand_forecast, clairvoyant_config
from planning.backtest.engine import run_backtest
from planning.backtest.replay import replay, typed_tables
from planning.backtest.settings import BacktestSettings
from tests.backtest.helpers import START, raw_tables, rng_demand, tiny_config, tiny_tables


def test_the_forecast_is_the_window_actual_demand_by_week() -> None:
    tables = tiny_tables(window=6)
    forecast = actual_demand_forecast(tables["demand_history"], START, 4).frame
    a = forecast[forecast["sku"] == "A"].sort_values("week")
    # demand_a(k) = 10 + k % 3 for k = 0..3: 10, 11, 12, 10; history before START is not in it.
    assert a["week"].tolist() == [0, 1, 2, 3] and a["units"].tolist() == [10.0, 11.0, 12.0, 10.0]
    b = forecast[forecast["sku"] == "B"].sort_values("week")
    # demand_b(k) = 0 when k % 4 == 0, else 5: week 0 sells nothing and has no row.
    assert b["week"].tolist() == [1, 2, 3] and b["units"].tolist() == [5.0, 5.0, 5.0]
    assert (forecast["units_std"] == 0).all()  # the outcome is known: no safety stock


def test_the_config_plans_the_whole_window_within_the_clairvoyant_time_limit() -> None:
    config = clairvoyant_config(tiny_config(weeks=6), 20, 42.0)
    assert config.horizon.weeks == 20 and config.solver.time_limit_s == 42.0
    assert config.costs == tiny_config(weeks=6).costs


def test_one_solve_is_executed_as_planned_and_the_simulation_meets_its_projection() -> None:
    tables = typed_tables(raw_tables(demand=rng_demand(5), on_hand=(15.0, 6.0), window=12))
    policy = ClairvoyantPolicy(tables["demand_history"], weeks=12, time_limit_s=20.0)
    run = replay(tables, policy, tiny_config(weeks=4), start=START, weeks=12)
    assert policy.run is not None and policy.problem is not None
    plan = policy.run.plan
    assert plan.purchases["order_week"].max() > 0  # it planned past week 0 and was not re-planned
    placed = sorted(
        zip(
            run.purchases["sku"],
            pd.to_datetime(run.purchases["order_date"]).dt.date,
            run.purchases["quantity"],
            strict=True,
        )
    )
    planned = sorted(
        zip(
            plan.purchases["sku"],
            [START + timedelta(weeks=int(w)) for w in plan.purchases["order_week"]],
            plan.purchases["quantity"],
            strict=True,
        )
    )
    assert placed == planned
    # Lead times hold (no noise) and the demand is the plan's: the simulated stock is the projection.
    inventory = plan.inventory.assign(week_start=pd.to_datetime(plan.inventory["week_start"]))
    projected = inventory.set_index(["sku", "week_start"])[["served", "closing"]]
    simulated = run.stock.assign(week_start=pd.to_datetime(run.stock["week_start"])).set_index(["sku", "week_start"])
    joined = projected.merge(
        simulated[["served", "closing"]], left_index=True, right_index=True, suffixes=("", "_simulated")
    )
    assert len(joined) == 2 * 12
    assert (joined["served"] - joined["served_simulated"]).abs().max() < 1e-6
    assert (joined["closing"] - joined["closing_simulated"]).abs().max() < 1e-6


def test_the_backtest_reports_every_run_cost_above_the_clairvoyant() -> None:
    tables = typed_tables(raw_tables(demand=rng_demand(3), on_hand=(15.0, 6.0)))
    settings = BacktestSettings(
        weeks=4,
        policies=("planner", "reorder_point", "clairvoyant"),
        clairvoyant_time_limit_s=20.0,
        tuning={"grid_points": 3, "iterations": 1},
    )
    result = run_backtest(tables, tiny_config(), settings)
    assert "clairvoyant" in set(result.outcomes["policy"])
    points = result.frontier
    limit = float(points.loc[points["policy"] == "clairvoyant", "total_cost"].iloc[0])
    expected = points["total_cost"] / limit - 1
    pd.testing.assert_series_equal(points["cost_above_clairvoyant"], expected, check_names=False)
    assert points.loc[points["policy"] == "clairvoyant", "cost_above_clairvoyant"].iloc[0] == 0.0
    assert result.clairvoyant_solve["status"] in {"optimal", "time_limit_with_plan", "limit_with_plan"}
    assert "clairvoyant" not in set(result.comparison["rule"])  # the clairvoyant is not a rule
