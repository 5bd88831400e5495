"""Fix-and-optimize without the whole model: a few SKUs re-planned against what the others leave.

The polish of ``planning.decompose`` holds every other SKU fixed in the whole model. Above the
assembly threshold there is no whole model, so a group G of blocks gets its own model,
``build_model(sub_G)``, in which every row that couples SKUs carries the other blocks' use of
it (from the assembled plan) as a constant:

  budget B          spend_B(G)   - r_B <= M_B - spend_B(others)
  supplier s, t     units_st(G)  - u   <= C_s - units_st(others)
  location l, t     space_lt(G)  - u   <= K_l - space_lt(others)
  PO minimum        value_slt(G) + value_slt(others) >= V_s z_slt   (z fixed open when others
                    order on that PO; dropped for POs holding locked units, as in the whole model)
  lane minimum      shipped_fdt(G) + shipped_fdt(others) >= S_fd w_fdt  (w fixed open when others ship)

At the same decisions this model's objective differs from the whole model's by a constant (the
others' own costs), so a round that lowers it lowers the plan's cost by as much. A round prices
the group's current decisions in this model (an LP with its orders and shipments fixed), solves
the MIP from them, and, if that is cheaper, completes each block of the group again with its new
orders and shipments fixed (``planning.assemble.complete_block``); the round is kept only when
the plan's assembled cost falls. Sweeps over all blocks, those losing the most sales first,
repeat while they improve, until the deadline.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pyomo.environ as pyo

from models import build_model
from models.budget import budget_caps
from models.index import index_problem
from models.lagrangian import BUDGET, LOCATION, SUPPLIER, CouplingRow, coupling_caps, price_caps
from planning.assemble import (
    AssembledPlan,
    CompletedBlock,
    CompletionTask,
    LaneWeek,
    _assembled,
    complete_block,
    fix_decisions,
)
from planning.config import SolverConfig
from planning.executors import BlockExecutor
from planning.problem import OrderSlot, PlanningProblem, PoSlot, TransferSlot
from planning.solve import load_values, solve

log = logging.getLogger(__name__)

ROUND_S = 10.0  # time limit of one round's MIP
MIN_ROUND_S = 2.0  # no round is started with less time than this left
IMPROVEMENT = 1e-6  # relative cost decrease that counts as an improvement
SHIPPED_TOLERANCE = 1e-6  # units: below this a shipment is zero


def _po_totals(
    problem: PlanningProblem, slots: Sequence[OrderSlot], packs: Mapping[OrderSlot, int]
) -> dict[PoSlot, tuple[float, float]]:
    """(order value, units) per PO over ``slots``, locked units included: what a PO's minimum and
    its fixed cost count."""
    totals: dict[PoSlot, tuple[float, float]] = {}
    for slot in slots:
        option = problem.options[slot[0]]
        units = option.pack_size * packs.get(slot, 0) + problem.locked_units.get(slot, 0.0)
        if units > 0:
            po = (option.supplier, option.ship_to, slot[1])
            value, count = totals.get(po, (0.0, 0.0))
            totals[po] = (value + option.unit_cost * units, count + units)
    return totals


@dataclass(slots=True)
class _State:
    """The assembled plan's decisions and running totals, updated as rounds are kept."""

    packs: dict[OrderSlot, int]
    blocks: list[CompletedBlock]
    usage: dict[CouplingRow, float]
    lane_units: dict[LaneWeek, float]
    po: dict[PoSlot, tuple[float, float]]  # (value, units) per PO
    own_cost: float

    def swap(
        self,
        problem: PlanningProblem,
        slots: Sequence[OrderSlot],
        blocks: Mapping[int, CompletedBlock],
        packs: Mapping[OrderSlot, int],
    ) -> tuple[dict[int, CompletedBlock], dict[OrderSlot, int]]:
        """Put ``blocks`` and the group's ``packs`` (over ``slots``) in place; returns what they replaced."""
        old_blocks = {k: self.blocks[k] for k in blocks}
        old_packs = {slot: self.packs.get(slot, 0) for slot in slots}
        for po, (value, units) in _po_totals(problem, slots, old_packs).items():
            total_value, total_units = self.po[po]
            self.po[po] = (total_value - value, total_units - units)
        for po, (value, units) in _po_totals(problem, slots, packs).items():
            total_value, total_units = self.po.get(po, (0.0, 0.0))
            self.po[po] = (total_value + value, total_units + units)
        self.packs.update({slot: packs.get(slot, 0) for slot in slots})
        for k, block in blocks.items():
            old = self.blocks[k]
            for row, value in old.usage.items():
                self.usage[row] -= value
            for row, value in block.usage.items():
                self.usage[row] = self.usage.get(row, 0.0) + value
            for lane_week, units in old.lane_units.items():
                self.lane_units[lane_week] -= units
            for lane_week, units in block.lane_units.items():
                self.lane_units[lane_week] = self.lane_units.get(lane_week, 0.0) + units
            self.own_cost += block.own_cost - old.own_cost
            self.blocks[k] = block
        return old_blocks, old_packs

    def others(
        self, problem: PlanningProblem, group: Sequence[int], slots: Sequence[OrderSlot], locked_pos: frozenset[PoSlot]
    ) -> _Others:
        """What every block outside ``group`` (whose order slots are ``slots``) uses of the shared rows."""
        usage = dict(self.usage)
        lanes = dict(self.lane_units)
        for k in group:
            for row, value in self.blocks[k].usage.items():
                usage[row] -= value
            for lane_week, units in self.blocks[k].lane_units.items():
                lanes[lane_week] -= units
        po_value = {po: value for po, (value, _) in self.po.items()}
        po_units = {po: units for po, (_, units) in self.po.items()}
        for po, (value, units) in _po_totals(problem, slots, self.packs).items():
            po_value[po] -= value
            po_units[po] -= units
        return _Others(usage, po_value, po_units, lanes, locked_pos)


