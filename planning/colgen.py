"""Plan large catalogues by column generation over SKU plans, finished by price-and-branch.

The buy-plan model is per-SKU blocks joined by a few rows (``models.coupling``). This strategy
is the textbook one for multi-item lot sizing (Manne 1958; Degraeve & Jans 2007; Lübbecke &
Desrosiers 2005), in three parts:

1. **Master** (``planning.master``): an LP over the generated plans of every block, with the
   coupling rows, PO and lane variables and priced slack; solved incrementally by HiGHS.
2. **Pricing** (``planning.blocks``): every block's MIP at the master's duals, smoothed towards
   the duals of the best bound so far (Wentges 1997); each round gives a valid Lagrangian bound
   from the blocks' proven bounds, and new plans for the master. At the end, the blocks left
   open at the best bound's duals are priced once more with their pack counts continuous, and
   each keeps the higher of its two proven bounds (``refine_bound``).
3. **Price-and-branch**: the master as a MIP over every generated plan (plus each block's safe
   plan and last week's plan), from the best choice known, gives the published plan; its cost
   is the whole model's objective at those decisions.

``generate_columns`` is the loop of 1 and 2; ``plan_by_columns`` ties the parts together. All
limits that decide the plan are work limits (``WorkBudget``); the wall clock is a safety net
whose firing the report states.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from numpy.typing import NDArray

from models import build_model
from models.coupling import SHARED_VARIABLES, absent_rows, coupling_rhs
from models.objective import COST_TERMS
from planning.blocks import (
    BlockForm,
    Column,
    PricingResult,
    PricingTask,
    column_of,
    compile_block,
    complete,
    price_block,
    priced_objective,
    safe_column,
)
from planning.config import DecompositionConfig, SolverConfig
from planning.executors import BlockExecutor, make_executor
from planning.improve import polish, repaired_choice
from planning.master import Master, MasterLP, MasterPlan
from planning.metrics import priced_where_binding
from planning.plan import PlanTables, projected_inventory, purchase_lines, transfer_lines
from planning.plan import overruns as slack_overruns
from planning.problem import PlanningProblem
from planning.solve import PlanStatus, SolveReport
from planning.warm_start import PlanStart
from planning.work import Clock, WorkBudget

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RoundRecord:
    """One column-generation round: master LP value, the bound at the round's duals, work done."""

    index: int
    master_lp: float
    bound: float
    best_bound: float
    new_columns: int
    smoothing: float
    block_nodes: int
    blocks_stopped_by_clock: int
    seconds: float


@dataclass(frozen=True, slots=True)
class BoundRefinement:
    """The open blocks priced again at the best bound's duals with packs continuous."""

    blocks: int
    improved: int
    bound_before: float
    bound_after: float
    block_nodes: int
    seconds: float


@dataclass(slots=True)
class _Loop:
    """The state column generation carries from round to round."""

    best_bound: float = -math.inf
    centre: NDArray[np.float64] | None = None  # duals of the best bound
    last_lp: MasterLP | None = None
    rounds: list[RoundRecord] = field(default_factory=list)
    centre_results: list[PricingResult] = field(default_factory=list)  # the blocks' pricing at the centre
    refinement: BoundRefinement | None = None
    clock_fired: bool = False
    blocks_stopped_by_clock: int = 0


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """What the strategy returns: the plan's tables, report and everything behind the numbers."""

    report: SolveReport
    plan: PlanTables
    budget_prices: dict[str, float]
    details: dict[str, object]
    stage_seconds: dict[str, float]


def make_blocks(problem: PlanningProblem, block_skus: int) -> list[tuple[str, ...]]:
    """SKUs in blocks of ``block_skus``, neighbours by primary supplier and category."""
    suppliers: dict[str, set[str]] = defaultdict(set)
    for option in problem.options.values():
        suppliers[option.sku].add(option.supplier)

    def key(sku: str) -> tuple[str, str, str]:
        return (min(suppliers[sku], default=""), problem.items[sku].category, sku)

    skus = sorted(problem.skus, key=key) if block_skus > 1 else list(problem.skus)
    return [tuple(skus[i : i + block_skus]) for i in range(0, len(skus), block_skus)]


