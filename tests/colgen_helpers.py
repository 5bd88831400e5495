"""Shared fixtures of the column-generation tests: the 10-SKU x 8-week demo problem and its optimum."""

from __future__ import annotations

import tempfile
from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd

from models import build_model
from planning.config import DecompositionConfig, RunConfig, parse_config
from planning.demo_data import generate_demo_tables, write_demo_tables
from planning.forecast import trailing_average_forecast
from planning.inputs import load_input_tables
from planning.plan import PlanTables
from planning.problem import PlanningProblem, build_problem
from planning.solve import PlanStatus, solve
from planning.storage import LocalStorage

AS_OF = date(2026, 11, 30)
WEEKS = 8


def demo_config() -> RunConfig:
    return parse_config(
        {
            "as_of": AS_OF.isoformat(),
            "horizon": {"weeks": WEEKS, "frozen_weeks": 0},
            "solver": {"time_limit_s": 60, "mip_rel_gap": 0.0, "threads": 1, "random_seed": 0},
        }
    )


@cache
def demo_problem() -> PlanningProblem:
    """The demo brand cut to 10 SKUs and 8 weeks: budgets, PO minimums, lanes, capacities, closures."""
    with tempfile.TemporaryDirectory() as folder:
        write_demo_tables(generate_demo_tables(seed=7, as_of=AS_OF, n_skus=10), Path(folder))
        typed = {name: t.typed for name, t in load_input_tables(LocalStorage(Path(folder))).items()}
    forecast = trailing_average_forecast(typed["demand_history"], AS_OF, WEEKS)
    return build_problem(typed, forecast, demo_config(), AS_OF)


@cache
def whole_optimum() -> float:
    """The whole model solved to proven optimality (the reference every bound must stay below)."""
    result = solve(build_model(demo_problem()), demo_config().solver)
    assert result.report.status is PlanStatus.OPTIMAL and result.report.objective is not None
    return result.report.objective


def blocks_config(**changes: object) -> DecompositionConfig:
    """Small work limits: a handful of rounds and polish rounds, exact pricing, one worker."""
    return DecompositionConfig(
        method="blocks", max_rounds=5, polish_rounds=10, block_rel_gap=0.0, block_time_limit_s=20, workers=1
    ).model_copy(update=changes)


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A plan table in a canonical row order (every column a key), to compare two plans."""
    return frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)


def same_tables(left: PlanTables, right: PlanTables) -> None:
    """The published purchases, transfers and projected inventory are identical."""
    for name in ("purchases", "transfers", "inventory"):
        pd.testing.assert_frame_equal(sorted_frame(getattr(left, name)), sorted_frame(getattr(right, name)), obj=name)
