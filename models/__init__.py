"""The buy-plan MIP in Pyomo: no I/O, no solver, no pandas reading.

``build_model`` reads top to bottom as the formulation; each family's module docstring holds
its equations and symbols.
"""

from __future__ import annotations

import pyomo.environ as pyo

from models.budget import define_budget
from models.capacity import define_capacity
from models.channel_allocation import define_channel_allocation
from models.closing_stock import define_closing_stock
from models.index import index_problem
from models.inventory_balance import define_inventory_balance
from models.lot_sizing_cuts import define_lot_sizing_cuts
from models.objective import COST_TERMS, define_objective
from models.ordering import define_ordering
from models.service_level import define_service_level
from models.transfers import define_transfers
from planning.problem import PlanningProblem

__all__ = ["COST_TERMS", "build_model"]


def build_model(problem: PlanningProblem) -> pyo.ConcreteModel:
    """The buy-plan model for ``problem`` (any subset of SKUs built by ``PlanningProblem.restrict``)."""
    index = index_problem(problem)
    m = pyo.ConcreteModel(name="buyplan")
    define_ordering(m, problem, index)  # packs, lines, MOQ, POs, PO minimums, supplier capacity
    define_transfers(m, problem, index)  # lane shipments and minimum shipments
    define_inventory_balance(m, problem, index)  # stock, arrivals after lead times, served, unmet
    define_capacity(m, problem, index)  # warehouse space in units or volume
    define_budget(m, problem, index)  # cash paid by payment terms against budgets
    define_service_level(m, problem, index)  # safety-stock and fill-rate targets, soft
    define_channel_allocation(m, problem)  # stock kept back for a channel at shared locations, soft
    define_closing_stock(m, problem)  # what stock left at the horizon's end is worth
    define_lot_sizing_cuts(m, problem, index)  # valid (l,S) rows: a tighter LP bound, no plan cut off
    define_objective(m, problem)  # named cost terms, minimised
    return m
