"""planning.solve: exact optima of tiny models, status mapping, warm start, backstop, duals.

Every optimum has its arithmetic in a comment. HiGHS runs with threads=1 and a fixed seed.
The "hard" instance is a market-split problem (Cornuéjols & Dawande): a few dense equality
rows over binaries, with priced slack so any plan is feasible. Its LP bound is 0 and stays
0 for seconds of branch and bound, so a short time limit always stops it with a gap.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pyomo.environ as pyo
import pytest

from planning.config import SolverConfig
from planning.errors import NoPlanError
from planning.solve import (
    NoPlanFoundError,
    PlanStatus,
    load_values,
    lp_duals_with_integers_fixed,
    solve,
    solve_model,
)

SETTINGS = SolverConfig(time_limit_s=30.0, backstop_s=10.0, mip_rel_gap=0.0, threads=1, random_seed=0)


def settings(**changes: float) -> SolverConfig:
    return SETTINGS.model_copy(update=changes)


# ----------------------------------------------------------------------------------- models


def lp_model() -> pyo.ConcreteModel:
    """min 2x + 3y  s.t.  c1: x + y >= 4,  c2: x + 3y >= 6,  x, y >= 0.

    Vertices: (0, 4) → 12, (6, 0) → 12, and c1 ∩ c2: 2y = 2 → y = 1, x = 3 → 2·3 + 3·1 = 9.
    Duals (both rows binding): u1 + u2 = 2 (x), u1 + 3·u2 = 3 (y) → u2 = 0.5, u1 = 1.5.
    """
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.NonNegativeReals)
    m.y = pyo.Var(domain=pyo.NonNegativeReals)
    m.c1 = pyo.Constraint(expr=m.x + m.y >= 4)
    m.c2 = pyo.Constraint(expr=m.x + 3 * m.y >= 6)
    m.cost = pyo.Objective(expr=2 * m.x + 3 * m.y)
    return m


def supplier_mip() -> pyo.ConcreteModel:
    """Buy 20 units from supplier A (fixed 10, cases of 6 at 4/case) and/or B (fixed 3,
    cases of 4 at 3.5/case, at most 4 cases).

    A only: ceil(20/6) = 4 cases → 10 + 4·4 = 26.  B only: needs 5 cases > 4, impossible.
    Both: B4 + A1 → 13 + 14 + 4 = 31; B2 + A2 → 13 + 7 + 8 = 28; B1 + A3 → 13 + 3.5 + 12 = 28.5.
    Optimum 26: open A, 4 cases, B closed.
    """
    m = pyo.ConcreteModel()
    m.SUPPLIERS = pyo.Set(initialize=["A", "B"])
    fixed = {"A": 10.0, "B": 3.0}
    case = {"A": 6, "B": 4}
    per_case = {"A": 4.0, "B": 3.5}
    max_cases = {"A": 10, "B": 4}
    m.open = pyo.Var(m.SUPPLIERS, domain=pyo.Binary)
    m.cases = pyo.Var(m.SUPPLIERS, domain=pyo.NonNegativeIntegers)
    m.demand = pyo.Constraint(expr=sum(case[s] * m.cases[s] for s in m.SUPPLIERS) >= 20)

    @m.Constraint(m.SUPPLIERS)
    def only_if_open(m, s):
        return m.cases[s] <= max_cases[s] * m.open[s]

    m.cost = pyo.Objective(expr=sum(fixed[s] * m.open[s] + per_case[s] * m.cases[s] for s in m.SUPPLIERS))
    return m


def budget_mip() -> pyo.ConcreteModel:
    """Demand 25 units: q cases of 10 (5 per case, integer) plus spot units s (0.8 each);
    spend 5q + s above the budget 13 is overrun o, priced 3 per unit.

    q=0: s=25 → 20 + 3·12 = 56.  q=1: s=15 → 5 + 12 + 3·7 = 38.  q=2: s=5 → 10 + 4 + 3·2 = 20.
    q=3: s=0 → 15 + 3·2 = 21.  Optimum 20 at q=2, s=5, o=2.
    With q fixed at 2, one more unit of budget saves one unit of overrun: dual -3; one more
    unit of demand costs one spot unit and one unit of overrun: 0.8 + 3 = 3.8.
    """
    m = pyo.ConcreteModel()
    m.q = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 10))
    m.s = pyo.Var(domain=pyo.NonNegativeReals)
    m.overrun = pyo.Var(domain=pyo.NonNegativeReals)
    m.demand = pyo.Constraint(expr=10 * m.q + m.s >= 25)
    m.budget = pyo.Constraint(expr=5 * m.q + m.s - m.overrun <= 13)
    m.cost = pyo.Objective(expr=5 * m.q + 0.8 * m.s + 3 * m.overrun)
    return m


def market_split(rows: int = 5, cols: int = 40, seed: int = 7) -> tuple[pyo.ConcreteModel, dict[str, float], float]:
    """min Σ|slack|  s.t.  Σ_j a_ij x_j + sp_i - sm_i = floor(Σ_j a_ij / 2),  x binary.

    Returns the model, the trivial start (x = 0, sp = b, sm = 0) and that start's objective Σ b.
    """
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(rows, cols))
    b = a.sum(axis=1) // 2
    m = pyo.ConcreteModel()
    m.I = pyo.RangeSet(0, rows - 1)
    m.J = pyo.RangeSet(0, cols - 1)
    m.x = pyo.Var(m.J, domain=pyo.Binary)
    m.sp = pyo.Var(m.I, domain=pyo.NonNegativeReals)
    m.sm = pyo.Var(m.I, domain=pyo.NonNegativeReals)

    @m.Constraint(m.I)
    def split(m, i):
        return sum(int(a[i, j]) * m.x[j] for j in m.J) + m.sp[i] - m.sm[i] == int(b[i])

    m.slack = pyo.Objective(expr=sum(m.sp[i] + m.sm[i] for i in m.I))
    start = {m.x[j].name: 0.0 for j in m.J}
    start |= {m.sp[i].name: float(b[i]) for i in m.I}
    start |= {m.sm[i].name: 0.0 for i in m.I}
    return m, start, float(b.sum())


# --------------------------------------------------------------------------------- optima


def test_lp_optimum_values_and_report():
    result = solve_model(lp_model(), SETTINGS)
    report = result.report
    assert report.status is PlanStatus.OPTIMAL
    assert report.has_plan and report.termination == "Optimal"
    assert report.objective == pytest.approx(9.0)  # 2·3 + 3·1
    assert result.values == pytest.approx({"x": 3.0, "y": 1.0})
    assert (report.columns, report.rows, report.integer_columns, report.nonzeros) == (2, 2, 0, 4)
    assert not report.is_mip and report.gap == 0.0 and report.best_bound == pytest.approx(9.0)
    assert set(report.timings) >= {"compile", "handover", "solve", "total"}
    assert not report.backstop_fired


def test_mip_with_integers_and_binaries():
    result = solve_model(supplier_mip(), SETTINGS)
    assert result.report.status is PlanStatus.OPTIMAL
    assert result.report.objective == pytest.approx(26.0)  # 10 + 4·4
    assert result.values == {"open[A]": 1.0, "open[B]": 0.0, "cases[A]": 4.0, "cases[B]": 0.0}
    assert result.report.integer_columns == 4 and result.report.is_mip


def test_objective_offset_and_maximise():
    """max 3x + 2y + 7  s.t.  x + y <= 4,  x + 3y <= 6,  x, y >= 0.

    Vertices: (4, 0) → 12 + 7 = 19; (3, 1) → 9 + 2 + 7 = 18; (0, 2) → 4 + 7 = 11.
    """
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.NonNegativeReals)
    m.y = pyo.Var(domain=pyo.NonNegativeReals)
    m.c1 = pyo.Constraint(expr=m.x + m.y <= 4)
    m.c2 = pyo.Constraint(expr=m.x + 3 * m.y <= 6)
    m.profit = pyo.Objective(expr=3 * m.x + 2 * m.y + 7, sense=pyo.maximize)
    result = solve_model(m, SETTINGS)
    assert result.report.objective == pytest.approx(19.0)
    assert result.values == pytest.approx({"x": 4.0, "y": 0.0})
    # Maximising: one more unit of c1's bound adds 3 (x grows by 1); c2 is slack (4 < 6).
    duals = lp_duals_with_integers_fixed(m, result.values, SETTINGS, [m.c1, m.c2])
    assert duals == pytest.approx({"c1": 3.0, "c2": 0.0})


def test_ranged_row_is_one_row_and_fixed_vars_move_to_the_rhs():
    """min x  s.t.  2 <= x + y + f <= 5,  y in [0, 1],  f fixed at 0.5  →  x = 2 - 1 - 0.5 = 0.5."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.NonNegativeReals)
    m.y = pyo.Var(bounds=(0, 1))
    m.f = pyo.Var(initialize=0.5)
    m.f.fix()
    m.unused = pyo.Var(bounds=(0, 1))
    m.r = pyo.Constraint(expr=pyo.inequality(2, m.x + m.y + m.f, 5))
    m.obj = pyo.Objective(expr=m.x)
    result = solve_model(m, SETTINGS)
    assert result.report.objective == pytest.approx(0.5)
    assert result.report.rows == 1 and result.report.columns == 2
    assert set(result.values) == {"x", "y"}  # fixed and unused variables are not columns
    # Raising the lower bound 2 by one raises x by one.
    assert lp_duals_with_integers_fixed(m, result.values, SETTINGS, [m.r]) == pytest.approx({"r": 1.0})


