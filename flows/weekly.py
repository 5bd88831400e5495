"""The weekly buy-plan job as a Prefect 3 flow.

    validate inputs -> read the previous plans -> plan vs actual -> forecast -> build -> solve -> check
    -> publish -> summarize

Each task calls one plain function of ``planning`` (the same ones the CLI calls), so every step can
be run and tested without Prefect. Only the tasks that touch storage retry, with exponential
backoff, and only on storage errors: a broken input table, a bad configuration or a plan check
fails at once. The solve task has a timeout above the solver's own time limit, as a backstop for
a solver that never returns.

Outcomes:

* inputs break their contracts: the validation report is already next to the inputs
  (``check_inputs`` writes it), the flow attaches the rejection as artifacts and fails before
  forecasting; nothing is published.
* the solver stops at its time limit with a plan: the plan is published with status
  ``time_limit_with_plan`` and the summary says so.
* otherwise the summary (status, gap, spend vs budget, fill rate, exceptions, where the files
  are) is attached as a markdown and a table artifact and returned.

Run it locally with ``python -m flows run`` (see ``flows/__main__.py``) or deploy it with
``infra/prefect.yaml``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import Task, exponential_backoff
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from flows.summary import RunSummary, build_summary, failure_rows, rejection_markdown, summary_markdown, summary_rows
from planning.config import RunConfig, load_config
from planning.errors import (
    ConfigError,
    InputContractError,
    NoPlanError,
    PublishError,
    StorageError,
)
from planning.forecast import ForecastRun
from planning.optimize import OptimizeResult
from planning.pipeline import CheckedInputs, check_inputs
from planning.pipeline import compare_with_actuals as pipeline_compare
from planning.plan_vs_actual import PlanVsActual, PublishedWeek
from planning.problem import PlanningProblem, build_problem
from planning.publish import (
    LatestPointerConflictError,
    PublishResult,
    previous_plan_tables,
    publish_plan,
    published_weeks,
    week_generation,
)
from planning.run import PlanRun, finish_run, make_forecast, optimize_problem, plan_start
from planning.solve import NoPlanFoundError
from planning.storage import ConditionalWriteFailedError, ObjectNotFoundError, Storage, open_storage

DEFAULT_CONFIG = "configs/production.yaml"
SUMMARY_KEY = "buyplan-weekly-summary"
FIGURES_KEY = "buyplan-weekly-figures"
REJECTION_KEY = "buyplan-input-rejection"
FAILURES_KEY = "buyplan-input-failures"
SUMMARY_TABLES = ("metrics", "budget_usage", "exceptions", "plan_vs_actual")

IO_RETRIES = 3
IO_BACKOFF = exponential_backoff(backoff_factor=10)  # 10 s, 20 s, 40 s, each +-50 % jitter
IO_JITTER = 0.5
# Time the solve task allows beyond the solver's limit and backstop: compiling the model, the LP
# bound, the rounded start. Past it the task fails as TimedOut instead of hanging the worker.
SOLVE_TIMEOUT_MARGIN_S = 120.0

# Storage errors that a retry cannot fix: a missing object or a lost conditional create.
_PERMANENT = (ObjectNotFoundError, ConditionalWriteFailedError, LatestPointerConflictError)

R = TypeVar("R")


class PlanParameters(BaseModel):
    """The flow's parameters, checked before anything runs.

    Attributes:
        as_of: Monday the plan starts; default the Monday of the current week in ``timezone``.
        config: YAML run configuration (a path on the worker).
        inputs: Folder or ``s3://bucket/prefix`` with the input tables; default the config's.
        outputs: Folder or ``s3://bucket/prefix`` to publish into; default the config's.
        endpoint_url: S3-compatible endpoint (MinIO); default the config's (empty = AWS).
        timezone: IANA time zone that decides which week "the current week" is.
        solve_timeout_s: Hard limit on the solve task; default the solver's time limit plus its
            backstop plus a margin.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: date | None = None
    config: str = DEFAULT_CONFIG
    inputs: str | None = None
    outputs: str | None = None
    endpoint_url: str | None = None
    timezone: str = "UTC"
    solve_timeout_s: float | None = Field(None, gt=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin") from None
        return name

    def start(self, configured: date | None = None, now: datetime | None = None) -> date:
        """The plan's Monday: of ``as_of``, else of the configured date, else of today in ``timezone``."""
        zone = ZoneInfo(self.timezone)
        day = self.as_of or configured or (now or datetime.now(zone)).astimezone(zone).date()
        return plan_start(day)

    def run_config(self, now: datetime | None = None) -> RunConfig:
        """The YAML configuration with the as-of date and storage locations of this run."""
        base = load_config(self.config)
        storage = {
            "inputs": self.inputs or base.storage.inputs,
            "outputs": self.outputs or base.storage.outputs,
            "endpoint_url": self.endpoint_url or base.storage.endpoint_url,
        }
        # Validated again as a whole, so a bad override is reported like a bad YAML key.
        data = {
            **base.model_dump(),
            "as_of": self.start(base.as_of, now),
            "storage": {**base.storage.model_dump(), **storage},
        }
        return RunConfig.model_validate(data)

    def solve_timeout(self, config: RunConfig) -> float:
        if self.solve_timeout_s is not None:
            return self.solve_timeout_s
        return config.solver.time_limit_s + config.solver.backstop_s + SOLVE_TIMEOUT_MARGIN_S


def is_transient(error: BaseException | None) -> bool:
    """Whether a retry may succeed: storage and publish failures, except the permanent ones."""
    if error is None or isinstance(error, _PERMANENT):
        return False
    return isinstance(error, (StorageError, PublishError))


def retry_on_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """``retry_condition_fn`` for the I/O tasks: retry storage hiccups, not contract failures."""
    return is_transient(state.data if isinstance(state.data, BaseException) else None)


def io_task(name: str) -> Callable[[Callable[..., R]], Task[..., R]]:
    """A task that reads or writes storage: retried with backoff on transient storage errors."""
    return task(
        name=name,
        retries=IO_RETRIES,
        retry_delay_seconds=IO_BACKOFF,
        retry_jitter_factor=IO_JITTER,
        retry_condition_fn=retry_on_transient,
        persist_result=False,  # results are DataFrames and solver models: kept in memory only
    )


def compute_task(name: str) -> Callable[[Callable[..., R]], Task[..., R]]:
    """A task that only computes: never retried, since the same inputs fail the same way."""
    return task(name=name, persist_result=False)


@dataclass(frozen=True, slots=True)
class PreviousState:
    """What the outputs held before planning: the week's pointer generation, the latest run of each
    recent earlier week (for plan against actual) and last week's plan (a warm start)."""

    week_generation: int
    published: Sequence[PublishedWeek] = ()
    plan: tuple[pd.DataFrame, pd.DataFrame] | None = None  # last week's purchase and transfer plans


@io_task("validate-inputs")
def validate_inputs(inputs: Storage, config: RunConfig) -> CheckedInputs:
    """Load and validate the input tables; the report lands next to the inputs either way."""
    checked = check_inputs(inputs, config)
    get_run_logger().info("%s Report: %s", checked.report.summary_line(), checked.report_uri)
    return checked


@io_task("read-previous-plan")
def read_previous(outputs: Storage, start: date, weeks: int = 1) -> PreviousState:
    """The week's latest-pointer generation (to detect a racing run), the last ``weeks`` weeks'
    published projections and last week's plan."""
    return PreviousState(
        week_generation(outputs, start),
        published_weeks(outputs, start, weeks),
        previous_plan_tables(outputs, start),
    )


@compute_task("plan-vs-actual")
def compare_with_actuals(
    published: Sequence[PublishedWeek], tables: dict[str, pd.DataFrame], start: date, config: RunConfig
) -> PlanVsActual:
    """Last week's published projection against this week's inputs, and the realised forecast errors."""
    record = pipeline_compare(published, tables, start, config)
    get_run_logger().info("plan against actual: %s", record.note)
    return record


@compute_task("forecast")
def forecast(
    tables: dict[str, pd.DataFrame], start: date, config: RunConfig, record: PlanVsActual | None = None
) -> ForecastRun:
    """The forecast, its error spread blended with the published plans' realised errors."""
    return make_forecast(tables, start, config, record.errors if record is not None else None)


@compute_task("build-problem")
def build(
    tables: dict[str, pd.DataFrame], forecast_run: ForecastRun, config: RunConfig, start: date
) -> PlanningProblem:
    return build_problem(tables, forecast_run.forecast, config, start)


@compute_task("solve")
def solve(
    problem: PlanningProblem,
    config: RunConfig,
    previous_plan: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> OptimizeResult:
    """Solve within the configured work limits; a plan is returned, nothing is not.

    Last week's plan is offered to column generation as a start (``planning.warm_start``)."""
    result = optimize_problem(problem, config, previous_plan)
    get_run_logger().info("%s", result.report.summary_line())
    if not result.report.has_plan:
        raise NoPlanFoundError(f"no plan within the time limit: {result.report.summary_line()}", result.report)
    return result


@compute_task("check-plan")
def check(
    problem: PlanningProblem,
    result: OptimizeResult,
    forecast_run: ForecastRun,
    config: RunConfig,
    start: date,
    record: PlanVsActual | None = None,
) -> PlanRun:
    """Plan tables from the solution, checked against the plan invariants, with budget prices."""
    return finish_run(start, problem, result, forecast_run, config, plan_vs_actual=record)


@io_task("publish")
def publish(
    outputs: Storage, run: PlanRun, checked: CheckedInputs, config: RunConfig, observed_generation: int
) -> PublishResult:
    """Publish the run folder, then move the latest pointers (idempotent: a retry completes it)."""
    result = publish_plan(outputs, run, checked.report, config, observed_generation=observed_generation)
    get_run_logger().info("published %s (latest: %s)", result.uri, result.latest_overall)
    return result


@io_task("read-published-tables")
def read_published(outputs: Storage, prefix: str, names: Sequence[str] = SUMMARY_TABLES) -> dict[str, pd.DataFrame]:
    """The published tables the summary uses; a table this version does not publish is skipped."""
    tables = {}
    for name in names:
        key = f"{prefix}/{name}.parquet"
        if outputs.exists(key):
            tables[name] = pd.read_parquet(io.BytesIO(outputs.read_bytes(key)))
    return tables


@compute_task("summarize")
def summarize(
    run: PlanRun, published: PublishResult, checked: CheckedInputs, tables: dict[str, pd.DataFrame]
) -> RunSummary:
    """Attach the run summary to the flow run as a markdown and a table artifact."""
    summary = build_summary(
        run,
        run_id=published.run_id,
        plan_uri=published.uri,
        validation_report_uri=checked.report_uri,
        latest=published.latest_overall,
        tables=tables,
    )
    description = f"Buy plan for the week of {summary.as_of}: {summary.status}"
    create_markdown_artifact(markdown=summary_markdown(summary), key=SUMMARY_KEY, description=description)
    create_table_artifact(table=summary_rows(summary), key=FIGURES_KEY, description=description)
    return summary


def report_rejection(error: InputContractError) -> None:
    """Attach the rejected inputs' failures to the flow run; the full report is next to the inputs."""
    description = f"Inputs rejected: {len(error.report.errors)} rule(s) broken"
    create_markdown_artifact(
        markdown=rejection_markdown(error.report, error.report_location), key=REJECTION_KEY, description=description
    )
    create_table_artifact(table=failure_rows(error.report), key=FAILURES_KEY, description=description)


def report_failure(stage: str, error: Exception) -> None:
    """A short markdown artifact for a run that stopped without a plan."""
    create_markdown_artifact(
        markdown=f"# No plan published: {stage} failed\n\n{error}\n",
        key=SUMMARY_KEY,
        description=f"No plan: {stage} failed",
    )


@flow(
    name="buyplan-weekly",
    description="Validate a brand's inventory data, plan the week's purchases and publish the checked plan.",
    validate_parameters=True,
)
def weekly_plan(
    as_of: date | None = None,
    config: str = DEFAULT_CONFIG,
    inputs: str | None = None,
    outputs: str | None = None,
    endpoint_url: str | None = None,
    timezone: str = "UTC",
    solve_timeout_s: float | None = None,
) -> RunSummary:
    """Plan one week: validate, forecast, build, solve, check, publish; return the run summary.

    Args:
        as_of: Monday the plan starts; default the Monday of the current week in ``timezone``.
        config: YAML run configuration, a path on the worker.
        inputs: Folder or s3://bucket/prefix with the input tables; default the config's.
        outputs: Folder or s3://bucket/prefix to publish into; default the config's.
        endpoint_url: S3-compatible endpoint (MinIO); default the config's, empty = AWS.
        timezone: IANA time zone deciding which week is "the current week".
        solve_timeout_s: Hard limit on the solve task; default time limit + backstop + 120 s.
    """
    try:
        params = PlanParameters(
            as_of=as_of,
            config=config,
            inputs=inputs,
            outputs=outputs,
            endpoint_url=endpoint_url,
            timezone=timezone,
            solve_timeout_s=solve_timeout_s,
        )
        run_config = params.run_config()
    except (ConfigError, ValidationError) as error:
        failure = error if isinstance(error, ConfigError) else ConfigError(f"invalid flow parameters: {error}")
        report_failure("configuration", failure)
        raise failure from None
    s = run_config.storage
    inputs_store = open_storage(s.inputs, endpoint_url=s.endpoint_url, region=s.region)
    outputs_store = open_storage(s.outputs, endpoint_url=s.endpoint_url, region=s.region)
    try:
        checked = validate_inputs(inputs_store, run_config)
    except InputContractError as error:
        report_rejection(error)
        raise
    start = plan_start(checked.report.as_of or params.start(run_config.as_of))
    previous = read_previous(outputs_store, start, max(run_config.forecast.realised_error_weeks, 1))
    tables = {name: table.typed for name, table in checked.tables.items()}
    record = compare_with_actuals(previous.published, tables, start, run_config)
    forecast_run = forecast(tables, start, run_config, record)
    problem = build(tables, forecast_run, run_config, start)
    try:
        result = solve.with_options(timeout_seconds=params.solve_timeout(run_config))(
            problem, run_config, previous.plan
        )
    except NoPlanError as error:
        report_failure("solve", error)
        raise
    run = check(problem, result, forecast_run, run_config, start, record)
    published = publish(outputs_store, run, checked, run_config, previous.week_generation)
    return summarize(run, published, checked, read_published(outputs_store, published.prefix))