def plan_by_columns(
    problem: PlanningProblem,
    settings: SolverConfig,
    config: DecompositionConfig,
    *,
    executor: BlockExecutor | None = None,
    start: PlanStart | None = None,
    frozen_weeks: int = 0,
) -> ColumnPlan:
    """Column generation, then the master MIP over the generated plans; tables and report out."""
    budget = WorkBudget.of(settings, config)
    clock = Clock(budget.wall_clock_s)
    runner = executor if executor is not None else make_executor(config.workers, config.dask_address)
    seconds: dict[str, float] = {}
    try:
        t = time.perf_counter()
        subproblems = problem.split(make_blocks(problem, config.block_skus))
        rhs, absent = coupling_rhs(problem), absent_rows(problem)
        forms: list[BlockForm] = runner.map(_compile, [(sub, k, rhs, absent) for k, sub in enumerate(subproblems)])
        seconds["compile"] = time.perf_counter() - t
        t = time.perf_counter()
        completion = budget.completion_settings(settings)
        safe = runner.map(_safe, [(form, completion) for form in forms])
        master = Master(problem, forms, settings.model_copy(update={"time_limit_s": budget.wall_clock_s}))
        master.add(safe)
        safe_choice = tuple(len(master.columns[k]) - 1 for k in range(len(forms)))
        start_choice = _add_start(master, forms, start, completion, runner)
        seconds["seed"] = time.perf_counter() - t
        t = time.perf_counter()
        loop = generate_columns(master, forms, budget, clock, runner, settings)
        seconds["column_generation"] = time.perf_counter() - t
        t = time.perf_counter()
        refine_bound(master, forms, loop, budget, clock, runner, settings)
        seconds["bound_refinement"] = time.perf_counter() - t
        t = time.perf_counter()
        candidates = [safe_choice] + ([start_choice] if start_choice is not None else [])
        if loop.last_lp is not None:
            rounded = _rounded_choice(master, loop.last_lp)
            candidates.append(repaired_choice(problem, master, forms, rounded, completion, runner))
        log.info("candidate plans (safe, start, repaired): %s", [round(master.plan_cost(c), 1) for c in candidates])
        plan = price_and_branch(master, loop, candidates, budget, clock, settings)
        log.info("master MIP: %.1f (%s)", plan.objective, plan.report.termination)
        seconds["master_mip"] = time.perf_counter() - t
        t = time.perf_counter()
        choice, polished = polish(
            problem,
            subproblems,
            master,
            plan.choice,
            budget.polish_rounds,
            config.polish_skus,
            budget.group_settings(settings),
            budget.group_options(),
            clock,
            runner,
        )
        seconds["polish"] = time.perf_counter() - t
        t = time.perf_counter()
        chosen = [master.columns[k][j] for k, j in enumerate(choice)]
        tables = extract_tables(problem, subproblems, forms, chosen, master.shared_values(choice), frozen_weeks)
        seconds["extract"] = time.perf_counter() - t
    finally:
        if executor is None:
            runner.close()
    seconds["total"] = clock.elapsed()
    report = _report(plan, loop, master, clock, settings, tables)
    details: dict[str, object] = {
        "blocks": len(forms),
        "block_skus": config.block_skus,
        "workers": runner.workers,
        "columns": master.column_count,
        "link_rows": len(master.link_row),
        "rounds": [dataclasses.asdict(r) for r in loop.rounds],
        "bound_refinement": dataclasses.asdict(loop.refinement) if loop.refinement is not None else None,
        "candidate_costs": [master.plan_cost(c) for c in candidates],
        "master_mip_cost": plan.objective,
        "master_mip_choice_cost": master.plan_cost(plan.choice),
        "published_choice_cost": master.plan_cost(choice),
        "polish": [dataclasses.asdict(r) for r in polished],
        "master_nodes": plan.report.mip_node_count,
        "master_status": plan.report.status.value,
        "start_plan_cost": master.plan_cost(start_choice) if start_choice is not None else None,
        "clock_fired": loop.clock_fired or clock.fired,
        "prices": _coupling_price_rows(problem, master, loop),
        "bound_source": "lagrangian bound of column generation (sum of the blocks' proven pricing bounds)",
    }
    return ColumnPlan(report, tables, _budget_prices(master, loop, choice), details, seconds)


