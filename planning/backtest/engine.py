"""The whole backtest: the planner, then each baseline tuned to the planner's fill rate.

Tuning (per baseline, one service parameter p: z of the reorder point, N of weeks of cover,
with M = share x N), on the weeks after the warm-up: a grid of ``grid_points`` values over
[lo, hi] traces the baseline's cost-service curve; fill rate rises with p, so bisection
between the grid points around the planner's fill rate then finds the smallest p that
reaches it (``iterations`` replays, each cheap: no solver). The compared run is the evaluated
run with the least total cost among those at or above the planner's fill rate ("equal or
nearest-above service"); if no p in range reaches it, the run with the highest fill rate,
flagged ``reached = False``.

With ``service_levels`` the planner is replayed again at each of those levels, as the one
service target of every SKU (every row of ``service_targets`` and ``service.default_fill_rate``
set to it); every planner and rule run is a point of the service-cost frontier
(``planning.backtest.frontier``), published with the comparison of the planner against each
rule at the same fill rate.

With ``clairvoyant`` among the policies, the model is also solved once over the whole window
with the actual demand (``planning.backtest.clairvoyant``) and executed as planned: the limit
each point's cost is compared with (``cost_above_clairvoyant``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from planning.backtest.clairvoyant import ClairvoyantPolicy
from planning.backtest.frontier import frontier, planner_against_rules
from planning.backtest.outcomes import (
    OUTCOME_COLUMNS,
    after_warmup,
    forecast_errors,
    forecast_vs_actual,
    item_rates,
    overall_budget_by_week,
    policy_outcomes,
    weekly_series,
)
from planning.backtest.policies import PlannerPolicy, Policy, reorder_point_policy, weeks_of_cover_policy
from planning.backtest.replay import ForecastCache, PolicyRun, replay, weekly_actuals
from planning.backtest.settings import CLAIRVOYANT, BacktestSettings
from planning.config import RunConfig
from planning.run import plan_start

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Runs, outcomes and the tuning trace of one backtest."""

    start: date
    weeks: int
    warmup_weeks: int
    runs: dict[str, PolicyRun]  # the compared run of each policy
    outcomes: pd.DataFrame  # OUTCOME_COLUMNS + reached, one row per policy, after the warm-up
    outcomes_full_window: pd.DataFrame  # the same runs measured over every week, warm-up included
    tuning: pd.DataFrame  # every evaluated run (planner included): policy, parameter, fill_rate, total_cost, ...
    weekly: pd.DataFrame  # per policy and week (outcomes.weekly_series)
    forecast_actual: pd.DataFrame  # week-0 forecast against actual per SKU x location
    frontier: pd.DataFrame = field(default_factory=pd.DataFrame)  # frontier.FRONTIER_COLUMNS, every run
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)  # frontier.COMPARISON_COLUMNS
    seconds: dict[str, float] = field(default_factory=dict)
    forecasts: ForecastCache | None = None  # the shared weekly forecasts (reusable by a later run)
    # The clairvoyant's one solve (status, objective, bound, gap in the model's terms); empty without it.
    clairvoyant_solve: dict[str, object] = field(default_factory=dict)


def at_service_level(
    tables: Mapping[str, pd.DataFrame], config: RunConfig, level: float
) -> tuple[RunConfig, dict[str, pd.DataFrame]]:
    """The config and tables with ``level`` as every SKU's service target (each row keeps its metric)."""
    at_level = dict(tables)
    targets = tables.get("service_targets")
    if targets is not None:
        at_level["service_targets"] = targets.assign(target=level)
    service = config.service.model_copy(update={"default_fill_rate": level})
    return config.model_copy(update={"service": service}), at_level


def _finite(value: float | None) -> float | None:
    """``value`` for a JSON manifest: None stands for a missing or infinite figure."""
    return value if value is not None and math.isfinite(value) else None


def backtest_start(tables: Mapping[str, pd.DataFrame], settings: BacktestSettings) -> date:
    """The configured first Monday, else the Monday of the inventory snapshot."""
    if settings.start is not None:
        return settings.start
    snapshot = pd.Timestamp(tables["inventory"]["as_of_date"].max()).date()
    return plan_start(snapshot)


