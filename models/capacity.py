"""Warehouse capacity per location and week, in units or in volume.

  (capacity)  sum_{i stocked at l} s_i * I[i,l,t] <= K_l + u[l,t],   u >= 0 priced slack
  s_i = 1 for a capacity in units, s_i = unit volume (litres) for a capacity in volume.
Closing stock is what occupies the shelves between weeks; the slack keeps the model feasible
when opening stock or open orders already exceed the space, and is reported when used.
"""

from __future__ import annotations

import pyomo.environ as pyo

from models.index import ModelIndex
from planning.problem import PlanningProblem


def define_capacity(m: pyo.ConcreteModel, problem: PlanningProblem, index: ModelIndex) -> None:
    """Add each capacitated location's weekly space limit with its overrun slack."""
    m.CAPACITY_WEEKS = pyo.Set(initialize=index.capacity_weeks, dimen=2, ordered=True)
    m.capacity_overrun = pyo.Var(m.CAPACITY_WEEKS, domain=pyo.NonNegativeReals)

    @m.Expression(m.CAPACITY_WEEKS)
    def space_used(m, loc, t):
        unit = problem.locations[loc][1]
        size = {
            sku: 1.0 if unit == "units" else problem.items[sku].unit_volume for sku, _ in index.points_by_location[loc]
        }
        return sum(size[sku] * m.inventory[sku, loc, t] for sku, _ in index.points_by_location[loc])

    @m.Constraint(m.CAPACITY_WEEKS)
    def location_capacity(m, loc, t):
        return m.space_used[loc, t] <= problem.locations[loc][0] + m.capacity_overrun[loc, t]