def generate_columns(
    master: Master,
    forms: Sequence[BlockForm],
    budget: WorkBudget,
    clock: Clock,
    runner: BlockExecutor,
    settings: SolverConfig,
) -> _Loop:
    """Rounds of master LP -> smoothed duals -> every block priced -> bound and new columns."""
    loop = _Loop()
    block_settings = budget.block_settings(settings)
    options = budget.block_options()
    smoothing = budget.smoothing
    for index in range(budget.rounds):
        started = time.perf_counter()
        lp = master.solve_lp()
        if lp is None:
            loop.clock_fired = True
            break
        loop.last_lp = lp
        y = lp.duals if loop.centre is None else _smoothed(loop.centre, lp.duals, smoothing)
        tasks = [_pricing_task(master, form, y, block_settings, options) for form in forms]
        results: list[PricingResult] = runner.map(price_block, tasks)
        bound = master.lagrangian_bound(y, [r.bound for r in results])
        if bound > loop.best_bound:
            loop.best_bound, loop.centre, loop.centre_results = bound, y, results
        columns = [column_of(forms[r.block], r.x, "pricing") for r in results if r.x is not None]
        improving = [c for c in columns if master.reduced_cost(c, lp.duals) < -_tolerance(c)]
        new = master.add(columns)
        stopped = sum(r.clock_stopped for r in results)
        loop.blocks_stopped_by_clock += stopped
        loop.rounds.append(
            RoundRecord(
                index,
                lp.objective,
                bound,
                loop.best_bound,
                new,
                smoothing,
                sum(r.nodes for r in results),
                stopped,
                time.perf_counter() - started,
            )
        )
        log.info(
            "round %d: master LP %.1f, bound %.1f (best %.1f), %d new columns",
            index,
            lp.objective,
            bound,
            loop.best_bound,
            new,
        )
        if _gap(lp.objective, loop.best_bound) <= budget.round_gap:
            break
        if not improving:
            if smoothing == 0.0:
                break  # no plan prices out at the master's own duals: the master LP is optimal
            smoothing = 0.0  # mispricing: price at the master's duals next round
        else:
            smoothing = budget.smoothing
        if clock.expired():
            loop.clock_fired = True
            break
    return loop


def refine_bound(
    master: Master,
    forms: Sequence[BlockForm],
    loop: _Loop,
    budget: WorkBudget,
    clock: Clock,
    runner: BlockExecutor,
    settings: SolverConfig,
) -> None:
    """Lift the best bound: at its duals, every block whose pricing MIP stopped open (at the node
    limit) is priced again with its pack counts continuous, to the same node limit, and keeps the
    higher of its two proven bounds. Both bound B_k at those duals, so the sum does too.

    Why: the integer packs are what keeps a block's branch-and-bound open; without them the same
    nodes usually prove more (``bench/RESULTS.md``, issue 13 item 4). Done once, at the end,
    because only the best round's bound is published.
    """
    if loop.centre is None or not loop.centre_results or clock.expired():
        return
    started = time.perf_counter()
    y = _padded(loop.centre, master.row_count)
    still_open = [r.block for r in loop.centre_results if _left_open(r, budget.block_rel_gap)]
    if not still_open:
        return
    block_settings = budget.block_settings(settings)
    options = budget.block_options()
    tasks = [
        dataclasses.replace(_pricing_task(master, forms[k], y, block_settings, options), relax_packs=True)
        for k in still_open
    ]
    results: list[PricingResult] = runner.map(price_block, tasks)
    bounds = {r.block: r.bound for r in loop.centre_results}
    improved = 0
    for result in results:
        if result.bound > bounds[result.block]:
            bounds[result.block] = result.bound
            improved += 1
    before = loop.best_bound
    after = master.lagrangian_bound(y, [bounds[form.index] for form in forms])
    if after > loop.best_bound:
        loop.best_bound = after
    loop.blocks_stopped_by_clock += sum(r.clock_stopped for r in results)
    loop.refinement = BoundRefinement(
        blocks=len(still_open),
        improved=improved,
        bound_before=before,
        bound_after=loop.best_bound,
        block_nodes=sum(r.nodes for r in results),
        seconds=time.perf_counter() - started,
    )
    log.info("bound refinement: %d open blocks, bound %.1f -> %.1f", len(still_open), before, loop.best_bound)


