"""The service-cost frontier: every evaluated run of every policy, and the planner against the rules.

Each run of the backtest (the planner at each service setting, each rule at each parameter of
its tuning grid) is one point: fill rate against total cost, with the purchase orders, lines and
re-planning churn it took. A policy's frontier is its points that no other point of the same
policy beats on both fill rate and cost.

The comparison the planner has to win: for each rule point with a fill rate in the compared
band (90-99 % by default), the cheapest planner point at the same or a higher fill rate. The
planner's cost is taken at a fill rate at least the rule's, never interpolated, so the saving
errs against the planner. A rule point no planner point reaches is reported with no saving.

With a clairvoyant run (``planning.backtest.clairvoyant``: the model solved once over the
window with the actual demand) every point carries its cost above the clairvoyant's,
total cost / clairvoyant total cost - 1, next to the fill rates of both.
"""

from __future__ import annotations

import pandas as pd

from planning.backtest.settings import CLAIRVOYANT

FRONTIER_COLUMNS = (
    "policy",
    "parameter",
    "fill_rate",
    "total_cost",
    "purchase_orders",
    "purchase_lines",
    "lines_changed_per_week",
    "spend_vs_budget",
    "on_frontier",
    "cost_above_clairvoyant",
)
COMPARISON_COLUMNS = (
    "rule",
    "rule_parameter",
    "rule_fill_rate",
    "rule_total_cost",
    "rule_purchase_orders",
    "planner_parameter",
    "planner_fill_rate",
    "planner_total_cost",
    "planner_purchase_orders",
    "saving",
)


def frontier(trace: pd.DataFrame) -> pd.DataFrame:
    """Every evaluated run (``FRONTIER_COLUMNS``), flagged ``on_frontier`` when no run of its policy
    has both a higher-or-equal fill rate and a lower cost."""
    runs = trace.reindex(columns=list(FRONTIER_COLUMNS[:-2])).copy()
    runs = runs.sort_values(["policy", "fill_rate", "total_cost"], ascending=[True, False, True], kind="stable")
    on = []
    for _, part in runs.groupby("policy", sort=False):
        cheapest = float("inf")
        for cost in part["total_cost"]:  # by falling fill rate: on the frontier if cheaper than every better-served run
            on.append(bool(cost < cheapest))
            cheapest = min(cheapest, float(cost))
    runs["on_frontier"] = on
    clairvoyant = runs[runs["policy"] == CLAIRVOYANT]
    limit = float(clairvoyant["total_cost"].iloc[0]) if not clairvoyant.empty else float("nan")
    runs["cost_above_clairvoyant"] = runs["total_cost"] / limit - 1 if limit > 0 else float("nan")
    return runs.sort_values(["policy", "fill_rate"], kind="stable").reset_index(drop=True)


def planner_against_rules(points: pd.DataFrame, band: tuple[float, float] = (0.90, 0.99)) -> pd.DataFrame:
    """For each rule run with a fill rate inside ``band``, the cheapest planner run that serves at
    least as well, and the saving 1 - planner / rule (``COMPARISON_COLUMNS``)."""
    planner = points[points["policy"] == "planner"]
    rules = points[~points["policy"].isin(["planner", CLAIRVOYANT]) & points["fill_rate"].between(*band)]
    rows = []
    for rule in rules.to_dict("records"):
        serving = planner[planner["fill_rate"] >= rule["fill_rate"]].sort_values("total_cost", kind="stable")
        best = serving.iloc[0].to_dict() if not serving.empty else {}
        rule_cost = float(rule["total_cost"])
        rows.append(
            {
                "rule": rule["policy"],
                "rule_parameter": rule["parameter"],
                "rule_fill_rate": rule["fill_rate"],
                "rule_total_cost": rule_cost,
                "rule_purchase_orders": rule["purchase_orders"],
                "planner_parameter": best.get("parameter"),
                "planner_fill_rate": best.get("fill_rate"),
                "planner_total_cost": best.get("total_cost"),
                "planner_purchase_orders": best.get("purchase_orders"),
                "saving": 1 - float(best["total_cost"]) / rule_cost if best and rule_cost > 0 else None,
            }
        )
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