class _Pricer:
    """The assembled cost (``planning.assemble``) from the blocks' own costs and the row totals."""

    def __init__(self, problem: PlanningProblem) -> None:
        self.caps = coupling_caps(problem)
        self.ceiling = price_caps(problem)
        self.fixed = {po: problem.suppliers[po[0]].po_fixed_cost for po in problem.po_slots}

    def cost(self, state: _State) -> float:
        fixed = sum(self.fixed.get(po, 0.0) for po, (_, units) in state.po.items() if units > 1e-9)
        overrun = sum(
            self.ceiling[row[0]] * max(0.0, state.usage.get(row, 0.0) - cap) for row, cap in self.caps.items()
        )
        return state.own_cost + fixed + overrun


@dataclass(frozen=True, slots=True)
class _Others:
    """What every block outside the group uses of the shared rows."""

    usage: dict[CouplingRow, float]
    po_value: dict[PoSlot, float]
    po_units: dict[PoSlot, float]
    lane_units: dict[LaneWeek, float]
    locked_pos: frozenset[PoSlot]


def residual_model(problem: PlanningProblem, sub: PlanningProblem, others: _Others) -> pyo.ConcreteModel:
    """``build_model(sub)`` with every coupling row's right-hand side reduced by the others' use."""
    m = build_model(sub)
    caps = budget_caps(problem)
    for b in m.BUDGETS:
        used = others.usage.get((BUDGET, b, -1), 0.0)
        m.budget_limit[b].set_value(m.budget_spend[b] - m.budget_overrun[b] <= caps[b] - used)
    for s, t in m.SUPPLIER_WEEKS:
        room = (problem.suppliers[s].weekly_capacity or 0.0) - others.usage.get((SUPPLIER, s, t), 0.0)
        m.supplier_capacity[s, t].set_value(m.supplier_units[s, t] - m.supplier_capacity_overrun[s, t] <= room)
    for loc, t in m.CAPACITY_WEEKS:
        room = (problem.locations[loc][0] or 0.0) - others.usage.get((LOCATION, loc, t), 0.0)
        m.location_capacity[loc, t].set_value(m.space_used[loc, t] - m.capacity_overrun[loc, t] <= room)
    index = index_problem(sub)
    for po in list(m.po_minimum.keys()):
        if po in others.locked_pos:
            m.po_minimum[po].deactivate()
            continue
        value = sum(sub.options[o].unit_cost * m.order_units[o, t] for o, t in index.slots_by_po[po])
        other = others.po_value.get(po, 0.0)
        m.po_minimum[po].set_value(value + other >= problem.suppliers[po[0]].po_minimum_value * m.po_open[po])
    for po in m.PO_SLOTS:
        if others.po_units.get(po, 0.0) > 1e-9:
            m.po_open[po].fix(1)  # the others' lines need this PO open whatever the group does
    for lane_week in m.LANE_WEEKS:
        other = others.lane_units.get(lane_week, 0.0)
        if other > 1e-9:
            shipped = sum(m.transfer[slot] for slot in index.transfers_by_lane_week[lane_week])
            minimum = problem.lanes[lane_week[:2]].min_shipment
            m.lane_minimum[lane_week].set_value(shipped + other >= minimum * m.lane_used[lane_week])
            m.lane_used[lane_week].fix(1)
    return m


