"""Plan large catalogues by pricing the rows that couple SKUs: Lagrangian decomposition.

Solved whole, the buy-plan MIP stops scaling early: HiGHS spends its time in the root cut
loop of the budget-coupled model and may find no plan at all. SKUs share only a few rows
(budgets, supplier capacity, location space, PO minimums and fixed costs, lane minimums), so:

1. **Blocks.** The catalogue is cut into blocks of ``block_skus`` SKUs; each block's model is
   built by the same ``build_model`` from ``PlanningProblem.split`` and turned into its
   Lagrangian subproblem by ``models.lagrangian.price_coupling`` (budgets and capacities
   priced, PO and lane minimums dropped, PO fixed costs shared).
2. **Pricing passes.** Every pass solves all blocks at the current prices, on the configured
   executor (threads, or a Dask cluster). The sum of the blocks' proven MIP bounds minus the
   priced capacities is a valid lower bound on the whole model's optimum (see
   ``models.lagrangian``). Prices move by the volume algorithm (Barahona & Anbil, 2000): the
   step direction is the capacity excess of a running average of the block plans, not of the
   last one, which damps the zig-zag of plain subgradient steps; the step length is Polyak's,
   from the best plan's cost, and the centre only moves when the bound improves.
3. **Repair.** Each pass's block orders are made to meet PO minimums, supplier capacity and
   every budget (``planning.optimize.repair_orders``: top up, move later, cut) and completed on
   the whole model with those orders fixed (an LP: transfers, stock, service, priced slack).
   The cheapest completed plan is kept.
4. **Polish.** The rest of the time goes to fix-and-optimize on the whole model (``polish``): a
   few SKUs at a time are re-planned with every other SKU held at the best plan, so each round
   is a small MIP that sees every budget, capacity and PO minimum as the others leave it; a
   round is kept only when it lowers the cost. The plan is published with its gap against the
   best Lagrangian bound.

Passes stop at the configured gap, at ``max_passes``, or when the next pass would not fit in
the time limit. Blocks are built, solved and freed inside the worker, one at a time.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pyomo.environ as pyo

from models import build_model
from models.lagrangian import CouplingRow, coupling_caps, forced_usage, price_caps, price_coupling, usage_values
from planning.assemble import AssembledPlan, assemble_plan
from planning.config import DecompositionConfig, SolverConfig
from planning.executors import BlockExecutor, make_executor
from planning.optimize import OptimizeResult, complete_orders, repair_orders, runs_of
from planning.problem import OrderSlot, PlanningProblem, PoSlot, TransferSlot
from planning.residual import polish_assembled
from planning.solve import (
    CompiledModel,
    PlanStatus,
    SolveReport,
    SolveResult,
    compile_model,
    load_values,
    solve,
    solve_compiled,
)
from planning.warm_start import PlanStart

log = logging.getLogger(__name__)

# First Polyak step, as a share of the way the gap suggests. Measured on the 100-SKU demo (4 and 3
# passes): 0.1 priced the tight budget weeks at about 1 per dollar and every later pass had a lower
# bound and a costlier plan; 0.01 kept the bound within 0.5 % of the first pass's.
STEP_FACTOR = 0.01
STEP_GROW, STEP_SHRINK = 1.1, 0.6  # after a pass that raised / did not raise the bound
MIN_AVERAGING, MAX_AVERAGING = 0.05, 0.5  # share of the newest pass in the averaged usage
MIN_BLOCK_SECONDS = 0.2  # a block started after the pass deadline still gets this long
LP_FALLBACK_SECONDS = 5.0  # for a block's LP relaxation when its MIP stopped without a bound
POLISH_ROUND_S = 10.0  # time limit of one fix-and-optimize round
MIN_POLISH_ROUND_S = 2.0  # no round is started with less time than this left
POLISH_RESERVE_S = 2.0  # kept after polishing for loading the plan and the report
COMPLETION_RESERVE = 0.15  # share of the time limit kept for repairing and completing the last pass
MIN_COMPLETION_S = 30.0  # never less: the 300-SKU whole-model completion took 18 s on a loaded machine
ASSEMBLY_S_PER_BLOCK = 0.15  # per block and worker: ~3x the 0.055 s CPU measured (100 SKUs), for a loaded machine


@dataclass(frozen=True, slots=True)
class BlockTask:
    """One block's subproblem at the current prices: everything a worker needs, picklable."""

    problem: PlanningProblem
    prices: Mapping[CouplingRow, float]
    po_share: Mapping[PoSlot, float]
    settings: SolverConfig
    highs_options: Mapping[str, bool | int | float | str] = field(default_factory=dict)
    deadline: float = math.inf  # wall-clock time (time.time()) by which the block must be done
    start: Mapping[OrderSlot, int] | None = None  # packs per order slot to start the MIP from


