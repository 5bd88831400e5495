"""Cash budget: purchase spend recognised when it is paid, against weekly or monthly limits.

Symbols (o: option with unit cost c_o in the reporting currency, deposit share a_s of its
supplier, lead time L_o; B: a budget row over weeks W_B for a scope of categories/suppliers):
  P[t] = sum_{o in scope} a_s c_o q[o,t]  +  (1 - a_s) c_o q[o, t - L_o]      cash paid in week t
         (deposit when ordering, balance when the goods arrive)

  (budget)                 sum_{t in W_B} P_B[t] <= M_B - K_B + r_B,     r_B >= 0 priced overrun
  (carry forward, option)  sum_{B' <= B} sum_{t in W_B'} P_B'[t] <= sum_{B' <= B} (M_B' - K_B') + r_B
                           over the budget rows of the same scope in week order, so unused
                           cash of earlier periods can be spent later.
  K_B: what open purchase orders still owe in W_B (``PlanningProblem.open_balances``): committed
  cash, as an ERP's budget check counts open commitments. Where commitments alone exceed a
  limit the right-hand side is 0, not negative: no new line may draw on that row, and the
  overspend that is already committed is a fact reported in ``budget_usage`` (headroom < 0), not
  a decision priced in the objective (a constant there would only shrink the reported gap).
The overrun price is far above every other cost: it is used only when nothing else can keep
the plan feasible (e.g. locked orders above budget), and it is reported.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from models.index import ModelIndex
from planning.problem import Budget, PlanningProblem


def _in_scope(problem: PlanningProblem, budget: Budget, option_id: str) -> bool:
    option = problem.options[option_id]
    if budget.supplier and option.supplier != budget.supplier:
        return False
    return not budget.category or problem.items[option.sku].category == budget.category


def define_budget(m: pyo.ConcreteModel, problem: PlanningProblem, index: ModelIndex) -> None:
    """Add the cash-paid expressions per week and a row per budget with its overrun slack."""
    horizon = len(problem.week_starts)
    paid: dict[int, list[tuple[str, int, float]]] = defaultdict(list)  # week -> (option, order week, share)
    for o, t in problem.order_slots:
        option = problem.options[o]
        paid[t].append((o, t, option.deposit_share))
        if option.deposit_share < 1 and t + option.lead_weeks < horizon:
            paid[t + option.lead_weeks].append((o, t, 1 - option.deposit_share))
    budgets = {b.budget_id: b for b in problem.budgets}
    m.BUDGETS = pyo.Set(initialize=list(budgets), ordered=True)
    m.budget_overrun = pyo.Var(m.BUDGETS, domain=pyo.NonNegativeReals)

    @m.Expression(m.WEEKS)
    def cash_paid(m, t):
        return sum(share * problem.options[o].unit_cost * m.order_units[o, tt] for o, tt, share in paid.get(t, ()))

    def spend(m, budget: Budget):
        return sum(
            share * problem.options[o].unit_cost * m.order_units[o, tt]
            for t in budget.weeks
            for o, tt, share in paid.get(t, ())
            if _in_scope(problem, budget, o)
        )

    earlier: dict[str, list[Budget]] = {}
    if problem.carry_budget_forward:
        by_scope: dict[tuple[str, str], list[Budget]] = defaultdict(list)
        for budget in sorted(budgets.values(), key=lambda b: b.weeks[0]):
            by_scope[(budget.category, budget.supplier)].append(budget)
            earlier[budget.budget_id] = list(by_scope[(budget.category, budget.supplier)])

    @m.Expression(m.BUDGETS)
    def budget_spend(m, b):
        return sum(spend(m, row) for row in earlier.get(b, [budgets[b]]))

    caps = problem.budget_caps()

    @m.Constraint(m.BUDGETS)
    def budget_limit(m, b):
        return m.budget_spend[b] <= caps[b] + m.budget_overrun[b]
