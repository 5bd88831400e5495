"""SKU blocks compiled once per run: the pricing problem, plans with decisions fixed, and columns.

A block is ``build_model(problem.restrict(skus))`` compiled to arrays once (``compile_block``),
with the rows that couple SKUs (``models.coupling``) split off. What stays is the block's own
feasible set X_k (balance, MOQ, packs, lines, PO links, service, reservations, (l,S) rows).
Symbols, for block k with columns x (its variables; ``po_open`` is its "orders on PO p"
indicator u_p):

  c_k x + c0_k          its own cost: every objective term but PO fixed costs and shared slack
  U_k x + f_k           its use of each coupling row r it touches (f_k: locked units' use)

Pricing at master duals y (HiGHS's sign: a column's reduced cost is c - A^T y):

  B_k(y) = min_{x in X_k}  c_k x + c0_k - sum_r y_r (U_k,r x + f_k,r) - sum_p y_(k,p) u_p

where y_(k,p) <= 0 is the dual of the master's link row "block k orders on PO p only if p is
open". The HiGHS dual bound of this MIP is a valid lower bound on B_k(y) whether or not the
block is solved to optimality, which is what the master's Lagrangian bound sums. So is the
dual bound of the same MIP with the pack counts n continuous (``relax_packs``): it bounds a
relaxation of X_k. At the same node limit it is often the higher of the two, because the integer
packs are what keeps a block's branch-and-bound open (``bench/RESULTS.md``, issue 13 item 4);
its plans are not columns (their packs are fractional).

Transfers are whole units, but the pricing MIP treats them as continuous (a relaxation, so its
bound stays valid; integer transfers made it several times slower): a plan's transfers are
rounded down to whole units and the rest of the plan re-solved as an LP (``_whole_transfers``)
before it becomes a column.

A ``Column`` is one feasible plan of a block: its values, own cost, row use and POs. Columns
also come from fixing a plan's orders and solving the rest as an LP (``complete``): the safe
plan (no orders, no transfers: always feasible, so the master MIP always has a plan), last
week's plan, and plans from fix-and-optimize.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp  # type: ignore[import-untyped]
from numpy.typing import NDArray

from models import build_model
from models.coupling import COUPLING_ROWS, PO_INDICATOR, SHARED_VARIABLES, RowKey, row_key
from planning.config import SolverConfig
from planning.problem import OrderSlot, PlanningProblem, PoSlot, TransferSlot
from planning.solve import ArrayModel, PlanStatus, array_form, arrays_with, compile_arrays, solve_arrays

HighsOptions = Mapping[str, bool | int | float | str]
INTEGRAL = 1e-6  # a value this close to an integer is that integer


@dataclass(frozen=True, slots=True)
class SharedColumn:
    """A master variable as one block sees it: cost, bounds and its coefficients in coupling rows."""

    name: str
    key: RowKey  # (family, index) of the variable
    cost: float
    upper: float
    integer: bool
    entries: tuple[tuple[RowKey, float], ...]


@dataclass(frozen=True, slots=True)
class BlockForm:
    """One block compiled: its own rows as arrays, its coupling-row use, and where its decisions are."""

    index: int
    skus: tuple[str, ...]
    names: tuple[str, ...]
    model: ArrayModel  # block rows only; cost = own cost c_k, offset = c0_k
    usage_rows: tuple[RowKey, ...]
    usage: sp.csr_matrix  # U_k: usage rows x columns
    usage_constant: NDArray[np.float64]  # f_k
    indicators: tuple[tuple[int, PoSlot], ...]  # (column, PO) of each u_p
    shared: tuple[SharedColumn, ...]
    pack_columns: tuple[tuple[int, OrderSlot], ...]
    line_columns: tuple[tuple[int, OrderSlot], ...]
    line_pos: tuple[PoSlot, ...]  # the PO of each line column
    transfer_columns: tuple[tuple[int, TransferSlot], ...]
    locked_pos: frozenset[PoSlot]  # POs the block's locked lines keep open whatever the plan

    @property
    def size(self) -> int:
        return len(self.names)


@dataclass(frozen=True, slots=True)
class Column:
    """One feasible plan of a block, as the master sees it."""

    block: int
    x: NDArray[np.float64]
    cost: float  # c_k x + c0_k
    usage: NDArray[np.float64]  # U_k x + f_k, per usage row of the block
    pos: frozenset[PoSlot]  # POs it orders on
    source: str  # "pricing", "safe", "start", "lns"

    def key(self) -> bytes:
        """Identity of the plan (values rounded), to keep one copy of each."""
        return np.round(self.x, 6).tobytes()


@dataclass(frozen=True, slots=True)
class PricingTask:
    """One block's pricing MIP at the master's duals: everything a worker needs, picklable."""

    form: BlockForm
    cost: NDArray[np.float64]
    constant: float
    settings: SolverConfig
    highs_options: HighsOptions
    start: NDArray[np.float64] | None = None
    relax_packs: bool = False  # only for a bound: pack counts continuous, the plan is not a column


@dataclass(frozen=True, slots=True)
class PricingResult:
    """The pricing MIP's proven bound on B_k(y), its plan (if any) and the work it took."""

    block: int
    bound: float
    objective: float | None
    x: NDArray[np.float64] | None
    nodes: int
    clock_stopped: bool  # the safety time limit, not the node limit, ended it
    seconds: float


