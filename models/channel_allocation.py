"""Channel allocation: stock a shared location keeps back for one channel.

A location serving several channels holds one pool; a reservation R[i,l,c,t] (a quantity, or
weeks of the channel's forecast, from ``channel_reservations``) says how much of it other
channels and outbound transfers may not take. Channel c itself may use it.

Symbols (i: SKU, l: location, c: reserved channel, t: week):
  (reservation)  I[i,l,t] + v[i,l,c,t] + s[i,l,c,t] >= R[i,l,c,t],    s >= 0 priced slack
  i.e. what is left after serving every other channel and shipping transfers out (closing stock
  plus what channel c took this week) covers the reserve, unless the plan pays for the shortfall.
The shortfall's price is a multiple of the SKU's lost-sale penalty, so another channel loses a
sale before it takes reserved stock; transfers in can refill the reserve.
"""

from __future__ import annotations

import pyomo.environ as pyo

from planning.problem import PlanningProblem


def define_channel_allocation(m: pyo.ConcreteModel, problem: PlanningProblem) -> None:
    """Add each channel reservation as a soft floor on what other channels may take."""
    points = set(problem.stock_points)
    keys = sorted(k for k, units in problem.reservations.items() if units > 0 and (k[0], k[1]) in points)
    m.RESERVATIONS = pyo.Set(initialize=keys, dimen=4, ordered=True)
    m.reservation_shortfall = pyo.Var(m.RESERVATIONS, domain=pyo.NonNegativeReals)

    @m.Constraint(m.RESERVATIONS)
    def channel_reservation(m, i, loc, c, t):
        own_use = m.served[i, loc, c, t] if (i, loc, c, t) in problem.demand else 0.0
        kept = m.inventory[i, loc, t] + own_use + m.reservation_shortfall[i, loc, c, t]
        return kept >= problem.reservations[(i, loc, c, t)]
