"""Complete and publish a block plan without ever building the whole model.

At large catalogues the whole model is what runs out of memory (about 2 MB per SKU at 3
locations x 26 weeks, twice that once compiled), so above
``DecompositionConfig.whole_model_assembly_max_skus`` the repaired orders are completed block
by block, on the same executor as the pricing passes, and the plan tables and its cost are
assembled from the blocks:

1. **Orders are fixed** (``planning.optimize.repair_orders`` has made them meet PO minimums,
   supplier capacity and budgets over the whole catalogue), so the rows that couple SKUs
   through orders (budgets, supplier capacity, PO minimums, PO fixed costs) are constants.
2. **Lanes are decided globally.** A lane-week is open when the blocks' shipments on it reach
   the lane's minimum. Each block is completed with its lane-weeks fixed open or shut and the
   lane-minimum row dropped (a block alone cannot meet a shared minimum); a lane-week whose
   completed total falls below its minimum is shut and its blocks completed again, until none
   is (each round shuts at least one lane-week, so this ends).
3. **Each block is completed** on its own model (``build_model(sub)``) turned into its
   Lagrangian subproblem by ``models.lagrangian.price_coupling`` with only location space priced
   (at the pricing passes' prices) and no PO fixed cost: an LP over transfers, stock, service
   and slack. The block's model is freed once its tables are read.
4. **The cost is assembled exactly** as the whole model would price the same decisions:

     cost = sum_k own_k + sum_{open PO} G_s + beta sum_B max(0, spend_B - M_B)
            + kappa_s sum_{s,t} max(0, units_{s,t} - C_s) + kappa_l sum_{l,t} max(0, space_{l,t} - K_l)

   where own_k is block k's cost terms without PO fixed costs or overrun slack: every other
   term of the objective (``models.objective``) is a sum over SKUs.

The plan therefore meets every hard row of the whole model (lane minimums included), its
overruns are the whole model's priced slack, and its cost is the whole model's objective at
these decisions. What is lost against the whole-model path is the polish (fix-and-optimize
needs the whole model) and the LP shadow prices of budgets, which become the pricing passes'
multipliers.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
import pyomo.environ as pyo

from models import build_model
from models.index import index_problem
from models.lagrangian import LOCATION, CouplingRow, coupling_caps, price_caps, price_coupling, usage_values
from models.objective import COST_TERMS
from planning.config import SolverConfig
from planning.executors import BlockExecutor
from planning.plan import QUANTITY_TOLERANCE, PlanTables, projected_inventory, purchase_lines, transfer_lines
from planning.plan import overruns as slack_overruns
from planning.problem import OrderSlot, PlanningProblem, PoSlot, TransferSlot
from planning.solve import PlanStatus, SolveReport, load_values, solve

LaneWeek = tuple[str, str, int]  # (from location, to location, week)
LANE_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class CompletionTask:
    """One block's completion: its orders fixed, its lane-weeks open or shut. Picklable."""

    problem: PlanningProblem
    packs: Mapping[OrderSlot, int]
    open_lanes: Mapping[LaneWeek, int]  # 1 open, 0 shut, for every lane-week of the block
    location_prices: Mapping[CouplingRow, float]
    settings: SolverConfig
    frozen_weeks: int
    transfers: Mapping[TransferSlot, float] | None = None  # fixed shipments (the polish), else free


@dataclass(frozen=True, slots=True)
class CompletedBlock:
    """A completed block's tables, cost terms (no PO fixed cost, no overrun slack) and row usage."""

    report: SolveReport
    purchases: pd.DataFrame
    transfers: pd.DataFrame
    inventory: pd.DataFrame
    costs: dict[str, float]
    usage: dict[CouplingRow, float]
    lane_units: dict[LaneWeek, float]
    reservation_overruns: dict[str, float]
    seconds: float
    shipped: dict[TransferSlot, float] = field(default_factory=dict)

    @property
    def own_cost(self) -> float:
        return sum(self.costs.values())

    @property
    def lost_cost(self) -> float:
        return self.costs.get("shortage_cost", 0.0) + self.costs.get("fill_rate_cost", 0.0)


@dataclass(frozen=True, slots=True)
class AssembledPlan:
    """The whole plan, assembled from its blocks, with the whole model's cost at its decisions."""

    report: SolveReport
    tables: PlanTables
    rounds: int  # completion rounds (1 + the rounds that shut lane-weeks below their minimum)
    shut_lane_weeks: int
    seconds: float
    packs: dict[OrderSlot, int] = field(default_factory=dict)
    blocks: tuple[CompletedBlock, ...] = ()  # per block, in the order of the subproblems