@dataclass(slots=True)
class _Evaluator:
    """Replays a policy on shared forecasts and actuals and scores it."""

    tables: Mapping[str, pd.DataFrame]
    config: RunConfig
    settings: BacktestSettings
    start: date
    forecasts: ForecastCache
    actuals: Mapping[date, Mapping[tuple[str, str], float]]
    rates: pd.DataFrame
    budget: pd.Series
    trace: list[dict[str, object]] = field(default_factory=list)

    @property
    def measured_from(self) -> date:
        return self.start + timedelta(weeks=self.settings.warmup_weeks)

    def score(self, result: PolicyRun, seconds: float) -> dict[str, object]:
        """Outcomes of a finished run (after the warm-up), recorded in the trace."""
        row = policy_outcomes(after_warmup(result, self.measured_from), self.rates, self.budget)
        self.trace.append({**row, "seconds": seconds})
        return row

    def run(
        self,
        policy: Policy,
        parameter: float | None = None,
        config: RunConfig | None = None,
        tables: Mapping[str, pd.DataFrame] | None = None,
    ) -> tuple[PolicyRun, dict[str, object]]:
        started = time.perf_counter()
        result = replay(
            tables or self.tables,
            policy,
            config or self.config,
            start=self.start,
            weeks=self.settings.weeks,
            forecasts=self.forecasts,
            noise_seed=self.settings.seed if self.settings.lead_time_noise else None,
            parameter=parameter,
            actuals=self.actuals,
        )
        seconds = time.perf_counter() - started
        row = self.score(result, seconds)
        log.info(
            "%s p=%s: fill %.4f, cost %.0f (%.1f s)",
            policy.name,
            parameter,
            row["fill_rate"],
            row["total_cost"],
            seconds,
        )
        return result, row


def tune(
    evaluate: _Evaluator,
    make: Callable[[float], Policy],
    bounds: tuple[float, float],
    target: float,
    iterations: int,
    grid_points: int = 5,
) -> tuple[PolicyRun, dict[str, object], bool]:
    """A coarse grid over ``bounds`` (the cost-service curve), then bisection between the grid
    points that bracket the ``target`` fill rate (module docstring)."""
    lo, hi = bounds
    grid = [lo + (hi - lo) * k / max(1, grid_points - 1) for k in range(grid_points)]
    evaluated = [evaluate.run(make(p), p) for p in grid]

    def fill(run: tuple[PolicyRun, dict[str, object]]) -> float:
        return float(run[1]["fill_rate"])  # type: ignore[arg-type]

    above = [p for p, run in zip(grid, evaluated, strict=True) if fill(run) >= target]
    below = [p for p, run in zip(grid, evaluated, strict=True) if fill(run) < target and (not above or p < min(above))]
    if above and below:
        lo, hi = max(below), min(above)
        for _ in range(iterations):
            mid = (lo + hi) / 2
            run = evaluate.run(make(mid), mid)
            evaluated.append(run)
            lo, hi = (lo, mid) if fill(run) >= target else (mid, hi)
    reached = [r for r in evaluated if fill(r) >= target]
    if reached:
        best = min(reached, key=lambda r: float(r[1]["total_cost"]))  # type: ignore[arg-type]
        return best[0], best[1], True
    best = max(evaluated, key=fill)
    return best[0], best[1], False


