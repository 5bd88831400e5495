"""Plan metrics finance and planners read, computed from the published tables only.

Definitions over the horizon of H weeks, for the SKU x location rows in a scope (one SKU,
location, category, or everything):

* fill rate = served / demand (units; with backorders, late-served units count);
* stockout weeks = SKU x location x weeks with unmet demand;
* average inventory value = sum of closing stock x unit cost / H;
* inventory turnover = cost of goods sold (served x unit cost) / average inventory value;
  annual turnover = turnover x 52 / H;
* sell-through = served / (served + stock left at the end of the horizon): units sold out of
  the units that were available to sell there (opening + receipts - transfers out, by the
  stock balance);
* weeks of supply = average closing units / average weekly demand.

Cash: a line pays its supplier's deposit share in its order week and the rest in its arrival
week (when that is inside the horizon), exactly as the budget rows of the model count it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import numpy as np
import pandas as pd

from planning.problem import Budget, PlanningProblem, rows_of

# Below this a unit count or amount is solver noise.
TOLERANCE = 1e-6
# Whole packs rarely fill a budget exactly: headroom below this share of the limit counts as binding.
NEAR_LIMIT = 0.005


def priced_where_binding(
    prices: Mapping[str, float], headroom: Mapping[str, float], caps: Mapping[str, float]
) -> dict[str, float]:
    """Budget shadow prices kept only where the published plan fills the budget row.

    The prices are LP duals (the column-generation master, or the LP around the plan), and an
    LP may bind a budget that the plan, in whole packs, leaves partly unspent. One more unit of
    cash is worth nothing to that plan, so a row with more than ``NEAR_LIMIT`` of its cap left
    is priced 0: a price is non-zero exactly where the published budget binds.
    """
    return {
        budget: (
            max(0.0, price) if headroom.get(budget, 0.0) <= NEAR_LIMIT * max(1.0, abs(caps.get(budget, 0.0))) else 0.0
        )
        for budget, price in prices.items()
    }


def _safe_ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, null where the denominator is (near) zero."""
    ratio = numerator / denominator.where(denominator.abs() > TOLERANCE)
    return ratio.astype("float64").replace([np.inf, -np.inf], np.nan)


def weeks_of_supply(inventory: pd.DataFrame) -> pd.Series:
    """Per projected-inventory row: closing / average weekly demand of its SKU x location."""
    average = inventory.groupby(["sku", "location"])["demand"].transform("mean")
    return _safe_ratio(inventory["closing"], average)


def _scope_metrics(frame: pd.DataFrame, horizon: int) -> dict[str, float | int]:
    demand, served = frame["demand"].sum(), frame["served"].sum()
    closing_units = frame["closing"].sum()
    closing_value = (frame["closing"] * frame["unit_cost"]).sum()
    cogs = (frame["served"] * frame["unit_cost"]).sum()
    last = frame[frame["week"] == horizon - 1]["closing"].sum()
    average_value = closing_value / horizon
    turnover = cogs / average_value if average_value > TOLERANCE else np.nan
    return {
        "demand_units": demand,
        "served_units": served,
        "fill_rate": served / demand if demand > TOLERANCE else np.nan,
        "stockout_weeks": int((frame["unmet"] > TOLERANCE).sum()),
        "average_inventory_units": closing_units / horizon,
        "average_inventory_value": average_value,
        "cost_of_goods_sold": cogs,
        "inventory_turnover": turnover,
        "annual_turnover": turnover * 52 / horizon,
        "sell_through": served / (served + last) if served + last > TOLERANCE else np.nan,
        "weeks_of_supply": closing_units / demand if demand > TOLERANCE else np.nan,
    }


def plan_metrics(inventory: pd.DataFrame, problem: PlanningProblem) -> pd.DataFrame:
    """The ``metrics`` table: one row per overall, category, location and SKU scope."""
    horizon = len(problem.week_starts)
    frame = inventory.assign(
        unit_cost=inventory["sku"].map({s: i.unit_cost for s, i in problem.items.items()}).astype("float64"),
        category=inventory["sku"].map({s: i.category for s, i in problem.items.items()}),
    )
    rows = [{"level": "overall", "scope": "all", **_scope_metrics(frame, horizon)}]
    for level in ("category", "location", "sku"):
        column = "category" if level == "category" else level
        for scope, part in frame.groupby(column, sort=True):
            rows.append({"level": level, "scope": str(scope), **_scope_metrics(part, horizon)})
    return pd.DataFrame(rows)


