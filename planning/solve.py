"""Solve a Pyomo model with HiGHS: the only module that knows HiGHS.

Callers hand in a ``pyo.ConcreteModel`` and a ``SolverConfig`` and get back a frozen
``SolveReport`` plus the variable values by name; no solver object leaves this module.

The fast path
    Pyomo's persistent interfaces (``appsi_highs``, ``highs``) add rows and columns through
    per-component Python calls, which took 25–28 s for a 364k-column buy plan. Here the model
    goes through ``LinearStandardFormCompiler`` in mixed form instead (one walk of every
    expression, straight into ``scipy.sparse`` CSC arrays), column bounds and integrality are
    read into numpy arrays, and one ``Highs.passModel`` call copies everything into HiGHS.
    The compiler splits a ranged row ``lb <= body <= ub`` into two rows; they are merged back
    here, so every HiGHS row is exactly one Pyomo constraint. Variables fixed in Pyomo are
    moved to the right-hand side by the compiler, and variables that appear in no active
    constraint or objective are dropped: neither kind is a HiGHS column, so neither is in
    ``SolveResult.values``. ``bench/bench_handover.py`` measures this path against
    ``appsi_highs``.

The backstop
    HiGHS checks its ``time_limit`` only at certain points and can overshoot it by minutes on
    large instances. ``Highs.run`` therefore runs in a worker thread (highspy releases the
    GIL) while this thread waits ``time_limit_s + backstop_s``. If HiGHS has not returned by
    then, the backstop fires: ``Highs.cancelSolve`` raises a flag that highspy's user-interrupt
    callbacks (MIP, simplex and IPM interrupt; ``HandleUserInterrupt``) hand to HiGHS, which
    stops at its next check and returns its incumbent with model status "Interrupted by
    user". HiGHS checks those callbacks where it checks its time limit, so the phases that
    overshoot also ignore the interrupt: on a 100k-column buy-plan MIP with an 18 s limit,
    HiGHS 1.16 called no interrupt callback between 0.4 s and 95 s (the LP solves inside the
    MIP do not call the simplex callback). So if HiGHS does not return within another
    ``backstop_s``, the worker is abandoned (a daemon thread: it keeps one core busy until
    HiGHS reaches its next check, and does not block interpreter exit) and the plan is the
    last incumbent HiGHS announced through its improving-solution callback, if any. A caller
    always regains control within ``time_limit_s + 2 * backstop_s`` plus the time to read the
    solution back. Only a subprocess could reclaim the abandoned core.

Threads
    HiGHS keeps one task scheduler per calling OS thread and refuses to run ("Option
    'threads' is set to 2 but global scheduler has already been initialized to use 1
    threads") when ``threads`` changes between solves made from the same thread. Each solve
    here runs in a fresh worker thread, whose scheduler is shut down when the thread exits,
    so ``threads`` may differ between solves in one process. ``Highs.resetGlobalScheduler`` is
    never called: it is not thread-safe (ERGO-Code/HiGHS#3141).

Status semantics
    Like Pyomo's ``TerminationCondition`` versus ``SolutionStatus``, the report keeps why
    HiGHS stopped (``termination``, HiGHS's own model-status text) apart from whether a plan
    exists (``has_plan``: HiGHS holds a primal-feasible solution). ``status`` combines the
    two into one ``PlanStatus``. Only "no plan at all" raises (``NoPlanFoundError``, a
    ``NoPlanError`` that carries the report); a time-limited or backstopped solve with an
    incumbent is a publishable plan with its gap.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from numpy.typing import NDArray
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.core.base.component_namer import index_repr
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from planning.config import SolverConfig
from planning.errors import NoPlanError

__all__ = [
    "ArrayModel",
    "ArrayResult",
    "GrowingModel",
    "NoPlanFoundError",
    "PlanStatus",
    "SolveReport",
    "SolveResult",
    "array_form",
    "arrays_with",
    "compile_arrays",
    "load_values",
    "lp_duals_with_integers_fixed",
    "solve",
    "solve_arrays",
    "solve_model",
]

log = logging.getLogger(__name__)

HighsOptionValue = bool | int | float | str

_MODEL_STATUS = highspy.HighsModelStatus
_SOLUTION_FEASIBLE = 2  # HiGHS kSolutionStatusFeasible


class PlanStatus(enum.Enum):
    """Outcome of a solve: why HiGHS stopped, folded together with whether a plan exists."""

    OPTIMAL = "optimal"
    """Proven optimal (for a MIP: within ``mip_rel_gap``)."""
    TIME_LIMIT_WITH_PLAN = "time_limit_with_plan"
    """HiGHS stopped at ``time_limit_s`` holding an incumbent: publishable, with its gap."""
    BACKSTOP_WITH_PLAN = "backstop_with_plan"
    """HiGHS overran its time limit, the backstop stopped it, and an incumbent exists."""
    LIMIT_WITH_PLAN = "limit_with_plan"
    """Another HiGHS limit (nodes, solutions, iterations, ...) stopped it with an incumbent."""
    INFEASIBLE = "infeasible"
    """Proven infeasible."""
    UNBOUNDED = "unbounded"
    """Proven unbounded."""
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    """Presolve proved one of the two without telling which."""
    NO_SOLUTION = "no_solution"
    """Stopped by a limit or the backstop before any feasible plan was found."""
    ERROR = "error"
    """HiGHS reported an error (load, model, presolve, solve or postsolve)."""

    @property
    def has_plan(self) -> bool:
        """Whether this status comes with a feasible plan."""
        return self in _WITH_PLAN


_WITH_PLAN = frozenset(
    {
        PlanStatus.OPTIMAL,
        PlanStatus.TIME_LIMIT_WITH_PLAN,
        PlanStatus.BACKSTOP_WITH_PLAN,
        PlanStatus.LIMIT_WITH_PLAN,
    }
)


@dataclass(frozen=True, slots=True)
class SolveReport:
    """Everything known about one solve, as plain values.

    Attributes:
        status: The outcome, see ``PlanStatus``.
        termination: HiGHS's model-status text, e.g. "Optimal", "Time limit reached",
            "Interrupted by user" (the latter when the backstop fired).
        has_plan: HiGHS holds a primal-feasible solution (``values`` is filled).
        objective: Objective value of the plan, constant offset included; None without a plan.
        best_bound: Best proven bound on the objective (MIP dual bound, or the LP optimum);
            None when no finite bound is known.
        gap: Relative gap as HiGHS defines ``mip_gap`` (|incumbent − bound| relative to
            |incumbent|; ``inf`` while there is no finite bound); 0.0 for an optimal LP; None
            for an LP that is not optimal or when there is no plan.
        is_mip: The model has integer or binary columns.
        timings: Seconds per stage: "compile" (Pyomo → standard form), "handover" (arrays +
            ``passModel``, warm start), "solve" (HiGHS run, backstop included), "extract"
            (solution → values by name) and "total".
        columns: HiGHS columns (model variables that are neither fixed nor unused).
        rows: HiGHS rows (one per active, non-trivial Pyomo constraint).
        integer_columns: Columns with an integer or binary domain.
        nonzeros: Nonzeros of the constraint matrix.
        backstop_fired: The backstop interrupted HiGHS.
        backstop_abandoned: HiGHS ignored the interrupt too and was left running.
        mip_node_count: Branch-and-bound nodes; 0 for an LP.
        warm_start_columns: Columns given a start value (0 = no warm start).
        time_limit_s: The time limit HiGHS was given.
        solver: Solver name and version.
    """

    status: PlanStatus
    termination: str
    has_plan: bool
    objective: float | None
    best_bound: float | None
    gap: float | None
    is_mip: bool
    timings: dict[str, float]
    columns: int
    rows: int
    integer_columns: int
    nonzeros: int
    backstop_fired: bool = False
    backstop_abandoned: bool = False
    mip_node_count: int = 0
    warm_start_columns: int = 0
    time_limit_s: float = math.inf
    solver: str = "HiGHS"

    def summary_line(self) -> str:
        """One line for logs and run records."""
        gap = "n/a" if self.gap is None else f"{self.gap:.4%}"
        return (
            f"{self.status.value}: {self.termination}; objective={self.objective} bound={self.best_bound} "
            f"gap={gap}; {self.columns} cols ({self.integer_columns} int) x {self.rows} rows, "
            f"{self.nonzeros} nz; total {self.timings.get('total', math.nan):.2f}s"
            + ("; BACKSTOP FIRED" if self.backstop_fired else "")
        )


@dataclass(frozen=True, slots=True)
class SolveResult:
    """A report plus the plan: ``values`` maps ``var.name`` to its value (integers rounded)."""

    report: SolveReport
    values: dict[str, float]


class NoPlanFoundError(NoPlanError):
    """HiGHS returned no plan at all; ``report`` says why and how long each stage took."""

    def __init__(self, message: str, report: SolveReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True, slots=True)
class _StandardForm:
    """A model compiled to HiGHS's column-wise LP data; ``rows``/``columns`` map back to Pyomo."""

    columns: list[Any]  # Pyomo VarData, one per HiGHS column
    rows: list[Any]  # Pyomo ConstraintData, one per HiGHS row
    sense: int  # +1 minimise, -1 maximise (Pyomo and HiGHS agree)
    offset: float
    cost: NDArray[np.float64]
    col_lower: NDArray[np.float64]
    col_upper: NDArray[np.float64]
    integer: NDArray[np.bool_]
    row_lower: NDArray[np.float64]
    row_upper: NDArray[np.float64]
    a_start: NDArray[np.int32]
    a_index: NDArray[np.int32]
    a_value: NDArray[np.float64]

    @property
    def is_mip(self) -> bool:
        return bool(self.integer.any())


