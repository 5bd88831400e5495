"""Closing stock: what the stock left at the end of the horizon is worth to the plan.

Symbols (i: SKU, l: location, k: value tier of the stock point, T: horizon weeks):
  (closing tiers)  sum_k w[i,l,k] <= I[i,l,T-1],    0 <= w[i,l,k] <= W[i,l,k]  (W may be unbounded)
  credit           sum_{i,l,k} v[i,l,k] w[i,l,k]    (``models.objective``'s end_of_horizon_credit)

The tiers (width W, value v per unit) are data, computed once in ``planning.problem``:

* ``sell_through``: closing stock is what the purchases after the horizon would
  otherwise have to buy, so a unit is worth what it saves less the holding it carries until it
  sells. With r[i,l] the forecast weekly demand at l and every location its stock reaches by
  lanes (the mean of the horizon's last four weeks), c_i the cheapest option's unit cost, F_i
  the line cost and h_i the holding cost a unit-week, ending with x units delays the steady
  economic-order regime (cost c r + sqrt(2 F h r) a week) by x / r weeks and holds the x units
  while they sell:
      V(x) = (c + a) x - h x^2 / (2 r),    a = sqrt(2 F h / r)  (0 at a point nothing is bought to)
  so the unit that sells in week w after the horizon is worth c + a - h (w - 1). Its tiers are
  weeks of sales 1, 1, 2, 2, then 4 wide, each valued at its mean, up to
  ``costs.closing_stock_cover_weeks``; stock beyond that is worth nothing. The marginal value
  falls to c after one economic order cycle (a / h weeks), so the last order of the horizon is
  judged on the whole cycle it covers instead of being cut at the horizon: with a $15 line and
  0.5 % holding a week the median M5 cycle (about 23 weeks) is longer than a 12-week horizon.
  The PO fixed cost, shared by the lines of an order, is left out (the value errs low). Upstream
  stock is valued against all the demand it can reach, so the same future sales can back a
  warehouse's and a store's closing stock: the tiers bound what could sell, they do not split it.
* ``share`` (default): every unit is worth ``theta c_i`` (``costs.end_of_horizon_value_share``),
  one unbounded tier; theta = 0 gives no credit and no rows.

v decreases with k, so the LP fills the tiers in order (a concave credit): no binaries.

Why ``share`` is the default: chosen by measurement in the backtest (bench/RESULTS.md, "Closing
stock valuation"). On 16 measured M5 weeks ``sell_through`` cost 15 % more (54,955 against
47,727) at 2.8 points less fill, with 13 % more purchase orders, though re-plans changed 24 %
fewer lines. The M5 weeks are still solved by rounding the LP relaxation within 15 s: the LP
buys past the horizon in fractions and the rounding turns them into extra lines. The economics
above hold for a well-solved plan; re-measure when the weekly solve proves small gaps.
"""

from __future__ import annotations

import pyomo.environ as pyo

from planning.problem import PlanningProblem


def define_closing_stock(m: pyo.ConcreteModel, problem: PlanningProblem) -> None:
    """Add the closing-stock tiers ``m.closing_tier`` and the row that caps them by closing stock."""
    last = len(problem.week_starts) - 1
    points = [p for p in problem.stock_points if problem.closing_value.get(p)]
    tiers = [(i, loc, k) for i, loc in points for k in range(len(problem.closing_value[(i, loc)]))]
    m.CLOSING_TIERS = pyo.Set(initialize=tiers, dimen=3, ordered=True)
    m.CLOSING_POINTS = pyo.Set(initialize=points, dimen=2, ordered=True)

    def tier_bounds(m: pyo.ConcreteModel, i: str, loc: str, k: int) -> tuple[float, float | None]:
        return 0.0, problem.closing_value[(i, loc)][k][0]

    m.closing_tier = pyo.Var(m.CLOSING_TIERS, domain=pyo.NonNegativeReals, bounds=tier_bounds)

    @m.Constraint(m.CLOSING_POINTS)
    def closing_stock(m, i, loc):
        tiers_here = range(len(problem.closing_value[(i, loc)]))
        return sum(m.closing_tier[i, loc, k] for k in tiers_here) <= m.inventory[i, loc, last]


def closing_credit(m: pyo.ConcreteModel, problem: PlanningProblem) -> pyo.Expression | float:
    """The credit sum v w of ``m.closing_tier`` (0 when no point has a tier)."""
    return sum(problem.closing_value[(i, loc)][k][1] * m.closing_tier[i, loc, k] for i, loc, k in m.CLOSING_TIERS)
