"""Why each purchase line is what it is: a short reason drawn from the constraints that bind.

Read from the plan tables and the problem only (never the model), so the text states facts a
planner can check in the published files:

* ``covers weeks a–b``: the line arrives in week a; b is the week before the next planned
  arrival of the SKU at the same location, or the week its stock runs out if sooner;
* ``MOQ binding``: the line is exactly the option's minimum order quantity;
* ``PO minimum binding``: the PO's value is exactly the supplier's PO minimum;
* ``budget binding in week w``: a budget row the line pays into (deposit or balance) binds;
* ``supplier capacity binding in week w`` / ``<location> full in week w``;
* ``locked order`` for lines kept as approved.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from planning.metrics import TOLERANCE
from planning.problem import PlanningProblem, rows_of

# Relative tolerance for "exactly at the limit".
AT_LIMIT = 1e-6


def _weeks(first: int, last: int) -> str:
    return f"week {first}" if first == last else f"weeks {first}–{last}"


def coverage(purchases: pd.DataFrame, inventory: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """``covers_from_week`` and ``covers_to_week`` per purchase line (index aligned)."""
    arrivals = purchases.groupby(["sku", "ship_to"])["arrival_week"].apply(lambda s: sorted(set(s))).to_dict()
    dry = inventory[inventory["closing"] <= TOLERANCE]
    dry_weeks = dry.groupby(["sku", "location"])["week"].apply(list).to_dict()
    first, last = [], []
    for row in rows_of(purchases):
        start = int(row.arrival_week)
        later = [w for w in arrivals.get((row.sku, row.ship_to), []) if w > start]
        end = (later[0] - 1) if later else horizon - 1
        runs_out = [w for w in dry_weeks.get((row.sku, row.ship_to), []) if start <= w <= end]
        first.append(start)
        last.append(min(runs_out) if runs_out else end)
    return pd.DataFrame({"covers_from_week": first, "covers_to_week": last}, index=purchases.index)


def capacity_weeks(
    inventory: pd.DataFrame, purchases: pd.DataFrame, problem: PlanningProblem
) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    """(supplier, week) pairs and (location, week) pairs at capacity."""
    suppliers: set[tuple[str, int]] = set()
    weekly = purchases.groupby(["supplier", "order_week"], as_index=False)[["quantity"]].sum()
    for supplier, week, units in rows_of(weekly):
        capacity = problem.suppliers[supplier].weekly_capacity
        if capacity is not None and units >= capacity * (1 - AT_LIMIT) - TOLERANCE:
            suppliers.add((str(supplier), int(week)))
    volume = inventory["sku"].map({s: i.unit_volume for s, i in problem.items.items()})
    in_units = inventory["location"].map({loc: unit == "units" for loc, (_, unit) in problem.locations.items()})
    space = inventory[["location", "week"]].assign(
        used=inventory["closing"].where(in_units.astype(bool), inventory["closing"] * volume)
    )
    locations: set[tuple[str, int]] = set()
    for location, week, used in rows_of(space.groupby(["location", "week"], as_index=False)[["used"]].sum()):
        capacity = problem.locations[location][0]
        if capacity is not None and used >= capacity * (1 - AT_LIMIT) - TOLERANCE:
            locations.add((str(location), int(week)))
    return suppliers, locations


def full_capacity(inventory: pd.DataFrame, purchases: pd.DataFrame, problem: PlanningProblem) -> set[str]:
    """Suppliers and locations at capacity in some week."""
    suppliers, locations = capacity_weeks(inventory, purchases, problem)
    return {name for name, _ in suppliers} | {name for name, _ in locations}


def _budget_weeks(row: Any, problem: PlanningProblem, binding: set[str]) -> list[str]:
    """Texts for the binding budget rows this line pays into."""
    option = problem.options.get(f"{row.sku}|{row.supplier}|{row.ship_to}|{row.mode}")
    share = option.deposit_share if option else 1.0
    pays = {int(row.order_week)} | ({int(row.arrival_week)} if share < 1 else set())
    category = problem.items[row.sku].category
    found = []
    for budget in problem.budgets:
        if budget.budget_id not in binding or not pays & set(budget.weeks):
            continue
        if (budget.category and budget.category != category) or (budget.supplier and budget.supplier != row.supplier):
            continue
        found.append(f"budget binding in {_weeks(budget.weeks[0], budget.weeks[-1])}")
    return sorted(set(found))


def reasons(
    purchases: pd.DataFrame, inventory: pd.DataFrame, problem: PlanningProblem, binding_budgets: set[str]
) -> pd.Series:
    """The ``reason`` text per purchase line (index aligned); needs the coverage columns."""
    suppliers_full, locations_full = capacity_weeks(inventory, purchases, problem)
    po_value = purchases.groupby("po_id")["line_value"].transform("sum")
    texts = []
    for (_, row), value in zip(purchases.iterrows(), po_value, strict=True):
        option = problem.options.get(f"{row.sku}|{row.supplier}|{row.ship_to}|{row['mode']}")
        parts = [f"covers {_weeks(int(row.covers_from_week), int(row.covers_to_week))}"]
        if row.locked:
            parts.append("locked order")
        if option and option.moq > 0 and row.quantity <= option.moq * (1 + AT_LIMIT) + TOLERANCE:
            parts.append("MOQ binding")
        minimum = problem.suppliers[row.supplier].po_minimum_value
        if minimum > 0 and abs(value - minimum) <= minimum * AT_LIMIT + TOLERANCE:
            parts.append("PO minimum binding")
        parts.extend(_budget_weeks(row, problem, binding_budgets))
        if (row.supplier, int(row.order_week)) in suppliers_full:
            parts.append(f"supplier capacity binding in week {int(row.order_week)}")
        if (row.ship_to, int(row.arrival_week)) in locations_full:
            parts.append(f"{row.ship_to} full in week {int(row.arrival_week)}")
        texts.append("; ".join(parts))
    return pd.Series(texts, index=purchases.index, dtype="object")
