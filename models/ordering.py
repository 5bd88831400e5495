"""Ordering: packs, order lines, MOQ, purchase orders, PO minimums, supplier capacity.

Symbols (o: sourcing option, t: order week, s: supplier, l: ship-to location):
  n[o,t]  in Z+      packs ordered;  q[o,t] = p_o * n[o,t] + k[o,t]  units ordered
          (p_o: pack size = lcm(order multiple, case pack); k[o,t]: locked units, fixed)
  y[o,t]  in {0,1}   an order line is placed;  z[s,l,t] in {0,1}  a purchase order is placed

  (MOQ, semi-continuous)   q[o,t] >= moq_o * y[o,t]
  (line link, big-M)       n[o,t] <= N[o,t] * y[o,t]        N: packs covering reachable demand
  (locked)                 y[o,t] = 1, n[o,t] = 0, no MOQ row   where k[o,t] > 0 (kept exactly)
  (PO link)                y[o,t] <= z[s,l,t]               for each line of the PO
  (PO minimum)             sum_o c_o * q[o,t] >= V_s * z[s,l,t]          V_s: PO minimum value
                           (not for a PO that holds locked units: it was approved as it is)
  (supplier capacity)      sum_{o of s} q[o,t] <= C_s + u[s,t]            u >= 0, priced slack
Closed weeks and orders arriving after the horizon have no slot at all (see planning.problem).
"""

from __future__ import annotations

import pyomo.environ as pyo

from models.index import ModelIndex
from planning.problem import PlanningProblem


def define_ordering(m: pyo.ConcreteModel, problem: PlanningProblem, index: ModelIndex) -> None:
    """Add order variables, MOQ and PO rules, and the units-ordered expression ``m.order_units``."""
    options = problem.options
    m.ORDER_SLOTS = pyo.Set(initialize=problem.order_slots, dimen=2, ordered=True)
    m.PO_SLOTS = pyo.Set(initialize=problem.po_slots, dimen=3, ordered=True)
    m.SUPPLIER_WEEKS = pyo.Set(initialize=index.supplier_weeks, dimen=2, ordered=True)

    m.packs = pyo.Var(
        m.ORDER_SLOTS, domain=pyo.NonNegativeIntegers, bounds=lambda _, o, t: (0, problem.order_pack_bound[(o, t)])
    )
    m.order_line = pyo.Var(m.ORDER_SLOTS, domain=pyo.Binary)
    m.po_open = pyo.Var(m.PO_SLOTS, domain=pyo.Binary)
    m.supplier_capacity_overrun = pyo.Var(m.SUPPLIER_WEEKS, domain=pyo.NonNegativeReals)

    @m.Expression(m.ORDER_SLOTS)
    def order_units(m, o, t):
        return options[o].pack_size * m.packs[o, t] + problem.locked_units.get((o, t), 0.0)

    # Locked lines are kept exactly as approved: no MOQ row, no extra packs on top.
    unlocked = [slot for slot in problem.order_slots if slot not in problem.locked_units]

    @m.Constraint(unlocked)
    def moq(m, o, t):
        return m.order_units[o, t] >= options[o].moq * m.order_line[o, t]

    @m.Constraint(m.ORDER_SLOTS)
    def line_link(m, o, t):
        return m.packs[o, t] <= problem.order_pack_bound[(o, t)] * m.order_line[o, t]

    for slot in problem.locked_units:
        if slot in m.ORDER_SLOTS:
            m.order_line[slot].fix(1)
            m.packs[slot].fix(0)

    @m.Constraint(m.ORDER_SLOTS)
    def po_link(m, o, t):
        option = options[o]
        return m.order_line[o, t] <= m.po_open[option.supplier, option.ship_to, t]

    # A PO holding locked (already approved) units is exempt: the planner accepted it as it is,
    # and a hard minimum could make the model infeasible.
    locked_pos = {(options[o].supplier, options[o].ship_to, t) for o, t in problem.locked_units}
    po_minimum_slots = [
        k for k in problem.po_slots if problem.suppliers[k[0]].po_minimum_value > 0 and k not in locked_pos
    ]

    @m.Constraint(po_minimum_slots)
    def po_minimum(m, s, loc, t):
        value = sum(options[o].unit_cost * m.order_units[o, tt] for o, tt in index.slots_by_po[(s, loc, t)])
        return value >= problem.suppliers[s].po_minimum_value * m.po_open[s, loc, t]

    @m.Expression(m.SUPPLIER_WEEKS)
    def supplier_units(m, s, t):
        return sum(m.order_units[o, tt] for o, tt in index.slots_by_supplier_week[(s, t)])

    @m.Constraint(m.SUPPLIER_WEEKS)
    def supplier_capacity(m, s, t):
        return m.supplier_units[s, t] <= problem.suppliers[s].weekly_capacity + m.supplier_capacity_overrun[s, t]