def _fix_current(
    m: pyo.ConcreteModel, sub: PlanningProblem, packs: Mapping[OrderSlot, int], shipped: Mapping[TransferSlot, float]
) -> None:
    """The group's current orders, lines, POs, shipments and lanes fixed: an LP prices them."""
    for slot in m.TRANSFER_SLOTS:
        m.transfer[slot].fix(shipped.get(slot, 0.0))
    used_lanes = {slot[1:] for slot, units in shipped.items() if units > 0}
    fix_decisions(m, sub, packs, {lane_week: 1 if lane_week in used_lanes else 0 for lane_week in m.LANE_WEEKS})


def _round(
    problem: PlanningProblem,
    subproblems: Sequence[PlanningProblem],
    sub: PlanningProblem,
    group: Sequence[int],
    state: _State,
    others: _Others,
    location_prices: Mapping[CouplingRow, float],
    settings: SolverConfig,
    completion: SolverConfig,
    frozen_weeks: int,
    runner: BlockExecutor,
) -> tuple[dict[int, CompletedBlock], dict[OrderSlot, int]] | None:
    """One round: the group's blocks completed again with better orders, or None if none were found."""
    current_packs = {slot: state.packs.get(slot, 0) for slot in sub.order_slots}
    current_shipped = {slot: units for k in group for slot, units in state.blocks[k].shipped.items()}
    priced = residual_model(problem, sub, others)
    _fix_current(priced, sub, current_packs, current_shipped)
    current = solve(priced, completion)
    if not current.report.has_plan or current.report.objective is None:
        return None  # the group's plan as it stands is not priceable here: leave it
    m = residual_model(problem, sub, others)
    better = solve(m, settings, initial=current.values)
    if (
        not better.report.has_plan
        or better.report.objective is None
        or better.report.objective >= current.report.objective - IMPROVEMENT * abs(current.report.objective)
    ):
        return None
    load_values(m, better)
    packs = {slot: round(pyo.value(m.packs[slot])) for slot in m.ORDER_SLOTS}
    # Shipments within HiGHS's tolerance of zero are zero (a lane-week the MIP left shut may
    # carry 1e-9 units, which a fixed column would make infeasible).
    shipped = {
        slot: units for slot in m.TRANSFER_SLOTS if (units := float(pyo.value(m.transfer[slot]))) > SHIPPED_TOLERANCE
    }
    lanes = {lane_week: round(pyo.value(m.lane_used[lane_week])) for lane_week in m.LANE_WEEKS}
    lanes.update({slot[1:]: 1 for slot in shipped})
    prices = {row: price for row, price in location_prices.items() if row[0] == LOCATION and price > 0}
    tasks = []
    for k in group:
        block = subproblems[k]
        block_lanes = {lw: lanes.get(lw, 0) for lw in index_problem(block).transfers_by_lane_week}
        tasks.append(
            CompletionTask(
                block,
                {slot: packs.get(slot, 0) for slot in block.order_slots},
                block_lanes,
                prices,
                completion,
                frozen_weeks,
                transfers={slot: shipped.get(slot, 0.0) for slot in block.transfer_slots},
            )
        )
    try:
        completed = runner.map(complete_block, tasks)
    except RuntimeError as error:  # a block that cannot take the group's plan: keep the old one
        log.warning("polish round on blocks %s rejected: %s", list(group), error)
        return None
    return dict(zip(group, completed, strict=True)), packs


