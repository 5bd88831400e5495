"""Invariants recomputed on the plan tables; they gate publishing.

The checks read only the published tables and the planning problem, never the model, so a
bug anywhere between the solver and the files (extraction, rounding, a solver tolerance)
is caught before an ERP imports it. Each violation names the rows and the rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from planning.plan import PlanTables
from planning.problem import Budget, PlanningProblem, rows_of

# Absolute tolerance in units (or currency) for sums of solver values.
TOLERANCE = 1e-4


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    detail: str


def _balance(plan: PlanTables, problem: PlanningProblem) -> list[Violation]:
    inv = plan.inventory
    found = []
    expected = inv["opening"] + inv["receipts"] - inv["transfers_out"] - inv["served"]
    for row in inv[(expected - inv["closing"]).abs() > TOLERANCE].itertuples(index=False):
        found.append(
            Violation(
                "balance", f"{row.sku}@{row.location} week {row.week}: opening + receipts - out - served != closing"
            )
        )
    for row in inv[inv["closing"] < -TOLERANCE].itertuples(index=False):
        found.append(
            Violation("no_negative_stock", f"{row.sku}@{row.location} week {row.week}: closing {row.closing:.4f}")
        )
    previous = inv.groupby(["sku", "location"])["closing"].shift(1)
    start = (
        inv.apply(lambda r: problem.initial_stock.get((r["sku"], r["location"]), 0.0), axis=1) if len(inv) else previous
    )
    expected_opening = previous.where(inv["week"] > 0, start)
    for row in inv[(expected_opening - inv["opening"]).abs() > TOLERANCE].itertuples(index=False):
        found.append(
            Violation("continuity", f"{row.sku}@{row.location} week {row.week}: opening != last week's closing")
        )
    if not problem.backorders:
        for row in inv[(inv["served"] + inv["unmet"] - inv["demand"]).abs() > TOLERANCE].itertuples(index=False):
            found.append(
                Violation("demand_split", f"{row.sku}@{row.location} week {row.week}: served + unmet != demand")
            )
    return found


def _orders(plan: PlanTables, problem: PlanningProblem) -> list[Violation]:
    found = []
    horizon = len(problem.week_starts)
    for row in rows_of(plan.purchases):
        option = problem.options[f"{row.sku}|{row.supplier}|{row.ship_to}|{row.mode}"]
        locked = problem.locked_units.get((option.option_id, row.order_week), 0.0)
        free = row.quantity - locked
        if row.quantity + TOLERANCE < option.moq and not locked:
            found.append(Violation("moq", f"{row.po_id} {row.sku}: {row.quantity} below MOQ {option.moq}"))
        if abs(free / option.pack_size - round(free / option.pack_size)) > TOLERANCE:
            found.append(
                Violation("order_multiple", f"{row.po_id} {row.sku}: {free} not whole packs of {option.pack_size}")
            )
        if row.order_week + option.lead_weeks >= horizon and not locked:
            found.append(Violation("arrives_in_horizon", f"{row.po_id} {row.sku}: arrives after the horizon"))
        if (option.option_id, row.order_week) not in problem.order_pack_bound:
            found.append(Violation("closed_week", f"{row.po_id} {row.sku}: ordered in a week the supplier is closed"))
    for row in rows_of(plan.transfers):  # a warehouse ships whole units
        if abs(row.quantity - round(row.quantity)) > TOLERANCE:
            found.append(Violation("whole_units", f"{row.transfer_id} {row.sku}: {row.quantity} is not whole units"))
    return found


def _capacities(plan: PlanTables, problem: PlanningProblem, overruns: dict[str, float]) -> list[Violation]:
    found = []
    weekly = plan.purchases.groupby(["supplier", "order_week"], as_index=False)[["quantity"]].sum()
    for supplier, week, units in rows_of(weekly):
        capacity = problem.suppliers[supplier].weekly_capacity
        allowed = overruns.get(f"supplier:{supplier}:{week}", 0.0)
        if capacity is not None and units > capacity + allowed + TOLERANCE:
            found.append(Violation("supplier_capacity", f"{supplier} week {week}: {units:.0f} > {capacity:.0f}"))
    inv = plan.inventory
    size = inv["sku"].map({sku: item.unit_volume for sku, item in problem.items.items()})
    by_unit = {loc: unit for loc, (_, unit) in problem.locations.items()}
    used = inv.assign(space=inv["closing"].where(inv["location"].map(by_unit) == "units", inv["closing"] * size))
    occupied = used.groupby(["location", "week"], as_index=False)[["space"]].sum()
    for location, week, space in rows_of(occupied):
        capacity = problem.locations[location][0]
        allowed = overruns.get(f"location:{location}:{week}", 0.0)
        if capacity is not None and space > capacity + allowed + TOLERANCE * max(1.0, capacity):
            found.append(Violation("location_capacity", f"{location} week {week}: {space:.0f} > {capacity:.0f}"))
    return found


def _budgets(plan: PlanTables, problem: PlanningProblem, overruns: dict[str, float]) -> list[Violation]:
    horizon = len(problem.week_starts)
    paid: dict[tuple[int, str, str], float] = defaultdict(float)  # (week, category, supplier) -> cash
    for row in rows_of(plan.purchases):
        option = problem.options[f"{row.sku}|{row.supplier}|{row.ship_to}|{row.mode}"]
        category = problem.items[row.sku].category
        paid[(row.order_week, category, row.supplier)] += option.deposit_share * row.line_value
        if option.deposit_share < 1 and row.order_week + option.lead_weeks < horizon:
            paid[(row.order_week + option.lead_weeks, category, row.supplier)] += (
                1 - option.deposit_share
            ) * row.line_value

    def new_spend_in(budget: Budget) -> float:  # open purchase orders' balances are the cap's K_B
        return sum(
            cash
            for (week, category, supplier), cash in paid.items()
            if week in budget.weeks
            and (not budget.category or category == budget.category)
            and (not budget.supplier or supplier == budget.supplier)
        )

    found = []
    caps = problem.budget_caps()
    # With carry-forward, each row limits the running total of its scope up to and including it.
    chains: dict[tuple[str, str], list[Budget]] = defaultdict(list)
    for budget in sorted(problem.budgets, key=lambda b: b.weeks[0]):
        chain = chains[(budget.category, budget.supplier)]
        chain.append(budget)
        rows = list(chain) if problem.carry_budget_forward else [budget]
        spent = sum(new_spend_in(row) for row in rows)
        cap = caps[budget.budget_id]
        allowed = cap + overruns.get(f"budget:{budget.budget_id}", 0.0)
        if spent > allowed + TOLERANCE * max(1.0, budget.limit):
            found.append(
                Violation(
                    "budget",
                    f"{budget.budget_id}: new spend {spent:.2f} > {cap:.2f} left by the limit "
                    f"{budget.limit:.2f} after commitments, with no overrun reported",
                )
            )
    return found


def check_plan(plan: PlanTables, problem: PlanningProblem) -> list[Violation]:
    """Every invariant violated by the plan tables; empty means the plan may be published.

    A limit may be exceeded only by the overrun the plan reports for it (``plan.overruns``).
    """
    return [
        *_balance(plan, problem),
        *_orders(plan, problem),
        *_capacities(plan, problem, plan.overruns),
        *_budgets(plan, problem, plan.overruns),
    ]


def _close(left: float, right: float) -> bool:
    return abs(left - right) <= TOLERANCE * max(1.0, abs(left), abs(right))


def check_outputs(tables: Mapping[str, pd.DataFrame]) -> list[Violation]:
    """Invariants of the published tables among themselves; empty means they may be written.

    They catch a defect between the plan and the files (a join that drops rows, a unit mix-up)
    that the plan checks cannot see: line values and cases agree with quantities, PO ids with
    their supplier, ship-to and order date, and the metrics and cash with the lines and stock.
    """
    found = []
    lines = tables["purchase_plan"]
    value_off = (lines["line_value"] - lines["quantity"] * lines["unit_cost"]).abs() > TOLERANCE * lines[
        "line_value"
    ].abs().clip(lower=1.0)
    cases_off = (lines["cases"] * lines["case_pack"] - lines["quantity"]).abs() > TOLERANCE
    for row in rows_of(lines[value_off | cases_off]):
        found.append(Violation("line_arithmetic", f"{row.po_id} line {row.line}: value or cases != quantity"))
    for row in rows_of(lines):
        if row.po_id != f"PO-{row.order_date:%Y%m%d}-{row.supplier}-{row.ship_to}" or row.arrival_date < row.order_date:
            found.append(
                Violation("po_identity", f"{row.po_id} line {row.line}: id, supplier, ship-to or dates disagree")
            )
    inventory, metrics = tables["projected_inventory"], tables["metrics"]
    overall = metrics[metrics["level"] == "overall"]
    for column, total in (("demand_units", inventory["demand"].sum()), ("served_units", inventory["served"].sum())):
        if len(overall) != 1 or not _close(float(overall[column].iloc[0]), float(total)):
            found.append(Violation("metrics_totals", f"overall {column} != projected inventory total"))
    for level in ("category", "location", "sku"):
        part = metrics.loc[metrics["level"] == level, "served_units"].sum()
        if not _close(float(part), float(inventory["served"].sum())):
            found.append(Violation("metrics_totals", f"served units by {level} do not add up to the overall"))
    cash, in_horizon = tables["cash_by_week"], lines[lines["order_week"] < len(tables["cash_by_week"])]
    new_cash = float(cash["cash_paid"].sum() - cash["committed"].sum())  # open orders' balances are not lines
    if new_cash > float(in_horizon["line_value"].sum()) * (1 + TOLERANCE) + TOLERANCE:
        found.append(Violation("cash", "cash paid in the horizon exceeds the value of the lines ordered in it"))
    return found
