"""One weekly planning run on validated inputs: forecast -> problem -> solve -> plan -> checks.

Pure with respect to storage and the environment: it takes typed tables and a config and
returns values. ``planning.pipeline`` wires it to storage; the Prefect flow will too.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from planning.checks import check_plan
from planning.config import DecompositionConfig, RunConfig
from planning.errors import PlanCheckError
from planning.forecast import Forecast, ForecastRun, forecast_demand, overlay_external
from planning.forecast.feedback import blend_realised_errors
from planning.optimize import OptimizeResult, optimize
from planning.plan import PlanTables
from planning.plan_vs_actual import PlanVsActual
from planning.problem import PlanningProblem, build_problem
from planning.solve import NoPlanFoundError, PlanStatus, SolveReport
from planning.warm_start import start_from_plan, with_prior_lines

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlanRun:
    """Everything one run produced, before publishing."""

    as_of: date
    problem: PlanningProblem
    forecast: Forecast
    result: OptimizeResult
    plan: PlanTables
    budget_shadow_prices: dict[str, float]
    seconds: dict[str, float] = field(default_factory=dict)
    forecast_run: ForecastRun | None = None  # per-series methods and the accuracy table behind ``forecast``
    plan_vs_actual: PlanVsActual | None = None  # last week's projection against what happened

    @property
    def report(self) -> SolveReport:
        return self.result.report


def plan_start(snapshot: date) -> date:
    """The plan starts on the Monday of the snapshot's week."""
    return snapshot - timedelta(days=snapshot.weekday())


