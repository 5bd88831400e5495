"""Model solution -> plan tables: purchase lines, transfers, projected inventory, cost terms.

Read after ``planning.solve.load_values`` has put the plan into the model's variables. Tables
are sorted by their keys so that the same plan always gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
import pyomo.environ as pyo

from models import COST_TERMS
from planning.problem import PlanningProblem

# Quantities below this are solver noise, not orders.
QUANTITY_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class PlanTables:
    """The plan as tables, plus the objective's named cost terms."""

    purchases: pd.DataFrame
    transfers: pd.DataFrame
    inventory: pd.DataFrame
    costs: dict[str, float]
    overruns: dict[str, float]  # slack used: budget:<id>, supplier:<s>:<week>, location:<l>:<week>, reservation:...


def _value(var: object) -> float:
    value = pyo.value(var, exception=False)
    return 0.0 if value is None else float(value)


def po_id(problem: PlanningProblem, supplier: str, ship_to: str, week: int) -> str:
    """Deterministic purchase-order id: the same supplier, ship-to and order week give the same id."""
    order_date = problem.week_starts[week] if week < len(problem.week_starts) else problem.as_of + timedelta(weeks=week)
    return f"PO-{order_date:%Y%m%d}-{supplier}-{ship_to}"


def purchase_lines(m: pyo.ConcreteModel, problem: PlanningProblem, frozen_weeks: int) -> pd.DataFrame:
    rows = []
    for option_id, week in m.ORDER_SLOTS:
        quantity = _value(m.order_units[option_id, week])
        if quantity <= QUANTITY_TOLERANCE:
            continue
        option = problem.options[option_id]
        order_date = problem.as_of + timedelta(weeks=week)
        rows.append(
            {
                "po_id": po_id(problem, option.supplier, option.ship_to, week),
                "sku": option.sku,
                "supplier": option.supplier,
                "ship_to": option.ship_to,
                "mode": option.mode,
                "order_week": week,
                "order_date": order_date,
                "arrival_date": order_date + timedelta(weeks=option.lead_weeks),
                "quantity": round(quantity, 6),
                "pack_size": option.pack_size,
                "case_pack": option.case_pack,
                "order_multiple": option.order_multiple,
                "unit_cost": option.unit_cost,
                "line_value": round(quantity * option.unit_cost, 6),
                "currency": problem.currency,
                "firm": week < frozen_weeks,
                "locked": (option_id, week) in problem.locked_units,
            }
        )
    frame = pd.DataFrame(rows, columns=list(PURCHASE_COLUMNS))
    frame = frame.sort_values(["po_id", "sku", "mode"], kind="stable").reset_index(drop=True)
    frame.insert(1, "line", frame.groupby("po_id").cumcount() + 1)
    return frame


PURCHASE_COLUMNS = (
    "po_id",
    "sku",
    "supplier",
    "ship_to",
    "mode",
    "order_week",
    "order_date",
    "arrival_date",
    "quantity",
    "pack_size",
    "case_pack",
    "order_multiple",
    "unit_cost",
    "line_value",
    "currency",
    "firm",
    "locked",
)
TRANSFER_COLUMNS = (
    "transfer_id",
    "sku",
    "from_location",
    "to_location",
    "ship_week",
    "ship_date",
    "arrival_date",
    "quantity",
)
INVENTORY_COLUMNS = (
    "sku",
    "location",
    "week",
    "week_start",
    "opening",
    "receipts",
    "transfers_out",
    "demand",
    "served",
    "unmet",
    "closing",
    "safety_stock",
)


def transfer_lines(m: pyo.ConcreteModel, problem: PlanningProblem) -> pd.DataFrame:
    rows = []
    for sku, origin, destination, week in m.TRANSFER_SLOTS:
        quantity = _value(m.transfer[sku, origin, destination, week])
        if quantity <= QUANTITY_TOLERANCE:
            continue
        ship_date = problem.as_of + timedelta(weeks=week)
        lead = problem.lanes[(origin, destination)].lead_weeks
        rows.append(
            {
                "transfer_id": f"TR-{ship_date:%Y%m%d}-{origin}-{destination}",
                "sku": sku,
                "from_location": origin,
                "to_location": destination,
                "ship_week": week,
                "ship_date": ship_date,
                "arrival_date": ship_date + timedelta(weeks=lead),
                "quantity": round(quantity, 6),
            }
        )
    frame = pd.DataFrame(rows, columns=list(TRANSFER_COLUMNS))
    return frame.sort_values(["transfer_id", "sku"], kind="stable").reset_index(drop=True)


def projected_inventory(m: pyo.ConcreteModel, problem: PlanningProblem) -> pd.DataFrame:
    from models.index import index_problem

    index = index_problem(problem)
    rows = []
    for sku, loc, week in m.POINT_WEEKS:
        closing = _value(m.inventory[sku, loc, week])
        opening = problem.initial_stock.get((sku, loc), 0.0) if week == 0 else _value(m.inventory[sku, loc, week - 1])
        receipts = problem.open_arrivals.get((sku, loc, week), 0.0)
        receipts += sum(_value(m.order_units[s]) for s in index.arrivals.get((sku, loc, week), ()))
        receipts += sum(_value(m.transfer[s]) for s in index.transfers_in.get((sku, loc, week), ()))
        keys = index.demand_at.get((sku, loc, week), ())
        rows.append(
            {
                "sku": sku,
                "location": loc,
                "week": week,
                "week_start": problem.week_starts[week],
                "opening": opening,
                "receipts": receipts,
                "transfers_out": sum(_value(m.transfer[s]) for s in index.transfers_out.get((sku, loc, week), ())),
                "demand": sum(problem.demand[k] for k in keys),
                "served": sum(_value(m.served[k]) for k in keys),
                "unmet": sum(_value(m.unmet[k]) for k in keys),
                "closing": closing,
                "safety_stock": problem.safety_stock.get((sku, loc, week), 0.0),
            }
        )
    frame = pd.DataFrame(rows, columns=list(INVENTORY_COLUMNS))
    return frame.sort_values(["sku", "location", "week"], kind="stable").reset_index(drop=True)


def extract_plan(m: pyo.ConcreteModel, problem: PlanningProblem, frozen_weeks: int) -> PlanTables:
    """All plan tables from a model holding a solution."""
    return PlanTables(
        purchases=purchase_lines(m, problem, frozen_weeks),
        transfers=transfer_lines(m, problem),
        inventory=projected_inventory(m, problem),
        costs={term: _value(getattr(m, term)) for term in COST_TERMS},
        overruns=overruns(m),
    )


def overruns(m: pyo.ConcreteModel) -> dict[str, float]:
    """Priced slack the plan uses, by limit; anything listed here is reported to the planner."""
    used = {f"budget:{b}": _value(m.budget_overrun[b]) for b in m.BUDGETS}
    used |= {f"supplier:{s}:{t}": _value(m.supplier_capacity_overrun[s, t]) for s, t in m.SUPPLIER_WEEKS}
    used |= {f"location:{loc}:{t}": _value(m.capacity_overrun[loc, t]) for loc, t in m.CAPACITY_WEEKS}
    used |= {
        f"reservation:{i}:{loc}:{c}:{t}": _value(m.reservation_shortfall[i, loc, c, t])
        for i, loc, c, t in m.RESERVATIONS
    }
    return {key: value for key, value in used.items() if value > QUANTITY_TOLERANCE}