def test_model_with_every_variable_fixed_is_its_constant():
    """x fixed at 2: the objective 3x + 1 is the constant 7 and the row x <= 5 is a constant."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var(initialize=2.0)
    m.x.fix()
    m.cap = pyo.Constraint(expr=m.x <= 5)
    m.obj = pyo.Objective(expr=3 * m.x + 1)
    result = solve_model(m, SETTINGS)
    assert result.report.status is PlanStatus.OPTIMAL
    assert result.report.objective == pytest.approx(7.0)
    assert (result.report.columns, result.report.rows, result.values) == (0, 0, {})


def test_objective_name_picks_one_of_several():
    m = lp_model()
    m.other = pyo.Objective(expr=m.x + m.y)  # min x + y on the same rows: 4 at (3, 1) or (4, 0)
    with pytest.raises(ValueError, match="objective_name"):
        solve_model(m, SETTINGS)
    assert solve_model(m, SETTINGS, objective_name="cost").report.objective == pytest.approx(9.0)
    assert solve_model(m, SETTINGS, objective_name="other").report.objective == pytest.approx(4.0)


def test_values_are_keyed_by_pyomo_names_even_for_odd_indices():
    """min Σ v  s.t.  every v >= 1  →  each of the 4 variables is 1."""
    m = pyo.ConcreteModel()
    m.v = pyo.Var([("a b", 1), ("c'd", 2.5)], domain=pyo.NonNegativeReals)
    m.sub = pyo.Block()
    m.sub.w = pyo.Var(["x,y", 3], domain=pyo.NonNegativeIntegers)
    variables = [*m.v.values(), *m.sub.w.values()]
    m.floor = pyo.Constraint(range(4), rule=lambda m, i: variables[i] >= 1)
    m.obj = pyo.Objective(expr=sum(variables))
    result = solve_model(m, SETTINGS)
    assert result.values == {var.name: 1.0 for var in variables}


def test_load_values_writes_into_the_model():
    m = supplier_mip()
    result = solve_model(m, SETTINGS)
    assert load_values(m, result) == 4
    assert pyo.value(m.cost) == pytest.approx(26.0)


# ------------------------------------------------------------------------------- statuses


def test_time_limit_with_incumbent_is_a_plan_with_a_gap():
    m, start, start_objective = market_split()
    result = solve_model(m, settings(time_limit_s=0.2), initial=start)
    report = result.report
    assert report.status is PlanStatus.TIME_LIMIT_WITH_PLAN
    assert report.termination == "Time limit reached"
    assert report.has_plan and report.gap is not None and report.gap > 0
    assert report.objective is not None and report.objective <= start_objective
    assert report.warm_start_columns == len(start)


def test_warm_start_is_the_incumbent_when_time_runs_out_at_once():
    m, start, start_objective = market_split()
    result = solve_model(m, settings(time_limit_s=1e-6), initial=start)
    assert result.report.status is PlanStatus.TIME_LIMIT_WITH_PLAN
    assert result.report.objective == pytest.approx(start_objective)  # Σ b: all slack
    assert result.values == pytest.approx(start)
    assert result.report.best_bound is None and result.report.gap == float("inf")


def test_time_limit_without_incumbent_raises_naming_the_fix():
    m, _, _ = market_split()
    with pytest.raises(NoPlanError, match=r"raise solver\.time_limit_s") as caught:
        solve_model(m, settings(time_limit_s=1e-6))
    assert isinstance(caught.value, NoPlanFoundError)
    assert caught.value.report.status is PlanStatus.NO_SOLUTION
    assert caught.value.report.termination == "Time limit reached"
    # The non-raising entry point returns the same outcome as a value.
    assert not solve(m, settings(time_limit_s=1e-6)).report.has_plan


def test_infeasible_model_raises_as_a_modelling_bug():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 1))
    m.y = pyo.Var(bounds=(0, 1))
    m.need = pyo.Constraint(expr=m.x + m.y >= 5)  # at most 1 + 1 = 2
    m.obj = pyo.Objective(expr=m.x)
    with pytest.raises(NoPlanFoundError, match="modelling bug") as caught:
        solve_model(m, SETTINGS)
    assert caught.value.report.status in (PlanStatus.INFEASIBLE, PlanStatus.INFEASIBLE_OR_UNBOUNDED)


def test_constant_violated_constraint_is_infeasible_before_highs():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 1))
    m.f = pyo.Var(initialize=3.0)
    m.f.fix()
    m.bad = pyo.Constraint(expr=m.f <= 2)
    m.obj = pyo.Objective(expr=m.x)
    with pytest.raises(NoPlanFoundError, match="modelling bug") as caught:
        solve_model(m, SETTINGS)
    assert caught.value.report.status is PlanStatus.INFEASIBLE


def test_unbounded_model_raises():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.NonNegativeReals)
    m.obj = pyo.Objective(expr=-m.x)
    m.c = pyo.Constraint(expr=m.x >= 1)
    with pytest.raises(NoPlanFoundError, match="upper bound") as caught:
        solve_model(m, SETTINGS)
    assert caught.value.report.status in (PlanStatus.UNBOUNDED, PlanStatus.INFEASIBLE_OR_UNBOUNDED)


def test_threads_may_change_between_solves():
    # From one OS thread HiGHS refuses a second `threads` value; each solve has its own thread.
    for threads in (1, 2, 1):
        assert solve_model(lp_model(), settings(threads=threads)).report.status is PlanStatus.OPTIMAL


def test_unknown_highs_option_is_an_error():
    with pytest.raises(ValueError, match="no_such_option"):
        solve_model(lp_model(), SETTINGS, highs_options={"no_such_option": 1})


# ------------------------------------------------------------------------------- backstop


def test_backstop_interrupts_a_running_solve():
    m, start, start_objective = market_split()
    # HiGHS's own limit is pushed out of reach, so only the backstop can stop it (at 0.6 s).
    config = settings(time_limit_s=0.3, backstop_s=0.3)
    began = time.perf_counter()
    result = solve_model(m, config, initial=start, highs_options={"time_limit": 1e9})
    elapsed = time.perf_counter() - began
    report = result.report
    assert report.backstop_fired and not report.backstop_abandoned
    assert report.status is PlanStatus.BACKSTOP_WITH_PLAN
    assert report.termination == "Interrupted by user"
    assert report.objective is not None and report.objective <= start_objective
    assert elapsed < 10.0  # generous: the bound is 0.3 + 2·0.3 s plus reading the solution back


def test_backstop_abandons_a_solver_that_ignores_the_interrupt(monkeypatch):
    release = threading.Event()

    def stuck_run(self):  # what a HiGHS run stuck outside any interrupt check looks like
        release.wait(5.0)
        return

    monkeypatch.setattr("planning.solve.highspy.Highs.run", stuck_run)
    try:
        with pytest.raises(NoPlanFoundError, match="backstop") as caught:
            solve_model(lp_model(), settings(time_limit_s=0.1, backstop_s=0.1))
    finally:
        release.set()
    report = caught.value.report
    assert report.backstop_fired and report.backstop_abandoned
    assert report.status is PlanStatus.NO_SOLUTION


# ---------------------------------------------------------------------------------- duals


def test_lp_duals_match_hand_computed_shadow_prices():
    m = lp_model()
    result = solve_model(m, SETTINGS)
    duals = lp_duals_with_integers_fixed(m, result.values, SETTINGS, [m.c1, m.c2])
    assert duals == pytest.approx({"c1": 1.5, "c2": 0.5})


def test_budget_dual_with_integers_fixed():
    m = budget_mip()
    result = solve_model(m, SETTINGS)
    assert result.report.objective == pytest.approx(20.0)  # 5·2 + 0.8·5 + 3·2
    assert result.values == pytest.approx({"q": 2.0, "s": 5.0, "overrun": 2.0})
    duals = lp_duals_with_integers_fixed(m, result.values, SETTINGS, [m.budget, m.demand])
    assert duals == pytest.approx({"budget": -3.0, "demand": 3.8})


def test_duals_need_every_integer_value():
    m = budget_mip()
    with pytest.raises(ValueError, match="integer columns"):
        lp_duals_with_integers_fixed(m, {"s": 5.0}, SETTINGS, [m.budget])
