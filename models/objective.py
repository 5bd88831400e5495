"""Objective: total cost over the horizon, as named terms that the plan publishes.

purchase_cost          sum c_o q[o,t]
ordering_cost          sum F_i y[o,t] + sum G_s z[s,l,t]            line and PO fixed costs
holding_cost           sum h_i I[i,l,t]                             per unit per week
transfer_cost          sum k_fd x[i,f,d,t]
shortage_cost          sum pi_i e[i,l,c,t]                          lost margin (or backlog-weeks)
safety_stock_cost      sum rho_i g[i,l,t]
fill_rate_cost         sum phi_i h[i]
capacity_overrun_cost  sum kappa_l u[l,t] + sum kappa_s u[s,t]   location space, supplier capacity
budget_overrun_cost    sum beta r_B                                 priced above everything else
plan_change_cost       sum_{(o,t) in W} lam (y[o,t] if (o,t) not in Y' else 1 - y[o,t])
                       Y': slots with a line in last week's plan, W: order slots of weeks
                       t < window, not locked; a line added or dropped costs lam, a moved one 2 lam
                       (nervousness has a price; 0 without an earlier plan)
end_of_horizon_credit  - sum_{i,l,k} v[i,l,k] w[i,l,k]            closing stock keeps value,
                       (tiers of closing stock, ``models.closing_stock``)  so the plan does not run dry
minimise the sum of all terms.
"""

from __future__ import annotations

import pyomo.environ as pyo

from models.closing_stock import closing_credit
from planning.problem import PlanningProblem

COST_TERMS = (
    "purchase_cost",
    "ordering_cost",
    "holding_cost",
    "transfer_cost",
    "shortage_cost",
    "safety_stock_cost",
    "fill_rate_cost",
    "reservation_cost",
    "capacity_overrun_cost",
    "budget_overrun_cost",
    "plan_change_cost",
    "end_of_horizon_credit",
)


def define_objective(m: pyo.ConcreteModel, problem: PlanningProblem) -> None:
    """Add each cost term as a named Expression and minimise their sum as ``m.total_cost``."""
    items, options, pen = problem.items, problem.options, problem.penalties
    m.purchase_cost = pyo.Expression(expr=sum(options[o].unit_cost * m.order_units[o, t] for o, t in m.ORDER_SLOTS))
    m.ordering_cost = pyo.Expression(
        expr=sum(items[options[o].sku].line_cost * m.order_line[o, t] for o, t in m.ORDER_SLOTS)
        + sum(problem.suppliers[s].po_fixed_cost * m.po_open[s, loc, t] for s, loc, t in m.PO_SLOTS)
    )
    m.holding_cost = pyo.Expression(
        expr=sum(items[i].holding_cost * m.inventory[i, loc, t] for i, loc, t in m.POINT_WEEKS)
    )
    m.transfer_cost = pyo.Expression(
        expr=sum(problem.lanes[(f, d)].cost_per_unit * m.transfer[i, f, d, t] for i, f, d, t in m.TRANSFER_SLOTS)
    )
    m.shortage_cost = pyo.Expression(expr=sum(items[k[0]].lost_sale_penalty * m.unmet[k] for k in m.DEMAND))
    m.safety_stock_cost = pyo.Expression(
        expr=sum(pen.safety_stock_shortfall[k[0]] * m.safety_stock_shortfall[k] for k in m.SAFETY_STOCK_WEEKS)
    )
    m.fill_rate_cost = pyo.Expression(
        expr=sum(pen.fill_rate_shortfall[i] * m.fill_rate_shortfall[i] for i in m.FILL_RATE_SKUS)
    )
    m.reservation_cost = pyo.Expression(
        expr=sum(pen.reservation_shortfall[k[0]] * m.reservation_shortfall[k] for k in m.RESERVATIONS)
    )
    m.capacity_overrun_cost = pyo.Expression(
        expr=pen.capacity_overrun * sum(m.capacity_overrun.values())
        + pen.supplier_capacity_overrun * sum(m.supplier_capacity_overrun.values())
    )
    m.budget_overrun_cost = pyo.Expression(expr=pen.budget_overrun * sum(m.budget_overrun.values()))
    m.plan_change_cost = pyo.Expression(expr=_plan_change_cost(m, problem))
    m.end_of_horizon_credit = pyo.Expression(expr=-closing_credit(m, problem))
    m.total_cost = pyo.Objective(expr=sum(getattr(m, term) for term in COST_TERMS), sense=pyo.minimize)


def _plan_change_cost(m: pyo.ConcreteModel, problem: PlanningProblem) -> pyo.Expression | float:
    prior, pen = problem.prior_lines, problem.penalties
    if prior is None or pen.plan_change <= 0:
        return 0.0
    charged = [s for s in m.ORDER_SLOTS if s[1] < pen.plan_change_window and s not in problem.locked_units]
    return pen.plan_change * sum(1 - m.order_line[s] if s in prior else m.order_line[s] for s in charged)