def polish_assembled(
    problem: PlanningProblem,
    subproblems: Sequence[PlanningProblem],
    plan: AssembledPlan,
    location_prices: Mapping[CouplingRow, float],
    deadline: float,
    settings: SolverConfig,
    group_blocks: int,
    frozen_weeks: int,
    runner: BlockExecutor,
    on_improve: Callable[[float], None] | None = None,
) -> tuple[AssembledPlan, list[float]]:
    """Fix-and-optimize over an assembled plan (see the module docstring) until ``deadline`` (perf_counter).

    Returns the polished plan (assembled again) and its cost after each kept round.
    """
    started = time.perf_counter()
    usage: dict[CouplingRow, float] = defaultdict(float)
    lanes: dict[LaneWeek, float] = defaultdict(float)
    for block in plan.blocks:
        for row, value in block.usage.items():
            usage[row] += value
        for lane_week, units in block.lane_units.items():
            lanes[lane_week] += units
    state = _State(
        dict(plan.packs),
        list(plan.blocks),
        dict(usage),
        dict(lanes),
        _po_totals(problem, problem.order_slots, plan.packs),
        sum(b.own_cost for b in plan.blocks),
    )
    pricer = _Pricer(problem)
    locked_pos = frozenset(
        (problem.options[o].supplier, problem.options[o].ship_to, t) for o, t in problem.locked_units
    )
    cost = pricer.cost(state)
    costs: list[float] = []
    completion = settings.model_copy(update={"time_limit_s": 30.0, "backstop_s": min(settings.backstop_s, 5.0)})
    improved = True
    while improved and deadline - time.perf_counter() >= MIN_ROUND_S:
        # A sweep: every block, those losing the most sales first; again while the last one
        # improved (a block's best plan moves when its neighbours' do).
        improved = False
        order = sorted(range(len(state.blocks)), key=lambda k: -state.blocks[k].lost_cost)
        groups = [order[i : i + group_blocks] for i in range(0, len(order), group_blocks)]
        group_problems = problem.split([{sku for k in group for sku in subproblems[k].items} for group in groups])
        for group, sub in zip(groups, group_problems, strict=True):
            left = deadline - time.perf_counter()
            if left < MIN_ROUND_S:
                break
            round_settings = settings.model_copy(
                update={"time_limit_s": min(ROUND_S, left), "backstop_s": min(settings.backstop_s, 5.0)}
            )
            others = state.others(problem, group, sub.order_slots, locked_pos)
            found = _round(
                problem,
                subproblems,
                sub,
                group,
                state,
                others,
                location_prices,
                round_settings,
                completion,
                frozen_weeks,
                runner,
            )
            if found is None:
                continue
            old_blocks, old_packs = state.swap(problem, sub.order_slots, found[0], found[1])
            new_cost = pricer.cost(state)
            if new_cost < cost - IMPROVEMENT * abs(cost):
                cost = new_cost
                costs.append(cost)
                improved = True
                if on_improve is not None:
                    on_improve(cost)
            else:  # the blocks' completions gave back what the group model found: keep the old plan
                state.swap(problem, sub.order_slots, old_blocks, old_packs)
    polished = _assembled(
        problem,
        state.packs,
        state.blocks,
        plan.rounds,
        plan.shut_lane_weeks,
        settings,
        started,
        f"; polished in {len(costs)} kept round(s)",
    )
    return polished, costs
