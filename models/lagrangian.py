"""Lagrangian relaxation of the rows that couple SKUs: a block of SKUs priced on its own.

SKUs share only a few rows of the buy-plan model. For a block k of SKUs (its model built by
``build_model(problem.restrict(block))``, the same families as the whole model), those rows are
relaxed as follows:

  priced rows r (multiplier pi_r, 0 <= pi_r <= slack price of r):
    budget B             spend_B(x)           <= M_B + r_B          (slack price: budget_overrun)
    supplier capacity    units_{s,t}(x)       <= C_s + u_{s,t}      (supplier_capacity_overrun)
    location capacity    space_{l,t}(x)       <= K_l + u_{l,t}      (capacity_overrun)
  dropped rows (a relaxation: fewer constraints):
    PO minimum           sum_o c_o q[o,t]     >= V_s z[s,l,t]
    lane minimum         sum_i x[i,f,d,t]     >= S_fd w[f,d,t]
  shared fixed costs: a purchase order's fixed cost G_s z[s,l,t] is split over the blocks that
    can order on it, block k paying the share a_k (sum_k a_k = 1) on its own copy of z.

  block k:   L_k(pi) = min  cost_k(x) - sum_{PO} (1 - a_k) G_s z  + sum_r pi_r usage_{r,k}(x)
                      over the block's own rows (balance, MOQ, packs, service, lanes' big-M ...)
  bound:     L(pi)   = sum_k L_k(pi) - sum_r pi_r cap_r       <=   optimal cost of the whole model

Any plan of the whole model restricted to block k is feasible for block k with every z copy
equal to the shared z, and pays at most its cost there plus pi_r times its usage; with
pi_r <= the slack price the overrun slacks can be left out (their reduced cost is >= 0). So
L(pi) is a valid lower bound for every pi in the box, and the sum of each block's proven MIP
bound (not its incumbent) keeps it valid when blocks stop at a gap.

  forced overrun: locked (approved) orders use f_r of a row whatever the plan, so its slack is at
  least max(0, f_r - cap_r) and the bound may add (ceiling_r - pi_r) max(0, f_r - cap_r): a budget
  that the approved orders alone overrun costs at least that overrun at its price.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyomo.environ as pyo

from models.budget import budget_caps
from planning.problem import PlanningProblem, PoSlot

CouplingRow = tuple[str, str, int]  # ("budget", budget id, -1) | ("supplier", supplier, week) | ("location", loc, week)
BUDGET, SUPPLIER, LOCATION = "budget", "supplier", "location"
DROPPED_ROWS = ("budget_limit", "supplier_capacity", "location_capacity", "po_minimum", "lane_minimum")
SLACKS = ("budget_overrun", "supplier_capacity_overrun", "capacity_overrun")


def coupling_caps(problem: PlanningProblem) -> dict[CouplingRow, float]:
    """Every coupling row of the whole problem with its right-hand side (cap_r above)."""
    caps: dict[CouplingRow, float] = {(BUDGET, b, -1): cap for b, cap in budget_caps(problem).items()}
    weeks = range(len(problem.week_starts))
    for supplier, terms in sorted(problem.suppliers.items()):
        if terms.weekly_capacity is not None:
            caps.update({(SUPPLIER, supplier, t): terms.weekly_capacity for t in weeks})
    for location, (capacity, _) in sorted(problem.locations.items()):
        if capacity is not None:
            caps.update({(LOCATION, location, t): capacity for t in weeks})
    return caps


def price_caps(problem: PlanningProblem) -> dict[str, float]:
    """Upper end of each kind of multiplier: the price of the row's slack."""
    pen = problem.penalties
    return {BUDGET: pen.budget_overrun, SUPPLIER: pen.supplier_capacity_overrun, LOCATION: pen.capacity_overrun}


def usage_expressions(m: pyo.ConcreteModel) -> dict[CouplingRow, pyo.Expression]:
    """Each coupling row's left-hand side in a model built by ``build_model``."""
    rows: dict[CouplingRow, pyo.Expression] = {(BUDGET, b, -1): m.budget_spend[b] for b in m.BUDGETS}
    rows.update({(SUPPLIER, s, t): m.supplier_units[s, t] for s, t in m.SUPPLIER_WEEKS})
    rows.update({(LOCATION, loc, t): m.space_used[loc, t] for loc, t in m.CAPACITY_WEEKS})
    return rows


def price_coupling(
    m: pyo.ConcreteModel,
    problem: PlanningProblem,
    prices: Mapping[CouplingRow, float],
    po_share: Mapping[PoSlot, float],
) -> None:
    """Turn a block's model into its Lagrangian subproblem ``L_k(prices)`` (objective ``block_cost``)."""
    for name in DROPPED_ROWS:
        getattr(m, name).deactivate()
    for name in SLACKS:
        getattr(m, name).fix(0)
    not_paid = sum(
        (1.0 - po_share.get(po, 1.0)) * problem.suppliers[po[0]].po_fixed_cost * m.po_open[po]
        for po in m.PO_SLOTS
        if po_share.get(po, 1.0) < 1.0
    )
    priced = sum(prices[row] * usage for row, usage in usage_expressions(m).items() if prices.get(row, 0.0) > 0.0)
    m.total_cost.deactivate()
    m.block_cost = pyo.Objective(expr=m.total_cost.expr - not_paid + priced, sense=pyo.minimize)


def forced_usage(m: pyo.ConcreteModel) -> dict[CouplingRow, float]:
    """Budget and supplier rows' use by the locked units alone (every pack at zero), in a whole model.

    (Location space depends on stock, which no order fixes: none is forced here.)
    """
    saved = {key: var.value for key, var in m.packs.items()}
    for var in m.packs.values():
        if not var.fixed:
            var.set_value(0, skip_validation=True)
    try:
        rows = usage_expressions(m).items()
        return {row: float(pyo.value(expr)) for row, expr in rows if row[0] in (BUDGET, SUPPLIER)}
    finally:
        for key, value in saved.items():
            if not m.packs[key].fixed:
                m.packs[key].set_value(value, skip_validation=True)


def usage_values(m: pyo.ConcreteModel) -> dict[CouplingRow, float]:
    """Each coupling row's left-hand side at the model's loaded values (zeros left out)."""
    values = {row: float(pyo.value(expr)) for row, expr in usage_expressions(m).items()}
    return {row: value for row, value in values.items() if abs(value) > 1e-9}
