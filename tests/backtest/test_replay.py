"""The replay: no information from the future, contract-valid rebuilt tables, the planner's first week firmed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from planning.backtest.engine import run_backtest
from planning.backtest.policies import PlannerPolicy, WeekView, lines_changed, reorder_point_policy
from planning.backtest.replay import ForecastCache, replay, tables_as_known, typed_tables
from planning.backtest.settings import BacktestSettings
from planning.backtest.simulate import Decisions, InTransit, Simulator
from planning.demo_data import write_demo_tables
from planning.inputs import load_input_tables
from planning.storage import LocalStorage
from planning.validation import validate_inputs
from tests.backtest.helpers import START, raw_tables, rng_demand, tiny_config, tiny_tables


@dataclass
class Recorder:
    """Wraps a policy and records the latest date of everything it was shown."""

    inner: object
    name: str = "recorder"
    seen: list[dict[str, object]] = field(default_factory=list)

    def decide(self, view: WeekView) -> Decisions:
        tables = view.tables
        self.seen.append(
            {
                "week": view.week_start,
                "history_max": tables["demand_history"]["date"].max(),
                "inventory_as_of": tables["inventory"]["as_of_date"].max(),
                "problem_as_of": view.problem.as_of,
            }
        )
        return self.inner.decide(view)  # type: ignore[attr-defined]


def test_each_week_sees_history_strictly_before_it_and_the_simulated_position() -> None:
    recorder = Recorder(reorder_point_policy(1.0))
    replay(tiny_tables(), recorder, tiny_config(), start=START, weeks=4)
    assert [s["week"] for s in recorder.seen] == [START + timedelta(weeks=k) for k in range(4)]
    for seen in recorder.seen:
        week = pd.Timestamp(seen["week"])
        assert seen["history_max"] < week  # the history ends before the week
        assert seen["history_max"] == week - timedelta(weeks=1)  # ... and reaches the week just ended
        assert seen["inventory_as_of"] == week
        assert seen["problem_as_of"] == seen["week"]


def _decisions_before(tables: dict[str, pd.DataFrame], policy: object, cut: date) -> pd.DataFrame:
    run = replay(tables, policy, tiny_config(), start=START, weeks=5)  # type: ignore[arg-type]
    purchases = run.purchases[run.purchases["order_date"] < cut]
    return purchases[["order_date", "sku", "quantity"]].reset_index(drop=True)


@pytest.mark.parametrize("make", [lambda: reorder_point_policy(1.0), PlannerPolicy], ids=["reorder_point", "planner"])
def test_poisoned_future_demand_changes_no_decision_before_it(make: object) -> None:
    """Demand from week 3 on x1000: weeks 0-2 must decide exactly the same (a leak would change them)."""
    demand = rng_demand(5)
    honest = tiny_tables(demand=demand)
    poisoned = tiny_tables(demand=lambda sku, k: demand(sku, k) * (1000 if k >= 3 else 1))
    cut = START + timedelta(weeks=3)
    before = _decisions_before(honest, make(), cut)  # type: ignore[operator]
    assert not before.empty
    pd.testing.assert_frame_equal(before, _decisions_before(poisoned, make(), cut))  # type: ignore[operator]
    # Once the poisoned week is history (week 4), decisions do change: the test can tell a leak
    # from a policy that ignores demand altogether.
    end = START + timedelta(weeks=5)
    assert not _decisions_before(honest, make(), end).equals(_decisions_before(poisoned, make(), end))  # type: ignore[operator]


def test_rebuilt_tables_pass_the_input_contracts(tmp_path: Path) -> None:
    tables = tiny_tables()
    sim = Simulator.from_tables(tables["inventory"], None)
    run = replay(tables, reorder_point_policy(1.0), tiny_config(), start=START, weeks=2)
    assert len(run.purchases)  # something is in the pipeline
    for line in run.purchases.itertuples(index=False):
        sim.pipeline.append(
            InTransit(
                line.order_id,
                line.sku,
                line.supplier,
                "supplier",
                line.ship_to,
                line.quantity,
                line.expected_arrival,
                line.actual_arrival,
            )
        )
    week = START + timedelta(weeks=2)
    known = tables_as_known(tables, week, sim)
    raw = {name: frame.drop(columns=[c for c in frame.columns if c.startswith("_")]) for name, frame in known.items()}
    write_demo_tables(raw, tmp_path)
    report = validate_inputs(load_input_tables(LocalStorage(tmp_path)), inputs_uri=str(tmp_path), as_of=week)
    assert report.is_valid, [f.describe() for f in report.errors]


def test_the_planner_firms_exactly_the_first_week_of_its_plan() -> None:
    planner = PlannerPolicy(keep_runs=True)
    run = replay(tiny_tables(), planner, tiny_config(), start=START, weeks=3)
    assert len(planner.runs) == 3
    for week, plan_run in zip(range(3), planner.runs, strict=True):
        first = plan_run.plan.purchases[plan_run.plan.purchases["order_week"] == 0]
        placed = run.purchases[run.purchases["order_date"] == START + timedelta(weeks=week)]
        assert sorted(zip(first["sku"], first["quantity"], strict=True)) == sorted(
            zip(placed["sku"], placed["quantity"], strict=True)
        )


def test_nervousness_counts_the_lines_a_replan_changed() -> None:
    planner = PlannerPolicy(keep_runs=True)
    run = replay(tiny_tables(), planner, tiny_config(), start=START, weeks=3)
    # Weeks 2 and 3 each compare with the plan before them; week 1 has none.
    assert run.plan_changes["week_start"].tolist() == [START + timedelta(weeks=1), START + timedelta(weeks=2)]
    for k in (1, 2):
        before, after = planner.runs[k - 1].plan.purchases, planner.runs[k].plan.purchases
        last = START + timedelta(weeks=k - 1 + tiny_config().horizon.weeks - 1)
        expected = lines_changed(before, after, START + timedelta(weeks=k), last)
        assert run.plan_changes["lines_changed"].iloc[k - 1] == expected
    rule = replay(tiny_tables(), reorder_point_policy(1.0), tiny_config(), start=START, weeks=2)
    assert rule.plan_changes.empty  # a rule plans no further than the week


def test_lines_changed_counts_added_dropped_and_moved_lines_inside_the_common_dates() -> None:
    def plan(*lines: tuple[str, date, float]) -> pd.DataFrame:
        rows = [(sku, "S", "WH", "standard", when, qty) for sku, when, qty in lines]
        return pd.DataFrame(rows, columns=["sku", "supplier", "ship_to", "mode", "order_date", "quantity"])

    w = [START + timedelta(weeks=k) for k in range(6)]
    previous = plan(("A", w[0], 5), ("A", w[1], 5), ("B", w[2], 5), ("C", w[4], 5), ("D", w[5], 5))
    # A's week-1 line kept (a new quantity is no new line), B's moved from week 2 to 3 (2), C's
    # dropped (1), E's added (1); A's week 0 (already placed) and D's week 5 (past the earlier plan's
    # last week, 4) are outside the dates both plans cover.
    current = plan(("A", w[1], 9), ("B", w[3], 5), ("E", w[2], 5), ("D", w[5], 0), ("F", w[5], 5))
    assert lines_changed(previous, current, w[1], w[4]) == 4


def test_shared_forecasts_are_made_once_per_week() -> None:
    tables, config = tiny_tables(), tiny_config()
    cache = ForecastCache(config)
    replay(tables, reorder_point_policy(0.5), config, start=START, weeks=3, forecasts=cache)
    first = dict(cache.runs)
    replay(tables, reorder_point_policy(2.0), config, start=START, weeks=3, forecasts=cache)
    assert cache.runs == first and len(first) == 3


def test_a_short_backtest_compares_the_planner_with_tuned_baselines() -> None:
    tables = typed_tables(raw_tables(demand=rng_demand(3), on_hand=(15.0, 6.0)))
    settings = BacktestSettings(weeks=4, warmup_weeks=1, tuning={"grid_points": 3, "iterations": 2})
    result = run_backtest(tables, tiny_config(), settings)
    outcomes = result.outcomes.set_index("policy")
    assert list(outcomes.index) == ["planner", "reorder_point", "weeks_of_cover"]
    assert outcomes["demand_units"].nunique() == 1  # same weeks, same actual demand
    for policy in ("reorder_point", "weeks_of_cover"):
        if outcomes.loc[policy, "reached_planner_fill_rate"]:
            assert outcomes.loc[policy, "fill_rate"] >= outcomes.loc["planner", "fill_rate"] - 1e-12
    costs = outcomes[["holding_cost", "ordering_cost", "lost_margin", "freight_cost"]].sum(axis=1)
    pd.testing.assert_series_equal(costs, outcomes["total_cost"], check_names=False)
    assert set(result.tuning["policy"]) == {"planner", "reorder_point", "weeks_of_cover"}
    assert len(result.forecast_actual) == 4 * 2  # 4 weeks x 2 SKU-locations
    # Measured after the warm-up week; the whole window is reported too.
    assert set(outcomes["weeks"]) == {3} and set(result.outcomes_full_window["weeks"]) == {4}
    full = result.outcomes_full_window.set_index("policy")
    assert (full["demand_units"] >= outcomes["demand_units"]).all()