def compile_block(
    problem: PlanningProblem, index: int, rhs: Mapping[RowKey, float], absent: frozenset[RowKey] = frozenset()
) -> BlockForm:
    """Build and compile one block once; Pyomo objects are dropped before returning (runs on a worker).

    ``absent``: rows the block's model builds that the whole model does not (``models.coupling.absent_rows``).
    """
    model_ = build_model(problem)  # kept alive: compiled rows point back to it weakly
    compiled, names = compile_arrays(model_)
    col_family = [c.parent_component().local_name for c in compiled.columns]
    row_family = [r.parent_component().local_name for r in compiled.rows]
    shared = np.array([f in SHARED_VARIABLES for f in col_family], dtype=bool)
    coupling = np.array([f in COUPLING_ROWS for f in row_family], dtype=bool)
    dropped = np.array(
        [
            bool(c) and row_key(f, r.index()) in absent
            for c, f, r in zip(coupling, row_family, compiled.rows, strict=True)
        ],
        dtype=bool,
    )
    coupling &= ~dropped
    matrix = sp.csc_matrix(
        (compiled.a_value, compiled.a_index, compiled.a_start), shape=(len(compiled.row_lower), len(compiled.cost))
    )
    own_cols = np.flatnonzero(~shared)
    own_rows = np.flatnonzero(~coupling & ~dropped)
    if matrix[own_rows][:, np.flatnonzero(shared)].nnz:
        raise RuntimeError("a shared variable appears in a block row: models.coupling is out of date")
    block = matrix[own_rows][:, own_cols].tocsc()
    keys = [row_key(row_family[i], compiled.rows[i].index()) for i in np.flatnonzero(coupling).tolist()]
    coupling_part = matrix[np.flatnonzero(coupling)].tocsc()
    own_index = {int(j): k for k, j in enumerate(own_cols.tolist())}
    is_indicator = np.array([col_family[j] == PO_INDICATOR for j in own_cols.tolist()], dtype=bool)
    # u_p's entry in a PO row belongs to the shared PO, not to the block's use of the row.
    usage = (coupling_part[:, own_cols] @ sp.diags((~is_indicator).astype(np.float64))).tocsc()
    usage.eliminate_zeros()
    upper = compiled.row_upper[coupling]
    constant = np.array([rhs.get(k, 0.0) - u for k, u in zip(keys, upper.tolist(), strict=True)], dtype=np.float64)
    cost = compiled.cost.copy()
    shared_columns = _shared_columns(compiled, names, col_family, coupling_part, keys, shared, is_indicator, own_cols)
    cost[[j for j in own_cols.tolist() if col_family[j] == PO_INDICATOR]] = 0.0  # PO fixed cost: the master's
    model = array_form(
        cost[own_cols],
        compiled.offset,
        compiled.col_lower[own_cols],
        compiled.col_upper[own_cols],
        compiled.integer[own_cols],
        compiled.row_lower[own_rows],
        compiled.row_upper[own_rows],
        block.indptr,
        block.indices,
        block.data,
    )

    def located(family: str) -> tuple[tuple[int, tuple[Any, ...]], ...]:
        return tuple(
            (own_index[j], tuple(compiled.columns[j].index())) for j in own_cols.tolist() if col_family[j] == family
        )

    options = problem.options
    line_columns = tuple((k, (str(i[0]), int(i[1]))) for k, i in located("order_line"))
    return BlockForm(
        index=index,
        skus=tuple(sorted(problem.items)),
        names=tuple(names[j] for j in own_cols.tolist()),
        model=model,
        usage_rows=tuple(keys),
        usage=usage.tocsr(),
        usage_constant=constant,
        indicators=tuple((k, (str(i[0]), str(i[1]), int(i[2]))) for k, i in located(PO_INDICATOR)),
        shared=shared_columns,
        pack_columns=tuple((k, (str(i[0]), int(i[1]))) for k, i in located("packs")),
        line_columns=line_columns,
        line_pos=tuple((options[o].supplier, options[o].ship_to, t) for _, (o, t) in line_columns),
        transfer_columns=tuple((k, (str(i[0]), str(i[1]), str(i[2]), int(i[3]))) for k, i in located("transfer")),
        locked_pos=frozenset((options[o].supplier, options[o].ship_to, t) for o, t in problem.locked_units),
    )