def cash_payments(purchases: pd.DataFrame, problem: PlanningProblem) -> pd.DataFrame:
    """Cash per (week, category, supplier, kind): deposits when ordering, balances on arrival, and
    ``committed``: what open purchase orders still owe (``PlanningProblem.open_balances``)."""
    horizon = len(problem.week_starts)
    paid: dict[tuple[int, str, str, str], float] = defaultdict(float)
    for row in rows_of(purchases):
        share = problem.suppliers[row.supplier].deposit_share
        option = problem.options.get(f"{row.sku}|{row.supplier}|{row.ship_to}|{row.mode}")
        share = option.deposit_share if option is not None else share
        lead = option.lead_weeks if option is not None else int(row.arrival_week) - int(row.order_week)
        category = problem.items[row.sku].category
        paid[(int(row.order_week), category, row.supplier, "deposit")] += share * row.line_value
        if share < 1 and row.order_week + lead < horizon:
            paid[(int(row.order_week) + lead, category, row.supplier, "balance")] += (1 - share) * row.line_value
    for (week, category, supplier), cash in problem.open_balances.items():
        paid[(week, category, supplier, "committed")] += cash
    return pd.DataFrame(
        [(w, c, s, k, v) for (w, c, s, k), v in sorted(paid.items())],
        columns=["week", "category", "supplier", "kind", "cash"],
    )


def _spend(payments: pd.DataFrame, budget: Budget, kinds: tuple[str, ...] = ()) -> float:
    """Cash in the budget row's weeks and scope (of these kinds only, if given)."""
    scope = payments["week"].isin(budget.weeks)
    if budget.category:
        scope &= payments["category"] == budget.category
    if budget.supplier:
        scope &= payments["supplier"] == budget.supplier
    if kinds:
        scope &= payments["kind"].isin(kinds)
    return float(payments.loc[scope, "cash"].sum())


def _saving_note(budget: Budget, price: float, currency: str) -> str:
    weeks = f"week {budget.weeks[0]}" if len(budget.weeks) == 1 else f"weeks {budget.weeks[0]}–{budget.weeks[-1]}"
    if price <= TOLERANCE:
        return f"not binding: more budget in {weeks} would not lower cost"
    return f"another 1,000 {currency} of budget in {weeks} lowers cost by {1000 * price:,.0f} {currency}"


def budget_usage(
    payments: pd.DataFrame, problem: PlanningProblem, shadow_prices: Mapping[str, float], overruns: Mapping[str, float]
) -> pd.DataFrame:
    """The ``budget_usage`` table: each budget row's spend, limit, overrun and shadow price."""
    rows = []
    for budget in problem.budgets:
        spend = _spend(payments, budget)
        price = max(0.0, float(shadow_prices.get(budget.budget_id, 0.0)))
        overrun = float(overruns.get(f"budget:{budget.budget_id}", 0.0))
        headroom = budget.limit - spend
        committed = _spend(payments, budget, ("committed",))
        note = _saving_note(budget, price, problem.currency)
        if committed > budget.limit + TOLERANCE * max(1.0, budget.limit):
            # Finance needs to see an overspend the plan could not avoid, and that it is not the plan's.
            note = (
                f"open purchase orders alone owe {committed - budget.limit:,.0f} {problem.currency} more than "
                f"this limit; {note}"
            )
        rows.append(
            {
                "budget_id": budget.budget_id,
                "category": budget.category or "all",
                "supplier": budget.supplier or "all",
                "first_week": budget.weeks[0],
                "last_week": budget.weeks[-1],
                "period_start": problem.week_starts[budget.weeks[0]],
                "limit": budget.limit,
                "spend": spend,
                "committed": committed,
                "headroom": headroom,
                "overrun": overrun,
                "shadow_price": price,
                "binding": bool(
                    price > TOLERANCE or overrun > TOLERANCE or headroom <= NEAR_LIMIT * max(1.0, budget.limit)
                ),
                "note": note,
            }
        )
    columns = ["budget_id", "category", "supplier", "first_week", "last_week", "period_start", "limit", "spend"]
    return pd.DataFrame(rows, columns=[*columns, "committed", "headroom", "overrun", "shadow_price", "binding", "note"])


def cash_by_week(payments: pd.DataFrame, problem: PlanningProblem, shadow_prices: Mapping[str, float]) -> pd.DataFrame:
    """The ``cash_by_week`` table: deposits, balances, commitments and the week's all-purchases weekly budget."""
    weekly = {b.weeks[0]: b for b in problem.budgets if len(b.weeks) == 1 and not b.category and not b.supplier}
    paid: dict[tuple[int, str], float] = defaultdict(float)
    for week, kind, cash in rows_of(payments[["week", "kind", "cash"]]):
        paid[(int(week), str(kind))] += float(cash)
    rows = []
    for week, start in enumerate(problem.week_starts):
        deposits, balances = paid.get((week, "deposit"), 0.0), paid.get((week, "balance"), 0.0)
        committed = paid.get((week, "committed"), 0.0)
        budget = weekly.get(week)
        rows.append(
            {
                "week": week,
                "week_start": start,
                "deposits": deposits,
                "balances": balances,
                "committed": committed,
                "cash_paid": deposits + balances + committed,
                "weekly_budget": budget.limit if budget else np.nan,
                "shadow_price": max(0.0, shadow_prices.get(budget.budget_id, 0.0)) if budget else np.nan,
            }
        )
    return pd.DataFrame(rows)
