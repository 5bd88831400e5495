"""The clairvoyant plan: the planner's model solved once over the whole window, demand known.

At the window's first Monday the clairvoyant builds one planning problem from the tables known
then (stock, open orders, options, budgets, closures), with a horizon of the whole window and,
in place of a forecast, the actual demand of every window week per SKU x location x channel
(error spread 0, so no safety stock). Its plan is solved once and executed as planned: each
replayed week it releases the plan's lines ordered that week and the transfers shipped that
week, and never re-plans. The simulation then scores it like any policy.

It is the limit a policy could reach with perfect information about demand: every policy
decides on forecasts, the clairvoyant on the outcome. Two caveats keep it honest as a limit:

* its plan is the solver's best within ``clairvoyant_time_limit_s``, not a proven optimum, so a
  policy may land below it; the solve's own bound is reported with it (``bound``), and nothing
  that orders within the same model can cost less than that bound in the model's terms;
* it does not know lead-time draws (with ``lead_time_noise`` its orders can land late like any
  policy's), and the model's objective is not the simulation's cost (the model also prices
  safety-stock and service shortfalls and credits closing stock), so the comparison is of the
  simulated outcomes, as for every other policy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import pandas as pd

from planning.backtest.policies import WeekView, week_decisions
from planning.backtest.settings import CLAIRVOYANT
from planning.backtest.simulate import Decisions
from planning.config import RunConfig
from planning.forecast.baseline import FORECAST_COLUMNS, Forecast, weekly_history
from planning.problem import PlanningProblem, build_problem
from planning.run import PlanRun, finish_run, optimize_problem
from planning.solve import NoPlanFoundError


def actual_demand_forecast(history: pd.DataFrame, start: date, weeks: int) -> Forecast:
    """The window's actual demand as a forecast: week k = the k-th Monday from ``start``, spread 0.

    Returns (negative units) net against the week's sales, as the forecast engine counts them;
    a series-week with no sale has no row (no demand).
    """
    first, end = pd.Timestamp(start), pd.Timestamp(start + timedelta(weeks=weeks))
    window = history[(history["date"] >= first) & (history["date"] < end)]
    weekly = weekly_history(window)
    weekly = weekly[weekly["units"] > 0]
    frame = weekly.assign(
        week=((weekly["week_start"] - first).dt.days // 7).astype(int),
        units_std=0.0,
    )
    return Forecast(frame=frame[list(FORECAST_COLUMNS)].reset_index(drop=True), method="actual demand")


def clairvoyant_config(config: RunConfig, weeks: int, time_limit_s: float) -> RunConfig:
    """``config`` with the horizon over the whole window and the one solve's time limit."""
    frozen = min(config.horizon.frozen_weeks, weeks)
    horizon = config.horizon.model_copy(update={"weeks": weeks, "frozen_weeks": frozen})
    solver = config.solver.model_copy(update={"time_limit_s": time_limit_s})
    return config.model_copy(update={"horizon": horizon, "solver": solver})


@dataclass(slots=True)
class ClairvoyantPolicy:
    """Solves once at the first replayed week (module docstring), then releases its plan week by week."""

    history: pd.DataFrame  # demand_history through the window's end (the actuals)
    weeks: int  # the window
    time_limit_s: float
    name: str = CLAIRVOYANT
    run: PlanRun | None = None
    problem: PlanningProblem | None = None
    first_week: date | None = None

    def decide(self, view: WeekView) -> Decisions:
        if self.run is None or self.problem is None or self.first_week is None:
            self._solve(view)
        assert self.run is not None and self.problem is not None and self.first_week is not None
        week = (view.week_start - self.first_week).days // 7
        return week_decisions(self.run, self.problem, week)

    def _solve(self, view: WeekView) -> None:
        config = clairvoyant_config(view.config, self.weeks, self.time_limit_s)
        demand = actual_demand_forecast(self.history, view.week_start, self.weeks)
        problem = build_problem(view.tables, demand, config, view.week_start)
        result = optimize_problem(problem, config)
        if not result.report.has_plan:
            raise NoPlanFoundError(
                f"clairvoyant plan from {view.week_start}: no plan within {self.time_limit_s:.0f} s: "
                f"{result.report.summary_line()}; raise backtest.clairvoyant_time_limit_s",
                result.report,
            )
        self.run = finish_run(view.week_start, problem, result, replace(view.forecast, forecast=demand), config)
        self.problem, self.first_week = problem, view.week_start

    @property
    def bound(self) -> float | None:
        """The solve's proven lower bound on the model's objective (None before the solve)."""
        return None if self.run is None else self.run.result.report.best_bound
