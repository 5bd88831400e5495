"""Plans from the master's columns: repair, and fix-and-optimize (LNS) with the other SKUs held constant.

Both work on a *choice* (one column per block of ``planning.master.Master``) and add every plan
they build to the master as columns, so the master MIP can combine them too.

* ``repaired_choice``: the orders of a choice (say, each block's heaviest column in the master
  LP) made to meet PO minimums, supplier capacity and budgets over the whole catalogue
  (``planning.optimize.repair_orders``: merge, top up, move, cut), each block completed with its
  orders fixed (an LP), and lane-weeks that end below their minimum shut and their blocks
  completed again until none is.
* ``polish``: rounds of fix-and-optimize. A group of neighbouring blocks (same primary supplier
  and category, so they share POs) is re-planned by ``planning.blocks.solve_group`` with every
  coupling row hard and the other blocks' use of it held constant; the round is kept when the
  plan's exact cost falls. Groups are taken in a fixed order and each round is node-limited, so
  the result does not depend on the machine's load.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from models.coupling import RowKey
from planning.blocks import BlockForm, Column, GroupTask, column_from_values, complete, solve_group, values_of
from planning.config import SolverConfig
from planning.executors import BlockExecutor
from planning.master import Master
from planning.optimize import repair_orders, runs_of
from planning.problem import OrderSlot, PlanningProblem, PoSlot
from planning.work import Clock

log = logging.getLogger(__name__)

LaneWeek = tuple[str, str, int]
IMPROVEMENT = 1e-7  # relative cost decrease that counts
BATCH = 2  # fix-and-optimize groups solved at once against the same plan (fixed: plans must not depend on workers)


def repaired_choice(
    problem: PlanningProblem,
    master: Master,
    forms: Sequence[BlockForm],
    choice: Sequence[int],
    settings: SolverConfig,
    runner: BlockExecutor,
) -> tuple[int, ...]:
    """``choice``'s orders repaired over the whole catalogue and completed block by block (see above)."""
    packs: dict[OrderSlot, int] = dict.fromkeys(problem.order_slots, 0)
    for form, j in zip(forms, choice, strict=True):
        x = master.columns[form.index][j].x
        packs.update({slot: round(x[column]) for column, slot in form.pack_columns})
    weights = {slot: float(count) for slot, count in packs.items()}
    repair_orders(problem, packs, runs_of(packs), weights)
    shut: set[LaneWeek] = set()
    columns: list[Column | None] = [None] * len(forms)
    todo = list(range(len(forms)))
    while todo:
        tasks = [(forms[k], settings, packs, frozenset(shut)) for k in todo]
        for k, column in zip(todo, runner.map(_complete_repaired, tasks), strict=True):
            columns[k] = column
        lanes: dict[LaneWeek, float] = defaultdict(float)
        users: dict[LaneWeek, set[int]] = defaultdict(set)
        for k, column in enumerate(columns):
            if column is None:
                continue
            for c, (_, origin, destination, week) in forms[k].transfer_columns:
                if column.x[c] > 1e-9:
                    lanes[(origin, destination, week)] += float(column.x[c])
                    users[(origin, destination, week)].add(k)
        below = {lw for lw, units in lanes.items() if units < problem.lanes[lw[:2]].min_shipment - 1e-6}
        shut |= below
        todo = sorted({k for lw in below for k in users[lw]})
    master.add([c for c in columns if c is not None])
    safe = [0] * len(forms)  # each block's first column is its safe plan
    picked = [_index_of(master, k, c) if c is not None else 0 for k, c in enumerate(columns)]
    return master.feasible_choice(picked, safe)


def _complete_repaired(
    args: tuple[BlockForm, SolverConfig, dict[OrderSlot, int], frozenset[LaneWeek]],
) -> Column | None:
    form, settings, packs, shut = args
    own = {slot: packs.get(slot, 0) for _, slot in form.pack_columns}
    return complete(form, settings, own, None, "repaired", shut)


def _index_of(master: Master, block: int, column: Column) -> int:
    key = column.key()
    for j, existing in enumerate(master.columns[block]):
        if existing.key() == key:
            return j
    raise KeyError(f"column of block {block} is not in the master")