def _shared_columns(
    compiled: ArrayModel,
    names: Sequence[str],
    col_family: Sequence[str],
    coupling_part: sp.csc_matrix,
    keys: Sequence[RowKey],
    shared: NDArray[np.bool_],
    is_indicator: NDArray[np.bool_],
    own_cols: NDArray[np.intp],
) -> tuple[SharedColumn, ...]:
    """The master variables this block sees: shared slack and lanes, and the POs behind its u_p."""
    indicator_cols = own_cols[is_indicator]
    out = []
    for j in sorted([*np.flatnonzero(shared).tolist(), *indicator_cols.tolist()]):
        column = coupling_part[:, j]
        entries = tuple((keys[i], float(v)) for i, v in zip(column.indices.tolist(), column.data.tolist(), strict=True))
        out.append(
            SharedColumn(
                name=names[j],
                key=row_key(col_family[j], compiled.columns[j].index()),
                cost=float(compiled.cost[j]),
                upper=float(compiled.col_upper[j]),
                integer=bool(compiled.integer[j]),
                entries=entries,
            )
        )
    return tuple(out)


def priced_objective(
    form: BlockForm, usage_dual: NDArray[np.float64], link_dual: Mapping[PoSlot, float]
) -> tuple[NDArray[np.float64], float]:
    """The pricing objective's costs and constant at these duals (see the module docstring)."""
    cost = form.model.cost - form.usage.T @ usage_dual
    for column, po in form.indicators:
        cost[column] -= link_dual.get(po, 0.0)
    return cost, form.model.offset - float(usage_dual @ form.usage_constant)