def complete_block(task: CompletionTask) -> CompletedBlock:
    """Build, fix, solve, read and free one block's completion (runs on a worker)."""
    started = time.perf_counter()
    sub = task.problem
    m = build_model(sub)
    price_coupling(m, sub, task.location_prices, dict.fromkeys(sub.po_slots, 0.0))
    fix_decisions(m, sub, task.packs, task.open_lanes)
    if task.transfers is not None:
        for slot in m.TRANSFER_SLOTS:
            m.transfer[slot].fix(task.transfers.get(slot, 0.0))
    result = solve(m, task.settings)
    if not result.report.has_plan and task.transfers is None:
        # Shipments a shut lane-week was needed for (or an open one could not reach): let this
        # block decide its lanes; the lane check of ``assemble_plan`` shuts any that end below
        # their minimum.
        for var in m.lane_used.values():
            var.unfix()
        result = solve(m, task.settings)
    if not result.report.has_plan:
        raise RuntimeError(
            f"block completion of SKUs {sorted(sub.items)} found no plan: {result.report.summary_line()}"
        )
    load_values(m, result)
    po_fixed = sum(sub.suppliers[po[0]].po_fixed_cost * float(pyo.value(m.po_open[po])) for po in m.PO_SLOTS)
    costs = {term: float(pyo.value(getattr(m, term))) for term in COST_TERMS}
    costs["ordering_cost"] -= po_fixed  # paid once per PO by the whole plan, not by each block
    index = index_problem(sub)
    lane_units = {
        lane_week: sum(float(pyo.value(m.transfer[slot])) for slot in slots)
        for lane_week, slots in index.transfers_by_lane_week.items()
    }
    reservations = {key: value for key, value in slack_overruns(m).items() if key.startswith("reservation:")}
    shipped = {slot: float(pyo.value(m.transfer[slot])) for slot in m.TRANSFER_SLOTS}
    return CompletedBlock(
        report=result.report,
        purchases=purchase_lines(m, sub, task.frozen_weeks),
        transfers=transfer_lines(m, sub),
        inventory=projected_inventory(m, sub),
        costs=costs,
        usage=usage_values(m),
        lane_units={lane_week: units for lane_week, units in lane_units.items() if units > 0.0},
        reservation_overruns=reservations,
        seconds=time.perf_counter() - started,
        shipped={slot: units for slot, units in shipped.items() if units > 0.0},
    )


def fix_decisions(
    m: pyo.ConcreteModel,
    problem: PlanningProblem,
    packs: Mapping[OrderSlot, int],
    open_lanes: Mapping[LaneWeek, int] | None = None,
) -> list[pyo.Var]:
    """Orders (missing slots: 0), lines, POs and, if given, lane-weeks fixed: what is left is an LP.

    Returns the variables fixed here (to unfix later); variables already fixed are left alone.
    """
    fixed: list[pyo.Var] = []

    def fix(var: pyo.Var, value: int) -> None:
        if not var.fixed:
            var.fix(value)
            fixed.append(var)

    open_pos: set[PoSlot] = set()
    for slot in m.ORDER_SLOTS:
        count = packs.get(slot, 0)
        line = 1 if count > 0 or slot in problem.locked_units else 0
        fix(m.packs[slot], count)
        fix(m.order_line[slot], line)
        if line:
            option = problem.options[slot[0]]
            open_pos.add((option.supplier, option.ship_to, slot[1]))
    for po in m.PO_SLOTS:
        fix(m.po_open[po], 1 if po in open_pos else 0)
    if open_lanes is not None:
        for lane_week in m.LANE_WEEKS:
            fix(m.lane_used[lane_week], open_lanes.get(lane_week, 0))
    return fixed