@dataclass(frozen=True, slots=True)
class BlockResult:
    """A block's plan at the prices, its proven bound, and what it uses of each coupling row."""

    status: PlanStatus
    bound: float | None
    objective: float | None
    packs: dict[OrderSlot, int]
    shipped: dict[TransferSlot, float]
    usage: dict[CouplingRow, float]
    seconds: float


@dataclass(frozen=True, slots=True)
class PassRecord:
    """One pricing pass: the bound at its prices and the cost of the plan repaired from it."""

    index: int
    bound: float | None
    plan_cost: float | None
    excess: float  # norm of the averaged usage above capacity (0: the averaged plan fits)
    seconds: float
    completion_seconds: float = 0.0  # of ``seconds``: repairing and completing the plan


@dataclass(frozen=True, slots=True)
class DecompositionResult:
    """What ``decompose`` adds to the published result, for benchmarks and the run record."""

    blocks: int
    passes: tuple[PassRecord, ...]
    prices: dict[CouplingRow, float] = field(default_factory=dict)


def solve_block(task: BlockTask) -> BlockResult:
    """Build, price, solve and free one block (runs on a worker)."""
    started = time.perf_counter()
    m = build_model(task.problem)
    price_coupling(m, task.problem, task.prices, task.po_share)
    # Blocks started late in a pass get what is left, so the pass ends by the deadline (their
    # bound stays valid: HiGHS's dual bound at whatever point it stopped).
    left = max(MIN_BLOCK_SECONDS, min(task.settings.time_limit_s, task.deadline - time.time()))
    settings = task.settings.model_copy(update={"time_limit_s": left})
    initial = _start_values(m, task.problem, task.start) if task.start is not None else None
    result = solve(m, settings, initial=initial, highs_options=task.highs_options)
    bound = result.report.best_bound
    if bound is None or not math.isfinite(bound):
        # Stopped before a dual bound (a late block, or presolve cut short): the block's LP
        # relaxation at the same prices is a valid, weaker bound, and takes milliseconds.
        relaxed = solve(m, settings.model_copy(update={"time_limit_s": LP_FALLBACK_SECONDS}), relax_integrality=True)
        bound = relaxed.report.objective if relaxed.report.status is PlanStatus.OPTIMAL else None
    if not result.report.has_plan:
        return BlockResult(result.report.status, bound, None, {}, {}, {}, time.perf_counter() - started)
    load_values(m, result)
    packs = {slot: round(pyo.value(m.packs[slot])) for slot in m.ORDER_SLOTS}
    shipped = {slot: float(pyo.value(m.transfer[slot])) for slot in m.TRANSFER_SLOTS}
    return BlockResult(
        status=result.report.status,
        bound=bound,
        objective=result.report.objective,
        packs=packs,
        shipped={slot: units for slot, units in shipped.items() if units > 1e-9},
        usage=usage_values(m),
        seconds=time.perf_counter() - started,
    )


def _start_values(m: pyo.ConcreteModel, problem: PlanningProblem, packs: Mapping[OrderSlot, int]) -> dict[str, float]:
    """A MIP start by column name: the block's orders, their lines and POs (HiGHS completes the rest)."""
    values: dict[str, float] = {}
    open_pos: set[PoSlot] = set()
    for slot in m.ORDER_SLOTS:
        count = packs.get(slot, 0)
        line = count > 0 or slot in problem.locked_units
        values[m.packs[slot].name] = float(count)
        values[m.order_line[slot].name] = 1.0 if line else 0.0
        if line:
            option = problem.options[slot[0]]
            open_pos.add((option.supplier, option.ship_to, slot[1]))
    values.update({m.po_open[po].name: 1.0 if po in open_pos else 0.0 for po in m.PO_SLOTS})
    return values