def price_block(task: PricingTask) -> PricingResult:
    """Solve one block's pricing MIP (runs on a worker). Its bound is valid at any stopping point."""
    started = time.perf_counter()
    model = _with_cost(task.form.model, task.cost, task.constant)
    # Transfers are whole units in every column but continuous here (see the module docstring).
    integer = task.form.model.integer & ~_transfer_mask(task.form)
    if task.relax_packs:
        integer[[column for column, _ in task.form.pack_columns]] = False
    result = solve_arrays(
        arrays_with(model, integer=integer), task.settings, highs_options=task.highs_options, start=task.start
    )
    report = result.report
    bound = report.best_bound
    if bound is None or not math.isfinite(bound):
        # Stopped before a dual bound: the LP relaxation is a valid, weaker one.
        relaxed = solve_arrays(_relaxed(model), task.settings)
        bound = relaxed.report.objective if relaxed.report.status is PlanStatus.OPTIMAL else -math.inf
    return PricingResult(
        block=task.form.index,
        bound=float(bound) if bound is not None else -math.inf,
        objective=report.objective if report.has_plan else None,
        x=_whole_transfers(task.form, model, result.x, task.settings)
        if result.x is not None and report.has_plan and not task.relax_packs
        else None,
        nodes=report.mip_node_count,
        clock_stopped=report.status in (PlanStatus.TIME_LIMIT_WITH_PLAN, PlanStatus.BACKSTOP_WITH_PLAN)
        or report.backstop_fired
        or (report.status is PlanStatus.NO_SOLUTION and "time" in report.termination.lower()),
        seconds=time.perf_counter() - started,
    )


def column_of(form: BlockForm, x: NDArray[np.float64], source: str) -> Column:
    """A block plan as a master column: own cost, row use and the POs it orders on."""
    x = _clean(form, x)
    pos = set(form.locked_pos)
    pos.update(po for (column, _), po in zip(form.line_columns, form.line_pos, strict=True) if x[column] > 0.5)
    for column, _ in form.indicators:
        x[column] = 0.0
    po_column = {po: column for column, po in form.indicators}
    for po in pos:
        if po in po_column:
            x[po_column[po]] = 1.0
    cost = float(form.model.cost @ x) + form.model.offset
    usage = np.asarray(form.usage @ x, dtype=np.float64) + form.usage_constant
    return Column(form.index, x, cost, usage, frozenset(p for p in pos if p in po_column), source)


def complete(
    form: BlockForm,
    settings: SolverConfig,
    packs: Mapping[OrderSlot, int],
    shipped: Mapping[TransferSlot, float] | None,
    source: str,
    shut: frozenset[tuple[str, str, int]] = frozenset(),
) -> Column | None:
    """The block's best plan with these orders (and shipments, if given) fixed. None if infeasible.

    ``shut``: lane-weeks (from, to, week) nothing may ship on.
    """
    x = _with_orders_fixed(form, form.model, packs, shipped, shut, settings)
    return None if x is None else column_of(form, x, source)


def _with_orders_fixed(
    form: BlockForm,
    model: ArrayModel,
    packs: Mapping[OrderSlot, int],
    shipped: Mapping[TransferSlot, float] | None,
    shut: frozenset[tuple[str, str, int]],
    settings: SolverConfig,
) -> NDArray[np.float64] | None:
    """``model``'s best plan with the block's orders fixed at ``packs``, in whole-unit transfers.

    With the orders (and, if given, the shipments) fixed the rest is an LP. Its transfers may
    be fractions of a unit; they are then rounded down and the LP solved once more around them
    (``_whole_transfers``). None if infeasible.
    """
    lower, upper = model.col_lower.copy(), model.col_upper.copy()
    for column, slot in form.pack_columns:
        count = float(min(max(packs.get(slot, 0), 0), upper[column]))
        lower[column] = upper[column] = count
    for column, slot in form.line_columns:
        lower[column] = upper[column] = 1.0 if packs.get(slot, 0) > 0 else 0.0
    if shipped is not None:
        for column, tslot in form.transfer_columns:
            value = min(math.floor(max(shipped.get(tslot, 0.0), 0.0) + INTEGRAL), upper[column])
            lower[column] = upper[column] = value
    for column, (_, origin, destination, week) in form.transfer_columns:
        if (origin, destination, week) in shut:
            lower[column] = upper[column] = 0.0
    fixed = arrays_with(model, col_lower=lower, col_upper=upper, integer=np.zeros_like(model.integer))
    result = solve_arrays(fixed, settings)
    if result.x is None or result.report.status is not PlanStatus.OPTIMAL:
        return None
    return _whole_transfers(form, fixed, result.x, settings)


