"""Solve a planning problem whole, so that there is always a plan to publish.

Three stages share the configured time limit:
  1. the LP relaxation (a valid lower bound on the optimal cost, and the orders it wants); it
     may take all the time the start does not need: without it the start orders nothing, and
     the MIP's root would have to solve the same LP in less time;
  2. a feasible start: the LP's orders rounded to whole packs, MOQs and PO minimums, with
     every order, line and PO decision fixed and the rest (transfers, lanes, stock, service,
     priced slack) solved exactly; the model is always feasible, so this always gives a plan;
  3. the full MIP, warm-started from stage 2, for whatever time is left.
The published result is the better of stages 2 and 3, with the best proven bound of stages 1
and 3, so the gap is always against a valid bound.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyomo.environ as pyo

from models import build_model
from planning.config import SolverConfig
from planning.errors import NoPlanError
from planning.metrics import priced_where_binding
from planning.plan import PlanTables, extract_plan
from planning.problem import Budget, OrderSlot, PlanningProblem, PoSlot
from planning.solve import (
    NoPlanFoundError,
    PlanStatus,
    SolveReport,
    SolveResult,
    load_values,
    lp_duals_with_integers_fixed,
    solve,
)

log = logging.getLogger(__name__)

START_SHARE = 0.2  # of the time limit, for completing the rounded start
# The interior-point method (with crossover, so the start rounds a vertex) solves the M5 weekly
# relaxations (21k columns) in 3.1-3.2 s where dual simplex takes 4.3-5.5 s (issue 14: measured ad hoc
# on three weeks' pickled problems, one solve each, not a bench).
LP_OPTIONS = {"solver": "ipm"}
BACKSTOP_SHARE = 0.25
REPAIR_PASSES = (
    3  # budget repair passes; the last one only cuts  # most of the limit kept back for HiGHS overshooting its own
)
# LP orders below this share of the smallest orderable quantity are dropped, not rounded up.
ROUND_UP_THRESHOLD = 0.5
MAX_EARLIER_WEEKS = 4  # how far the budget repair may pull an order forward


@dataclass(frozen=True, slots=True)
class OptimizeResult:
    """What a strategy returns: the plan's tables, its report, budget shadow prices, and how it was found.

    No solver or Pyomo object: the plan is read out and priced inside the solve layer.
    """

    report: SolveReport
    plan: PlanTables
    budget_prices: dict[str, float]
    lp_bound: float | None
    start_objective: float | None
    stage_seconds: dict[str, float]
    from_start: bool  # the published plan is the rounded start (the MIP did not improve on it)
    method: str = "whole"  # "whole" (this module) or "blocks" (planning.colgen)
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # method-specific record


def _limited(settings: SolverConfig, seconds: float) -> SolverConfig:
    return settings.model_copy(update={"time_limit_s": max(seconds, 0.5)})


def rounded_orders(m: pyo.ConcreteModel, problem: PlanningProblem, lp: Mapping[str, float]) -> dict[OrderSlot, int]:
    """Whole packs per order slot from the LP's fractional orders.

    Per sourcing option, week by week, the LP's quantities are accumulated until they reach
    half the smallest orderable quantity (the MOQ, or one pack); the accumulated quantity is
    then ordered, rounded up to whole packs and at least the MOQ, in the first week of the
    run, so it arrives no later than the LP wanted any of it. The LP spreads small fractional
    orders over many weeks when an MOQ binds; rounding each one on its own would either drop
    them all (lost sales) or buy an MOQ every week. Then PO minimums are topped up, budgets
    repaired, and POs still below their minimum dropped.
    """
    by_option: dict[str, list[OrderSlot]] = defaultdict(list)
    for slot in m.ORDER_SLOTS:
        by_option[slot[0]].append(slot)
    packs: dict[OrderSlot, int] = {}
    later: dict[OrderSlot, list[OrderSlot]] = {}  # an order's other weeks in its run: where it may move
    for option_id, slots in by_option.items():
        option = problem.options[option_id]
        smallest = max(option.moq, option.pack_size)
        carried, first = 0.0, None
        for slot in sorted(slots, key=lambda s: s[1]):
            packs[slot] = 0  # locked slots stay at 0 extra packs: they are kept exactly
            if slot in problem.locked_units:
                continue
            wanted = option.pack_size * lp.get(m.packs[slot].name, 0.0)
            if wanted <= 1e-9 and first is None:
                continue
            if first is None:
                first, later[slot] = slot, []
            else:
                later[first].append(slot)
            carried += wanted
            if carried >= ROUND_UP_THRESHOLD * smallest:
                needed = max(carried, option.moq)
                packs[first] = min(math.ceil(needed / option.pack_size - 1e-9), problem.order_pack_bound[first])
                carried, first = 0.0, None
        # A run that never reaches half an MOQ is dropped: topping every such run up to its MOQ
        # was measured to flood warehouse capacity (the MIP decides those cases instead).
    repair_orders(problem, packs, later, {slot: lp.get(m.packs[slot].name, 0.0) for slot in packs})
    return packs


def runs_of(packs: Mapping[OrderSlot, int]) -> dict[OrderSlot, list[OrderSlot]]:
    """For each order, the later weeks of its option up to the next order: where it may move."""
    by_option: dict[str, list[OrderSlot]] = defaultdict(list)
    for slot in sorted(packs, key=lambda s: (s[0], s[1])):
        by_option[slot[0]].append(slot)
    later: dict[OrderSlot, list[OrderSlot]] = {}
    for slots in by_option.values():
        current: OrderSlot | None = None
        for slot in slots:
            if packs[slot] > 0:
                current = slot
                later[slot] = []
            elif current is not None:
                later[current].append(slot)
    return later


def repair_orders(
    problem: PlanningProblem,
    packs: dict[OrderSlot, int],
    later: dict[OrderSlot, list[OrderSlot]],
    weights: Mapping[OrderSlot, float],
) -> None:
    """Make whole-pack orders meet PO minimums, supplier capacities and budgets, in place.

    PO minimums are topped up first; then orders move later in their run (``later``) or are
    cut until no supplier week and no budget is over; POs the cuts left below their minimum are
    dropped. Orders with the least ``weight`` per pack (how much the source wanted them) go first.
    """
    _merge_small_pos(problem, packs, later, keep_budgets=False)
    _top_up_po_minimums(problem, packs, top_up=True)
    _repair_supplier_capacity(problem, packs, later, weights, allow_moves=True)
    _repair_budgets(problem, packs, later, lp=weights)
    _repair_supplier_capacity(problem, packs, later, weights, allow_moves=False)
    # Cuts may have left a PO below its minimum: merge it into a neighbour where budgets allow, else drop it.
    _merge_small_pos(problem, packs, later, keep_budgets=True)
    _within_bounds(problem, packs)
    _top_up_po_minimums(problem, packs, top_up=False)


def _within_bounds(problem: PlanningProblem, packs: dict[OrderSlot, int]) -> None:
    """Every unlocked order at least its MOQ and at most its pack bound, or nothing, in place.

    A move that only partly fits its target splits an order in two, and either part can fall
    below the MOQ (or an order's bound can sit below its MOQ); fixed so, the start's LP is
    infeasible and the MIP starts from nothing (M5, issue 14: weeks with no order at all). Such a
    part is dropped, not raised: raising would undo what the budget and capacity repairs did.
    """
    for slot, count in packs.items():
        if count <= 0 or slot in problem.locked_units:
            continue
        option = problem.options[slot[0]]
        smallest = max(1, math.ceil(option.moq / option.pack_size - 1e-9))
        count = min(count, problem.order_pack_bound[slot])
        packs[slot] = count if count >= smallest else 0


MERGE_OFFSETS = (-1, 1, -2, 2)  # weeks to a neighbouring PO a small PO's lines may join, nearest first


def _merge_small_pos(
    problem: PlanningProblem,
    packs: dict[OrderSlot, int],
    later: dict[OrderSlot, list[OrderSlot]],
    *,
    keep_budgets: bool,
) -> None:
    """Move every line of a PO below its supplier's minimum into an open PO a week or two away.

    Smallest POs go first; a PO joins the nearest neighbour (earlier first, so goods come no
    later than by topping up) that has an order slot for each of its lines, and, with
    ``keep_budgets``, only where no budget it pays into goes over. POs with locked units stay.
    """
    lines: dict[PoSlot, list[OrderSlot]] = defaultdict(list)
    for slot, count in packs.items():
        if count > 0 or slot in problem.locked_units:
            option = problem.options[slot[0]]
            lines[(option.supplier, option.ship_to, slot[1])].append(slot)
    cash = _BudgetCash(problem, packs) if keep_budgets else None

    def value(po: PoSlot) -> float:
        return sum(
            problem.options[s[0]].unit_cost
            * (problem.options[s[0]].pack_size * packs[s] + problem.locked_units.get(s, 0.0))
            for s in lines[po]
        )

    # Smallest first; among equals the later one, so it joins the earlier (goods come sooner).
    for po in sorted(lines, key=lambda po: (value(po), -po[2])):
        minimum = problem.suppliers[po[0]].po_minimum_value
        slots = [s for s in lines[po] if packs[s] > 0]
        if minimum <= 0 or not slots or value(po) >= minimum or any(s in problem.locked_units for s in lines[po]):
            continue
        for offset in MERGE_OFFSETS:
            target = (po[0], po[1], po[2] + offset)
            moves = [(s, (s[0], target[2])) for s in slots]
            if not lines.get(target) or any(t not in packs or t in problem.locked_units for _, t in moves):
                continue
            if cash is not None and not _fits_all(cash, packs, moves):
                continue
            for source, dest in moves:
                if cash is not None:
                    _move(cash, packs, source, dest)
                else:
                    count = max(0, min(packs[source], problem.order_pack_bound[dest] - packs[dest]))
                    packs[dest], packs[source] = packs[dest] + count, packs[source] - count
                later[dest] = later.pop(source, later.get(dest, []))
                if dest not in lines[target]:
                    lines[target].append(dest)
            lines[po] = []
            break


def _fits_all(cash: _BudgetCash, packs: Mapping[OrderSlot, int], moves: list[tuple[OrderSlot, OrderSlot]]) -> bool:
    """Whether moving these orders keeps every budget they pay into within its limit."""
    delta: dict[str, float] = defaultdict(float)
    for source, dest in moves:
        units = cash.units(source, packs[source]) - cash.problem.locked_units.get(source, 0.0)
        for budget_id, paid in cash.effects(source, units):
            delta[budget_id] -= paid
        for budget_id, paid in cash.effects(dest, units):
            delta[budget_id] += paid
    return all(cash.spent[b] + d <= cash.limit[b] + 1e-6 for b, d in delta.items() if d > 0)


def _cash_by_week(problem: PlanningProblem, slot: OrderSlot, units: float) -> list[tuple[int, float]]:
    """(week, cash) paid for ``units`` ordered in ``slot``: deposit now, balance on arrival."""
    option = problem.options[slot[0]]
    value = units * option.unit_cost
    paid = [(slot[1], option.deposit_share * value)]
    if option.deposit_share < 1:
        paid.append((slot[1] + option.lead_weeks, (1 - option.deposit_share) * value))
    return paid


def _repair_supplier_capacity(
    problem: PlanningProblem,
    packs: dict[OrderSlot, int],
    later: dict[OrderSlot, list[OrderSlot]],
    lp: Mapping[OrderSlot, float],
    *,
    allow_moves: bool,
) -> None:
    """Move (or cut) rounded orders until no supplier ships more than its weekly capacity.

    Weeks are taken in order and orders only move later, so one pass settles every week.
    """
    by_week: dict[tuple[str, int], list[OrderSlot]] = defaultdict(list)
    for slot in packs:
        by_week[(problem.options[slot[0]].supplier, slot[1])].append(slot)
    for supplier, week in sorted(by_week, key=lambda k: (k[1], k[0])):
        capacity = problem.suppliers[supplier].weekly_capacity
        if capacity is None:
            continue
        slots = [s for s in packs if s[1] == week and problem.options[s[0]].supplier == supplier]
        load = sum(problem.options[s[0]].pack_size * packs[s] + problem.locked_units.get(s, 0.0) for s in slots)
        for slot in sorted((s for s in slots if packs[s] > 0), key=lambda s: lp.get(s, 0.0) / max(packs[s], 1)):
            if load <= capacity:
                break
            units = problem.options[slot[0]].pack_size * packs[slot]
            if allow_moves and later.get(slot):
                target, rest = later[slot][0], later[slot][1:]
                packs[target], packs[slot], later[target] = min(packs[slot], problem.order_pack_bound[target]), 0, rest
            else:
                option = problem.options[slot[0]]
                keep = max(0.0, units - (load - capacity))
                count = math.floor(keep / option.pack_size + 1e-9)
                packs[slot] = count if count * option.pack_size >= option.moq else 0
            load -= units - problem.options[slot[0]].pack_size * packs[slot]


def _in_scope(problem: PlanningProblem, budget: Budget, slot: OrderSlot) -> bool:
    option = problem.options[slot[0]]
    if budget.supplier and option.supplier != budget.supplier:
        return False
    return not budget.category or problem.items[option.sku].category == budget.category


def _repair_budgets(
    problem: PlanningProblem,
    packs: dict[OrderSlot, int],
    later: dict[OrderSlot, list[OrderSlot]],
    lp: Mapping[OrderSlot, float],
) -> None:
    """Move or cut rounded orders until each budget holds, in week order.

    Rounding pulls spend forward (an accumulated order is placed in the first week of its
    run), so an order paying into an overspent week first moves to the next week of its run;
    only an order with nowhere left to go is cut (to its MOQ, then to nothing). Orders the LP
    wanted least go first; locked units are never touched. A budget that even the LP overran
    is left to the model's priced slack.
    """
    # Moving an order later also moves its deposit into an earlier week, which may break a
    # budget already repaired: repeat, and in the last pass only cut (cuts never move cash).
    for attempt in range(REPAIR_PASSES):
        if not _repair_pass(problem, packs, later, lp, allow_moves=attempt < REPAIR_PASSES - 1):
            return


class _BudgetCash:
    """Cash paid into each budget by the current orders, kept up to date as orders move."""

    def __init__(self, problem: PlanningProblem, packs: Mapping[OrderSlot, int]) -> None:
        self.problem = problem
        # What open purchase orders do not already owe; commitments over a limit leave 0, not less.
        self.limit = {b.budget_id: max(0.0, b.limit - problem.committed(b)) for b in problem.budgets}
        self.by_week: dict[int, list[Budget]] = defaultdict(list)
        for budget in problem.budgets:
            for week in budget.weeks:
                self.by_week[week].append(budget)
        self.spent: dict[str, float] = defaultdict(float)
        for slot, count in packs.items():
            self.add(slot, self.units(slot, count))

    def units(self, slot: OrderSlot, count: int) -> float:
        return self.problem.options[slot[0]].pack_size * count + self.problem.locked_units.get(slot, 0.0)

    def effects(self, slot: OrderSlot, units: float) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        for week, cash in _cash_by_week(self.problem, slot, units):
            out.extend((b.budget_id, cash) for b in self.by_week.get(week, ()) if _in_scope(self.problem, b, slot))
        return out

    def add(self, slot: OrderSlot, units: float, sign: float = 1.0) -> None:
        for budget_id, cash in self.effects(slot, units):
            self.spent[budget_id] += sign * cash

    def fits(self, slot: OrderSlot, units: float) -> bool:
        return all(self.spent[b] + cash <= self.limit[b] + 1e-6 for b, cash in self.effects(slot, units))


def _move(cash: _BudgetCash, packs: dict[OrderSlot, int], source: OrderSlot, target: OrderSlot) -> None:
    """Move as many of ``source``'s packs to ``target`` as its bound leaves room for; the rest stay."""
    count = max(0, min(packs[source], cash.problem.order_pack_bound[target] - packs[target]))
    cash.add(source, cash.units(source, packs[source]), -1.0)
    cash.add(target, cash.units(target, packs[target]), -1.0)
    packs[source], packs[target] = packs[source] - count, packs[target] + count
    cash.add(source, cash.units(source, packs[source]))  # what did not fit stays, and still pays
    cash.add(target, cash.units(target, packs[target]))


def _move_earlier(cash: _BudgetCash, packs: dict[OrderSlot, int], slot: OrderSlot, earlier: list[OrderSlot]) -> bool:
    """Move an order to the latest earlier week of its option where every budget it pays into has room."""
    units = cash.units(slot, packs[slot]) - cash.problem.locked_units.get(slot, 0.0)
    cash.add(slot, units, -1.0)
    for target in earlier:
        if packs[target] == 0 and target not in cash.problem.locked_units and cash.fits(target, units):
            cash.add(slot, units)
            _move(cash, packs, slot, target)
            return True
    cash.add(slot, units)
    return False


def _repair_pass(
    problem: PlanningProblem,
    packs: dict[OrderSlot, int],
    later: dict[OrderSlot, list[OrderSlot]],
    lp: Mapping[OrderSlot, float],
    *,
    allow_moves: bool,
) -> bool:
    """One pass over the budgets in week order; returns whether any budget was over.

    An order paying into an overspent budget first moves to an earlier week of its option
    where every budget it would pay into has room (it arrives sooner: more holding, no lost
    sale), then later within its run, and only then is cut.
    """
    cash = _BudgetCash(problem, packs)
    weeks_of: dict[str, list[OrderSlot]] = defaultdict(list)
    for slot in sorted(packs, key=lambda s: -s[1]):
        weeks_of[slot[0]].append(slot)
    any_over = False
    for budget in sorted(problem.budgets, key=lambda b: b.weeks[0]):
        weeks = set(budget.weeks)
        limit = cash.limit[budget.budget_id]  # after what open purchase orders still owe

        def in_budget(slot: OrderSlot, units: float, weeks: set[int] = weeks) -> float:
            return sum(c for week, c in _cash_by_week(problem, slot, units) if week in weeks)

        if cash.spent[budget.budget_id] <= limit + 1e-6:
            continue
        any_over = True
        paying = [s for s in packs if packs[s] > 0 and _in_scope(problem, budget, s) and in_budget(s, 1.0) > 0]
        for slot in sorted(paying, key=lambda s: lp.get(s, 0.0) / max(packs[s], 1)):
            if cash.spent[budget.budget_id] <= limit:
                break
            if packs[slot] == 0:
                continue
            earlier = [s for s in weeks_of[slot[0]] if slot[1] - MAX_EARLIER_WEEKS <= s[1] < slot[1]]
            if allow_moves and _move_earlier(cash, packs, slot, earlier):
                continue
            current = slot
            while allow_moves and cash.spent[budget.budget_id] > limit and later.get(current):
                if in_budget(current, cash.units(current, packs[current])) <= 0:
                    break
                target, rest = later[current][0], later[current][1:]
                _move(cash, packs, current, target)
                later[target] = rest
                current = target
            if cash.spent[budget.budget_id] > limit and packs[current] > 0:
                before = cash.units(current, packs[current])
                cash.add(current, before, -1.0)
                _cut(
                    problem,
                    packs,
                    current,
                    cash.spent[budget.budget_id] + in_budget(current, before) - limit,
                    in_budget,
                )
                cash.add(current, cash.units(current, packs[current]))
    return any_over


def _cut(
    problem: PlanningProblem, packs: dict[OrderSlot, int], slot: OrderSlot, excess: float, in_budget: Any
) -> float:
    """Cut an order's packs by about ``excess`` of cash in the budget; returns the cash removed."""
    option = problem.options[slot[0]]
    per_pack = in_budget(slot, option.pack_size)
    if per_pack <= 0:
        return 0.0
    floor = math.ceil(option.moq / option.pack_size - 1e-9)
    cut = max(0, min(packs[slot] - floor, math.ceil(excess / per_pack - 1e-9)))
    removed = cut * per_pack
    packs[slot] -= cut
    if removed < excess and packs[slot] > 0:  # below the MOQ it is all or nothing
        removed += packs[slot] * per_pack
        packs[slot] = 0
    return removed


def _top_up_po_minimums(problem: PlanningProblem, packs: dict[OrderSlot, int], *, top_up: bool) -> None:
    """Bring each PO to its supplier's minimum value on its largest line, or drop the PO.

    POs holding locked units are left alone: the model does not apply the minimum to them.
    """
    lines: dict[tuple[str, str, int], list[OrderSlot]] = defaultdict(list)
    for slot, count in packs.items():
        if count > 0 or slot in problem.locked_units:
            option = problem.options[slot[0]]
            lines[(option.supplier, option.ship_to, slot[1])].append(slot)
    for (supplier, _, _), slots in lines.items():
        minimum = problem.suppliers[supplier].po_minimum_value
        if minimum <= 0:
            continue

        def value(slots: list[OrderSlot] = slots) -> float:
            return sum(
                problem.options[s[0]].unit_cost
                * (problem.options[s[0]].pack_size * packs[s] + problem.locked_units.get(s, 0.0))
                for s in slots
            )

        if any(s in problem.locked_units for s in slots):
            continue
        largest = max(slots, key=lambda s: packs[s])
        while top_up and value() < minimum and packs[largest] < problem.order_pack_bound[largest]:
            packs[largest] += 1
        if value() < minimum:
            for s in slots:  # cannot reach the minimum within useful quantities: no PO at all
                packs[s] = 0


def fix_decisions(
    m: pyo.ConcreteModel,
    problem: PlanningProblem,
    packs: Mapping[OrderSlot, int],
    open_lanes: Mapping[tuple[str, str, int], int] | None = None,
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


def complete_orders(
    m: pyo.ConcreteModel,
    problem: PlanningProblem,
    packs: Mapping[OrderSlot, int],
    shipped_units: Mapping[Any, float],
    settings: SolverConfig,
    log_to_console: bool = False,
) -> SolveResult:
    """The best plan with these orders: everything else (transfers, stock, service, slack) solved.

    Order, line and PO decisions are fixed, and lanes too where ``shipped_units`` (per transfer
    slot) reach the lane's minimum, so the solve is a pure LP. If the orders cannot feed a lane
    so fixed, that LP is infeasible: the lanes are freed and it is solved again. The variables
    are unfixed afterwards, and the result's values include the fixed ones, so it is a complete
    start for a MIP.
    """
    fixed = fix_decisions(m, problem, packs)
    lanes = _fix_lanes(m, problem, shipped_units)
    result = solve(m, settings, log_to_console=log_to_console)
    if not result.report.has_plan and lanes:
        for var in lanes:
            var.unfix()
        result = solve(m, settings, log_to_console=log_to_console)
    else:
        fixed += lanes
    # Fixed variables are constants to HiGHS and missing from the values: add them.
    values = {**result.values, **{var.name: float(var.value) for var in fixed}} if result.values else {}
    for var in fixed:
        var.unfix()
    return dataclasses.replace(result, values=values)


def _fix_lanes(m: pyo.ConcreteModel, problem: PlanningProblem, shipped_units: Mapping[Any, float]) -> list[pyo.Var]:
    """Fix each lane-week open where ``shipped_units`` (per transfer slot) reach its minimum, else shut."""
    from models.index import index_problem

    by_lane_week = index_problem(problem).transfers_by_lane_week
    fixed = []
    for lane_week in m.LANE_WEEKS:
        shipped = sum(shipped_units.get(slot, 0.0) for slot in by_lane_week[lane_week])
        var = m.lane_used[lane_week]
        var.fix(1 if shipped >= problem.lanes[lane_week[:2]].min_shipment - 1e-6 else 0)
        fixed.append(var)
    return fixed


def _stage(name: str, result: SolveResult, seconds: dict[str, float]) -> None:
    seconds[name] = result.report.timings.get("total", 0.0)
    log.info("%s: %s", name, result.report.summary_line())


def optimize(
    problem: PlanningProblem, settings: SolverConfig, *, frozen_weeks: int = 0, log_to_console: bool = False
) -> OptimizeResult:
    """Build and solve the whole model for ``problem`` within ``settings.time_limit_s``.

    Raises ``NoPlanFoundError`` when neither the rounded start nor the MIP gave a plan.
    """
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    m = build_model(problem)
    seconds["build"] = time.perf_counter() - started
    limit = settings.time_limit_s
    # HiGHS may overshoot its limit; keep the backstop's margin inside the configured limit,
    # but never more than a quarter of it, so the MIP always gets real time.
    reserve = min(settings.backstop_s, BACKSTOP_SHARE * limit)

    lp_limit = limit - START_SHARE * limit - reserve - (time.perf_counter() - started)
    lp = solve(
        m, _limited(settings, max(lp_limit, START_SHARE * limit)), relax_integrality=True, highs_options=LP_OPTIONS
    )
    _stage("lp_relaxation", lp, seconds)
    lp_bound = lp.report.objective if lp.report.status is PlanStatus.OPTIMAL else None

    shipped = {slot: lp.values.get(m.transfer[slot].name, 0.0) for slot in m.TRANSFER_SLOTS}
    packs = rounded_orders(m, problem, lp.values)
    start = complete_orders(m, problem, packs, shipped, _limited(settings, START_SHARE * limit), log_to_console)
    _stage("rounded_start", start, seconds)

    remaining = limit - (time.perf_counter() - started) - reserve
    final = solve(m, _limited(settings, remaining), initial=start.values or None, log_to_console=log_to_console)
    _stage("mip", final, seconds)
    best, from_start = _better(start, final)
    if not best.report.has_plan:
        # Both stages came back empty-handed: report the MIP's own outcome (the caller raises).
        best, from_start = final, False
    report = _with_bound(best.report, final.report, from_start, lp_bound)
    if not report.has_plan:
        raise NoPlanFoundError(f"no plan within the time limit: {report.summary_line()}", report)
    load_values(m, best)
    plan = extract_plan(m, problem, frozen_weeks)
    prices = budget_shadow_prices(m, best.values, settings)
    seconds["total"] = time.perf_counter() - started
    return OptimizeResult(
        report=report,
        plan=plan,
        budget_prices=prices,
        lp_bound=lp_bound,
        start_objective=start.report.objective,
        stage_seconds=seconds,
        from_start=from_start,
    )


def budget_shadow_prices(m: pyo.ConcreteModel, values: Mapping[str, float], settings: SolverConfig) -> dict[str, float]:
    """Cost saved by one more unit of each budget: the LP with the plan's open order lines, POs
    and lanes fixed open, its shut ones relaxed to [0, 1], and pack counts free.

    Free packs make the price say what one more unit of cash would buy, not what the overrun
    slack costs. Shut lines stay openable because fixing them shut prices a binding budget at
    0 whenever the plan spent it all on other SKUs: the next unit of cash would go to a SKU the
    plan had no line for."""
    rows = [m.budget_limit[b] for b in m.BUDGETS]
    if not rows:
        return {}

    def free_in_the_lp(var: Any) -> bool:
        shut = var.is_binary() and values.get(var.name, 0.0) < 0.5
        return var.parent_component() is m.packs or shut

    try:
        duals = lp_duals_with_integers_fixed(m, values, settings, rows, relax=free_in_the_lp)
    except (NoPlanError, ValueError) as error:  # reported, not fatal: the plan itself stands
        log.warning("budget shadow prices unavailable: %s", error)
        return {}
    # Stored as spend - overrun <= limit: the dual is d(cost)/d(limit), <= 0; report the saving.
    # The plan is loaded into the model, so each row's headroom is its upper bound minus its body.
    prices = {str(b): -duals[m.budget_limit[b].name] for b in m.BUDGETS}
    headroom = {
        str(b): float(pyo.value(m.budget_limit[b].upper) - pyo.value(m.budget_limit[b].body)) for b in m.BUDGETS
    }
    caps = {str(b): float(pyo.value(m.budget_limit[b].upper)) for b in m.BUDGETS}
    return priced_where_binding(prices, headroom, caps)


def _better(start: SolveResult, final: SolveResult) -> tuple[SolveResult, bool]:
    if not final.report.has_plan:
        return start, True
    if start.report.has_plan and (start.report.objective or 0.0) < (final.report.objective or 0.0) - 1e-9:
        return start, True
    return final, False


def _with_bound(best: SolveReport, mip: SolveReport, from_start: bool, lp_bound: float | None) -> SolveReport:
    """The published plan's report with the best proven lower bound and the gap against it.

    Only the full MIP's bound and the LP relaxation's optimum are valid bounds; the rounded
    start's own bound holds only with its orders fixed, so it is never published. A plan taken
    from the rounded start is never OPTIMAL: the MIP ran out of time without beating it.
    """
    bounds = [b for b in (mip.best_bound if mip.is_mip else None, lp_bound) if b is not None and math.isfinite(b)]
    status = PlanStatus.TIME_LIMIT_WITH_PLAN if from_start else best.status
    if not bounds or best.objective is None:
        return dataclasses.replace(best, status=status, best_bound=None, gap=None)
    bound = min(max(bounds), best.objective)
    gap = (best.objective - bound) / max(abs(best.objective), 1e-9)
    return dataclasses.replace(best, best_bound=bound, gap=gap, status=status)
