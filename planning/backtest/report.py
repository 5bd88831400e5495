"""The backtest's HTML page: outcomes per policy, cost breakdown, weekly service and stock, tuning.

Self-contained like the plan report (inline SVG charts drawn with matplotlib's object API, the
plan report's style and SVG writer), so the same result gives the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from planning.backtest.engine import BacktestResult
from planning.plan_report import STYLE, html_table, svg

COLORS = {"planner": "#1b6ca8", "reorder_point": "#c0392b", "weeks_of_cover": "#7f8c8d", "clairvoyant": "#27ae60"}
MARKERS: dict[str, dict[str, Any]] = {
    "planner": {"marker": "*", "markersize": 12, "linestyle": "none"},
    "clairvoyant": {"marker": "D", "markersize": 8, "linestyle": "none"},
}
COST_TERMS = ("holding_cost", "ordering_cost", "lost_margin", "freight_cost")
SHOWN = {
    "policy": "",
    "parameter": ".2f",
    "fill_rate": ".2%",
    "stockout_weeks": ",.0f",
    "average_inventory_value": ",.0f",
    "annual_turnover": ".2f",
    "sell_through": ".1%",
    "weeks_of_supply": ".2f",
    "purchase_lines": ",.0f",
    "purchase_orders": ",.0f",
    "lines_changed_per_week": ",.1f",
    "purchase_spend": ",.0f",
    "spend_vs_budget": ".1%",
    "weeks_over_budget": ",.0f",
    "holding_cost": ",.0f",
    "ordering_cost": ",.0f",
    "lost_margin": ",.0f",
    "freight_cost": ",.0f",
    "total_cost": ",.0f",
    "reached_planner_fill_rate": "",
}


def cost_chart(outcomes: pd.DataFrame) -> str:
    figure = Figure(figsize=(6.5, 3.4))
    ax = figure.subplots()
    bottom = pd.Series(0.0, index=outcomes.index)
    for term in COST_TERMS:
        ax.bar(outcomes["policy"], outcomes[term], bottom=bottom, label=term.replace("_", " "))
        bottom += outcomes[term]
    ax.set_ylabel("cost over the window")
    ax.legend(fontsize=7)
    return svg(figure)


def weekly_chart(weekly: pd.DataFrame, column: str, label: str) -> str:
    figure = Figure(figsize=(8, 2.8))
    ax = figure.subplots()
    for policy, part in weekly.groupby("policy", sort=False):
        ax.plot(part["week_start"], part[column], label=str(policy), color=COLORS.get(str(policy)))
    ax.set_ylabel(label)
    ax.legend(fontsize=7)
    figure.autofmt_xdate()
    return svg(figure)


def tuning_chart(tuning: pd.DataFrame) -> str:
    figure = Figure(figsize=(6.5, 3.4))
    ax = figure.subplots()
    for policy, part in tuning.groupby("policy", sort=False):
        part = part.sort_values("fill_rate")
        style: dict[str, Any] = MARKERS.get(str(policy), {"marker": "o"})
        ax.plot(part["fill_rate"], part["total_cost"], label=str(policy), color=COLORS.get(str(policy)), **style)
    ax.set_xlabel("fill rate")
    ax.set_ylabel("total cost")
    ax.legend(fontsize=7)
    return svg(figure)


def clairvoyant_note(solve: Mapping[str, object]) -> str:
    """What the clairvoyant's one solve proved, or that the backtest ran without it."""
    if not solve:
        return (
            "<p>No clairvoyant run (add <code>clairvoyant</code> to <code>backtest.policies</code>): the limit "
            "no policy can beat is not drawn.</p>"
        )
    gap = solve.get("gap")
    proven = f"{float(gap):.2%}" if isinstance(gap, int | float) else "unknown"
    return (
        "<p><i>clairvoyant</i>: the model solved once over the whole window with the actual demand known, "
        "executed as planned; <i>cost_above_clairvoyant</i> = total cost / the clairvoyant's - 1. Its solve "
        f"ended {html.escape(str(solve.get('status')))} with a proven gap of {proven} in the model's own terms "
        "(the simulated cost above is what counts).</p>"
    )


def render_backtest_report(result: BacktestResult, run_id: str, notes: Mapping[str, str]) -> bytes:
    """The report page as UTF-8 bytes."""
    outcomes = result.outcomes
    shown = outcomes[list(SHOWN)]
    numbers = {k: v for k, v in SHOWN.items() if v}
    facts = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in notes.items())
    bias, wape = outcomes["forecast_bias"].iloc[0], outcomes["forecast_wape"].iloc[0]
    body = [
        f"<h1>Backtest {html.escape(run_id)}: {result.weeks} weeks from {result.start}</h1>",
        f"<ul>{facts}</ul>",
        f"<h2>Outcomes per policy, after a {result.warmup_weeks}-week warm-up</h2>",
        "<p>Baselines are tuned to the planner's fill rate (the cheapest evaluated parameter at or above "
        "it); <i>reached</i> is false when no parameter in range reached it. Total cost = holding + "
        "ordering + lost margin + freight.</p>",
        html_table(shown, numbers),
        "<h3>The same runs over the whole window, warm-up included</h3>",
        html_table(result.outcomes_full_window[[c for c in SHOWN if c != "reached_planner_fill_rate"]], numbers),
        f"<p>Forecast against actual (week 0 of each week's forecast, shared by every policy): bias "
        f"{bias:+.1%}, WAPE {wape:.1%}.</p>",
        "<h2>Cost breakdown</h2>",
        cost_chart(outcomes),
        "<h2>Fill rate week by week</h2>",
        weekly_chart(result.weekly, "fill_rate", "fill rate"),
        "<h2>Closing stock value week by week</h2>",
        weekly_chart(result.weekly, "inventory_value", "stock value"),
        "<h2>Service-cost frontier: every evaluated run</h2>",
        "<p>The planner at each service setting (<i>parameter</i>: every SKU's service target; empty: the "
        "configured targets), each rule at "
        "each parameter of its tuning grid (z; weeks of cover). <i>on_frontier</i>: no run of the same policy "
        "serves as well for less.</p>",
        tuning_chart(result.tuning),
        html_table(
            result.frontier,
            {
                "parameter": ".3f",
                "fill_rate": ".3%",
                "total_cost": ",.0f",
                "purchase_orders": ",.0f",
                "purchase_lines": ",.0f",
                "lines_changed_per_week": ".1f",
                "spend_vs_budget": ".1%",
                "cost_above_clairvoyant": ".1%",
            },
        ),
        clairvoyant_note(result.clairvoyant_solve),
        "<h3>The planner against each rule run with 90-99 % fill</h3>",
        "<p>The cheapest planner run at the same or a higher fill rate; saving = 1 - planner cost / rule "
        "cost (empty when no planner run serves as well).</p>",
        html_table(
            result.comparison,
            {
                "rule_parameter": ".3f",
                "rule_fill_rate": ".3%",
                "rule_total_cost": ",.0f",
                "rule_purchase_orders": ",.0f",
                "planner_parameter": ".3f",
                "planner_fill_rate": ".3%",
                "planner_total_cost": ",.0f",
                "planner_purchase_orders": ",.0f",
                "saving": ".1%",
            },
        ),
    ]
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>buyplan backtest {html.escape(run_id)}</title>"
    page += f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>"
    return page.encode()
