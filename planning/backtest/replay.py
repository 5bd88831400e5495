"""The rolling-horizon replay: each week, what was known then -> a policy's orders -> what happened.

For every week t of the window (Monday w_t):
  1. the inputs as known at w_t: demand history strictly before w_t, ``inventory`` = the
     simulated stock at w_t, ``open_orders`` = the simulated pipeline (lines firmed in earlier
     weeks and still open, at their expected arrival), every other table as given (budgets,
     items, suppliers, closures and events are plans known ahead). Both rebuilt tables go
     through the contract's own parsing (``planning.inputs.typed_frame``), so they are typed
     exactly as a weekly run reads them;
  2. the forecast from that history (``planning.run.make_forecast``) - made once per week and
     shared by every policy, since the recorded history (not the simulated sales) is what the
     brand observed: only the ordering policy differs between policies;
  3. the planning problem from those tables and that forecast, then the policy's decisions;
  4. the simulation of week t on the ACTUAL demand of the full history (``simulate``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from data_contracts.tables import CONTRACTS_BY_NAME
from planning.backtest.policies import Policy, WeekView
from planning.backtest.simulate import Simulator, StockPoint
from planning.config import RunConfig
from planning.forecast import ForecastRun
from planning.inputs import to_text_frame, typed_frame
from planning.problem import build_problem, rows_of
from planning.run import make_forecast

log = logging.getLogger(__name__)


def typed_table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A frame parsed by its input contract, as ``planning.inputs`` types a loaded table."""
    return typed_frame(to_text_frame(frame.reset_index(drop=True), is_text=False), CONTRACTS_BY_NAME[name])


def typed_tables(raw: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every table of a generated data set (demo, M5) typed by its contract."""
    return {name: typed_table(name, frame) for name, frame in raw.items()}


def weekly_actuals(history: pd.DataFrame, start: date, weeks: int) -> dict[date, dict[StockPoint, float]]:
    """Actual units per week and stock point (all channels of a location pooled; returns count as 0)."""
    first, end = pd.Timestamp(start), pd.Timestamp(start + timedelta(weeks=weeks))
    window = history[(history["date"] >= first) & (history["date"] < end)]
    monday = window["date"] - pd.to_timedelta(window["date"].dt.day_of_week, unit="D")
    grouped = window.assign(week_start=monday).groupby(["week_start", "sku", "location"], observed=True)["units"].sum()
    actuals: dict[date, dict[StockPoint, float]] = {start + timedelta(weeks=k): {} for k in range(weeks)}
    for row in rows_of(grouped.reset_index()):
        actuals[row.week_start.date()][(str(row.sku), str(row.location))] = max(0.0, float(row.units))
    return actuals


def tables_as_known(tables: Mapping[str, pd.DataFrame], week_start: date, sim: Simulator) -> dict[str, pd.DataFrame]:
    """The input tables as a weekly run at ``week_start`` would have read them (module docstring)."""
    known = dict(tables)
    history = tables["demand_history"]
    known["demand_history"] = history[history["date"] < pd.Timestamp(week_start)]
    known["inventory"] = typed_table("inventory", sim.inventory_rows(week_start))
    known["open_orders"] = typed_table("open_orders", sim.open_order_rows(week_start))
    external = tables.get("external_forecast")
    if external is not None:  # a forecast made elsewhere covers the weeks ahead only
        known["external_forecast"] = external[external["week_start"] >= pd.Timestamp(week_start)]
    return known


@dataclass(slots=True)
class ForecastCache:
    """The week's forecast, made once from the known history and shared by every policy."""

    config: RunConfig
    runs: dict[date, ForecastRun] = field(default_factory=dict)
    seconds: float = 0.0

    def get(self, week_start: date, known: Mapping[str, pd.DataFrame]) -> ForecastRun:
        if week_start not in self.runs:
            started = time.perf_counter()
            self.runs[week_start] = make_forecast(dict(known), week_start, self.config)
            self.seconds += time.perf_counter() - started
        return self.runs[week_start]


@dataclass(frozen=True, slots=True)
class PolicyRun:
    """Everything one policy did over the window."""

    policy: str
    parameter: float | None  # the tuned service parameter (z or N), None for the planner
    stock: pd.DataFrame  # simulate.SIMULATION_COLUMNS for every week
    purchases: pd.DataFrame  # simulate.PURCHASE_LOG_COLUMNS
    transfers: pd.DataFrame  # simulate.TRANSFER_LOG_COLUMNS
    cash: pd.DataFrame  # week_start, cash_paid
    seconds: dict[str, float]
    # week_start, lines_changed: the policy's nervousness (``Decisions.plan_changes``); weeks it
    # had no earlier plan to compare with, or plans no further than the week, are left out.
    plan_changes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["week_start", "lines_changed"]))