ArrayModel = _StandardForm  # a model as HiGHS's column-wise arrays (``array_form``, ``compile_arrays``)


@dataclass(slots=True)
class _Incumbent:
    """Latest improving solution HiGHS announced through its callback (backstop fallback)."""

    objective: float = math.nan
    bound: float = math.nan
    gap: float = math.inf
    nodes: int = 0
    values: NDArray[np.float64] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, event: Any) -> None:
        """Callback for ``kCallbackMipImprovingSolution``; runs on HiGHS's thread."""
        out = event.data_out
        with self.lock:
            self.objective = float(out.objective_function_value)
            self.bound = float(out.mip_dual_bound)
            self.gap = float(out.mip_gap)
            self.nodes = int(out.mip_node_count)
            self.values = np.array(out.mip_solution, dtype=np.float64, copy=True)


@dataclass(frozen=True, slots=True)
class _RunOutcome:
    """What came back from the worker thread."""

    highs_status: Any  # highspy.HighsStatus, or None when abandoned
    error: BaseException | None
    fired: bool
    abandoned: bool
    seconds: float


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def solve(
    model: pyo.ConcreteModel,
    settings: SolverConfig,
    *,
    initial: Mapping[str, float] | None = None,
    objective_name: str | None = None,
    log_to_console: bool = False,
    highs_options: Mapping[str, HighsOptionValue] | None = None,
    relax_integrality: bool = False,
) -> SolveResult:
    """Solve ``model`` with HiGHS and return the report and values, whatever the outcome.

    Never raises for solver outcomes: a result without a plan has ``report.has_plan`` False
    and empty ``values``. Use ``solve_model`` to raise instead. Arguments as in ``solve_model``;
    ``relax_integrality`` solves the LP relaxation and returns its fractional values (its
    optimum is a valid lower bound of the MIP).

    Returns:
        The report and, when there is a plan, ``var.name → value`` for every HiGHS column.
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        form = _compile(model, objective_name)
    except InfeasibleConstraintException as exc:
        return _trivially_infeasible(str(exc), settings, time.perf_counter() - t0)
    if relax_integrality:
        form = dataclasses.replace(form, integer=np.zeros_like(form.integer))
    timings["compile"] = time.perf_counter() - t0

    return _solve_form(form, settings, initial, log_to_console, highs_options, timings, t0)


def _solve_form(
    form: _StandardForm,
    settings: SolverConfig,
    initial: Mapping[str, float] | None,
    log_to_console: bool,
    highs_options: Mapping[str, HighsOptionValue] | None,
    timings: dict[str, float],
    t0: float,
    names: list[str] | None = None,
) -> SolveResult:
    """Hand a compiled model to HiGHS, solve it under the backstop and read the outcome."""
    t1 = time.perf_counter()
    h = _new_highs(settings, log_to_console, highs_options)
    time_limit = float(h.getOptionValue("time_limit")[1])
    _pass_model(h, form)
    warm = 0
    if initial and form.is_mip:
        names = names if names is not None else _var_names(form.columns)
        warm = _set_warm_start(h, names, initial)
    timings["handover"] = time.perf_counter() - t1

    incumbent = _Incumbent()
    outcome = _run_with_backstop(h, settings, incumbent)
    timings["solve"] = outcome.seconds

    t2 = time.perf_counter()
    report, col_values = _read_outcome(h, form, outcome, incumbent, warm, time_limit)
    values: dict[str, float] = {}
    if col_values is not None:
        names = names if names is not None else _var_names(form.columns)
        values = dict(zip(names, col_values.tolist(), strict=True))
    timings["extract"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    return SolveResult(report=_with_timings(report, timings), values=values)


@dataclass(frozen=True, slots=True)
class CompiledModel:
    """A model compiled once for HiGHS, to be solved many times with different columns fixed."""

    form: _StandardForm
    names: list[str]
    index: dict[str, int]


def compile_model(model: pyo.ConcreteModel, objective_name: str | None = None) -> CompiledModel:
    """Compile ``model`` (its free variables become columns) for repeated ``solve_compiled`` calls."""
    form = _compile(model, objective_name)
    names = _var_names(form.columns)
    return CompiledModel(form=form, names=names, index={name: k for k, name in enumerate(names)})


def solve_compiled(
    compiled: CompiledModel,
    settings: SolverConfig,
    *,
    fixed: Mapping[str, float],
    initial: Mapping[str, float] | None = None,
) -> SolveResult:
    """Solve a compiled model with the columns named in ``fixed`` held at those values.

    Fixing by column bounds skips Pyomo's compile, which dominates small re-solves of a large
    model (fix-and-optimize rounds). Values cover every column, fixed ones included.
    """
    t0 = time.perf_counter()
    lower, upper = compiled.form.col_lower.copy(), compiled.form.col_upper.copy()
    for name, value in fixed.items():
        k = compiled.index.get(name)
        if k is not None:
            lower[k] = upper[k] = value
    form = dataclasses.replace(compiled.form, col_lower=lower, col_upper=upper)
    return _solve_form(form, settings, initial, False, None, {"compile": 0.0}, t0, compiled.names)


@dataclass(frozen=True, slots=True)
class ArrayResult:
    """A solve of a model given as arrays: the report, column values and (for an optimal LP) row duals."""

    report: SolveReport
    x: NDArray[np.float64] | None
    row_dual: NDArray[np.float64] | None = None


def array_form(
    cost: NDArray[np.float64],
    offset: float,
    col_lower: NDArray[np.float64],
    col_upper: NDArray[np.float64],
    integer: NDArray[np.bool_],
    row_lower: NDArray[np.float64],
    row_upper: NDArray[np.float64],
    a_start: NDArray[np.int32],
    a_index: NDArray[np.int32],
    a_value: NDArray[np.float64],
) -> _StandardForm:
    """A minimisation model given as column-wise arrays (no Pyomo behind it)."""
    return _StandardForm(
        columns=[],
        rows=[],
        sense=1,
        offset=float(offset),
        cost=np.asarray(cost, dtype=np.float64),
        col_lower=np.asarray(col_lower, dtype=np.float64),
        col_upper=np.asarray(col_upper, dtype=np.float64),
        integer=np.asarray(integer, dtype=np.bool_),
        row_lower=np.asarray(row_lower, dtype=np.float64),
        row_upper=np.asarray(row_upper, dtype=np.float64),
        a_start=np.asarray(a_start, dtype=np.int32),
        a_index=np.asarray(a_index, dtype=np.int32),
        a_value=np.asarray(a_value, dtype=np.float64),
    )


def arrays_with(
    model: _StandardForm,
    *,
    cost: NDArray[np.float64] | None = None,
    offset: float | None = None,
    col_lower: NDArray[np.float64] | None = None,
    col_upper: NDArray[np.float64] | None = None,
    integer: NDArray[np.bool_] | None = None,
    row_lower: NDArray[np.float64] | None = None,
    row_upper: NDArray[np.float64] | None = None,
) -> _StandardForm:
    """``model``'s arrays with some costs, bounds or integrality replaced, as a model without Pyomo behind it."""
    return array_form(
        model.cost if cost is None else cost,
        model.offset if offset is None else offset,
        model.col_lower if col_lower is None else col_lower,
        model.col_upper if col_upper is None else col_upper,
        model.integer if integer is None else integer,
        model.row_lower if row_lower is None else row_lower,
        model.row_upper if row_upper is None else row_upper,
        model.a_start,
        model.a_index,
        model.a_value,
    )