@dataclass(frozen=True, slots=True)
class PolishRecord:
    """One fix-and-optimize round: its group, the plan's cost after it, whether it was kept."""

    index: int
    blocks: tuple[int, ...]
    cost: float
    kept: bool
    nodes: int


def polish(
    problem: PlanningProblem,
    subproblems: Sequence[PlanningProblem],
    master: Master,
    choice: tuple[int, ...],
    rounds: int,
    group_size: int,
    settings: SolverConfig,
    highs_options: dict[str, bool | int | float | str],
    clock: Clock,
    runner: BlockExecutor,
) -> tuple[tuple[int, ...], list[PolishRecord]]:
    """Up to ``rounds`` fix-and-optimize rounds over groups of neighbouring blocks, in a fixed order.

    ``BATCH`` groups are solved at once (on the executor) against the same plan, then kept one
    after the other while the plan's exact cost falls; the batch size does not depend on the
    number of workers, so neither does the plan. Stops after a whole sweep keeps nothing.
    """
    from models.coupling import absent_rows

    absent = absent_rows(problem)
    forms = master.forms
    cost = master.plan_cost(choice)
    records: list[PolishRecord] = []
    order = sorted(range(len(forms)), key=lambda k: _affinity(subproblems[k]))
    groups = [tuple(sorted(order[i : i + group_size])) for i in range(0, len(order), group_size)]
    since_kept, index = 0, 0
    while index < rounds and since_kept < len(groups) and not clock.expired():
        batch = [groups[(index + b) % len(groups)] for b in range(min(BATCH, rounds - index, len(groups)))]
        tasks = [_group_task(problem, subproblems, master, choice, g, absent, settings, highs_options) for g in batch]
        for group, result in zip(batch, runner.map(solve_group, tasks), strict=True):
            kept = False
            if result.values is not None:
                new_columns = [column_from_values(forms[k], result.values, "lns") for k in group]
                master.add(new_columns)
                candidate = list(choice)
                for k, column in zip(group, new_columns, strict=True):
                    candidate[k] = _index_of(master, k, column)
                new_cost = master.plan_cost(candidate)
                if new_cost < cost - IMPROVEMENT * abs(cost) and not master.below_minimum(candidate):
                    choice, cost, kept = tuple(candidate), new_cost, True
            since_kept = 0 if kept else since_kept + 1
            records.append(PolishRecord(index, group, cost, kept, result.nodes))
            log.info("polish round %d (blocks %s): cost %.1f%s", index, group, cost, " kept" if kept else "")
            index += 1
    return choice, records


def _affinity(problem: PlanningProblem) -> tuple[str, str, str]:
    """Blocks that share suppliers and a category sit next to each other (they share POs)."""
    suppliers = sorted({option.supplier for option in problem.options.values()})
    categories = sorted({item.category for item in problem.items.values()})
    return (suppliers[0] if suppliers else "", categories[0] if categories else "", min(problem.items, default=""))


def _group_task(
    problem: PlanningProblem,
    subproblems: Sequence[PlanningProblem],
    master: Master,
    choice: Sequence[int],
    group: Sequence[int],
    absent: frozenset[RowKey],
    settings: SolverConfig,
    highs_options: dict[str, bool | int | float | str],
) -> GroupTask:
    members = set(group)
    others: dict[RowKey, float] = defaultdict(float)
    others_pos: set[PoSlot] = set()
    current: dict[str, float] = {}
    for k, j in enumerate(choice):
        column = master.columns[k][j]
        if k in members:
            current.update(values_of(master.forms[k], column))
            continue
        for key, value in zip(master.forms[k].usage_rows, column.usage.tolist(), strict=True):
            others[key] += value
        others_pos |= column.pos
    skus = {sku for k in group for sku in subproblems[k].items}
    return GroupTask(
        problem=problem.restrict(skus),
        absent=absent,
        others=dict(others),
        others_pos=frozenset(others_pos),
        current=current,
        settings=settings,
        highs_options=highs_options,
    )
