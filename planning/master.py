"""The Dantzig-Wolfe master over block plans: an LP that grows by columns, its duals, its bound, its MIP.

Symbols (k: block; j: a generated plan of block k, ``planning.blocks.Column``; r: a coupling row of
``models.coupling``; p: a purchase order; v: the shared variables (PO open z_p, lane used w,
priced slack of budgets and capacities) with costs g and coefficients M):

  min   sum_kj c_kj lambda_kj + g v
  (convexity)  sum_j lambda_kj = 1                                    for every block k
  (coupling)   sum_kj a_kj,r lambda_kj + M_r v <= rhs_r               budgets, supplier and location
                                                                      capacity, PO minimums, lanes
  (link)       sum_j u_kj,p lambda_kj - z_p <= 0                      block k orders on PO p only if open
  lambda >= 0, 0 <= z, w <= 1, slack >= 0          (price-and-branch: lambda, z, w binary)

Link rows are disaggregated (one per block and PO, the strong form) but created lazily: only
for the pairs some column orders on. A pair no column uses would read 0 <= z_p, which always
holds, so leaving it out loses nothing; the master holds at most (columns x POs per column) link
rows instead of blocks x POs.

The Lagrangian bound at any duals y of the right sign (<= 0 on these <= rows; the slack's price
caps how negative: y_r >= -g_slack) is

  L(y) = sum_k B_k(y) + sum_r y_r rhs_r + sum_v min(0, g_v - M_v^T y) ub_v  <=  optimal plan cost

with B_k(y) each block's proven pricing bound (``planning.blocks``). It holds for any y, so the
smoothed duals of the stabilisation are as valid as the master's own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from models.coupling import RowKey, coupling_rhs
from planning.blocks import BlockForm, Column, SharedColumn
from planning.config import SolverConfig
from planning.problem import PlanningProblem, PoSlot
from planning.solve import GrowingModel, SolveReport, arrays_with, solve_arrays

REDUCED_COST_TOLERANCE = 1e-6  # relative to the column's cost


@dataclass(frozen=True, slots=True)
class MasterLP:
    """An optimal master LP: its value, duals (one per row) and the weights of the columns."""

    objective: float
    duals: NDArray[np.float64]
    weights: NDArray[np.float64]  # per master column


@dataclass(frozen=True, slots=True)
class MasterPlan:
    """The master MIP's plan: one column per block, the shared variables, and the solve's report."""

    report: SolveReport
    choice: tuple[int, ...]  # per block, the index of its chosen column
    shared: dict[str, float]  # shared variable name -> value
    objective: float


class Master:
    """The restricted master: blocks' columns, shared variables, rows; an LP in HiGHS kept across rounds."""

    def __init__(self, problem: PlanningProblem, forms: Sequence[BlockForm], settings: SolverConfig) -> None:
        self.forms = list(forms)
        self.lp = GrowingModel(settings.model_copy(update={"mip_rel_gap": 0.0}))
        self.rhs = dict(coupling_rhs(problem))
        rows: dict[RowKey, None] = {}
        shared: dict[str, SharedColumn] = {}
        for form in forms:
            rows.update(dict.fromkeys(form.usage_rows))
            for column in form.shared:
                shared.setdefault(column.name, column)
                rows.update(dict.fromkeys(key for key, _ in column.entries))
        self.lp.add_rows([1.0] * len(forms), [1.0] * len(forms))  # convexity
        self.row_keys = list(rows)
        self.row_of = {key: len(forms) + i for i, key in enumerate(self.row_keys)}
        self.lp.add_rows([-math.inf] * len(rows), [self.rhs.get(key, 0.0) for key in rows])
        self.shared = sorted(shared.values(), key=lambda c: c.name)
        self.lp.add_columns(
            [c.cost for c in self.shared],
            [0.0] * len(self.shared),
            [c.upper for c in self.shared],
            [[(self.row_of[key], value) for key, value in c.entries] for c in self.shared],
        )
        self.po_column = {c.key[1]: i for i, c in enumerate(self.shared) if c.key[0] == "po_open"}
        self.link_row: dict[tuple[int, PoSlot], int] = {}
        self.columns: list[list[Column]] = [[] for _ in forms]
        self.column_ref: list[tuple[int, int]] = []  # master column - len(shared) -> (block, column index)
        self._seen: list[set[bytes]] = [set() for _ in forms]
        self._usage_rows = [np.array([self.row_of[r] for r in form.usage_rows], dtype=np.int64) for form in forms]
        self._slack_floor = self._slack_floors()

    @property
    def row_count(self) -> int:
        """Rows of the master LP: convexity, coupling, and the link rows added so far."""
        return len(self.forms) + len(self.row_keys) + len(self.link_row)

    # ------------------------------------------------------------------ columns

    def add(self, columns: Sequence[Column]) -> int:
        """Add the columns not seen before (lazily adding their link rows); returns how many were new."""
        fresh = []
        for column in columns:
            key = column.key()
            if key not in self._seen[column.block]:
                self._seen[column.block].add(key)
                fresh.append(column)
        new_links = sorted({(c.block, p) for c in fresh for p in c.pos} - set(self.link_row))
        if new_links:
            first = self.lp.add_rows(
                [-math.inf] * len(new_links),
                [0.0] * len(new_links),
                [[(self.po_column[p], -1.0)] for _, p in new_links],
            )
            self.link_row.update({pair: first + i for i, pair in enumerate(new_links)})
        entries = []
        for column in fresh:
            rows = self._usage_rows[column.block]
            nonzero = np.flatnonzero(np.abs(column.usage) > 1e-12)
            vector = [(column.block, 1.0)]
            vector += [(int(rows[i]), float(column.usage[i])) for i in nonzero.tolist()]
            vector += [(self.link_row[(column.block, p)], 1.0) for p in sorted(column.pos)]
            entries.append(vector)
            self.column_ref.append((column.block, len(self.columns[column.block])))
            self.columns[column.block].append(column)
        self.lp.add_columns([c.cost for c in fresh], [0.0] * len(fresh), [math.inf] * len(fresh), entries)
        return len(fresh)

    @property
    def column_count(self) -> int:
        return len(self.column_ref)

    # ------------------------------------------------------------------ LP, duals, bound

    def solve_lp(self) -> MasterLP | None:
        """The master LP; None if HiGHS did not solve it to optimality (the clock, or an error)."""
        result = self.lp.solve()
        if result.x is None or result.row_dual is None or result.report.objective is None:
            return None
        return MasterLP(result.report.objective, self.valid_duals(result.row_dual), result.x)

    def valid_duals(self, duals: NDArray[np.float64]) -> NDArray[np.float64]:
        """Duals moved to the sign the Lagrangian bound needs (every non-convexity row is <=)."""
        y = np.asarray(duals, dtype=np.float64).copy()
        if len(y) < self.lp.rows:
            y = np.concatenate([y, np.zeros(self.lp.rows - len(y))])
        k = len(self.forms)
        y[k:] = np.minimum(y[k:], 0.0)
        for row, floor in self._slack_floor.items():
            y[row] = max(y[row], floor)
        return y

    def block_duals(self, y: NDArray[np.float64], block: int) -> tuple[NDArray[np.float64], dict[PoSlot, float]]:
        """A block's share of the duals: per usage row, and per PO link row."""
        links = {p: float(y[row]) for (k, p), row in self.link_row.items() if k == block}
        return y[self._usage_rows[block]], links

    def reduced_cost(self, column: Column, y: NDArray[np.float64]) -> float:
        """The column's reduced cost at duals y (convexity dual included)."""
        rows = self._usage_rows[column.block]
        value = column.cost - float(y[rows] @ column.usage) - float(y[column.block])
        return value - sum(
            float(y[self.link_row[(column.block, p)]]) for p in column.pos if (column.block, p) in self.link_row
        )

    def lagrangian_bound(self, y: NDArray[np.float64], block_bounds: Sequence[float]) -> float:
        """L(y) of the module docstring, from each block's proven pricing bound at y."""
        if any(not math.isfinite(b) for b in block_bounds):
            return -math.inf
        rhs = sum(float(y[self.row_of[key]]) * self.rhs.get(key, 0.0) for key in self.row_keys)
        shared = 0.0
        for column in self.shared:
            reduced = column.cost - sum(float(y[self.row_of[key]]) * value for key, value in column.entries)
            if reduced < 0:
                if not math.isfinite(column.upper):
                    return -math.inf
                shared += reduced * column.upper
        return float(sum(block_bounds)) + rhs + shared

    def _slack_floors(self) -> dict[int, float]:
        """Each row holding an unbounded slack: its dual may not price the row above the slack's cost."""
        floors: dict[int, float] = {}
        for column in self.shared:
            if math.isfinite(column.upper) or len(column.entries) != 1:
                continue
            key, value = column.entries[0]
            if value < 0:
                floors[self.row_of[key]] = max(floors.get(self.row_of[key], -math.inf), column.cost / value)
        return floors

    # ------------------------------------------------------------------ price-and-branch

    def solve_mip(
        self,
        settings: SolverConfig,
        highs_options: Mapping[str, bool | int | float | str],
        start: Sequence[int] | None,
    ) -> MasterPlan | None:
        """The master over the generated columns as a MIP (lambda, z, w binary), from a start choice."""
        lp = self.lp.arrays()
        n_shared = len(self.shared)
        integer = np.zeros(len(lp.cost), dtype=np.bool_)
        integer[:n_shared] = [c.integer for c in self.shared]
        integer[n_shared:] = True
        upper = lp.col_upper.copy()
        upper[n_shared:] = 1.0
        model = arrays_with(lp, col_upper=upper, integer=integer)
        vector = self.start_vector(start) if start is not None else None
        result = solve_arrays(model, settings, highs_options=highs_options, start=vector)
        if result.x is None or not result.report.has_plan or result.report.objective is None:
            return None
        weights = result.x[n_shared:]
        choice = [-1] * len(self.forms)
        for m, weight in enumerate(weights.tolist()):
            if weight > 0.5:
                block, j = self.column_ref[m]
                choice[block] = j
        if min(choice) < 0:
            return None
        shared = {c.name: float(result.x[i]) for i, c in enumerate(self.shared)}
        return MasterPlan(result.report, tuple(choice), shared, float(result.report.objective))

    def start_vector(self, choice: Sequence[int]) -> NDArray[np.float64]:
        """A full MIP start for a choice of one column per block: shared variables at their cheapest."""
        n_shared = len(self.shared)
        x = np.zeros(n_shared + len(self.column_ref))
        position = {ref: n_shared + m for m, ref in enumerate(self.column_ref)}
        lhs: dict[RowKey, float] = dict.fromkeys(self.row_keys, 0.0)
        used_pos: set[PoSlot] = set()
        for block, j in enumerate(choice):
            x[position[(block, j)]] = 1.0
            column = self.columns[block][j]
            for key, value in zip(self.forms[block].usage_rows, column.usage.tolist(), strict=True):
                lhs[key] += value
            used_pos |= column.pos
        for i, shared in enumerate(self.shared):
            if shared.key[0] == "po_open":
                x[i] = 1.0 if shared.key[1] in used_pos else 0.0
            elif shared.key[0] == "lane_used":
                shipped = max((lhs.get(("lane_link", shared.key[1]), 0.0)), 0.0)
                x[i] = 1.0 if shipped > 1e-9 else 0.0
        for i, shared in enumerate(self.shared):  # shared variables enter the rows' left-hand sides
            if shared.key[0] in ("po_open", "lane_used"):
                for key, value in shared.entries:
                    lhs[key] += value * x[i]
        for i, shared in enumerate(self.shared):
            if not math.isfinite(shared.upper) and len(shared.entries) == 1:
                key, value = shared.entries[0]
                over = lhs[key] - self.rhs.get(key, 0.0)
                x[i] = max(0.0, over / -value) if value < 0 else 0.0
        return x

    def plan_cost(self, choice: Sequence[int]) -> float:
        """The exact cost of a choice with the shared variables at their cheapest (as ``start_vector``)."""
        x = self.start_vector(choice)
        cost = sum(c.cost * x[i] for i, c in enumerate(self.shared))
        return float(cost + sum(self.columns[b][j].cost for b, j in enumerate(choice)))

    def row_headroom(self, choice: Sequence[int]) -> dict[RowKey, float]:
        """Right-hand side minus left-hand side of every coupling row under a choice (overruns included)."""
        x = self.start_vector(choice)
        lhs: dict[RowKey, float] = dict.fromkeys(self.row_keys, 0.0)
        for block, j in enumerate(choice):
            for key, value in zip(self.forms[block].usage_rows, self.columns[block][j].usage.tolist(), strict=True):
                lhs[key] += value
        for i, shared in enumerate(self.shared):
            for key, value in shared.entries:
                lhs[key] += value * x[i]
        return {key: self.rhs.get(key, 0.0) - lhs[key] for key in self.row_keys}

    def shared_values(self, choice: Sequence[int]) -> dict[str, float]:
        """The shared variables (POs, lanes, overruns) a choice needs, by name."""
        x = self.start_vector(choice)
        return {c.name: float(x[i]) for i, c in enumerate(self.shared)}

    def feasible_choice(self, choice: Sequence[int], safe: Sequence[int]) -> tuple[int, ...]:
        """The choice with blocks moved to their safe plan until PO and lane minimums hold.

        A PO or lane below its minimum has every block on it moved to its safe plan (no orders,
        no transfers), which only lowers what other POs and lanes hold; so this ends.
        """
        current = list(choice)
        while True:
            bad = self.below_minimum(current)
            if not bad:
                return tuple(current)
            for block in sorted(bad):
                current[block] = safe[block]

    def below_minimum(self, choice: Sequence[int]) -> set[int]:
        """Blocks whose plan sits on a PO or lane-week that ends below its minimum."""
        x = self.start_vector(choice)
        lhs: dict[RowKey, float] = dict.fromkeys(self.row_keys, 0.0)
        users: dict[RowKey, set[int]] = {}
        for block, j in enumerate(choice):
            column = self.columns[block][j]
            for key, value in zip(self.forms[block].usage_rows, column.usage.tolist(), strict=True):
                lhs[key] += value
                if abs(value) > 1e-9:
                    users.setdefault(key, set()).add(block)
        for i, shared in enumerate(self.shared):
            for key, value in shared.entries:
                lhs[key] += value * x[i]
        bad: set[int] = set()
        for key, value in lhs.items():
            if key[0] in ("po_minimum", "lane_minimum", "lane_link") and value > 1e-6 * max(1.0, abs(value)):
                bad |= users.get(key, set())
        return bad
