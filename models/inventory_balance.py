"""Inventory balance per SKU x location x week, with demand served per channel.

Symbols (i: SKU, l: location, c: channel, t: week):
  I[i,l,t] >= 0   closing stock;  I[i,l,-1] = on hand - allocated (at least 0)
  v[i,l,c,t] >= 0 demand served;  a channel's demand exists only at locations serving it
  A[i,l,t]        open purchase orders and transfers in transit arriving (data)

  (balance)  I[i,l,t] = I[i,l,t-1] + A[i,l,t] + sum_{o: ship_to = l} q[o, t - L_o]
                        + sum_{f} x[i,f,l,t - L_fl] - sum_{d} x[i,l,d,t] - sum_c v[i,l,c,t]

Lost sales (default):  v[i,l,c,t] + e[i,l,c,t] = D[i,l,c,t],   e >= 0 unmet demand, lost.
Backorders (option):   b[i,l,c,t] = b[i,l,c,t-1] + D[i,l,c,t] - v[i,l,c,t],  b >= 0 owed,
                       e[i,l,c,t] = b[i,l,c,t] is charged every week it stays owed.
"""

from __future__ import annotations

import pyomo.environ as pyo

from models.index import ModelIndex
from planning.problem import PlanningProblem


def define_inventory_balance(m: pyo.ConcreteModel, problem: PlanningProblem, index: ModelIndex) -> None:
    """Add stock, served and unmet variables and the weekly balance of every stock point."""
    m.WEEKS = pyo.Set(initialize=list(problem.weeks), ordered=True)
    m.POINT_WEEKS = pyo.Set(initialize=index.point_weeks, dimen=3, ordered=True)
    m.DEMAND = pyo.Set(initialize=sorted(problem.demand), dimen=4, ordered=True)
    m.inventory = pyo.Var(m.POINT_WEEKS, domain=pyo.NonNegativeReals)
    demand = problem.demand
    if problem.backorders:
        m.served = pyo.Var(m.DEMAND, domain=pyo.NonNegativeReals)
        m.unmet = pyo.Var(m.DEMAND, domain=pyo.NonNegativeReals)  # backlog owed at the end of week t

        @m.Constraint(m.DEMAND)
        def backlog(m, i, loc, c, t):
            before = m.unmet[i, loc, c, t - 1] if (i, loc, c, t - 1) in demand else 0.0
            return m.unmet[i, loc, c, t] == before + demand[(i, loc, c, t)] - m.served[i, loc, c, t]
    else:
        m.served = pyo.Var(m.DEMAND, domain=pyo.NonNegativeReals, bounds=lambda _, *k: (0, demand[k]))
        m.unmet = pyo.Var(m.DEMAND, domain=pyo.NonNegativeReals)

        @m.Constraint(m.DEMAND)
        def demand_split(m, i, loc, c, t):
            return m.served[i, loc, c, t] + m.unmet[i, loc, c, t] == demand[(i, loc, c, t)]

    @m.Constraint(m.POINT_WEEKS)
    def balance(m, i, loc, t):
        opening = m.inventory[i, loc, t - 1] if t > 0 else problem.initial_stock.get((i, loc), 0.0)
        received = problem.open_arrivals.get((i, loc, t), 0.0) + sum(
            m.order_units[slot] for slot in index.arrivals.get((i, loc, t), ())
        )
        moved_in = sum(m.transfer[slot] for slot in index.transfers_in.get((i, loc, t), ()))
        moved_out = sum(m.transfer[slot] for slot in index.transfers_out.get((i, loc, t), ()))
        sold = sum(m.served[key] for key in index.demand_at.get((i, loc, t), ()))
        return m.inventory[i, loc, t] == opening + received + moved_in - moved_out - sold
