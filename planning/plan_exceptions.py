"""Exceptions a planner acts on first, from the published tables and the problem.

* ``stockout_risk`` (SKU x location): unmet demand (high) or stock below its safety target
  (medium) in some week;
* ``service_target_missed`` (SKU): planned fill rate below the SKU's target, with the cause:
  ``lead_time`` (the misses fall before the earliest possible arrival), ``budget`` (a budget
  in the SKU's scope binds), ``capacity`` (its supplier or a location it is stocked at is
  full), ``discontinued`` (no orders allowed), else ``cost`` (buying costs more than the
  shortfall penalty);
* ``overstock``: weeks of supply at the end of week 0 above the threshold;
* ``excess_stock``: opening stock alone above the horizon's whole forecast demand there;
* ``discontinued_in_stock``: a discontinued SKU still holding stock (a clearance candidate);
* ``demand_variance``, ``receipt_variance``, ``stock_variance``, ``fill_rate_variance``: last
  week's projection against what happened, where the variance is large
  (``planning.plan_vs_actual.variance_exceptions``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from planning.metrics import TOLERANCE
from planning.plan_vs_actual import variance_exceptions
from planning.problem import PlanningProblem, rows_of
from planning.publish_settings import ExceptionSettings

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
__all__ = ["ExceptionSettings", "plan_exceptions"]

COLUMNS = ("exception", "severity", "sku", "location", "category", "first_week", "value", "threshold", "cause")


def _stockout_risks(inventory: pd.DataFrame, category: Mapping[str, str]) -> list[dict[str, object]]:
    found = []
    short = inventory["closing"] < inventory["safety_stock"] - TOLERANCE
    for (sku, location), part in inventory.groupby(["sku", "location"], sort=True):
        unmet = part[part["unmet"] > TOLERANCE]
        low = part[short.loc[part.index]]
        if unmet.empty and low.empty:
            continue
        if not unmet.empty:
            week, value = int(unmet["week"].min()), float(unmet["unmet"].sum())
            detail = f"{value:,.0f} units of demand unmet from week {week}: expedite, transfer or accept"
        else:
            week, value = int(low["week"].min()), float((low["safety_stock"] - low["closing"]).max())
            detail = f"stock below safety stock from week {week} (up to {value:,.0f} units short)"
        found.append(
            {
                "exception": "stockout_risk",
                "severity": "high" if not unmet.empty else "medium",
                "sku": sku,
                "location": location,
                "category": category[str(sku)],
                "first_week": week,
                "value": value,
                "threshold": None,
                "cause": "",
                "detail": detail,
            }
        )
    return found


def _earliest_arrival(problem: PlanningProblem) -> dict[tuple[str, str], int]:
    """Shortest lead time to each SKU x location, directly or through one lane."""
    best: dict[tuple[str, str], int] = {}
    for option in problem.options.values():
        key = (option.sku, option.ship_to)
        best[key] = min(best.get(key, option.lead_weeks), option.lead_weeks)
    for (sku, loc), lead in list(best.items()):
        for (origin, destination), lane in problem.lanes.items():
            if origin == loc:
                key = (sku, destination)
                best[key] = min(best.get(key, lead + lane.lead_weeks), lead + lane.lead_weeks)
    return best


@dataclass(frozen=True, slots=True)
class _Context:
    """What the cause of a service miss is judged from, computed once per run."""

    problem: PlanningProblem
    binding: set[str]
    full: set[str]
    earliest: dict[tuple[str, str], int]
    suppliers: dict[str, set[str]]


def _miss_causes(sku: str, part: pd.DataFrame, ctx: _Context) -> list[str]:
    """Why a SKU misses its fill-rate target (see the module docstring)."""
    problem, binding, full, earliest = ctx.problem, ctx.binding, ctx.full, ctx.earliest
    item = problem.items[sku]
    if item.status == "discontinued":
        return ["discontinued"]
    causes = []
    missed = part[part["unmet"] > TOLERANCE]
    if not missed.empty and all(
        week < earliest.get((sku, loc), len(problem.week_starts))
        for loc, week in zip(missed["location"], missed["week"], strict=True)
    ):
        causes.append("lead_time")
    suppliers = ctx.suppliers.get(sku, set())
    for budget in problem.budgets:
        in_scope = (not budget.category or budget.category == item.category) and (
            not budget.supplier or budget.supplier in suppliers
        )
        if budget.budget_id in binding and in_scope:
            causes.append("budget")
            break
    if suppliers & full or set(part["location"]) & full:
        causes.append("capacity")
    return causes or ["cost"]


def _service_misses(
    inventory: pd.DataFrame, problem: PlanningProblem, binding: set[str], full: set[str], tolerance: float
) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    suppliers: dict[str, set[str]] = defaultdict(set)
    for option in problem.options.values():
        suppliers[option.sku].add(option.supplier)
    ctx = _Context(problem, binding, full, _earliest_arrival(problem), suppliers)
    for sku, part in inventory.groupby("sku", sort=True):
        demand, served = part["demand"].sum(), part["served"].sum()
        target = problem.fill_rate_target.get(str(sku), 0.0)
        if demand <= TOLERANCE or served / demand >= target - tolerance:
            continue
        causes = _miss_causes(str(sku), part, ctx)
        rate = served / demand
        found.append(
            {
                "exception": "service_target_missed",
                "severity": "high",
                "sku": sku,
                "location": "all",
                "category": problem.items[str(sku)].category,
                "first_week": int(part.loc[part["unmet"] > TOLERANCE, "week"].min())
                if (part["unmet"] > TOLERANCE).any()
                else None,
                "value": rate,
                "threshold": target,
                "cause": ", ".join(causes),
                "detail": f"fill rate {rate:.1%} against a target of {target:.1%}: "
                f"limited by {' and '.join(c.replace('_', ' ') for c in causes)}",
            }
        )
    return found


def _stock_excess(
    inventory: pd.DataFrame, problem: PlanningProblem, settings: ExceptionSettings
) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    first = inventory[inventory["week"] == 0][["sku", "location", "opening", "closing"]]
    demand = inventory.groupby(["sku", "location"], as_index=False).agg(
        total=("demand", "sum"), mean=("demand", "mean")
    )
    for sku, location, opening, closing, total, mean in rows_of(first.merge(demand, on=["sku", "location"])):
        item = problem.items[str(sku)]
        base = {"sku": sku, "location": location, "category": item.category, "first_week": 0, "cause": ""}
        if item.status == "discontinued" and opening > TOLERANCE:
            found.append(
                {
                    **base,
                    "exception": "discontinued_in_stock",
                    "severity": "medium",
                    "value": float(opening),
                    "threshold": None,
                    "detail": f"discontinued with {opening:,.0f} units in stock: clearance candidate",
                }
            )
        excess = float(opening - settings.excess_share * total)
        weeks = float(closing / mean) if mean > TOLERANCE else None
        # Stock beyond the whole horizon's demand is overstock too; one row says it more strongly.
        if weeks is not None and weeks > settings.overstock_weeks_of_supply and excess <= TOLERANCE:
            found.append(
                {
                    **base,
                    "exception": "overstock",
                    "severity": "low",
                    "value": weeks,
                    "threshold": settings.overstock_weeks_of_supply,
                    "detail": f"{weeks:,.1f} weeks of supply after week 0: hold orders, consider a transfer",
                }
            )
        if excess > TOLERANCE and item.status != "discontinued":
            found.append(
                {
                    **base,
                    "exception": "excess_stock",
                    "severity": "low",
                    "value": excess,
                    "threshold": float(settings.excess_share * total),
                    "detail": f"{excess:,.0f} units beyond the horizon's whole demand: clearance candidate",
                }
            )
    return found


def plan_exceptions(
    inventory: pd.DataFrame,
    problem: PlanningProblem,
    binding_budgets: set[str],
    full: set[str],
    settings: ExceptionSettings | None = None,
    variances: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The ``exceptions`` table, most severe first.

    Args:
        inventory: The projected inventory table.
        problem: The planning problem.
        binding_budgets: Ids of the budget rows that bind.
        full: Suppliers and locations at capacity in some week.
        settings: Thresholds; defaults when None.
        variances: The ``plan_vs_actual`` table; its large variances become exceptions.
    """
    settings = settings or ExceptionSettings()
    category = {s: i.category for s, i in problem.items.items()}
    rows = [
        *_stockout_risks(inventory, category),
        *_service_misses(inventory, problem, binding_budgets, full, settings.service_tolerance),
        *_stock_excess(inventory, problem, settings),
        *(variance_exceptions(variances, category, settings) if variances is not None else []),
    ]
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "detail"])
    if frame.empty:
        return frame
    frame = frame.assign(_rank=frame["severity"].map(SEVERITY_ORDER))
    frame = frame.sort_values(["_rank", "exception", "sku", "location"], kind="stable")
    return frame.drop(columns="_rank").reset_index(drop=True)