def replay(
    tables: Mapping[str, pd.DataFrame],
    policy: Policy,
    config: RunConfig,
    *,
    start: date,
    weeks: int,
    forecasts: ForecastCache | None = None,
    noise_seed: int | None = None,
    parameter: float | None = None,
    actuals: Mapping[date, Mapping[StockPoint, float]] | None = None,
) -> PolicyRun:
    """Replay ``policy`` week by week from ``start`` (a Monday) over ``weeks`` weeks.

    Args:
        tables: Typed, validated input tables; ``demand_history`` runs through the window (the
            actuals) and ``inventory`` / ``open_orders`` hold the position at ``start``.
        policy: The ordering policy.
        config: Run configuration of the planner and of the costs.
        start: Monday of the first replayed week.
        weeks: Number of weeks.
        forecasts: Shared forecast cache (one is made if absent).
        noise_seed: Lead-time noise seed (None: lead times hold).
        parameter: The policy's service parameter, recorded with the run.
        actuals: Precomputed ``weekly_actuals`` (computed if absent).
    """
    if start.weekday() != 0:
        raise ValueError(f"the backtest starts on a Monday, got {start} ({start:%A})")
    forecasts = forecasts or ForecastCache(config)
    actuals = actuals if actuals is not None else weekly_actuals(tables["demand_history"], start, weeks)
    sim = Simulator.from_tables(
        tables["inventory"], tables.get("open_orders"), backorders=config.costs.backorders, noise_seed=noise_seed
    )
    stock, purchases, transfers, cash, changes = [], [], [], [], []
    seconds = {"problem": 0.0, "decide": 0.0, "simulate": 0.0}
    for k in range(weeks):
        week = start + timedelta(weeks=k)
        known = tables_as_known(tables, week, sim)
        forecast = forecasts.get(week, known)  # its time is the cache's
        t = time.perf_counter()
        problem = build_problem(known, forecast.forecast, config, week)
        seconds["problem"] += time.perf_counter() - t
        t = time.perf_counter()
        decisions = policy.decide(WeekView(week, known, forecast, problem, config))
        seconds["decide"] += time.perf_counter() - t
        t = time.perf_counter()
        outcome = sim.step(week, decisions, actuals.get(week, {}))
        seconds["simulate"] += time.perf_counter() - t
        stock.append(outcome.stock)
        purchases.append(outcome.purchases)
        transfers.append(outcome.transfers)
        cash.append({"week_start": week, "cash_paid": outcome.cash_paid})
        if decisions.plan_changes is not None:
            changes.append({"week_start": week, "lines_changed": decisions.plan_changes})
        log.info(
            "%s week %s: %d lines, %d transfers", policy.name, week, len(decisions.purchases), len(decisions.transfers)
        )
    return PolicyRun(
        policy=policy.name,
        parameter=parameter,
        stock=pd.concat(stock, ignore_index=True),
        purchases=_concat(purchases),
        transfers=_concat(transfers),
        cash=pd.DataFrame(cash, columns=["week_start", "cash_paid"]),
        seconds=seconds,
        plan_changes=pd.DataFrame(changes, columns=["week_start", "lines_changed"]),
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    non_empty = [f for f in frames if not f.empty]
    return pd.concat(non_empty, ignore_index=True) if non_empty else frames[0]
