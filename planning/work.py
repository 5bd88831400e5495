"""Every work limit, share and reserve of a solve, in one place.

What decides the plan is counted in work (column-generation rounds, branch-and-bound nodes),
never in seconds, so the same inputs and configuration give the same plan on an idle and on a
loaded machine, on threads and on Dask. The wall clock (``solver.time_limit_s``) is a safety
net: when it stops anything, the report says so and the plan is marked as depending on load.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from planning.config import DecompositionConfig, SolverConfig

MIN_MASTER_S = 30.0  # the master MIP always gets this long, even after the clock ran out: a plan beats none
COMPLETION_S = 60.0  # safety net of one LP completing a block's plan with its orders fixed
GROUP_S = 60.0  # safety net of one fix-and-optimize round (its node limit normally stops it)
# The pricing MIPs need no sub-MIP heuristics: RINS and RENS took
# 56 % of block CPU on the 100-SKU demo for a 0.02 % better bound (bench/RESULTS.md).
BLOCK_OPTIONS = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}


@dataclass(frozen=True, slots=True)
class WorkBudget:
    """The work limits of one column-generation solve, from the solver and decomposition settings."""

    rounds: int
    round_gap: float
    smoothing: float
    block_nodes: int
    block_rel_gap: float
    block_clock_s: float
    master_nodes: int
    polish_rounds: int
    group_nodes: int
    wall_clock_s: float
    min_master_s: float = MIN_MASTER_S

    @classmethod
    def of(cls, settings: SolverConfig, config: DecompositionConfig) -> WorkBudget:
        return cls(
            rounds=config.max_rounds,
            round_gap=config.round_gap,
            smoothing=config.smoothing,
            block_nodes=config.block_max_nodes,
            block_rel_gap=config.block_rel_gap,
            block_clock_s=config.block_time_limit_s,
            master_nodes=config.master_max_nodes,
            polish_rounds=config.polish_rounds,
            group_nodes=config.group_max_nodes,
            wall_clock_s=settings.time_limit_s,
        )

    def block_settings(self, settings: SolverConfig) -> SolverConfig:
        """A pricing MIP: one HiGHS thread, its gap, the per-block safety net."""
        return settings.model_copy(
            update={
                "time_limit_s": self.block_clock_s,
                "mip_rel_gap": self.block_rel_gap,
                "threads": 1,
                "backstop_s": min(settings.backstop_s, 10.0),
            }
        )

    def block_options(self) -> dict[str, bool | int | float | str]:
        return {"mip_max_nodes": self.block_nodes, **BLOCK_OPTIONS}

    def master_options(self) -> dict[str, bool | int | float | str]:
        return {"mip_max_nodes": self.master_nodes}

    def group_settings(self, settings: SolverConfig) -> SolverConfig:
        """A fix-and-optimize round: one HiGHS thread, the node limit decides, the clock is a safety net."""
        return settings.model_copy(
            update={"time_limit_s": GROUP_S, "threads": 1, "backstop_s": min(settings.backstop_s, 10.0)}
        )

    def group_options(self) -> dict[str, bool | int | float | str]:
        return {"mip_max_nodes": self.group_nodes}

    def completion_settings(self, settings: SolverConfig) -> SolverConfig:
        return settings.model_copy(
            update={"time_limit_s": COMPLETION_S, "threads": 1, "backstop_s": min(settings.backstop_s, 10.0)}
        )


@dataclass(slots=True)
class Clock:
    """The wall-clock safety net of one solve."""

    limit_s: float
    started: float = field(default_factory=time.perf_counter)
    fired: bool = False

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def left(self) -> float:
        return max(0.0, self.limit_s - self.elapsed()) if math.isfinite(self.limit_s) else math.inf

    def expired(self) -> bool:
        if self.elapsed() >= self.limit_s:
            self.fired = True
        return self.fired