def assemble_plan(
    problem: PlanningProblem,
    subproblems: Sequence[PlanningProblem],
    packs: Mapping[OrderSlot, int],
    shipped_by_lane_week: Mapping[LaneWeek, float],
    location_prices: Mapping[CouplingRow, float],
    settings: SolverConfig,
    frozen_weeks: int,
    runner: BlockExecutor,
) -> AssembledPlan:
    """Complete every block with ``packs`` fixed and assemble the plan (see the module docstring).

    ``shipped_by_lane_week`` is the blocks' planned shipments per lane-week (from the pricing
    pass), which decides the lanes opened first.
    """
    started = time.perf_counter()
    prices = {row: price for row, price in location_prices.items() if row[0] == LOCATION and price > 0}
    open_lanes = {
        lane_week: 1 if units >= problem.lanes[lane_week[:2]].min_shipment - LANE_TOLERANCE else 0
        for lane_week, units in shipped_by_lane_week.items()
    }
    lane_weeks_of = [set(index_problem(sub).transfers_by_lane_week) for sub in subproblems]

    def task(k: int) -> CompletionTask:
        sub = subproblems[k]
        own_packs = {slot: packs.get(slot, 0) for slot in sub.order_slots}
        lanes = {lw: open_lanes.get(lw, 0) for lw in lane_weeks_of[k]}
        return CompletionTask(sub, own_packs, lanes, prices, settings, frozen_weeks)

    blocks: list[CompletedBlock] = list(runner.map(complete_block, [task(k) for k in range(len(subproblems))]))
    rounds, shut = 1, 0
    while True:
        totals: dict[LaneWeek, float] = defaultdict(float)
        for block in blocks:
            for lane_week, units in block.lane_units.items():
                totals[lane_week] += units
        below = {
            lw
            for lw, units in totals.items()
            if units > LANE_TOLERANCE and units < problem.lanes[lw[:2]].min_shipment - LANE_TOLERANCE
        }
        if not below:
            break
        for lane_week in below:
            open_lanes[lane_week] = 0
        shut += len(below)
        again = [k for k, block in enumerate(blocks) if below & set(block.lane_units)]
        for k, block in zip(again, runner.map(complete_block, [task(k) for k in again]), strict=True):
            blocks[k] = block
        rounds += 1
    return _assembled(problem, packs, blocks, rounds, shut, settings, started)


def _assembled(
    problem: PlanningProblem,
    packs: Mapping[OrderSlot, int],
    blocks: Sequence[CompletedBlock],
    rounds: int,
    shut: int,
    settings: SolverConfig,
    started: float,
    how: str = "",
) -> AssembledPlan:
    tables = _assembled_tables(problem, packs, blocks)
    objective = sum(tables.costs.values())
    elapsed = time.perf_counter() - started
    report = SolveReport(
        status=PlanStatus.OPTIMAL,
        termination=f"assembled from {len(blocks)} block completions ({rounds} round(s)){how}",
        has_plan=True,
        objective=objective,
        best_bound=None,
        gap=None,
        is_mip=False,
        timings={"total": elapsed},
        columns=sum(b.report.columns for b in blocks),
        rows=sum(b.report.rows for b in blocks),
        integer_columns=0,
        nonzeros=sum(b.report.nonzeros for b in blocks),
        time_limit_s=settings.time_limit_s,
    )
    return AssembledPlan(report, tables, rounds, shut, elapsed, dict(packs), tuple(blocks))


def _assembled_tables(
    problem: PlanningProblem, packs: Mapping[OrderSlot, int], blocks: Sequence[CompletedBlock]
) -> PlanTables:
    """The blocks' tables stacked, with the shared costs and overruns computed once for the plan."""
    costs: dict[str, float] = dict.fromkeys(COST_TERMS, 0.0)
    usage: dict[CouplingRow, float] = defaultdict(float)
    overruns: dict[str, float] = {}
    for block in blocks:
        for term, value in block.costs.items():
            costs[term] += value
        for row, value in block.usage.items():
            usage[row] += value
        overruns.update(block.reservation_overruns)
    open_pos = {
        (problem.options[o].supplier, problem.options[o].ship_to, t)
        for (o, t), count in packs.items()
        if count > 0 or (o, t) in problem.locked_units
    }
    costs["ordering_cost"] += sum(problem.suppliers[po[0]].po_fixed_cost for po in open_pos if po in problem.po_slots)
    ceiling = price_caps(problem)
    capacity_overrun = budget_overrun = 0.0
    for row, cap in coupling_caps(problem).items():
        over = usage.get(row, 0.0) - cap
        if over <= QUANTITY_TOLERANCE:
            continue
        kind, name, week = row
        if kind == "budget":
            overruns[f"budget:{name}"] = over
            budget_overrun += ceiling[kind] * over
        else:
            overruns[f"{kind}:{name}:{week}"] = over
            capacity_overrun += ceiling[kind] * over
    costs["capacity_overrun_cost"] += capacity_overrun
    costs["budget_overrun_cost"] += budget_overrun
    purchases = pd.concat([b.purchases for b in blocks], ignore_index=True)
    purchases = purchases.drop(columns="line").sort_values(["po_id", "sku", "mode"], kind="stable")
    purchases.insert(1, "line", purchases.groupby("po_id").cumcount() + 1)
    transfers = pd.concat([b.transfers for b in blocks], ignore_index=True)
    inventory = pd.concat([b.inventory for b in blocks], ignore_index=True)
    return PlanTables(
        purchases=purchases.reset_index(drop=True),
        transfers=transfers.sort_values(["transfer_id", "sku"], kind="stable").reset_index(drop=True),
        inventory=inventory.sort_values(["sku", "location", "week"], kind="stable").reset_index(drop=True),
        costs=costs,
        overruns=overruns,
    )