def _events(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """The ``events`` input table as the forecast's known events (empty sku = every SKU)."""
    if frame is None or frame.empty:
        return None
    if "sku" not in frame:
        return frame
    sku = frame["sku"].astype("object")
    return frame.assign(sku=sku.where(sku.notna() & (sku != ""), None))  # None: the forecast's "every SKU"


def make_forecast(
    tables: dict[str, pd.DataFrame], as_of: date, config: RunConfig, realised_errors: pd.DataFrame | None = None
) -> ForecastRun:
    """The built-in forecast (``planning.forecast.forecast_demand``), overridden by the external
    forecast for the rows it covers, its error spread blended with the published plans' realised
    errors (``planning.forecast.feedback``; ``PlanVsActual.errors``) when given."""
    run = forecast_demand(tables, as_of, config.horizon.weeks, config.forecast, events=_events(tables.get("events")))
    external = tables.get("external_forecast")
    if external is not None and not external.empty:
        overlaid = overlay_external(run.forecast, external, as_of, config.horizon.weeks, config.forecast)
        run = dataclasses.replace(run, forecast=overlaid)
    if realised_errors is None or realised_errors.empty:
        return run
    blended = blend_realised_errors(run.forecast, realised_errors, config.forecast.realised_error_prior_weeks)
    return dataclasses.replace(run, forecast=blended)


def solve_method(problem: PlanningProblem, config: DecompositionConfig) -> str:
    """ "whole" or "blocks": the configured method, or under "auto" by catalogue size."""
    if config.method != "auto":
        return config.method
    return "whole" if len(problem.skus) <= config.whole_model_max_skus else "blocks"


def optimize_problem(
    problem: PlanningProblem,
    config: RunConfig,
    previous_plan: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> OptimizeResult:
    """The plan with its proven gap: the whole model, or column generation over SKU blocks.

    ``previous_plan``: an earlier run's published ``purchase_plan`` and ``transfer_plan``. Its lines
    are the ones a re-plan is charged for changing (``costs.plan_change_penalty``); column
    generation also shifts them onto this week (``planning.warm_start``) and offers them to the
    master as one plan per block (the whole model takes no start).
    """
    if previous_plan is not None:
        problem = with_prior_lines(problem, previous_plan[0])
    frozen = config.horizon.frozen_weeks
    if solve_method(problem, config.decomposition) == "whole":
        return optimize(problem, config.solver, frozen_weeks=frozen)
    from planning.colgen import plan_by_columns

    start = start_from_plan(problem, *previous_plan) if previous_plan is not None else None
    planned = plan_by_columns(problem, config.solver, config.decomposition, start=start, frozen_weeks=frozen)
    return OptimizeResult(
        report=planned.report,
        plan=planned.plan,
        budget_prices=planned.budget_prices,
        lp_bound=None,
        start_objective=None,
        stage_seconds=planned.stage_seconds,
        from_start=False,
        method="blocks",
        details=planned.details,
    )


def plan_week(
    tables: dict[str, pd.DataFrame],
    snapshot: date,
    config: RunConfig,
    *,
    plan_vs_actual: PlanVsActual | None = None,
    previous_plan: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> PlanRun:
    """Plan one week from typed, validated tables; raises if there is no plan or it is broken.

    ``plan_vs_actual`` (``planning.plan_vs_actual``): the published plans' track record; its
    realised errors feed the safety stock and it is published with the run.
    ``previous_plan``: last week's published purchase and transfer plans, a warm start (see
    ``optimize_problem``).
    """
    seconds: dict[str, Any] = {}
    started = time.perf_counter()
    as_of = plan_start(snapshot)
    forecast_run = make_forecast(tables, as_of, config, plan_vs_actual.errors if plan_vs_actual else None)
    forecast = forecast_run.forecast
    seconds["forecast"] = time.perf_counter() - started
    problem = build_problem(tables, forecast, config, as_of)
    seconds["problem"] = time.perf_counter() - started - seconds["forecast"]
    result = optimize_problem(problem, config, previous_plan)
    if not result.report.has_plan:
        raise NoPlanFoundError(f"no plan within the time limit: {result.report.summary_line()}", result.report)
    run = finish_run(as_of, problem, result, forecast_run, config, seconds, plan_vs_actual=plan_vs_actual)
    run.seconds["total"] = time.perf_counter() - started
    return run


def finish_run(
    as_of: date,
    problem: PlanningProblem,
    result: OptimizeResult,
    forecast_run: ForecastRun,
    config: RunConfig,
    seconds: dict[str, float] | None = None,
    *,
    plan_vs_actual: PlanVsActual | None = None,
) -> PlanRun:
    """Plan tables from the solution, checked against every invariant, with the budget shadow prices.

    Raises:
        PlanCheckError: An invariant fails on the plan tables (a defect: nothing may be published).
    """
    seconds = {**(seconds or {}), **{f"solve_{k}": v for k, v in result.stage_seconds.items()}}
    t = time.perf_counter()
    plan = result.plan
    _require_orders_or_proof(plan, result.report)
    violations = check_plan(plan, problem)
    if violations:
        raise PlanCheckError(violations)
    seconds["extract_and_check"] = time.perf_counter() - t
    prices = result.budget_prices
    return PlanRun(as_of, problem, forecast_run.forecast, result, plan, prices, seconds, forecast_run, plan_vs_actual)


def _require_orders_or_proof(plan: PlanTables, report: SolveReport) -> None:
    """A plan that orders nothing while demand goes unmet is published only when it is proven optimal.

    Otherwise it is what a solve cut short by its safety net looks like (no pricing round, no
    master MIP), not a plan a planner can act on.
    """
    unmet = float(plan.inventory["unmet"].sum()) if "unmet" in plan.inventory else 0.0
    if plan.purchases.empty and unmet > 1e-6 and report.status is not PlanStatus.OPTIMAL:
        raise NoPlanFoundError(
            f"the plan orders nothing while {unmet:,.0f} units of demand go unmet, and it is not proven optimal "
            f"({report.status.value}: {report.termination}); raise solver.time_limit_s or lower the work limits "
            "in decomposition (max_rounds, block_max_nodes) so the solve finishes, then plan again",
            report,
        )
