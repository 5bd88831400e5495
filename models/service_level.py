"""Service levels: a weekly safety-stock target and a fill-rate target per SKU, both soft.

Symbols (i: SKU, l: location, t: week):
  (safety stock)  I[i,l,t] + g[i,l,t] >= SS[i,l,t],           g >= 0 shortfall, priced per unit-week
  (fill rate)     sum_{l,c,t} v[i,l,c,t] + h[i] >= beta_i * sum_{l,c,t} D[i,l,c,t],   h >= 0
                  (beta_i: the SKU's fill-rate target; h is priced per unit below it)
Both are reported: a shortfall says the target was not worth (or not possible) to meet
under the budget and capacity, instead of making the model infeasible.
"""

from __future__ import annotations

import pyomo.environ as pyo

from models.index import ModelIndex
from planning.problem import PlanningProblem


def define_service_level(m: pyo.ConcreteModel, problem: PlanningProblem, index: ModelIndex) -> None:
    """Add safety-stock and fill-rate shortfall variables and their soft targets."""
    points = set(problem.stock_points)
    ss_keys = sorted(k for k, v in problem.safety_stock.items() if v > 0 and (k[0], k[1]) in points)
    m.SAFETY_STOCK_WEEKS = pyo.Set(initialize=ss_keys, dimen=3, ordered=True)
    m.safety_stock_shortfall = pyo.Var(m.SAFETY_STOCK_WEEKS, domain=pyo.NonNegativeReals)

    @m.Constraint(m.SAFETY_STOCK_WEEKS)
    def safety_stock(m, i, loc, t):
        return m.inventory[i, loc, t] + m.safety_stock_shortfall[i, loc, t] >= problem.safety_stock[(i, loc, t)]

    skus = sorted(sku for sku in index.demand_by_sku if problem.fill_rate_target.get(sku, 0) > 0)
    m.FILL_RATE_SKUS = pyo.Set(initialize=skus, ordered=True)
    m.fill_rate_shortfall = pyo.Var(m.FILL_RATE_SKUS, domain=pyo.NonNegativeReals)

    @m.Constraint(m.FILL_RATE_SKUS)
    def fill_rate(m, i):
        keys = index.demand_by_sku[i]
        target = problem.fill_rate_target[i] * sum(problem.demand[k] for k in keys)
        return sum(m.served[k] for k in keys) + m.fill_rate_shortfall[i] >= target
