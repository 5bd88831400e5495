"""Last week's published plan, shifted onto this week's problem, as a start for the solve.

A weekly plan changes little from one week to the next: the orders last week's plan placed in
weeks 1..T-1 are this week's weeks 0..T-2 (the same order dates), and most of them are still
right. ``orders_from_plan`` maps the published ``purchase_plan`` lines onto this problem's order
slots by sourcing option (sku, supplier, ship-to, mode) and order date:

  packs[o, t] = min(max(round(units / pack size), ceil(MOQ / pack size)), pack bound[o, t])
                for the lines of option o dated as_of + 7 t days (dropped if the bound is below
                the MOQ); 0 for every other slot.

Lines dated before this week's as-of are dropped (they were placed, and are open orders now,
or were not); lines whose option no longer exists are dropped too. The start is only a start:
the decomposition repairs it against this week's budgets, capacities and PO minimums, completes
it into a candidate plan before any pricing pass (so a plan exists within seconds of the
blocks' first pass starting), and gives it to every block's MIP as its first incumbent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime

import pandas as pd

from planning.problem import OrderSlot, PlanningProblem, TransferSlot

PLAN_COLUMNS = ("sku", "supplier", "ship_to", "mode", "order_date", "quantity")
TRANSFER_COLUMNS = ("sku", "from_location", "to_location", "ship_date", "quantity")


@dataclass(frozen=True, slots=True)
class PlanStart:
    """Last week's plan on this week's slots: packs per order slot, units per transfer slot."""

    packs: dict[OrderSlot, int]
    shipped: dict[TransferSlot, float]


def start_from_plan(problem: PlanningProblem, purchases: pd.DataFrame, transfers: pd.DataFrame | None) -> PlanStart:
    """``orders_from_plan`` and ``transfers_from_plan`` together."""
    shipped = transfers_from_plan(problem, transfers) if transfers is not None else {}
    return PlanStart(orders_from_plan(problem, purchases), shipped)


def orders_from_plan(problem: PlanningProblem, purchases: pd.DataFrame) -> dict[OrderSlot, int]:
    """Packs per order slot of ``problem`` from a published ``purchase_plan`` (see the module docstring).

    Raises:
        ValueError: ``purchases`` lacks one of the columns the mapping needs.
    """
    units = _units_by_slot(problem, purchases)
    packs: dict[OrderSlot, int] = {}
    for slot, quantity in units.items():
        option = problem.options[slot[0]]
        # This week's pack bound (reachable demand) may have shrunk below last week's order, and
        # a capped order must still meet the MOQ, or it is dropped.
        least = math.ceil(option.moq / option.pack_size - 1e-9)
        count = min(max(round(quantity / option.pack_size), least), problem.order_pack_bound[slot])
        if count > 0 and count >= least:
            packs[slot] = count
    return packs


def transfers_from_plan(problem: PlanningProblem, transfers: pd.DataFrame) -> dict[TransferSlot, float]:
    """Units per transfer slot of ``problem`` from a published ``transfer_plan`` (same shift by date).

    Raises:
        ValueError: ``transfers`` lacks one of the columns the mapping needs.
    """
    missing = [column for column in TRANSFER_COLUMNS if column not in transfers.columns]
    if missing:
        raise ValueError(f"transfer_plan: columns {missing} missing; cannot start from last week's plan")
    slots = set(problem.transfer_slots)
    shipped: dict[TransferSlot, float] = {}
    lanes = zip(*(transfers[c].astype(str).tolist() for c in ("sku", "from_location", "to_location")), strict=True)
    quantities = transfers["quantity"].astype(float).tolist()
    for (sku, origin, destination), ship_date, quantity in zip(
        lanes, transfers["ship_date"].tolist(), quantities, strict=True
    ):
        days = (_as_date(ship_date) - problem.as_of).days
        if days < 0 or days % 7:
            continue
        slot = (sku, origin, destination, days // 7)
        if slot in slots and quantity > 0:
            shipped[slot] = shipped.get(slot, 0.0) + quantity
    return shipped


def _as_date(value: object) -> date:
    if isinstance(value, datetime):  # pandas Timestamps included
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(str(value)).date()


def _units_by_slot(problem: PlanningProblem, purchases: pd.DataFrame) -> dict[OrderSlot, float]:
    """Units of the published lines per order slot of ``problem`` (lines no slot holds are left out)."""
    missing = [column for column in PLAN_COLUMNS if column not in purchases.columns]
    if missing:
        raise ValueError(f"purchase_plan: columns {missing} missing; cannot start from last week's plan")
    option_of = {(o.sku, o.supplier, o.ship_to, o.mode): o.option_id for o in problem.options.values()}
    slots = set(problem.order_slots)
    units: dict[OrderSlot, float] = {}
    keys = zip(*(purchases[c].astype(str).tolist() for c in ("sku", "supplier", "ship_to", "mode")), strict=True)
    quantities = purchases["quantity"].astype(float).tolist()
    for key, order_date, quantity in zip(keys, purchases["order_date"].tolist(), quantities, strict=True):
        option_id = option_of.get(key)
        if option_id is None:
            continue
        days = (_as_date(order_date) - problem.as_of).days
        if days < 0 or days % 7:
            continue
        slot = (option_id, days // 7)
        if slot in slots:
            units[slot] = units.get(slot, 0.0) + quantity
    return units


def with_prior_lines(problem: PlanningProblem, purchases: pd.DataFrame) -> PlanningProblem:
    """``problem`` knowing where last week's published plan placed its lines, so that changing them
    is charged (``models.objective``'s plan_change_cost). Lines that no slot of this week can
    hold (an option gone, a week now closed) are not there to keep."""
    lines = frozenset(slot for slot, units in _units_by_slot(problem, purchases).items() if units > 0)
    return replace(problem, prior_lines=lines)
