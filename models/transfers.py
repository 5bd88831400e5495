"""Transfers between own locations along lanes, with minimum shipments.

Symbols (i: SKU, f -> d: lane with lead time L_fd, t: ship week):
  x[i,f,d,t] in Z+          whole units shipped; received at d in week t + L_fd (a warehouse
                            picks and ships units, not fractions of one)
  w[f,d,t]   in {0,1}       the lane ships in week t (only lanes with a minimum shipment)

  (minimum shipment)  sum_i x[i,f,d,t] >= S_fd * w[f,d,t]
  (lane link, big-M)  sum_i x[i,f,d,t] <= X[f,d,t] * w[f,d,t]    X: demand reachable downstream
Transfers enter the inventory balance of both ends (see inventory_balance).
"""

from __future__ import annotations

import pyomo.environ as pyo

from models.index import ModelIndex
from planning.problem import PlanningProblem


def define_transfers(m: pyo.ConcreteModel, problem: PlanningProblem, index: ModelIndex) -> None:
    """Add transfer variables and the minimum-shipment rule per lane and week."""
    m.TRANSFER_SLOTS = pyo.Set(initialize=problem.transfer_slots, dimen=4, ordered=True)
    m.LANE_WEEKS = pyo.Set(initialize=index.lane_weeks, dimen=3, ordered=True)
    m.transfer = pyo.Var(
        m.TRANSFER_SLOTS, domain=pyo.NonNegativeIntegers, bounds=lambda _, *slot: (0, problem.transfer_bound[slot])
    )
    m.lane_used = pyo.Var(m.LANE_WEEKS, domain=pyo.Binary)

    def shipped(m, f, d, t):
        return sum(m.transfer[slot] for slot in index.transfers_by_lane_week[(f, d, t)])

    @m.Constraint(m.LANE_WEEKS)
    def lane_minimum(m, f, d, t):
        return shipped(m, f, d, t) >= problem.lanes[(f, d)].min_shipment * m.lane_used[f, d, t]

    @m.Constraint(m.LANE_WEEKS)
    def lane_link(m, f, d, t):
        return shipped(m, f, d, t) <= problem.lane_week_bound[(f, d, t)] * m.lane_used[f, d, t]
