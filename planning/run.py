"""One weekly planning run on validated inputs: forecast -> problem -> solve -> plan -> checks.

Pure with respect to storage and the environment: it takes typed tables and a config and
returns values. ``planning.pipeline`` wires it to storage; the Prefect flow will too.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from planning.checks import check_plan
from planning.config import DecompositionConfig, RunConfig
from planning.errors import NoPlanError, PlanCheckError
from planning.forecast import Forecast, ForecastRun, forecast_demand, overlay_external
from planning.forecast.feedback import blend_realised_errors
from planning.optimize import OptimizeResult, optimize
from planning.plan import PlanTables, extract_plan
from planning.plan_vs_actual import PlanVsActual
from planning.problem import PlanningProblem, build_problem
from planning.solve import NoPlanFoundError, SolveReport, lp_duals_with_integers_fixed

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


def budget_shadow_prices(result: OptimizeResult, config: RunConfig) -> dict[str, float]:
    """Cost saved by one more unit of each budget: the LP with the plan's order lines, POs and
    lanes fixed and quantities free.

    A plan assembled from blocks has no whole model to take duals from: its budget prices are
    the decomposition's Lagrange multipliers of the budget rows, which price the same thing.
    """
    m = result.model
    if m is None:
        rows_ = result.details.get("prices", [])
        return {str(row["name"]): float(row["price"]) for row in rows_ if row.get("kind") == "budget"}
    rows = [m.budget_limit[b] for b in m.BUDGETS]
    if not rows:
        return {}
    values = {var.name: float(var.value) for var in m.component_data_objects(pyo.Var) if var.value is not None}
    try:
        # Order lines, POs and lanes stay as planned; pack counts stay free, so the price says what
        # one more unit of cash would buy, not what the overrun slack costs.
        duals = lp_duals_with_integers_fixed(
            m, values, config.solver, rows, relax=lambda var: var.parent_component() is m.packs
        )
    except (NoPlanError, ValueError) as error:  # reported, not fatal: the plan itself stands
        log.warning("budget shadow prices unavailable: %s", error)
        return {}
    # Stored as spend - overrun <= limit: the dual is d(cost)/d(limit), <= 0; report the saving.
    return {str(b): -duals[m.budget_limit[b].name] for b in m.BUDGETS}


def solve_method(problem: PlanningProblem, config: DecompositionConfig) -> str:
    """ "whole" or "blocks": the configured method, or under "auto" by catalogue size."""
    if config.method != "auto":
        return config.method
    return "whole" if len(problem.skus) <= config.whole_model_max_skus else "blocks"


def optimize_problem(
    problem: PlanningProblem,
    config: RunConfig,
    previous_prices: Sequence[Mapping[str, object]] = (),
    previous_plan: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> OptimizeResult:
    """The plan with its proven gap, by the whole model or by SKU blocks (same outputs either way).

    ``previous_prices``: the coupling prices an earlier run published (``coupling_prices``);
    the block method starts from them instead of from zero. ``previous_plan``: an earlier run's
    published ``purchase_plan`` and ``transfer_plan``; the block method shifts them onto this
    week (``planning.warm_start``) as its first candidate plan and its blocks' MIP start.
    """
    if solve_method(problem, config.decomposition) == "whole":
        return optimize(problem, config.solver)
    from planning.decompose import decompose, prices_from_rows
    from planning.warm_start import start_from_plan

    start = prices_from_rows(problem, previous_prices) if previous_prices else None
    plan_start_ = start_from_plan(problem, *previous_plan) if previous_plan is not None else None
    result, _ = decompose(
        problem,
        config.solver,
        config.decomposition,
        start_prices=start,
        start_plan=plan_start_,
        frozen_weeks=config.horizon.frozen_weeks,
    )
    return result


def plan_week(
    tables: dict[str, pd.DataFrame],
    snapshot: date,
    config: RunConfig,
    previous_prices: Sequence[Mapping[str, object]] = (),
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
    result = optimize_problem(problem, config, previous_prices, previous_plan)
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
    if result.model is not None:
        plan = extract_plan(result.model, problem, config.horizon.frozen_weeks)
    elif result.plan is not None:  # assembled from blocks: no whole model was built
        plan = result.plan
    else:
        raise ValueError("optimize result carries neither a model nor plan tables")
    violations = check_plan(plan, problem)
    if violations:
        raise PlanCheckError(violations)
    seconds["extract_and_check"] = time.perf_counter() - t
    t = time.perf_counter()
    prices = budget_shadow_prices(result, config)
    seconds["shadow_prices"] = time.perf_counter() - t
    return PlanRun(as_of, problem, forecast_run.forecast, result, plan, prices, seconds, forecast_run, plan_vs_actual)