def solve_arrays(
    form: _StandardForm,
    settings: SolverConfig,
    *,
    highs_options: Mapping[str, HighsOptionValue] | None = None,
    start: NDArray[np.float64] | None = None,
    duals: bool = False,
) -> ArrayResult:
    """Solve an ``array_form`` model (MIP or LP) under the backstop; never raises for outcomes.

    ``start`` is a full MIP start (one value per column). ``duals`` reads the row duals of an
    optimal LP (HiGHS's sign: the reduced cost of a column is ``c - A^T y``).
    """
    t0 = time.perf_counter()
    h = _new_highs(settings, False, highs_options)
    time_limit = float(h.getOptionValue("time_limit")[1])
    _pass_model(h, form)
    warm = 0
    if start is not None and form.is_mip and len(start) == len(form.cost):
        index = np.arange(len(start), dtype=np.int32)
        if h.setSolution(len(start), index, np.asarray(start, dtype=np.float64)) != highspy.HighsStatus.kError:
            warm = len(start)
    incumbent = _Incumbent()
    outcome = _run_with_backstop(h, settings, incumbent)
    report, x = _read_outcome(h, form, outcome, incumbent, warm, time_limit)
    row_dual = None
    if duals and not form.is_mip and report.status is PlanStatus.OPTIMAL and not outcome.abandoned:
        row_dual = np.asarray(h.getSolution().row_dual, dtype=np.float64)
    timings = {"solve": outcome.seconds, "total": time.perf_counter() - t0}
    return ArrayResult(report=_with_timings(report, timings), x=x, row_dual=row_dual)