def _left_open(result: PricingResult, rel_gap: float) -> bool:
    """The pricing MIP stopped before proving its plan optimal (to ``rel_gap``, and at least 1e-6:
    HiGHS's own tolerances leave that much when asked for 0)."""
    return result.objective is None or _gap(result.objective, result.bound) > max(rel_gap, 1e-6)


def price_and_branch(
    master: Master,
    loop: _Loop,
    candidates: Sequence[tuple[int, ...]],
    budget: WorkBudget,
    clock: Clock,
    settings: SolverConfig,
) -> MasterPlan:
    """The master MIP over every generated column, from the cheapest of the candidate choices."""
    best_start = min(candidates, key=master.plan_cost)
    mip_settings = settings.model_copy(
        update={"time_limit_s": max(clock.left(), budget.min_master_s), "mip_rel_gap": settings.mip_rel_gap / 10}
    )
    plan = master.solve_mip(mip_settings, budget.master_options(), best_start)
    if plan is None or plan.objective > master.plan_cost(best_start):  # the safety net fired first
        return _plan_of_choice(master, best_start)
    if plan.report.status in (PlanStatus.TIME_LIMIT_WITH_PLAN, PlanStatus.BACKSTOP_WITH_PLAN):
        loop.clock_fired = True
    return plan


def _plan_of_choice(master: Master, choice: tuple[int, ...]) -> MasterPlan:
    x = master.start_vector(choice)
    shared = {c.name: float(x[i]) for i, c in enumerate(master.shared)}
    cost = master.plan_cost(choice)
    report = SolveReport(
        status=PlanStatus.TIME_LIMIT_WITH_PLAN,
        termination="safety net: the master MIP did not run; the best known choice is published",
        has_plan=True,
        objective=cost,
        best_bound=None,
        gap=None,
        is_mip=True,
        timings={},
        columns=0,
        rows=0,
        integer_columns=0,
        nonzeros=0,
    )
    return MasterPlan(report, choice, shared, cost)


def _rounded_choice(master: Master, lp: MasterLP) -> tuple[int, ...]:
    """Each block's heaviest column in the master LP (ties: the first generated)."""
    n_shared = len(master.shared)
    best: dict[int, tuple[float, int]] = {}
    for m, (block, j) in enumerate(master.column_ref):
        weight = float(lp.weights[n_shared + m]) if n_shared + m < len(lp.weights) else 0.0
        if block not in best or weight > best[block][0] + 1e-9:
            best[block] = (weight, j)
    return tuple(best[k][1] for k in range(len(master.forms)))


def _smoothed(centre: NDArray[np.float64], duals: NDArray[np.float64], share: float) -> NDArray[np.float64]:
    return share * _padded(centre, len(duals)) + (1.0 - share) * duals


def _padded(duals: NDArray[np.float64], rows: int) -> NDArray[np.float64]:
    """Duals taken before link rows were added, priced at 0 on those rows (a link row's
    right-hand side is 0 and a block pair it does not cover was priced at 0 anyway, so the
    Lagrangian bound at the padded duals equals the bound at the duals as taken)."""
    if len(duals) < rows:
        return np.concatenate([duals, np.zeros(rows - len(duals))])
    return duals


def _pricing_task(
    master: Master,
    form: BlockForm,
    y: NDArray[np.float64],
    settings: SolverConfig,
    options: Mapping[str, bool | int | float | str],
) -> PricingTask:
    usage_dual, link_dual = master.block_duals(y, form.index)
    cost, constant = priced_objective(form, usage_dual, link_dual)
    columns = master.columns[form.index]
    start = min(columns, key=lambda c: float(cost @ c.x)).x if columns else None
    return PricingTask(form, cost, constant, settings, options, start)


def _tolerance(column: Column) -> float:
    return 1e-6 * max(1.0, abs(column.cost))


