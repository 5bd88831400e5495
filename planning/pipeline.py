"""The weekly job's steps as plain functions, shared by the CLI and the Prefect flows.

Each step takes storage handles and a ``RunConfig`` and returns values; none of them reads
the environment: validate the inputs, then plan and publish.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from planning.config import RunConfig
from planning.inputs import InputTable, load_input_tables
from planning.plan_vs_actual import PlanVsActual, PublishedWeek, plan_vs_actual
from planning.publish import (
    PublishResult,
    previous_plan_tables,
    publish_plan,
    published_weeks,
    week_generation,
)
from planning.publish_settings import PublishSettings
from planning.run import PlanRun, plan_start, plan_week
from planning.storage import Storage
from planning.validation import ValidationReport, require_valid, validate_inputs

log = logging.getLogger(__name__)

REPORT_JSON = "validation_report.json"
REPORT_HTML = "validation_report.html"


@dataclass(frozen=True, slots=True)
class CheckedInputs:
    """Input tables that passed their contracts, with the report that says so."""

    tables: dict[str, InputTable]
    report: ValidationReport
    report_uri: str


def write_validation_report(report: ValidationReport, inputs: Storage, folder: str) -> str:
    """Write the report as JSON and HTML next to the inputs; returns the HTML page's URI."""
    inputs.write_bytes(f"{folder}/{REPORT_JSON}", report.to_json().encode())
    inputs.write_bytes(f"{folder}/{REPORT_HTML}", report.to_html().encode())
    return inputs.uri_for(f"{folder}/{REPORT_HTML}")


def check_inputs(inputs: Storage, config: RunConfig) -> CheckedInputs:
    """Load and validate the input tables; raise ``InputContractError`` if any rule fails.

    The report is written next to the inputs whether or not they are valid, so a data owner
    always finds the latest verdict where they put the files.
    """
    tables = load_input_tables(inputs)
    report = validate_inputs(
        tables,
        inputs_uri=inputs.uri,
        as_of=config.as_of,
        open_order_max_days_late=config.validation.open_order_max_days_late,
        horizon_weeks=config.horizon.weeks,
    )
    report_uri = write_validation_report(report, inputs, config.validation.report_folder)
    log.info("%s (%.1f s)", report.summary_line(), report.seconds)
    require_valid(report, report_uri)
    return CheckedInputs(tables=tables, report=report, report_uri=report_uri)


def read_plan_vs_actual(
    outputs: Storage, tables: dict[str, pd.DataFrame], start: date, config: RunConfig
) -> PlanVsActual:
    """Last week's published projection against this week's inputs, and the realised errors of the
    last ``forecast.realised_error_weeks`` published runs (``planning.plan_vs_actual``)."""
    published = published_weeks(outputs, start, max(config.forecast.realised_error_weeks, 1))
    return compare_with_actuals(published, tables, start, config)


def compare_with_actuals(
    published: Sequence[PublishedWeek], tables: dict[str, pd.DataFrame], start: date, config: RunConfig
) -> PlanVsActual:
    """``planning.plan_vs_actual.plan_vs_actual``, with the feedback off when
    ``forecast.realised_error_weeks`` is 0 (the comparison is still published)."""
    record = plan_vs_actual(published, tables, start)
    if config.forecast.realised_error_weeks == 0:
        record = dataclasses.replace(record, errors=record.errors.iloc[0:0])
    log.info("plan against actual: %s; realised errors for %d SKU x locations", record.note, len(record.errors))
    return record


@dataclass(frozen=True, slots=True)
class PublishedPlan:
    """A plan run and where it was published."""

    run: PlanRun
    uri: str
    result: PublishResult | None = None  # run id, week generation, whether it is the overall latest


def plan_and_publish(
    checked: CheckedInputs, outputs: Storage, config: RunConfig, settings: PublishSettings | None = None
) -> PublishedPlan:
    """Plan the validated inputs and publish the checked plan (tables, files, manifest, markers, latest).

    Last week's published projection is compared with these inputs first (``plan_vs_actual``,
    published with the run); the realised errors of the recent published runs feed the safety stock.

    The week's pointer generation is read before planning, so a run for the same week that
    publishes while this one solves wins "latest" and this one raises
    ``LatestPointerConflictError`` instead of silently replacing it.
    """
    if checked.report.as_of is None:
        raise ValueError("the inputs carry no as-of date: set as_of in the configuration")
    typed = {name: table.typed for name, table in checked.tables.items()}
    start = plan_start(checked.report.as_of)
    observed = week_generation(outputs, start)
    track_record = read_plan_vs_actual(outputs, typed, start, config)
    last_plan = previous_plan_tables(outputs, start)
    run = plan_week(typed, checked.report.as_of, config, plan_vs_actual=track_record, previous_plan=last_plan)
    log.info("%s", run.report.summary_line())
    result = publish_plan(
        outputs, run, checked.report, config, settings=settings or config.publish, observed_generation=observed
    )
    return PublishedPlan(run=run, uri=result.uri, result=result)
