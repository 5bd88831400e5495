"""The service-cost frontier and the planner's comparison with the rules, on inline runs."""

from __future__ import annotations

import pandas as pd
import pytest

from planning.backtest.frontier import frontier, planner_against_rules


def _runs() -> pd.DataFrame:
    rows = [
        # policy, parameter, fill rate, total cost, POs
        ("planner", 0.90, 0.93, 800.0, 10),
        ("planner", 0.95, 0.96, 900.0, 11),
        ("planner", 0.98, 0.95, 950.0, 12),  # serves less than the 0.95 run for more: off the frontier
        ("reorder_point", 0.0, 0.85, 700.0, 20),  # below the compared band
        ("reorder_point", 1.0, 0.92, 1000.0, 25),
        ("reorder_point", 2.0, 0.97, 1200.0, 30),  # no planner run serves 97 %
    ]
    frame = pd.DataFrame(rows, columns=["policy", "parameter", "fill_rate", "total_cost", "purchase_orders"])
    return frame.assign(purchase_lines=0, lines_changed_per_week=0.0, spend_vs_budget=1.0)


def test_a_run_beaten_on_fill_rate_and_cost_is_off_the_frontier() -> None:
    points = frontier(_runs())
    on = {(r.policy, r.parameter): r.on_frontier for r in points.itertuples()}
    assert on == {
        ("planner", 0.90): True,
        ("planner", 0.95): True,
        ("planner", 0.98): False,
        ("reorder_point", 0.0): True,
        ("reorder_point", 1.0): True,
        ("reorder_point", 2.0): True,
    }


def test_each_rule_run_in_the_band_meets_the_cheapest_planner_run_that_serves_as_well() -> None:
    comparison = planner_against_rules(frontier(_runs()))
    assert list(comparison["rule_parameter"]) == [1.0, 2.0]  # 85 % is outside 90-99 %
    at_92 = comparison.iloc[0]
    # Planner runs at >= 92 %: 800 (93 %), 900, 950; the cheapest is 800: saving 1 - 800 / 1000 = 20 %.
    assert at_92["planner_parameter"] == 0.90
    assert at_92["saving"] == pytest.approx(0.20)
    assert at_92["planner_purchase_orders"] == 10
    assert pd.isna(comparison.iloc[1]["saving"])  # nothing of the planner reaches 97 %