def _gap(value: float, bound: float) -> float:
    if not (math.isfinite(value) and math.isfinite(bound)):
        return math.inf
    return (value - bound) / max(abs(value), 1e-9)


def _compile(args: tuple[PlanningProblem, int, Any, Any]) -> BlockForm:
    return compile_block(*args)


def _safe(args: tuple[BlockForm, SolverConfig]) -> Column:
    return safe_column(*args)


def _complete(args: tuple[BlockForm, SolverConfig, Any, Any]) -> Column | None:
    form, settings, packs, shipped = args
    return complete(form, settings, packs, shipped, "start")


def _add_start(
    master: Master, forms: Sequence[BlockForm], start: PlanStart | None, settings: SolverConfig, runner: BlockExecutor
) -> tuple[int, ...] | None:
    """Last week's plan as one column per block (its orders fixed, the rest solved), and their choice."""
    if start is None:
        return None
    tasks = []
    for form in forms:
        packs = {slot: start.packs.get(slot, 0) for _, slot in form.pack_columns}
        tasks.append((form, settings, packs, None))
    columns: list[Column | None] = runner.map(_complete, tasks)
    master.add([c for c in columns if c is not None])
    choice = []
    for k, column in enumerate(columns):
        if column is None:
            choice.append(0)  # the safe plan
            continue
        keys = [c.key() for c in master.columns[k]]
        choice.append(keys.index(column.key()))
    return master.feasible_choice(choice, tuple(0 for _ in forms))


def _budget_prices(master: Master, loop: _Loop, choice: Sequence[int]) -> dict[str, float]:
    """Cost saved by one more unit of each budget: minus the final master LP's dual of its row,
    where the published choice fills the row (``priced_where_binding``)."""
    if loop.last_lp is None:
        return {}
    prices, headroom, caps = {}, {}, {}
    room = master.row_headroom(choice)
    for key in master.row_keys:
        if key[0] == "budget_limit":
            budget = str(key[1][0])
            prices[budget] = -float(loop.last_lp.duals[master.row_of[key]])
            headroom[budget] = room[key]
            caps[budget] = master.rhs.get(key, 0.0)
    return priced_where_binding(prices, headroom, caps)


_PRICE_KINDS = {"budget_limit": "budget", "supplier_capacity": "supplier", "location_capacity": "location"}


def _coupling_price_rows(problem: PlanningProblem, master: Master, loop: _Loop) -> list[dict[str, object]]:
    """The final master LP's prices of budgets and capacities, keyed by dates (the ``coupling_prices`` table)."""
    if loop.last_lp is None:
        return []
    rows: list[dict[str, object]] = []
    for key in master.row_keys:
        kind = _PRICE_KINDS.get(key[0])
        price = -float(loop.last_lp.duals[master.row_of[key]])
        if kind is None or price <= 1e-12:
            continue
        index = key[1]
        week = int(index[1]) if len(index) > 1 else -1  # type: ignore[call-overload]
        start = problem.week_starts[week].isoformat() if week >= 0 else ""
        rows.append({"kind": kind, "name": str(index[0]), "week_start": start, "price": price})
    return sorted(rows, key=lambda r: (str(r["kind"]), str(r["name"]), str(r["week_start"])))


def _report(
    plan: MasterPlan, loop: _Loop, master: Master, clock: Clock, settings: SolverConfig, tables: PlanTables
) -> SolveReport:
    """The published plan's report: its exact cost, the best Lagrangian bound, the gap between them."""
    objective = float(sum(tables.costs.values()))
    bound = min(loop.best_bound, objective) if math.isfinite(loop.best_bound) else None
    gap = _gap(objective, bound) if bound is not None else None
    fired = loop.clock_fired or clock.fired or loop.blocks_stopped_by_clock > 0
    if fired:
        status, why = PlanStatus.TIME_LIMIT_WITH_PLAN, "the wall-clock safety net fired (plan may depend on load)"
    elif gap is not None and gap <= settings.mip_rel_gap:
        status, why = PlanStatus.OPTIMAL, "gap reached"
    else:
        status, why = PlanStatus.LIMIT_WITH_PLAN, "work limits reached"
    termination = (
        f"{why}: {len(loop.rounds)} column-generation round(s), {master.column_count} columns; "
        f"master MIP: {plan.report.termination}"
    )
    return dataclasses.replace(
        plan.report,
        status=status,
        termination=termination,
        objective=objective,
        best_bound=bound,
        gap=gap,
        is_mip=True,
        has_plan=True,
        timings={"total": clock.elapsed()},
    )


