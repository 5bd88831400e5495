"""Outcomes of one policy's replay, over the W replayed weeks and every SKU x location.

* fill rate = served / demand (units; with backorders late-served units count);
* stockout weeks = SKU x location x weeks with lost sales (or a backlog);
* average inventory units / value = sum of closing stock (x unit cost) / W;
* inventory turnover (annual) = cost of goods sold / average inventory value x 52 / W;
* sell-through = served / (served + closing stock at the end of the window);
* weeks of supply = average closing units / average weekly demand;
* lines changed per week (nervousness) = purchase lines (option and order date) the week's plan
  added or dropped against the previous week's over the dates both cover, averaged over the
  weeks; empty for rules, whose plan is only the week's orders;
* purchase spend = value of the lines firmed; cash paid (deposits when ordering, balances on
  arrival) against the overall budget rows (all categories and suppliers) of the window;
* costs: holding = sum closing x h_i (items override, else holding rate x unit cost);
  ordering = order-line cost per line + the supplier's fixed cost per purchase order;
  lost margin = lost units x (selling price - unit cost); freight = transfer units x lane cost;
  total cost = holding + ordering + lost margin + freight;
* measured over the weeks after ``warmup_weeks`` (``after_warmup``) when a warm-up is set: every
  policy starts from the same synthetic position, and the first weeks show how it copes with
  that start rather than how it runs;
* forecast against actual (week 0 of each week's forecast, per SKU x location): bias =
  (sum F - sum A) / sum A and WAPE = sum |F - A| / sum A. Every policy shares the forecast, so
  these are the same for all of them and say how good the information was, not the policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from planning.backtest.replay import ForecastCache, PolicyRun
from planning.backtest.simulate import StockPoint
from planning.config import RunConfig
from planning.problem import rows_of

TOLERANCE = 1e-9
OUTCOME_COLUMNS = (
    "policy",
    "parameter",
    "weeks",
    "demand_units",
    "served_units",
    "lost_units",
    "fill_rate",
    "stockout_weeks",
    "average_inventory_units",
    "average_inventory_value",
    "annual_turnover",
    "sell_through",
    "weeks_of_supply",
    "purchase_lines",
    "purchase_orders",
    "lines_changed_per_week",
    "purchase_spend",
    "cash_paid",
    "budget",
    "spend_vs_budget",
    "weeks_over_budget",
    "holding_cost",
    "ordering_cost",
    "lost_margin",
    "freight_cost",
    "total_cost",
    "forecast_bias",
    "forecast_wape",
)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if abs(denominator) > TOLERANCE else float("nan")


def item_rates(items: pd.DataFrame, config: RunConfig) -> pd.DataFrame:
    """unit_cost, margin and holding cost per unit-week per SKU (the planner's own rules)."""
    holding = items["holding_cost_per_unit_week"].astype("float64")
    return pd.DataFrame(
        {
            "unit_cost": items["unit_cost"].astype("float64").to_numpy(),
            "margin": (items["selling_price"] - items["unit_cost"]).clip(lower=0).astype("float64").to_numpy(),
            "holding": holding.fillna(items["unit_cost"] * config.costs.holding_rate_per_week).to_numpy(),
        },
        index=items["sku"].astype(str).to_numpy(),
    )


def overall_budget_by_week(budgets: pd.DataFrame | None, start: date, weeks: int) -> pd.Series:
    """Cash limit of each replayed week from the overall budget rows (monthly rows spread evenly
    over the Mondays of their month)."""
    mondays = [start + timedelta(weeks=k) for k in range(weeks)]
    limit: dict[date, float] = {}
    overall = (
        budgets[budgets["category"].fillna("").eq("") & budgets["supplier"].fillna("").eq("")]
        if budgets is not None
        else None
    )
    for row in rows_of(overall) if overall is not None else []:
        first = pd.Timestamp(row.period_start).date()
        if row.period == "week":
            covered = [m for m in mondays if first <= m < first + timedelta(days=7)]
            share = 1.0
        else:
            covered = [m for m in mondays if (m.year, m.month) == (first.year, first.month)]
            share = 1.0 / max(1, len(covered))
        for monday in covered:
            limit[monday] = limit.get(monday, 0.0) + share * float(row.cash_limit)
    return pd.Series(
        [limit.get(m, np.nan) for m in mondays], index=pd.Index(mondays, name="week_start"), dtype="float64"
    )


def forecast_vs_actual(forecasts: ForecastCache, actuals: Mapping[date, Mapping[StockPoint, float]]) -> pd.DataFrame:
    """Week-0 forecast against actual units per week and SKU x location."""
    rows = []
    for week, run in sorted(forecasts.runs.items()):
        frame = run.forecast.frame
        first = frame[frame["week"] == 0].groupby(["sku", "location"])["units"].sum()
        actual = actuals.get(week, {})
        points = set(first.index) | set(actual)
        for point in sorted(points):
            rows.append(
                {
                    "week_start": week,
                    "sku": point[0],
                    "location": point[1],
                    "forecast": float(first.get(point, 0.0)),
                    "actual": float(actual.get(point, 0.0)),
                }
            )
    return pd.DataFrame(rows, columns=["week_start", "sku", "location", "forecast", "actual"])


def forecast_errors(frame: pd.DataFrame) -> tuple[float, float]:
    """(bias, WAPE) of forecast against actual."""
    actual = float(frame["actual"].sum())
    return (
        _ratio(float(frame["forecast"].sum()) - actual, actual),
        _ratio(float((frame["forecast"] - frame["actual"]).abs().sum()), actual),
    )


def policy_outcomes(
    run: PolicyRun,
    rates: pd.DataFrame,
    budget_by_week: pd.Series,
    forecast_actual: pd.DataFrame | None = None,
) -> dict[str, object]:
    """One row of the outcomes table (module docstring)."""
    stock = run.stock
    weeks = int(stock["week_start"].nunique())
    cost = stock["sku"].map(rates["unit_cost"]).fillna(0.0)
    demand, served = float(stock["demand"].sum()), float(stock["served"].sum())
    lost = float(stock["lost"].sum())
    average_value = float((stock["closing"] * cost).sum()) / max(weeks, 1)
    cogs = float((stock["served"] * cost).sum())
    last_week = stock["week_start"].max()
    left = float(stock.loc[stock["week_start"] == last_week, "closing"].sum())
    short = (stock["lost"] > TOLERANCE) | (stock["backlog"] > TOLERANCE)
    purchases = run.purchases
    holding = float((stock["closing"] * stock["sku"].map(rates["holding"]).fillna(0.0)).sum())
    ordering = float(purchases["line_cost"].sum() + purchases["po_fixed_cost"].sum())
    lost_margin = float((stock["lost"] * stock["sku"].map(rates["margin"]).fillna(0.0)).sum())
    freight = float(run.transfers["freight"].sum()) if not run.transfers.empty else 0.0
    cash = run.cash.set_index("week_start")["cash_paid"]
    budget = budget_by_week.reindex(cash.index)
    bias, wape = forecast_errors(forecast_actual) if forecast_actual is not None else (np.nan, np.nan)
    return {
        "policy": run.policy,
        "parameter": np.nan if run.parameter is None else run.parameter,
        "weeks": weeks,
        "demand_units": demand,
        "served_units": served,
        "lost_units": lost,
        "fill_rate": _ratio(served, demand),
        "stockout_weeks": int(short.sum()),
        "average_inventory_units": float(stock["closing"].sum()) / max(weeks, 1),
        "average_inventory_value": average_value,
        "annual_turnover": _ratio(cogs, average_value) * 52 / max(weeks, 1),
        "sell_through": _ratio(served, served + left),
        "weeks_of_supply": _ratio(float(stock["closing"].sum()) / max(weeks, 1), demand / max(weeks, 1)),
        "purchase_lines": len(purchases),
        "purchase_orders": int(purchases[["supplier", "ship_to", "order_date"]].drop_duplicates().shape[0]),
        "lines_changed_per_week": (
            float(run.plan_changes["lines_changed"].mean()) if not run.plan_changes.empty else np.nan
        ),
        "purchase_spend": float(purchases["line_value"].sum()),
        "cash_paid": float(cash.sum()),
        "budget": float(budget.sum()) if budget.notna().any() else np.nan,
        "spend_vs_budget": _ratio(float(cash[budget.notna()].sum()), float(budget.sum())),
        "weeks_over_budget": int((cash > budget * (1 + 1e-6) + 1e-6).sum()),
        "holding_cost": holding,
        "ordering_cost": ordering,
        "lost_margin": lost_margin,
        "freight_cost": freight,
        "total_cost": holding + ordering + lost_margin + freight,
        "forecast_bias": bias,
        "forecast_wape": wape,
    }


def after_warmup(run: PolicyRun, first_week: date) -> PolicyRun:
    """The run's weeks from ``first_week`` on: stock, the lines ordered, transfers shipped and cash paid then."""
    cut = pd.Timestamp(first_week)

    def since(frame: pd.DataFrame, column: str) -> pd.DataFrame:
        return frame[pd.to_datetime(frame[column]) >= cut].reset_index(drop=True)

    return replace(
        run,
        stock=since(run.stock, "week_start"),
        purchases=since(run.purchases, "order_date"),
        transfers=since(run.transfers, "ship_date"),
        cash=since(run.cash, "week_start"),
        plan_changes=since(run.plan_changes, "week_start"),
    )


def weekly_series(run: PolicyRun, rates: pd.DataFrame) -> pd.DataFrame:
    """Per week: demand, served, lost, fill rate, closing units and value, cash paid (for the plots)."""
    stock = run.stock.assign(value=run.stock["closing"] * run.stock["sku"].map(rates["unit_cost"]).fillna(0.0))
    weekly = stock.groupby("week_start", as_index=False).agg(
        demand=("demand", "sum"),
        served=("served", "sum"),
        lost=("lost", "sum"),
        closing=("closing", "sum"),
        inventory_value=("value", "sum"),
    )
    weekly["fill_rate"] = weekly["served"] / weekly["demand"].where(weekly["demand"] > TOLERANCE)
    weekly = weekly.merge(run.cash, on="week_start", how="left")
    weekly.insert(0, "policy", run.policy)
    return weekly