def block_highs_options(config: DecompositionConfig) -> dict[str, bool | int | float | str]:
    """HiGHS options for block solves.

    A node limit, not the clock, stops a block, so a pass gives the same plan however loaded the
    machine is (and on threads or on Dask alike). RINS and RENS are off: on the 100-SKU demo
    they took 56 % of the blocks' CPU time (93 s against 41 s with a 200-node limit) for a bound
    0.02 % higher and block plans 0.1 % cheaper.
    """
    return {"mip_max_nodes": config.block_max_nodes, "mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}


def make_blocks(problem: PlanningProblem, block_skus: int) -> list[tuple[str, ...]]:
    """SKUs in blocks of ``block_skus``, neighbours by primary supplier and category."""

    suppliers: dict[str, set[str]] = defaultdict(set)
    for option in problem.options.values():
        suppliers[option.sku].add(option.supplier)

    def key(sku: str) -> tuple[str, str, str]:
        return (min(suppliers[sku], default=""), problem.items[sku].category, sku)

    skus = sorted(problem.skus, key=key) if block_skus > 1 else list(problem.skus)
    return [tuple(skus[i : i + block_skus]) for i in range(0, len(skus), block_skus)]


def po_shares(problem: PlanningProblem, blocks: Sequence[Sequence[str]]) -> dict[PoSlot, float]:
    """Each PO's fixed cost split evenly over the blocks that can order on it."""
    block_of = {sku: k for k, block in enumerate(blocks) for sku in block}
    users: dict[PoSlot, set[int]] = defaultdict(set)
    for option_id, week in problem.order_slots:
        option = problem.options[option_id]
        users[(option.supplier, option.ship_to, week)].add(block_of[option.sku])
    return {po: 1.0 / len(ks) for po, ks in users.items()}


class _Prices:
    """The volume algorithm's state: centre prices, their bound, the averaged usage, step factor."""

    def __init__(
        self,
        problem: PlanningProblem,
        start: Mapping[CouplingRow, float] | None,
        forced: Mapping[CouplingRow, float] | None = None,
    ) -> None:
        self.caps = coupling_caps(problem)
        self.ceiling = price_caps(problem)
        # Overrun the locked orders force whatever the plan does (see models.lagrangian).
        self.forced = {r: max(0.0, (forced or {}).get(r, 0.0) - cap) for r, cap in self.caps.items()}
        self.forced = {r: v for r, v in self.forced.items() if v > 1e-9}
        # A row the locked orders already overrun costs its full price per extra unit: start there.
        initial = {r: self.ceiling[r[0]] for r in self.forced}
        initial.update({r: v for r, v in (start or {}).items() if r in self.caps})
        self.trial: dict[CouplingRow, float] = {r: self._clip(r, v) for r, v in initial.items()}
        self.warm = dict(self.trial)
        self.centre = dict(self.trial)
        self.bound = -math.inf
        self.average: dict[CouplingRow, float] | None = None
        self.step_factor = STEP_FACTOR

    def _clip(self, row: CouplingRow, value: float) -> float:
        return min(max(value, 0.0), self.ceiling[row[0]])

    def bound_at_trial(self, results: Sequence[BlockResult]) -> float | None:
        """L(trial) = sum of block bounds - sum of priced capacities; None if a block has no bound."""
        if any(r.bound is None or not math.isfinite(r.bound) for r in results):
            return None
        forced = sum((self.ceiling[row[0]] - self.trial.get(row, 0.0)) * over for row, over in self.forced.items())
        blocks = sum(r.bound for r in results if r.bound is not None)
        return blocks - sum(price * self.caps[row] for row, price in self.trial.items()) + forced

    def update(self, results: Sequence[BlockResult], bound: float | None, best_cost: float) -> float:
        """Move the centre if the bound rose, average the usage, take the next trial; returns the excess norm."""
        usage: dict[CouplingRow, float] = defaultdict(float)
        for result in results:
            for row, value in result.usage.items():
                usage[row] += value
        if bound is not None and bound > self.bound:
            improved = self.bound > -math.inf
            self.centre, self.bound = dict(self.trial), bound
            self.step_factor *= STEP_GROW if improved else 1.0
        else:
            self.step_factor *= STEP_SHRINK
        self.average = self._averaged(usage)
        excess = {row: self.average.get(row, 0.0) - cap for row, cap in self.caps.items()}
        # Rows with no price and slack to spare cannot move: leave them out of the norm.
        active = {r: g for r, g in excess.items() if g > 0 or self.centre.get(r, 0.0) > 0}
        norm2 = sum(g * g for g in active.values())
        if norm2 <= 1e-12 or not math.isfinite(self.bound):
            self.trial = dict(self.centre)
            return math.sqrt(norm2)
        step = self.step_factor * max(best_cost - self.bound, 1e-6 * abs(best_cost)) / norm2
        trial = {row: self._clip(row, self.centre.get(row, 0.0) + step * g) for row, g in active.items()}
        self.trial = {row: price for row, price in trial.items() if price > 0}
        return math.sqrt(norm2)

    def _averaged(self, usage: Mapping[CouplingRow, float]) -> dict[CouplingRow, float]:
        """The volume algorithm's primal average, with the newest share that shortens the excess most."""
        if self.average is None:
            return dict(usage)
        rows = set(self.caps)
        new = {r: usage.get(r, 0.0) - self.caps[r] for r in rows}
        old = {r: self.average.get(r, 0.0) - self.caps[r] for r in rows}
        diff2 = sum((old[r] - new[r]) ** 2 for r in rows)
        share = sum(old[r] * (old[r] - new[r]) for r in rows) / diff2 if diff2 > 0 else MAX_AVERAGING
        share = min(max(share, MIN_AVERAGING), MAX_AVERAGING)
        return {r: share * usage.get(r, 0.0) + (1 - share) * self.average.get(r, 0.0) for r in rows}


def decompose(
    problem: PlanningProblem,
    settings: SolverConfig,
    config: DecompositionConfig,
    *,
    executor: BlockExecutor | None = None,
    start_prices: Mapping[CouplingRow, float] | None = None,
    start_plan: PlanStart | None = None,
    frozen_weeks: int = 0,
) -> tuple[OptimizeResult, DecompositionResult]:
    """Plan ``problem`` by pricing passes over SKU blocks, within ``settings.time_limit_s``.

    ``start_prices``: coupling prices to start from (last week's, mapped by ``prices_from_rows``).
    ``start_plan``: last week's plan on this week's slots (``planning.warm_start``): repaired and
    completed into the first candidate plan before any pass, and every block's MIP start.
    ``frozen_weeks`` marks purchase lines firm in a plan assembled from blocks (the whole-model
    path leaves that to ``planning.plan.extract_plan``).
    """
    started = time.perf_counter()
    deadline = started + settings.time_limit_s
    owned = executor is None
    runner = executor if executor is not None else make_executor(config.workers, config.dask_address)
    try:
        return _decompose(problem, settings, config, runner, start_prices, start_plan, frozen_weeks, started, deadline)
    finally:
        if owned:
            runner.close()


def _decompose(
    problem: PlanningProblem,
    settings: SolverConfig,
    config: DecompositionConfig,
    runner: BlockExecutor,
    start_prices: Mapping[CouplingRow, float] | None,
    start_plan: PlanStart | None,
    frozen_weeks: int,
    started: float,
    deadline: float,
) -> tuple[OptimizeResult, DecompositionResult]:
    seconds: dict[str, float] = {}
    blocks = make_blocks(problem, config.block_skus)
    subproblems = problem.split(blocks)
    shares = po_shares(problem, blocks)
    # Above the assembly threshold the whole model is never built: each pass's plan is completed
    # block by block (planning.assemble), so memory grows with the block, not the catalogue.
    whole = len(problem.items) <= config.whole_model_assembly_max_skus
    m = build_model(problem) if whole else None
    forced = forced_usage(m) if m is not None else _forced_usage_by_block(subproblems)
    seconds["build"] = time.perf_counter() - started
    prices = _Prices(problem, start_prices, forced)
    options = block_highs_options(config)
    best: _Candidate | None = None
    last: _Candidate | None = None
    block_start: dict[OrderSlot, int] | None = None
    trace: list[tuple[float, float, float]] = []  # (seconds, best plan cost, best bound) as they improve

    def record(cost: float) -> None:
        trace.append((time.perf_counter() - started, cost, prices.bound))

    if start_plan is not None:
        # Last week's plan, repaired against this week's rows and completed: a plan before any pass.
        t_seed = time.perf_counter()
        block_start = _repaired(problem, start_plan.packs)
        completion = _completion_settings(settings, deadline - t_seed)
        seeded = _completed(
            m, problem, subproblems, block_start, start_plan.shipped, prices.trial, completion, frozen_weeks, runner
        )
        seconds["seed"] = time.perf_counter() - t_seed
        if seeded.has_plan:
            best = last = seeded
            seconds["first_plan"] = time.perf_counter() - started
            record(seeded.cost)
    passes: list[PassRecord] = []
    pass_seconds = completion_seconds = 0.0
    for index in range(config.max_passes):
        left = deadline - time.perf_counter()
        if passes and left < 1.2 * (pass_seconds + completion_seconds):
            break
        t0 = time.perf_counter()
        block_settings = settings.model_copy(
            update={
                "time_limit_s": max(0.5, min(config.block_time_limit_s, left)),
                "backstop_s": min(settings.backstop_s, 5.0),
                "mip_rel_gap": config.block_rel_gap,
            }
        )
        # Time kept for repairing and completing the pass's plan: assembling it block by block
        # costs an LP per block, so that path keeps at least ASSEMBLY_S_PER_BLOCK per block.
        reserve = max(5.0, COMPLETION_RESERVE * settings.time_limit_s)
        if m is None:
            reserve = max(reserve, ASSEMBLY_S_PER_BLOCK * len(subproblems) / runner.workers)
        pass_deadline = time.time() + left - reserve
        tasks = [
            BlockTask(
                sub,
                prices.trial,
                _own(shares, sub),
                block_settings,
                options,
                pass_deadline,
                {slot: block_start.get(slot, 0) for slot in sub.order_slots} if block_start is not None else None,
            )
            for sub in subproblems
        ]
        results = runner.map(solve_block, tasks)
        bound = prices.bound_at_trial(results)
        pass_seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        completion = _completion_settings(settings, deadline - t1)
        packs, shipped = _repaired_orders(problem, results)
        last = _completed(m, problem, subproblems, packs, shipped, prices.trial, completion, frozen_weeks, runner)
        completion_seconds = time.perf_counter() - t1
        if last.has_plan and (best is None or last.cost < best.cost):
            best = last
        seconds.setdefault("first_plan", time.perf_counter() - started)
        best_cost = best.cost if best is not None else math.inf
        excess = prices.update(results, bound, best_cost)
        record(best_cost)
        plan_cost = last.cost if last.has_plan else None
        passes.append(PassRecord(index, bound, plan_cost, excess, time.perf_counter() - t0, completion_seconds))
        log.info("pass %d: bound %s, plan %s, excess %.1f", index, bound, plan_cost, excess)
        if _gap(best_cost, prices.bound) <= settings.mip_rel_gap:
            break
    seconds["passes"] = sum(p.seconds for p in passes)
    polished: list[float] = []
    if m is not None and best is not None and best.solved is not None and config.polish_skus > 0:
        t2 = time.perf_counter()
        solved, polished = polish(
            m, problem, best.solved, deadline - POLISH_RESERVE_S, settings, config.polish_skus, record
        )
        best = _Candidate(solved=solved)
        seconds["polish"] = time.perf_counter() - t2
    elif best is not None and best.assembled is not None and config.polish_skus > 0:
        t2 = time.perf_counter()
        group_blocks = max(1, config.polish_skus // config.block_skus)
        assembled, polished = polish_assembled(
            problem,
            subproblems,
            best.assembled,
            prices.centre,
            deadline - POLISH_RESERVE_S,
            settings,
            group_blocks,
            frozen_weeks,
            runner,
            record,
        )
        best = _Candidate(assembled=assembled)
        seconds["polish"] = time.perf_counter() - t2
    chosen = best if best is not None else last
    if chosen is None:
        raise RuntimeError("decomposition ran no pricing pass: the time limit is too short to start one")
    if m is not None and best is not None and best.solved is not None:
        load_values(m, best.solved)
    report = _report(chosen.report, prices.bound, settings, passes, config)
    seconds["total"] = time.perf_counter() - started
    result = OptimizeResult(
        model=m,
        report=dataclasses.replace(report, timings={**report.timings, "total": seconds["total"]}),
        lp_bound=None,
        start_objective=passes[0].plan_cost if passes else None,
        stage_seconds=seconds,
        from_start=False,
        method="blocks",
        details={
            "blocks": len(blocks),
            "block_skus": config.block_skus,
            "workers": runner.workers,
            "whole_model": m is not None,
            "passes": [dataclasses.asdict(p) for p in passes],
            "polish_costs": polished,
            "trace": trace,
            "warm_prices": len(prices.warm),
            "start_plan_cost": seeded.cost if start_plan is not None and seeded.has_plan else None,
            "prices": price_rows(problem, prices.centre),
            **(
                {"completion_rounds": chosen.assembled.rounds, "shut_lane_weeks": chosen.assembled.shut_lane_weeks}
                if chosen.assembled is not None
                else {}
            ),
        },
        plan=chosen.assembled.tables if chosen.assembled is not None else None,
    )
    return result, DecompositionResult(len(blocks), tuple(passes), dict(prices.centre))


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A completed plan: solved on the whole model, or assembled from block completions."""

    solved: SolveResult | None = None
    assembled: AssembledPlan | None = None

    @property
    def report(self) -> SolveReport:
        if self.solved is not None:
            return self.solved.report
        assert self.assembled is not None
        return self.assembled.report

    @property
    def has_plan(self) -> bool:
        return self.report.has_plan and self.report.objective is not None

    @property
    def cost(self) -> float:
        return self.report.objective if self.report.objective is not None else math.inf


def _repaired_orders(
    problem: PlanningProblem, results: Sequence[BlockResult]
) -> tuple[dict[OrderSlot, int], dict[TransferSlot, float]]:
    """The blocks' orders made to meet PO minimums, supplier capacity and budgets; their shipments."""
    packs: dict[OrderSlot, int] = {}
    shipped: dict[TransferSlot, float] = {}
    for result in results:
        packs.update(result.packs)
        shipped.update(result.shipped)
    return _repaired(problem, packs), shipped


def _repaired(problem: PlanningProblem, orders: Mapping[OrderSlot, int]) -> dict[OrderSlot, int]:
    """``orders`` (packs per slot, missing = 0) made to meet PO minimums, supplier capacity and budgets."""
    packs: dict[OrderSlot, int] = dict.fromkeys(problem.order_slots, 0)
    packs.update({slot: count for slot, count in orders.items() if slot in packs})
    later = runs_of(packs)
    weights = {slot: float(count) for slot, count in packs.items()}
    repair_orders(problem, packs, later, weights)
    return packs


def _completed(
    m: pyo.ConcreteModel | None,
    problem: PlanningProblem,
    subproblems: Sequence[PlanningProblem],
    packs: Mapping[OrderSlot, int],
    shipped: Mapping[TransferSlot, float],
    prices: Mapping[CouplingRow, float],
    settings: SolverConfig,
    frozen_weeks: int,
    runner: BlockExecutor,
) -> _Candidate:
    """Repaired orders completed into a plan: on the whole model, or block by block without it."""
    if m is not None:
        return _Candidate(solved=complete_orders(m, problem, packs, shipped, settings))
    lanes = _units_by_lane_week(shipped)
    return _Candidate(
        assembled=assemble_plan(problem, subproblems, packs, lanes, prices, settings, frozen_weeks, runner)
    )


def _units_by_lane_week(shipped: Mapping[TransferSlot, float]) -> dict[tuple[str, str, int], float]:
    units: dict[tuple[str, str, int], float] = defaultdict(float)
    for (_, origin, destination, week), quantity in shipped.items():
        units[(origin, destination, week)] += quantity
    return dict(units)


def _forced_usage_by_block(subproblems: Sequence[PlanningProblem]) -> dict[CouplingRow, float]:
    """``forced_usage`` summed over the blocks that hold locked orders, each built and freed in turn."""
    forced: dict[CouplingRow, float] = defaultdict(float)
    for sub in subproblems:
        if sub.locked_units:
            for row, value in forced_usage(build_model(sub)).items():
                forced[row] += value
    return dict(forced)


def price_rows(problem: PlanningProblem, prices: Mapping[CouplingRow, float]) -> list[dict[str, object]]:
    """Coupling prices as rows keyed by dates, not week numbers, so next week's run can reuse them."""
    rows: list[dict[str, object]] = []
    for (kind, name, week), price in sorted(prices.items()):
        start = problem.week_starts[week].isoformat() if week >= 0 else ""
        rows.append({"kind": kind, "name": name, "week_start": start, "price": price})
    return rows


def prices_from_rows(problem: PlanningProblem, rows: Sequence[Mapping[str, object]]) -> dict[CouplingRow, float]:
    """``price_rows`` of an earlier run mapped onto this problem's weeks; rows outside it are dropped."""
    week_of = {start.isoformat(): t for t, start in enumerate(problem.week_starts)}
    caps = coupling_caps(problem)
    prices: dict[CouplingRow, float] = {}
    for row in rows:
        start = str(row.get("week_start") or "")
        week = week_of.get(start, -2) if start else -1
        key: CouplingRow = (str(row["kind"]), str(row["name"]), week)
        if key in caps:
            prices[key] = float(row["price"])  # type: ignore[arg-type]
    return prices


def _lost_cost_by_sku(m: pyo.ConcreteModel, problem: PlanningProblem) -> dict[str, float]:
    """Lost margin plus fill-rate shortfall cost per SKU in the model's loaded plan."""
    lost: dict[str, float] = defaultdict(float)
    for key in m.DEMAND:
        lost[key[0]] += problem.items[key[0]].lost_sale_penalty * float(m.unmet[key].value or 0.0)
    for sku in m.FILL_RATE_SKUS:
        lost[sku] += problem.penalties.fill_rate_shortfall[sku] * float(m.fill_rate_shortfall[sku].value or 0.0)
    return lost


def _columns_by_sku(m: pyo.ConcreteModel, problem: PlanningProblem) -> dict[str, list[str]]:
    """Names of every variable that belongs to one SKU (by option for order slots, else first index)."""
    columns: dict[str, list[str]] = defaultdict(list)
    for var in m.component_data_objects(pyo.Var, descend_into=True):
        if var.fixed:
            continue
        index = var.index()
        first = index[0] if isinstance(index, tuple) else index
        if first in problem.options:
            columns[problem.options[first].sku].append(var.name)
        elif first in problem.items:
            columns[str(first)].append(var.name)
    return columns


def _polish_round(
    compiled: CompiledModel,
    problem: PlanningProblem,
    best: SolveResult,
    group: Sequence[str],
    slots_by_sku: Mapping[str, list[OrderSlot]],
    columns: Mapping[str, list[str]],
    po_names: Mapping[PoSlot, str],
    settings: SolverConfig,
    left: float,
) -> SolveResult:
    """One fix-and-optimize round: the group's SKUs free, everything else at the best plan."""
    free_pos = {
        (problem.options[o].supplier, problem.options[o].ship_to, t) for sku in group for o, t in slots_by_sku[sku]
    }
    # Every other SKU is held entirely at the best plan (orders, transfers, stock, sales), so
    # presolve leaves HiGHS the group's columns and the shared slack: a round is a small MIP.
    fixed = {name: best.values.get(name, 0.0) for sku, names in columns.items() if sku not in group for name in names}
    fixed.update({name: round(best.values.get(name, 0.0)) for po, name in po_names.items() if po not in free_pos})
    round_settings = settings.model_copy(
        update={"time_limit_s": min(POLISH_ROUND_S, left), "backstop_s": min(settings.backstop_s, 5.0)}
    )
    return solve_compiled(compiled, round_settings, fixed=fixed, initial=best.values)


def polish(
    m: pyo.ConcreteModel,
    problem: PlanningProblem,
    best: SolveResult,
    deadline: float,
    settings: SolverConfig,
    group_skus: int,
    on_improve: Callable[[float], None] | None = None,
) -> tuple[SolveResult, list[float]]:
    """Fix-and-optimize on the whole model: re-plan a few SKUs at a time with everyone else fixed.

    ``group_skus`` SKUs per round, those losing the most sales first. A round frees the group's
    variables and the purchase orders it could order on (lanes and the priced slack stay free),
    holds every other SKU at the best plan, and solves the MIP warm-started from that plan, so
    every budget, capacity and PO minimum holds with the other SKUs' use of it; a round's plan is
    kept only if it costs less. Sweeps over all SKUs repeat while the last one improved, until
    ``deadline`` (perf_counter). Returns the best plan and its cost after each improving round.
    """
    slots_by_sku: dict[str, list[OrderSlot]] = defaultdict(list)
    for slot in problem.order_slots:
        slots_by_sku[problem.options[slot[0]].sku].append(slot)
    if deadline - time.perf_counter() < MIN_POLISH_ROUND_S:
        return best, []
    compiled = compile_model(m)  # once: each round only fixes columns by their bounds
    columns = _columns_by_sku(m, problem)
    po_names = {po: m.po_open[po].name for po in m.PO_SLOTS}
    costs: list[float] = []
    improved = True
    while improved and deadline - time.perf_counter() >= MIN_POLISH_ROUND_S:
        # A sweep: every SKU that can order, those losing the most sales first; sweep again
        # while the last one found anything (a SKU's best plan moves when its neighbours' do).
        improved = False
        load_values(m, best)
        lost = _lost_cost_by_sku(m, problem)
        order = sorted(slots_by_sku, key=lambda sku: -lost.get(sku, 0.0))
        for first in range(0, len(order), group_skus):
            left = deadline - time.perf_counter()
            if left < MIN_POLISH_ROUND_S:
                break
            group = order[first : first + group_skus]
            result = _polish_round(compiled, problem, best, group, slots_by_sku, columns, po_names, settings, left)
            cost, known = result.report.objective, best.report.objective
            if result.report.has_plan and cost is not None and known is not None and cost < known - 1e-6 * abs(known):
                best = dataclasses.replace(result, values={**best.values, **result.values})
                costs.append(cost)
                improved = True
                if on_improve is not None:
                    on_improve(cost)
    return best, costs


def _own(shares: Mapping[PoSlot, float], sub: PlanningProblem) -> dict[PoSlot, float]:
    return {po: shares[po] for po in sub.po_slots if po in shares}


def _completion_settings(settings: SolverConfig, left: float) -> SolverConfig:
    """The completion gets what is left, but never less than ``MIN_COMPLETION_S``: on a loaded
    machine the blocks can eat the reserve, and a plan published late (its timings say so) beats
    no plan at all."""
    if left < MIN_COMPLETION_S:
        log.info("completing the plan with %.1f s left: allowing up to %.0f s", left, MIN_COMPLETION_S)
    limit = max(MIN_COMPLETION_S, left)
    return settings.model_copy(update={"time_limit_s": limit, "backstop_s": min(settings.backstop_s, 10.0)})


def _gap(cost: float, bound: float) -> float:
    if not (math.isfinite(cost) and math.isfinite(bound)):
        return math.inf
    return (cost - bound) / max(abs(cost), 1e-9)


def _report(
    report: SolveReport, bound: float, settings: SolverConfig, passes: Sequence[PassRecord], config: DecompositionConfig
) -> SolveReport:
    """The published plan's report: its cost, the best Lagrangian bound, the gap between them."""
    if not report.has_plan or report.objective is None:
        return report
    if not math.isfinite(bound):
        return dataclasses.replace(report, status=PlanStatus.LIMIT_WITH_PLAN, best_bound=None, gap=None, is_mip=True)
    bound = min(bound, report.objective)
    gap = _gap(report.objective, bound)
    if gap <= settings.mip_rel_gap:
        status, why = PlanStatus.OPTIMAL, "gap reached"
    elif len(passes) >= config.max_passes:
        status, why = PlanStatus.LIMIT_WITH_PLAN, "pass limit reached"
    else:
        status, why = PlanStatus.TIME_LIMIT_WITH_PLAN, "time limit reached"
    termination = f"{why} after {len(passes)} pricing pass(es); plan completed by: {report.termination}"
    return dataclasses.replace(report, status=status, termination=termination, best_bound=bound, gap=gap, is_mip=True)