def _transfer_mask(form: BlockForm) -> NDArray[np.bool_]:
    mask = np.zeros(form.size, dtype=np.bool_)
    mask[[column for column, _ in form.transfer_columns]] = True
    return mask


def _whole_transfers(
    form: BlockForm, model: ArrayModel, x: NDArray[np.float64], settings: SolverConfig
) -> NDArray[np.float64] | None:
    """``x`` with its transfers rounded down to whole units and the continuous rest re-solved.

    Rounding down keeps the plan feasible: the origin keeps what it no longer ships, and what the
    destination misses is priced as shortfall. Solving for whole units exactly (a MIP per block
    and column) made column generation several times slower on the demo for a fraction of a
    unit per lane-week. Orders and PO indicators are fixed at ``x``; None if the LP fails.
    """
    mask = _transfer_mask(form)
    if np.all(np.abs(x[mask] - np.round(x[mask])) <= INTEGRAL):
        return x
    lower, upper = model.col_lower.copy(), model.col_upper.copy()
    integer = form.model.integer
    lower[integer] = upper[integer] = np.clip(np.round(x[integer]), lower[integer], upper[integer])
    whole = np.clip(np.floor(x[mask] + INTEGRAL), lower[mask], upper[mask])
    lower[mask] = upper[mask] = whole
    fixed = arrays_with(model, col_lower=lower, col_upper=upper, integer=np.zeros_like(model.integer))
    result = solve_arrays(fixed, settings)
    if result.x is None or result.report.status is not PlanStatus.OPTIMAL:
        return None
    return result.x


def safe_column(form: BlockForm, settings: SolverConfig) -> Column:
    """No orders and no transfers beyond the locked ones: always feasible (unmet demand is priced)."""
    column = complete(form, settings, {}, {}, "safe")
    if column is None:
        raise RuntimeError(
            f"block {form.skus}: the plan without orders is infeasible; this is a modelling bug (every row "
            "of a block has priced slack or is met by ordering nothing)"
        )
    return column


