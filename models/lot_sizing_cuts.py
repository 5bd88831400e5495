"""Valid inequalities that tighten the LP relaxation of ordering: (l,S) inequalities, S = {t}.

For an order slot (o, t) of SKU i arriving at location l in week a = t + L_o, and a window of
k further weeks, summing the inventory balance of (i, l) over weeks a .. a+k gives, for the
units q[o,t] received in week a when the line is placed (y[o,t] = 1):

  q[o,t] <= sum_{j=a}^{a+k} D[i,l,j] * y[o,t] + I[i,l,a+k] + sum_{j=a}^{a+k} x_out[i,l,j]

(served demand is at most the forecast D, stock and other receipts are non-negative); when
y[o,t] = 0 the order is 0 and the inequality holds trivially. So no integer plan is cut off,
while the LP can no longer buy a large quantity with a tiny fraction of a line: it must either
pay the line or hold the stock, which is what makes fixed order costs and MOQs visible to the
bound. Windows k in ``WINDOWS``; slots whose window demand is zero are skipped (the row would
only say q <= stock + transfers out, already implied). With backorders a week may serve more
than its own demand (late orders catch up), so the rows would not be valid: none are added.
"""

from __future__ import annotations

import pyomo.environ as pyo

from models.index import ModelIndex
from planning.problem import PlanningProblem

WINDOWS = (0, 2)


def define_lot_sizing_cuts(m: pyo.ConcreteModel, problem: PlanningProblem, index: ModelIndex) -> None:
    """Add the (l,S) rows for every unlocked order slot arriving inside the horizon."""
    horizon = len(problem.week_starts)
    slots = () if problem.backorders else problem.order_slots
    demand_at: dict[tuple[str, str, int], float] = {}
    for (sku, loc, _, week), units in problem.demand.items():
        demand_at[(sku, loc, week)] = demand_at.get((sku, loc, week), 0.0) + units
    rows = []
    for option_id, t in slots:
        if (option_id, t) in problem.locked_units:
            continue
        option = problem.options[option_id]
        arrival = t + option.lead_weeks
        for k in WINDOWS:
            end = arrival + k
            if end >= horizon:
                continue
            window = sum(demand_at.get((option.sku, option.ship_to, j), 0.0) for j in range(arrival, end + 1))
            if window > 0:
                rows.append((option_id, t, k, window))
    m.LOT_SIZING_CUTS = pyo.Set(initialize=[(o, t, k) for o, t, k, _ in rows], dimen=3, ordered=True)
    window_demand = {(o, t, k): d for o, t, k, d in rows}

    @m.Constraint(m.LOT_SIZING_CUTS)
    def lot_sizing_cut(m, o, t, k):
        option = problem.options[o]
        sku, loc = option.sku, option.ship_to
        end = t + option.lead_weeks + k
        shipped_out = sum(
            m.transfer[slot]
            for j in range(t + option.lead_weeks, end + 1)
            for slot in index.transfers_out.get((sku, loc, j), ())
        )
        return (
            m.order_units[o, t]
            <= window_demand[(o, t, k)] * m.order_line[o, t] + m.inventory[sku, loc, end] + shipped_out
        )