# ------------------------------------------------------------------------------ tables


def extract_tables(
    problem: PlanningProblem,
    subproblems: Sequence[PlanningProblem],
    forms: Sequence[BlockForm],
    chosen: Sequence[Column],
    shared: dict[str, float],
    frozen_weeks: int,
) -> PlanTables:
    """The chosen plans as the published tables, block by block; shared costs and overruns once.

    cost = sum_k own_k + sum_{open PO} G_s + sum of priced overruns (the master's shared slack)
    """
    purchases, transfers, inventory = [], [], []
    costs: dict[str, float] = dict.fromkeys(COST_TERMS, 0.0)
    overruns: dict[str, float] = {}
    for sub, form, column in zip(subproblems, forms, chosen, strict=True):
        m = build_model(sub)
        _load(m, form, column)
        purchases.append(purchase_lines(m, sub, frozen_weeks))
        transfers.append(transfer_lines(m, sub))
        inventory.append(projected_inventory(m, sub))
        for term in COST_TERMS:
            costs[term] += float(pyo.value(getattr(m, term)))
        costs["ordering_cost"] -= sum(
            sub.suppliers[po[0]].po_fixed_cost * float(pyo.value(m.po_open[po])) for po in m.PO_SLOTS
        )
        overruns.update({k: v for k, v in slack_overruns(m).items() if k.startswith("reservation:")})
    pen = problem.penalties
    for name, value in shared.items():
        if value <= 1e-9:
            continue
        family, _, rest = name.partition("[")
        index = rest.rstrip("]")
        if family == "po_open":
            supplier = index.split(",")[0]
            costs["ordering_cost"] += problem.suppliers[supplier].po_fixed_cost * round(value)
        elif family == "budget_overrun":
            overruns[f"budget:{index.strip(chr(39))}"] = value
            costs["budget_overrun_cost"] += pen.budget_overrun * value
        elif family == "supplier_capacity_overrun":
            overruns[f"supplier:{index.replace(',', ':')}"] = value
            costs["capacity_overrun_cost"] += pen.supplier_capacity_overrun * value
        elif family == "capacity_overrun":
            overruns[f"location:{index.replace(',', ':')}"] = value
            costs["capacity_overrun_cost"] += pen.capacity_overrun * value
    return _stacked(purchases, transfers, inventory, costs, overruns)


def _load(m: pyo.ConcreteModel, form: BlockForm, column: Column) -> None:
    """A block model holding the column's values; shared slack and lanes at 0 (they are the master's)."""
    values = dict(zip(form.names, column.x.tolist(), strict=True))
    for var in m.component_data_objects(pyo.Var, descend_into=True):
        if var.fixed:
            continue
        family = var.parent_component().local_name
        if family in SHARED_VARIABLES:
            var.set_value(0.0, skip_validation=True)
        else:
            var.set_value(values.get(var.name, 0.0), skip_validation=True)


def _stacked(
    purchases: list[pd.DataFrame],
    transfers: list[pd.DataFrame],
    inventory: list[pd.DataFrame],
    costs: dict[str, float],
    overruns: dict[str, float],
) -> PlanTables:
    bought = pd.concat(purchases, ignore_index=True)
    bought = bought.drop(columns="line").sort_values(["po_id", "sku", "mode"], kind="stable")
    bought.insert(1, "line", bought.groupby("po_id").cumcount() + 1)
    shipped = pd.concat(transfers, ignore_index=True)
    stock = pd.concat(inventory, ignore_index=True)
    return PlanTables(
        purchases=bought.reset_index(drop=True),
        transfers=shipped.sort_values(["transfer_id", "sku"], kind="stable").reset_index(drop=True),
        inventory=stock.sort_values(["sku", "location", "week"], kind="stable").reset_index(drop=True),
        costs=costs,
        overruns=overruns,
    )