def _clean(form: BlockForm, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Integers rounded, values clipped into their bounds (HiGHS returns 1e-9 off)."""
    x = np.clip(np.asarray(x, dtype=np.float64).copy(), form.model.col_lower, form.model.col_upper)
    integer = form.model.integer
    x[integer] = np.round(x[integer]) + 0.0
    x[np.abs(x) < 1e-9] = 0.0
    return x


def _with_cost(model: ArrayModel, cost: NDArray[np.float64], constant: float) -> ArrayModel:
    return arrays_with(model, cost=cost, offset=constant)


def _relaxed(model: ArrayModel) -> ArrayModel:
    return arrays_with(model, integer=np.zeros_like(model.integer))


# ------------------------------------------------------------------------------ held constant


@dataclass(frozen=True, slots=True)
class GroupTask:
    """A few SKUs re-planned with every coupling row hard and the other SKUs' use of it held constant.

    The group's model is ``build_model`` of its SKUs; each coupling row keeps its form with the
    others' use moved to the right-hand side (``upper - others[r]``), a PO the others order on is
    held open (its fixed cost is then a constant), and the shared slack prices the whole row's
    overrun. So the group model's cost differs from the whole plan's by a constant, and a cheaper
    group plan is a cheaper whole plan.
    """

    problem: PlanningProblem
    absent: frozenset[RowKey]
    others: Mapping[RowKey, float]
    others_pos: frozenset[PoSlot]
    current: Mapping[str, float]  # the group's current plan by variable name (the MIP start)
    settings: SolverConfig
    highs_options: HighsOptions


@dataclass(frozen=True, slots=True)
class GroupResult:
    values: dict[str, float] | None  # the group's new plan by variable name
    objective: float | None
    nodes: int
    clock_stopped: bool


def solve_group(task: GroupTask) -> GroupResult:
    """The group's MIP with the others held constant, from its current plan (runs on a worker)."""
    model_ = build_model(task.problem)  # kept alive: compiled rows point back to it weakly
    compiled, names = compile_arrays(model_)
    col_family = [c.parent_component().local_name for c in compiled.columns]
    row_keys = [row_key(r.parent_component().local_name, r.index()) for r in compiled.rows]
    row_lower, row_upper = compiled.row_lower.copy(), compiled.row_upper.copy()
    for i, key in enumerate(row_keys):
        if key[0] not in COUPLING_ROWS:
            continue
        if key in task.absent:
            row_lower[i], row_upper[i] = -math.inf, math.inf
        else:
            row_upper[i] -= task.others.get(key, 0.0)
    col_lower, col_upper = compiled.col_lower.copy(), compiled.col_upper.copy()
    for j, column in enumerate(compiled.columns):
        if col_family[j] == PO_INDICATOR and tuple(column.index()) in task.others_pos:
            col_lower[j] = col_upper[j] = 1.0
    model = arrays_with(compiled, col_lower=col_lower, col_upper=col_upper, row_lower=row_lower, row_upper=row_upper)
    start = _group_start(model, names, col_family, task.current)
    result = solve_arrays(model, task.settings, highs_options=task.highs_options, start=start)
    report = result.report
    stopped = report.status in (PlanStatus.TIME_LIMIT_WITH_PLAN, PlanStatus.BACKSTOP_WITH_PLAN)
    if result.x is None or not report.has_plan:
        return GroupResult(None, None, report.mip_node_count, stopped)
    values = dict(zip(names, result.x.tolist(), strict=True))
    return GroupResult(values, report.objective, report.mip_node_count, stopped)


def _group_start(
    model: ArrayModel, names: Sequence[str], col_family: Sequence[str], current: Mapping[str, float]
) -> NDArray[np.float64]:
    """The current plan as a full start: shared binaries opened where used, slack at the overrun."""
    x = np.array([current.get(name, 0.0) for name in names], dtype=np.float64)
    x = np.clip(x, model.col_lower, model.col_upper)
    matrix = sp.csc_matrix((model.a_value, model.a_index, model.a_start), shape=(len(model.row_lower), len(x)))
    binaries = [j for j, f in enumerate(col_family) if f in ("lane_used", PO_INDICATOR)]
    slacks = [j for j, f in enumerate(col_family) if f in SHARED_VARIABLES and f != "lane_used"]
    x[binaries] = np.maximum(x[binaries], model.col_lower[binaries])
    x[slacks] = 0.0
    for j in binaries:  # open a PO or lane a row needs open
        column = matrix[:, j]
        if x[j] < 0.5 and np.any((matrix[column.indices] @ x) > model.row_upper[column.indices] + 1e-7):
            x[j] = min(1.0, model.col_upper[j])
    activity = matrix @ x
    for j in slacks:
        column = matrix[:, j]
        for i, coefficient in zip(column.indices.tolist(), column.data.tolist(), strict=True):
            if coefficient < 0:
                x[j] = max(x[j], (activity[i] - model.row_upper[i]) / -coefficient)
    return x


def column_from_values(form: BlockForm, values: Mapping[str, float], source: str) -> Column:
    """A block's column from a plan given by variable name (a group's solution)."""
    x = np.array([values.get(name, 0.0) for name in form.names], dtype=np.float64)
    return column_of(form, x, source)


def values_of(form: BlockForm, column: Column) -> dict[str, float]:
    """A column's plan by variable name."""
    return dict(zip(form.names, column.x.tolist(), strict=True))