def run_backtest(
    tables: Mapping[str, pd.DataFrame],
    config: RunConfig,
    settings: BacktestSettings,
    *,
    forecasts: ForecastCache | None = None,
    planner_run: PolicyRun | None = None,
) -> BacktestResult:
    """Replay the configured policies over the window; baselines tuned to the planner's fill rate.

    Args:
        tables: Typed, validated input tables (``demand_history`` through the window's end).
        config: Run configuration (the planner's settings and the cost rates).
        settings: Window, policies, noise and tuning.
        forecasts: Forecasts of the window made earlier for the same tables and config (reused).
        planner_run: The planner's run of an earlier backtest with the same tables, config and
            window (reused instead of replaying the planner again: benches that only change the
            baselines).
    """
    started = time.perf_counter()
    start = backtest_start(tables, settings)
    forecasts = forecasts or ForecastCache(config)
    evaluate = _Evaluator(
        tables,
        config,
        settings,
        start,
        forecasts,
        weekly_actuals(tables["demand_history"], start, settings.weeks),
        item_rates(tables["items"], config),
        overall_budget_by_week(tables.get("budgets"), start, settings.weeks),
    )
    runs: dict[str, PolicyRun] = {}
    rows: dict[str, dict[str, object]] = {}
    reached: dict[str, bool] = {}
    seconds: dict[str, float] = {}
    baseline = settings.baselines
    target: float | None = None
    if "planner" in settings.policies:
        t = time.perf_counter()
        if planner_run is not None:
            runs["planner"], rows["planner"] = planner_run, evaluate.score(planner_run, 0.0)
        else:
            runs["planner"], rows["planner"] = evaluate.run(PlannerPolicy(warm_start=settings.warm_start))
        target = float(rows["planner"]["fill_rate"])  # type: ignore[arg-type]
        for level in settings.service_levels:
            evaluate.run(PlannerPolicy(warm_start=settings.warm_start), level, *at_service_level(tables, config, level))
        seconds["planner"] = time.perf_counter() - t
    makers: dict[str, tuple[Callable[[float], Policy], float, tuple[float, float]]] = {
        "reorder_point": (
            lambda z: reorder_point_policy(z, baseline.review_weeks, baseline.count_commitments),
            baseline.reorder_point_z,
            settings.tuning.z_range,
        ),
        "weeks_of_cover": (
            lambda n: weeks_of_cover_policy(n, baseline.trigger_share, baseline.count_commitments),
            baseline.cover_weeks,
            settings.tuning.cover_range,
        ),
    }
    clairvoyant_solve: dict[str, object] = {}
    if CLAIRVOYANT in settings.policies:
        t = time.perf_counter()
        policy = ClairvoyantPolicy(tables["demand_history"], settings.weeks, settings.clairvoyant_time_limit_s)
        runs[CLAIRVOYANT], rows[CLAIRVOYANT] = evaluate.run(policy)
        assert policy.run is not None
        report = policy.run.result.report
        clairvoyant_solve = {
            "status": report.status.value,
            "objective": _finite(report.objective),
            "bound": _finite(report.best_bound),
            "gap": _finite(report.gap),
        }
        seconds[CLAIRVOYANT] = time.perf_counter() - t
    for name in ("reorder_point", "weeks_of_cover"):
        if name not in settings.policies:
            continue
        make, default, bounds = makers[name]
        t = time.perf_counter()
        if settings.tuning.enabled and target is not None:
            runs[name], rows[name], reached[name] = tune(
                evaluate, make, bounds, target, settings.tuning.iterations, settings.tuning.grid_points
            )
        else:
            runs[name], rows[name] = evaluate.run(make(default), default)
        seconds[name] = time.perf_counter() - t
    fva = forecast_vs_actual(forecasts, evaluate.actuals)
    bias, wape = forecast_errors(fva)
    measured = fva[pd.to_datetime(fva["week_start"]) >= pd.Timestamp(evaluate.measured_from)]
    outcomes = pd.DataFrame([rows[name] for name in runs], columns=list(OUTCOME_COLUMNS))
    outcomes["forecast_bias"], outcomes["forecast_wape"] = forecast_errors(measured)
    outcomes["reached_planner_fill_rate"] = [reached.get(name, name == "planner") for name in runs]
    full = pd.DataFrame(
        [policy_outcomes(run, evaluate.rates, evaluate.budget) for run in runs.values()], columns=list(OUTCOME_COLUMNS)
    )
    full["forecast_bias"], full["forecast_wape"] = bias, wape
    trace = pd.DataFrame(evaluate.trace)  # the configured planner run has no parameter: the configured targets
    points = frontier(trace)
    seconds["forecast"] = forecasts.seconds
    seconds["total"] = time.perf_counter() - started
    return BacktestResult(
        start=start,
        weeks=settings.weeks,
        warmup_weeks=settings.warmup_weeks,
        runs=runs,
        outcomes=outcomes,
        outcomes_full_window=full,
        tuning=trace,
        frontier=points,
        comparison=planner_against_rules(points),
        weekly=pd.concat([weekly_series(r, evaluate.rates) for r in runs.values()], ignore_index=True),
        forecast_actual=fva,
        seconds=seconds,
        forecasts=forecasts,
        clairvoyant_solve=clairvoyant_solve,
    )