def _flatten(
    entries: Sequence[Sequence[tuple[int, float]]],
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float64]]:
    """(start, index, value) arrays of a list of sparse vectors."""
    starts = np.zeros(len(entries), dtype=np.int32)
    index: list[int] = []
    value: list[float] = []
    for k, vector in enumerate(entries):
        starts[k] = len(index)
        for i, v in vector:
            index.append(i)
            value.append(v)
    return starts, np.asarray(index, dtype=np.int32), np.asarray(value, dtype=np.float64)


class GrowingModel:
    """An LP kept in one HiGHS instance that grows by rows and columns and is solved again from its
    last basis (a column-generation master). It never leaves the solve layer."""

    def __init__(self, settings: SolverConfig, highs_options: Mapping[str, HighsOptionValue] | None = None) -> None:
        self._settings = settings
        self._h = _new_highs(settings, False, highs_options)
        self.rows = 0
        self.columns = 0

    def add_rows(
        self,
        lower: Sequence[float],
        upper: Sequence[float],
        entries: Sequence[Sequence[tuple[int, float]]] | None = None,
    ) -> int:
        """Rows with these bounds and (column, coefficient) entries on existing columns; returns the first index."""
        first = self.rows
        n = len(lower)
        if not n:
            return first
        starts, index, value = _flatten(entries if entries is not None else [()] * n)
        self._h.addRows(
            n,
            np.asarray(lower, dtype=np.float64),
            np.asarray(upper, dtype=np.float64),
            len(index),
            starts,
            index,
            value,
        )
        self.rows += n
        return first

    def add_columns(
        self,
        cost: Sequence[float],
        lower: Sequence[float],
        upper: Sequence[float],
        entries: Sequence[Sequence[tuple[int, float]]],
    ) -> int:
        """Columns with their (row, coefficient) entries; returns the index of the first."""
        first = self.columns
        n = len(cost)
        if not n:
            return first
        starts, index, value = _flatten(entries)
        self._h.addCols(
            n,
            np.asarray(cost, dtype=np.float64),
            np.asarray(lower, dtype=np.float64),
            np.asarray(upper, dtype=np.float64),
            len(index),
            starts,
            index,
            value,
        )
        self.columns += n
        return first

    def solve(self) -> ArrayResult:
        """Solve the LP as it stands; optimal results carry column values and row duals."""
        t0 = time.perf_counter()
        outcome = _run_with_backstop(self._h, self._settings, _Incumbent())
        if outcome.error is not None:
            raise outcome.error
        status = self._h.getModelStatus() if not outcome.abandoned else None
        optimal = status == _MODEL_STATUS.kOptimal
        info = self._h.getInfo()
        report = SolveReport(
            status=PlanStatus.OPTIMAL if optimal else PlanStatus.NO_SOLUTION,
            termination=self._h.modelStatusToString(status) if status is not None else "Abandoned",
            has_plan=optimal,
            objective=float(info.objective_function_value) if optimal else None,
            best_bound=float(info.objective_function_value) if optimal else None,
            gap=0.0 if optimal else None,
            is_mip=False,
            timings={"solve": outcome.seconds, "total": time.perf_counter() - t0},
            columns=self.columns,
            rows=self.rows,
            integer_columns=0,
            nonzeros=0,
            backstop_fired=outcome.fired,
            backstop_abandoned=outcome.abandoned,
            time_limit_s=self._settings.time_limit_s,
        )
        if not optimal:
            return ArrayResult(report=report, x=None)
        solution = self._h.getSolution()
        return ArrayResult(
            report=report,
            x=np.asarray(solution.col_value, dtype=np.float64),
            row_dual=np.asarray(solution.row_dual, dtype=np.float64),
        )

    def arrays(self) -> _StandardForm:
        """The LP as it stands, as arrays (to solve it as a MIP apart, leaving this basis alone)."""
        lp = self._h.getLp()
        matrix = lp.a_matrix_
        if matrix.format_ != highspy.MatrixFormat.kColwise:
            raise RuntimeError("HiGHS holds the master row-wise; expected column-wise")
        return array_form(
            np.asarray(lp.col_cost_),
            float(lp.offset_),
            np.asarray(lp.col_lower_),
            np.asarray(lp.col_upper_),
            np.zeros(lp.num_col_, dtype=np.bool_),
            np.asarray(lp.row_lower_),
            np.asarray(lp.row_upper_),
            np.asarray(matrix.start_, dtype=np.int32),
            np.asarray(matrix.index_, dtype=np.int32),
            np.asarray(matrix.value_, dtype=np.float64),
        )


def solve_model(
    model: pyo.ConcreteModel,
    settings: SolverConfig,
    *,
    initial: Mapping[str, float] | None = None,
    objective_name: str | None = None,
    log_to_console: bool = False,
    highs_options: Mapping[str, HighsOptionValue] | None = None,
) -> SolveResult:
    """Solve ``model`` with HiGHS; raise only when there is no plan at all.

    Args:
        model: A linear Pyomo model (LP or MIP) with at most one active objective, or pick
            one with ``objective_name``.
        settings: Time limit, backstop, gap, threads, seed and heuristic effort.
        initial: Warm start, ``var.name → value``; may be partial. Names that are not HiGHS
            columns (fixed, unused or unknown variables) are ignored. A full start is checked
            by HiGHS before the search and kept as the incumbent if feasible; a partial one is
            completed by a sub-MIP, which needs some time. Ignored for LPs.
        objective_name: Name of the active objective to optimise when there are several.
        log_to_console: Show HiGHS's log (off by default).
        highs_options: Raw HiGHS options applied last, overriding those from ``settings``
            (tests use ``{"time_limit": 1e9}`` to make the backstop fire).

    Returns:
        A ``SolveResult`` whose report has ``has_plan`` True.

    Raises:
        NoPlanFoundError: HiGHS returned no feasible plan; ``.report`` says why.
        ValueError: The model is not linear, has several objectives and no
            ``objective_name``, or an option is unknown to HiGHS.
    """
    result = solve(
        model,
        settings,
        initial=initial,
        objective_name=objective_name,
        log_to_console=log_to_console,
        highs_options=highs_options,
    )
    if not result.report.has_plan:
        raise NoPlanFoundError(_no_plan_message(result.report, settings), result.report)
    return result


