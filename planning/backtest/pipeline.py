"""The backtest job's steps as plain functions, shared by ``buyplan backtest`` and the Prefect flow.

Backtest inputs are the canonical tables as known at the window's first Monday, except that
``demand_history`` runs through the window (the actuals). They are validated by the weekly
run's own ``planning.pipeline.check_inputs``, at the Monday after the last history day (so the
history rule "dated before the as-of" holds for the actuals), with the open-order lateness
limit widened by the weeks between the window start and that Monday (open orders are as of
the start).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from data_contracts.tables import DEMAND_HISTORY
from planning.backtest.engine import BacktestResult, backtest_start, run_backtest
from planning.backtest.publish import PublishedBacktest, inputs_digest, publish_backtest
from planning.backtest.settings import BacktestSettings
from planning.config import RunConfig
from planning.errors import ConfigError
from planning.inputs import build_input_table
from planning.pipeline import CheckedInputs, check_inputs
from planning.storage import Storage, read_table

log = logging.getLogger(__name__)


def history_end(inputs: Storage) -> date:
    """The Monday after the last day of ``demand_history`` (the day a weekly run would plan)."""
    loaded = read_table(inputs, DEMAND_HISTORY.name)
    if loaded is None:
        raise ConfigError(f"{inputs.uri} has no demand_history table: a backtest needs the history of its window")
    dates = build_input_table(DEMAND_HISTORY, loaded).typed["date"].dropna()
    if dates.empty:
        raise ConfigError(f"{inputs.uri}: demand_history has no dated rows")
    last = pd.Timestamp(dates.max()).date()
    return last + timedelta(days=7 - last.weekday())


def validation_config(config: RunConfig, start: date, end: date) -> RunConfig:
    """``config`` with the as-of at ``end`` and the open-order lateness widened by ``end - start``."""
    late = config.validation.open_order_max_days_late + max(0, (end - start).days)
    validation = config.validation.model_copy(update={"open_order_max_days_late": late})
    return config.model_copy(update={"as_of": end, "validation": validation})


def check_backtest_inputs(inputs: Storage, config: RunConfig, settings: BacktestSettings) -> CheckedInputs:
    """Validate backtest inputs (module docstring); raises ``InputContractError`` like a weekly run."""
    end = history_end(inputs)
    start = settings.start or end - timedelta(weeks=settings.weeks)  # the snapshot decides below
    checked = check_inputs(inputs, validation_config(config, start, end))
    typed = {name: table.typed for name, table in checked.tables.items()}
    start = backtest_start(typed, settings)
    if start + timedelta(weeks=settings.weeks) > end:
        raise ConfigError(
            f"the window {start} + {settings.weeks} weeks runs past the demand history (last week starts "
            f"{end - timedelta(weeks=1)}): shorten --weeks or move --start earlier"
        )
    return checked


@dataclass(frozen=True, slots=True)
class BacktestRun:
    result: BacktestResult
    published: PublishedBacktest


def backtest_and_publish(
    checked: CheckedInputs, outputs: Storage, config: RunConfig, settings: BacktestSettings
) -> BacktestRun:
    """Run the backtest on validated inputs and publish it under ``backtests/``."""
    typed = {name: table.typed for name, table in checked.tables.items()}
    result = run_backtest(typed, config, settings)
    digest = inputs_digest({t.table: pd.DataFrame({"sha256": [t.checksum]}) for t in checked.report.tables})
    notes = {"inputs": checked.report.inputs_uri}
    published = publish_backtest(outputs, result, config, settings, digest, notes)
    log.info("backtest published to %s", published.uri)
    return BacktestRun(result, published)