def load_values(model: pyo.ConcreteModel, result: SolveResult) -> int:
    """Write ``result.values`` into the model's variables (fixed variables are left alone).

    Returns:
        How many variables received a value.
    """
    values = result.values
    variables = list(model.component_data_objects(pyo.Var, descend_into=True))
    loaded = 0
    for var, name in zip(variables, _var_names(variables), strict=True):
        value = values.get(name)
        if value is not None and not var.fixed:
            var.set_value(value, skip_validation=True)
            loaded += 1
    return loaded


def lp_duals_with_integers_fixed(
    model: pyo.ConcreteModel,
    values: Mapping[str, float],
    settings: SolverConfig,
    rows: Sequence[Any],
    *,
    objective_name: str | None = None,
    relax: Callable[[Any], bool] | None = None,
) -> dict[str, float]:
    """Shadow prices of ``rows`` in the LP left when every integer column is fixed at its value.

    ``relax(var)`` True keeps that integer column free and continuous instead of fixing it:
    integer quantities (whole packs, say) must stay free, or a row whose only other column is
    a slack would report the slack's price, not the value of one more unit of the row.

    Sign convention: the dual of a row is d(objective) / dδ when the row's bounds move to
    ``lower + δ <= body <= upper + δ`` in Pyomo's stored form (``con.lower``, ``con.body``,
    ``con.upper``), with the objective measured in its own sense. Pyomo stores ``a <= b`` and
    ``b >= a`` alike as ``a - b <= 0`` with constants moved into the bound, so δ is one more
    unit on the larger side: for a minimisation with ``spend <= budget + overrun`` the dual is
    ≤ 0 (one more unit of budget saves that much). For an equality ``a == b`` δ is one more
    unit on ``b``. A row that is not binding has dual 0; in a degenerate LP the dual is one
    valid subgradient, not necessarily unique.

    Args:
        model: The model that was solved.
        values: ``var.name → value``, e.g. ``SolveResult.values``; must cover every integer
            column.
        settings: Solver settings (the time limit and backstop apply to the LP as well).
        rows: Pyomo constraint data objects (e.g. ``[model.budget[w] for w in model.WEEKS]``).
        objective_name: As in ``solve_model``.

    Returns:
        ``constraint.name → dual`` for every requested row.

    Raises:
        ValueError: A requested row is not a row of the compiled model (inactive, or all its
            variables fixed), or ``values`` misses an integer column.
        NoPlanFoundError: The fixed LP has no optimal solution (e.g. ``values`` infeasible).
    """
    form = _compile(model, objective_name)
    row_of = {id(con): i for i, con in enumerate(form.rows)}
    missing_rows = [con.name for con in rows if id(con) not in row_of]
    if missing_rows:
        raise ValueError(f"not rows of the compiled model (inactive or constant): {missing_rows[:10]}")
    if relax is not None:
        keep_free = np.array([bool(relax(var)) for var in form.columns], dtype=bool)
        form = dataclasses.replace(form, integer=form.integer & ~keep_free)
    fixed = _fix_integers(form, values)
    h = _new_highs(settings, False, None)
    _pass_model(h, fixed)
    outcome = _run_with_backstop(h, settings, _Incumbent())
    status = h.getModelStatus() if not outcome.abandoned else None
    if status != _MODEL_STATUS.kOptimal:
        report, _ = _read_outcome(h, fixed, outcome, _Incumbent(), 0, settings.time_limit_s)
        raise NoPlanFoundError(
            f"the LP with integers fixed was not solved to optimality ({report.termination}): "
            "check that `values` come from a feasible plan of this model",
            report,
        )
    row_dual = np.asarray(h.getSolution().row_dual, dtype=np.float64)
    return {con.name: float(row_dual[row_of[id(con)]]) for con in rows}


# --------------------------------------------------------------------------------------------
# Pyomo → arrays
# --------------------------------------------------------------------------------------------


_RowData = tuple[
    NDArray[np.int32],  # CSC start
    NDArray[np.int32],  # CSC row index
    NDArray[np.float64],  # CSC value
    NDArray[np.float64],  # row lower
    NDArray[np.float64],  # row upper
    list[Any],  # Pyomo ConstraintData per row
]


# Pyomo's compiler binds scipy lazily on its first use, and a second thread arriving meanwhile
# finds the binding half done ("'NoneType' object is not callable"): the first compile in the
# process holds this lock, later ones run freely (block solves compile on worker threads).
_FIRST_COMPILE = threading.Lock()
_compiled_once = threading.Event()


def _compile(model: pyo.ConcreteModel, objective_name: str | None) -> _StandardForm:
    """Compile the model with Pyomo's standard-form compiler and shape it for HiGHS."""
    if _compiled_once.is_set():
        info = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    else:
        with _FIRST_COMPILE:
            info = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
            _compiled_once.set()
    n_col = len(info.columns)
    cost, offset, sense = _select_objective(info, objective_name, n_col)
    lower, upper, integer = _column_arrays(info.columns)
    a_start, a_index, a_value, row_lower, row_upper, rows = _merge_ranged_rows(info)
    return _StandardForm(
        columns=list(info.columns),
        rows=rows,
        sense=sense,
        offset=offset,
        cost=cost,
        col_lower=lower,
        col_upper=upper,
        integer=integer,
        row_lower=row_lower,
        row_upper=row_upper,
        a_start=a_start,
        a_index=a_index,
        a_value=a_value,
    )


def compile_arrays(model: pyo.ConcreteModel) -> tuple[_StandardForm, list[str]]:
    """The model as arrays and each column's ``var.name`` (the Pyomo objects stay behind)."""
    form = _compile(model, None)
    return form, _var_names(form.columns)


def _select_objective(info: Any, objective_name: str | None, n_col: int) -> tuple[NDArray[np.float64], float, int]:
    """Pick one compiled objective: dense costs, constant offset and sense."""
    objectives = list(info.objectives)
    if not objectives:
        if objective_name is not None:
            raise ValueError(f"objective {objective_name!r} is not an active objective of the model")
        return np.zeros(n_col), 0.0, 1
    names = [obj.name for obj in objectives]
    if objective_name is None:
        if len(objectives) > 1:
            raise ValueError(f"the model has {len(objectives)} active objectives {names}: pass objective_name")
        k = 0
    elif objective_name in names:
        k = names.index(objective_name)
    else:
        raise ValueError(f"objective {objective_name!r} is not among the active objectives {names}")
    cost = np.asarray(info.c[[k], :].toarray(), dtype=np.float64).reshape(n_col)
    sense = -1 if objectives[k].sense == pyo.maximize else 1
    return cost, float(info.c_offset[k]), sense


def _column_arrays(columns: Sequence[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Column bounds (None → ±inf) and integrality, one Python pass over the variables."""
    n = len(columns)
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.bool_)
    # numpy turns None into nan for a float array; nan then marks "no bound".
    bounds = np.array([v.bounds for v in columns], dtype=np.float64).reshape(n, 2)
    lower = np.where(np.isnan(bounds[:, 0]), -np.inf, bounds[:, 0])
    upper = np.where(np.isnan(bounds[:, 1]), np.inf, bounds[:, 1])
    kinds: dict[int, bool] = {}  # id(domain) → is integer; indexed vars share one domain object
    integer = np.fromiter((_is_integer(v, kinds) for v in columns), dtype=np.bool_, count=n)
    return lower, upper, integer


def _var_names(variables: Sequence[Any]) -> list[str]:
    """``var.name`` of each variable, computed as Pyomo's ``getname`` does, parent names cached.

    ``VarData.name`` rebuilds the parent component's fully qualified name for every element;
    caching it per component halves the cost (0.8 s instead of 1.6 s for 300k variables).
    """
    parents: dict[int, str] = {}
    names: list[str] = []
    for var in variables:
        parent = var.parent_component()
        if parent is var or parent is None:
            names.append(var.name)
            continue
        base = parents.get(id(parent))
        if base is None:
            base = parents[id(parent)] = parent.name
        names.append(base + index_repr(var.index()))
    return names


def _is_integer(var: Any, kinds: dict[int, bool]) -> bool:
    domain = var.domain
    kind = kinds.get(id(domain))
    if kind is None:
        step = domain.get_interval()[2]
        if step not in (0, 1):
            raise ValueError(f"variable {var.name}: domain {domain} is neither continuous nor integer")
        kind = kinds[id(domain)] = step == 1
    return kind


def _merge_ranged_rows(info: Any) -> _RowData:
    """Row bounds from mixed form, with each ranged constraint's two rows merged into one.

    In mixed form a row has bound type 0 (``== rhs``), 1 (``<= rhs``) or -1 (``>= rhs``);
    a ranged constraint is a ``<=`` row immediately followed by a ``>=`` row of the same
    constraint with the same coefficients.
    """
    entries = info.rows
    m = len(entries)
    kind = np.fromiter((r.bound_type for r in entries), dtype=np.int8, count=m)
    rhs = np.asarray(info.rhs, dtype=np.float64).reshape(m)
    lower = np.where(kind == 1, -np.inf, rhs)
    upper = np.where(kind == -1, np.inf, rhs)
    candidates = np.flatnonzero((kind[1:] == -1) & (kind[:-1] == 1)) + 1
    second = np.array(
        [i for i in candidates.tolist() if entries[i].constraint is entries[i - 1].constraint], dtype=np.intp
    )
    matrix = info.A
    start = np.asarray(matrix.indptr, dtype=np.int32)
    index = np.asarray(matrix.indices, dtype=np.int32)
    value = np.asarray(matrix.data, dtype=np.float64)
    if second.size == 0:
        return start, index, value, lower, upper, [r.constraint for r in entries]
    lower[second - 1] = rhs[second]
    keep = np.ones(m, dtype=np.bool_)
    keep[second] = False
    new_row = (np.cumsum(keep) - 1).astype(np.int32)
    keep_nz = keep[index]
    col_of_nz = np.repeat(np.arange(len(start) - 1), np.diff(start))[keep_nz]
    counts = np.bincount(col_of_nz, minlength=len(start) - 1)
    start = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
    rows = [entries[i].constraint for i in np.flatnonzero(keep).tolist()]
    return start, new_row[index[keep_nz]], value[keep_nz], lower[keep], upper[keep], rows


def _fix_integers(form: _StandardForm, values: Mapping[str, float]) -> _StandardForm:
    """The same model with integer columns fixed at ``values`` and relaxed to continuous."""
    lower = form.col_lower.copy()
    upper = form.col_upper.copy()
    missing: list[str] = []
    integer_columns = np.flatnonzero(form.integer).tolist()
    names = _var_names([form.columns[j] for j in integer_columns])
    for j, name in zip(integer_columns, names, strict=True):
        if name not in values:
            missing.append(name)
            continue
        lower[j] = upper[j] = round(values[name])
    if missing:
        raise ValueError(f"`values` has no value for {len(missing)} integer columns, e.g. {missing[:5]}")
    return _StandardForm(
        columns=form.columns,
        rows=form.rows,
        sense=form.sense,
        offset=form.offset,
        cost=form.cost,
        col_lower=lower,
        col_upper=upper,
        integer=np.zeros_like(form.integer),
        row_lower=form.row_lower,
        row_upper=form.row_upper,
        a_start=form.a_start,
        a_index=form.a_index,
        a_value=form.a_value,
    )


# --------------------------------------------------------------------------------------------
# HiGHS
# --------------------------------------------------------------------------------------------


_BANNER_LOCK = threading.Lock()


def _quiet_highs() -> highspy.Highs:
    """``highspy.Highs()`` without the copyright banner HiGHS prints to stdout on first use.

    The banner is written by the C++ library straight to file descriptor 1, so a CLI's own
    output (and anything piping it) would carry it; it is muted by pointing fd 1 at /dev/null
    for the constructor only.
    """
    with _BANNER_LOCK:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with Path(os.devnull).open("wb") as devnull:
                os.dup2(devnull.fileno(), 1)
                return highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _new_highs(
    settings: SolverConfig, log_to_console: bool, highs_options: Mapping[str, HighsOptionValue] | None
) -> highspy.Highs:
    """A fresh HiGHS instance with the options from ``settings`` and any raw overrides."""
    h = _quiet_highs() if not log_to_console else highspy.Highs()
    options: dict[str, HighsOptionValue] = {
        "output_flag": log_to_console,
        "log_to_console": log_to_console,
        "time_limit": float(settings.time_limit_s),
        "mip_rel_gap": float(settings.mip_rel_gap),
        "threads": int(settings.threads),
        "random_seed": int(settings.random_seed),
        "mip_heuristic_effort": float(settings.mip_heuristic_effort),
    }
    options.update(highs_options or {})
    for name, value in options.items():
        if h.setOptionValue(name, value) == highspy.HighsStatus.kError:
            raise ValueError(f"HiGHS rejected option {name}={value!r}: unknown name or invalid value")
    return h


def _pass_model(h: highspy.Highs, form: _StandardForm) -> None:
    """Copy the arrays into HiGHS in one ``passModel`` call."""
    lp = highspy.HighsLp()
    lp.num_col_ = len(form.cost)
    lp.num_row_ = len(form.row_lower)
    lp.sense_ = highspy.ObjSense.kMaximize if form.sense < 0 else highspy.ObjSense.kMinimize
    lp.offset_ = form.offset
    lp.col_cost_ = form.cost
    lp.col_lower_ = form.col_lower
    lp.col_upper_ = form.col_upper
    lp.row_lower_ = form.row_lower
    lp.row_upper_ = form.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.a_matrix_.start_ = form.a_start
    lp.a_matrix_.index_ = form.a_index
    lp.a_matrix_.value_ = form.a_value
    if form.is_mip:
        kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
        lp.integrality_ = [kinds[flag] for flag in form.integer.tolist()]
    status = h.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise ValueError("HiGHS rejected the model (passModel failed): inconsistent bounds or matrix")


def _set_warm_start(h: highspy.Highs, names: Sequence[str], initial: Mapping[str, float]) -> int:
    """Give HiGHS a (possibly partial) start; returns how many columns got a value."""
    column_of = {name: j for j, name in enumerate(names)}
    pairs = [(column_of[name], value) for name, value in initial.items() if name in column_of]
    if not pairs:
        return 0
    index = np.fromiter((j for j, _ in pairs), dtype=np.int32, count=len(pairs))
    value = np.fromiter((v for _, v in pairs), dtype=np.float64, count=len(pairs))
    status = h.setSolution(len(pairs), index, value)
    if status == highspy.HighsStatus.kError:
        log.warning("HiGHS rejected the warm start of %d columns; solving without it", len(pairs))
        return 0
    return len(pairs)


def _run_with_backstop(h: highspy.Highs, settings: SolverConfig, incumbent: _Incumbent) -> _RunOutcome:
    """Run HiGHS in a worker thread; interrupt it, then abandon it, if it overruns."""
    h.cbMipImprovingSolution.subscribe(incumbent.update)
    h.HandleUserInterrupt = True  # routes cancelSolve() to HiGHS's interrupt callbacks
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["status"] = h.run()
        except BaseException as exc:  # handed to the caller's thread, never lost
            box["error"] = exc

    t0 = time.perf_counter()
    worker = threading.Thread(target=work, name="highs-solve", daemon=True)
    worker.start()
    worker.join(settings.time_limit_s + settings.backstop_s)
    fired = worker.is_alive()
    if fired:
        log.warning(
            "HiGHS still running %g s after its %g s time limit: interrupting it (backstop)",
            settings.backstop_s,
            settings.time_limit_s,
        )
        h.cancelSolve()
        worker.join(settings.backstop_s)
    abandoned = worker.is_alive()
    if abandoned:
        log.error("HiGHS ignored the interrupt for %g s: abandoning its thread", settings.backstop_s)
    return _RunOutcome(box.get("status"), box.get("error"), fired, abandoned, time.perf_counter() - t0)


# --------------------------------------------------------------------------------------------
# HiGHS → report
# --------------------------------------------------------------------------------------------

_ERROR_STATUSES = frozenset(
    {
        _MODEL_STATUS.kNotset,
        _MODEL_STATUS.kLoadError,
        _MODEL_STATUS.kModelError,
        _MODEL_STATUS.kPresolveError,
        _MODEL_STATUS.kSolveError,
        _MODEL_STATUS.kPostsolveError,
    }
)


def _classify(model_status: Any, feasible: bool, fired: bool) -> PlanStatus:
    """Fold HiGHS's model status and "holds a feasible solution" into one ``PlanStatus``."""
    proven = {
        _MODEL_STATUS.kOptimal: PlanStatus.OPTIMAL,
        _MODEL_STATUS.kInfeasible: PlanStatus.INFEASIBLE,
        _MODEL_STATUS.kUnbounded: PlanStatus.UNBOUNDED,
        _MODEL_STATUS.kUnboundedOrInfeasible: PlanStatus.INFEASIBLE_OR_UNBOUNDED,
    }
    if model_status in proven:
        return proven[model_status]
    if model_status in _ERROR_STATUSES:
        return PlanStatus.ERROR
    if not feasible:
        return PlanStatus.NO_SOLUTION
    if fired:
        return PlanStatus.BACKSTOP_WITH_PLAN
    if model_status == _MODEL_STATUS.kTimeLimit:
        return PlanStatus.TIME_LIMIT_WITH_PLAN
    return PlanStatus.LIMIT_WITH_PLAN


def _read_outcome(
    h: highspy.Highs,
    form: _StandardForm,
    outcome: _RunOutcome,
    incumbent: _Incumbent,
    warm: int,
    time_limit: float,
) -> tuple[SolveReport, NDArray[np.float64] | None]:
    """Build the report (timings left empty) and the column values when there is a plan."""
    if outcome.error is not None:
        raise outcome.error
    common: dict[str, Any] = {
        "is_mip": form.is_mip,
        "timings": {},
        "columns": len(form.cost),
        "rows": len(form.row_lower),
        "integer_columns": int(form.integer.sum()),
        "nonzeros": len(form.a_value),
        "backstop_fired": outcome.fired,
        "backstop_abandoned": outcome.abandoned,
        "warm_start_columns": warm,
        "time_limit_s": time_limit,
        "solver": f"HiGHS {h.version()}",
    }
    if outcome.abandoned:
        return _abandoned_report(incumbent, common), _rounded(incumbent.values, form)
    model_status = h.getModelStatus()
    if model_status == _MODEL_STATUS.kModelEmpty:
        return _empty_model_report(form, common), np.zeros(0)
    info = h.getInfo()
    status = _classify(model_status, info.primal_solution_status == _SOLUTION_FEASIBLE, outcome.fired)
    termination = h.modelStatusToString(model_status)
    if outcome.highs_status == highspy.HighsStatus.kError:
        termination += " (HiGHS run returned an error; rerun with log_to_console=True to see why)"
    objective = float(info.objective_function_value) if status.has_plan else None
    if form.is_mip:
        bound = _finite_or_none(info.mip_dual_bound)
        gap = float(info.mip_gap) if status.has_plan else None
    else:
        bound = objective if status is PlanStatus.OPTIMAL else None
        gap = 0.0 if status is PlanStatus.OPTIMAL else None
    report = SolveReport(
        status=status,
        termination=termination,
        has_plan=status.has_plan,
        objective=objective,
        best_bound=bound,
        gap=gap,
        mip_node_count=max(int(info.mip_node_count), 0),
        **common,
    )
    values = np.asarray(h.getSolution().col_value, dtype=np.float64) if status.has_plan else None
    return report, _rounded(values, form)


def _abandoned_report(incumbent: _Incumbent, common: dict[str, Any]) -> SolveReport:
    """Report for a HiGHS run that ignored the interrupt: the last announced incumbent, if any."""
    with incumbent.lock:
        has_plan = incumbent.values is not None
        return SolveReport(
            status=PlanStatus.BACKSTOP_WITH_PLAN if has_plan else PlanStatus.NO_SOLUTION,
            termination="Abandoned: HiGHS did not stop after the backstop interrupt",
            has_plan=has_plan,
            objective=incumbent.objective if has_plan else None,
            best_bound=_finite_or_none(incumbent.bound) if has_plan else None,
            gap=incumbent.gap if has_plan else None,
            mip_node_count=incumbent.nodes,
            **common,
        )


def _empty_model_report(form: _StandardForm, common: dict[str, Any]) -> SolveReport:
    """HiGHS does not solve a model without columns; its rows are constants checked here."""
    feasible = bool(np.all(form.row_lower <= 1e-9) and np.all(form.row_upper >= -1e-9))
    return SolveReport(
        status=PlanStatus.OPTIMAL if feasible else PlanStatus.INFEASIBLE,
        termination="Empty" if feasible else "Infeasible (empty model with an unsatisfiable row)",
        has_plan=feasible,
        objective=form.offset if feasible else None,
        best_bound=form.offset if feasible else None,
        gap=0.0 if feasible else None,
        **common,
    )


def _trivially_infeasible(message: str, settings: SolverConfig, seconds: float) -> SolveResult:
    """Result for a constraint the compiler found constant and violated."""
    report = SolveReport(
        status=PlanStatus.INFEASIBLE,
        termination=f"Infeasible (found while compiling: {message})",
        has_plan=False,
        objective=None,
        best_bound=None,
        gap=None,
        is_mip=False,
        timings={"compile": seconds, "total": seconds},
        columns=0,
        rows=0,
        integer_columns=0,
        nonzeros=0,
        time_limit_s=settings.time_limit_s,
    )
    return SolveResult(report=report, values={})


def _rounded(values: NDArray[np.float64] | None, form: _StandardForm) -> NDArray[np.float64] | None:
    """Integer columns come back as 2.9999999; downstream tables want 3."""
    if values is None:
        return None
    values = values.copy()
    values[form.integer] = np.round(values[form.integer]) + 0.0  # + 0.0 turns -0.0 into 0.0
    return values


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _with_timings(report: SolveReport, timings: dict[str, float]) -> SolveReport:
    return dataclasses.replace(report, timings={**report.timings, **timings})


def _no_plan_message(report: SolveReport, settings: SolverConfig) -> str:
    """Say what happened and what to do about it."""
    head = f"no plan: HiGHS ended with '{report.termination}'"
    if report.status is PlanStatus.INFEASIBLE:
        return (
            f"{head}. The model is proven infeasible; this means a modelling bug: the model is built "
            "always-feasible with priced slack, so a hard constraint lacks its slack variable or two "
            "bounds contradict each other. Write the model (model.write('plan.lp')) and inspect it."
        )
    if report.status in (PlanStatus.UNBOUNDED, PlanStatus.INFEASIBLE_OR_UNBOUNDED):
        return (
            f"{head}. This means a modelling bug: a cost term has the wrong sign or a variable misses "
            "its upper bound (or, if infeasible, a hard constraint lacks its priced slack)."
        )
    if report.status is PlanStatus.ERROR:
        return f"{head}. Rerun with log_to_console=True to see HiGHS's log."
    if report.backstop_fired:
        return (
            f"{head} after overrunning solver.time_limit_s = {settings.time_limit_s:g} s by solver.backstop_s = "
            f"{settings.backstop_s:g} s, before finding any feasible plan: raise solver.time_limit_s, pass "
            "a warm start (e.g. last week's plan), or plan fewer SKUs or weeks."
        )
    return (
        f"{head} before finding any feasible plan within solver.time_limit_s = {report.time_limit_s:g} s: "
        "raise solver.time_limit_s, pass a warm start (e.g. last week's plan), or raise "
        "solver.mip_heuristic_effort."
    )
