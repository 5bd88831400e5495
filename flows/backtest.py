"""The backtest as a Prefect 3 flow: the planner against ERP-style reorder rules on past weeks.

    validate inputs -> replay (planner, baselines tuned to its fill rate) -> publish -> summarize

Each task calls one plain function of ``planning.backtest`` (the same ones ``buyplan backtest``
calls). Validation and publishing touch storage and retry on transient storage errors (the
weekly flow's ``io_task``); the replay only computes and is never retried. The summary (fill
rate, stock and cost per policy, where the files are) is attached as markdown and table
artifacts. Results land under ``backtests/`` in the outputs, apart from the weekly plans.

    from flows.backtest import backtest_flow
    backtest_flow(config="configs/backtest_m5.yaml", inputs="...", outputs="...")
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.weekly import compute_task, io_task, report_rejection
from planning.backtest.engine import BacktestResult, run_backtest
from planning.backtest.pipeline import check_backtest_inputs
from planning.backtest.publish import PublishedBacktest, inputs_digest, publish_backtest
from planning.backtest.settings import BacktestSettings, PolicyName, load_backtest_config
from planning.config import RunConfig
from planning.errors import ConfigError, InputContractError
from planning.pipeline import CheckedInputs
from planning.storage import Storage, open_storage

DEFAULT_CONFIG = "configs/backtest_m5.yaml"
SUMMARY_KEY = "buyplan-backtest-summary"
OUTCOMES_KEY = "buyplan-backtest-outcomes"


class BacktestParameters(BaseModel):
    """The flow's parameters, checked before anything runs (None = the config file's value)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    config: str = DEFAULT_CONFIG
    inputs: str | None = None
    outputs: str | None = None
    endpoint_url: str | None = None
    start: date | None = None
    weeks: int | None = Field(None, ge=1)
    policies: tuple[PolicyName, ...] | None = None

    def resolve(self) -> tuple[RunConfig, BacktestSettings]:
        """The config file with this run's storage locations and window."""
        config, settings = load_backtest_config(self.config)
        storage = config.storage.model_copy(
            update={
                "inputs": self.inputs or config.storage.inputs,
                "outputs": self.outputs or config.storage.outputs,
                "endpoint_url": self.endpoint_url or config.storage.endpoint_url,
            }
        )
        window = {k: v for k, v in (("start", self.start), ("weeks", self.weeks), ("policies", self.policies)) if v}
        settings = BacktestSettings.model_validate({**settings.model_dump(), **window})
        return config.model_copy(update={"storage": storage}), settings


@io_task("validate-backtest-inputs")
def validate(inputs: Storage, config: RunConfig, settings: BacktestSettings) -> CheckedInputs:
    checked = check_backtest_inputs(inputs, config, settings)
    get_run_logger().info("%s Report: %s", checked.report.summary_line(), checked.report_uri)
    return checked


@compute_task("replay")
def replay_policies(checked: CheckedInputs, config: RunConfig, settings: BacktestSettings) -> BacktestResult:
    """Every policy over the window; the baselines tuned to the planner's fill rate."""
    result = run_backtest({name: t.typed for name, t in checked.tables.items()}, config, settings)
    get_run_logger().info("replayed %d weeks in %.0f s", result.weeks, result.seconds.get("total", 0.0))
    return result


@io_task("publish-backtest")
def publish(
    outputs: Storage, result: BacktestResult, checked: CheckedInputs, config: RunConfig, settings: BacktestSettings
) -> PublishedBacktest:
    digest = inputs_digest({t.table: pd.DataFrame({"sha256": [t.checksum]}) for t in checked.report.tables})
    published = publish_backtest(outputs, result, config, settings, digest, {"inputs": checked.report.inputs_uri})
    get_run_logger().info("published %s", published.uri)
    return published


def summary_markdown(result: BacktestResult, published: PublishedBacktest) -> str:
    lines = [
        f"# Backtest: {result.weeks} weeks from {result.start}",
        "",
        "| policy | parameter | fill rate | avg stock value | total cost | reached planner fill rate |",
        "|---|---|---|---|---|---|",
    ]
    rows: list[Any] = list(result.outcomes.itertuples(index=False))
    for row in rows:
        parameter = "" if pd.isna(row.parameter) else f"{row.parameter:.2f}"
        lines.append(
            f"| {row.policy} | {parameter} | {row.fill_rate:.2%} | {row.average_inventory_value:,.0f} "
            f"| {row.total_cost:,.0f} | {row.reached_planner_fill_rate} |"
        )
    lines += ["", f"Published: `{published.uri}` (report.html inside)."]
    return "\n".join(lines)


@compute_task("summarize-backtest")
def summarize(result: BacktestResult, published: PublishedBacktest) -> dict[str, Any]:
    description = f"Backtest {published.run_id}: {result.weeks} weeks from {result.start}"
    create_markdown_artifact(markdown=summary_markdown(result, published), key=SUMMARY_KEY, description=description)
    columns = ["policy", "parameter", "fill_rate", "average_inventory_value", "total_cost"]
    frame = result.outcomes[columns].astype(object).where(result.outcomes[columns].notna(), None)
    records = [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]
    create_table_artifact(table=records, key=OUTCOMES_KEY, description=description)
    return {"run_id": published.run_id, "uri": published.uri, "outcomes": records}


@flow(
    name="buyplan-backtest",
    description="Replay the planner and ERP-style reorder rules on past weeks and publish the comparison.",
    validate_parameters=True,
)
def backtest_flow(
    config: str = DEFAULT_CONFIG,
    inputs: str | None = None,
    outputs: str | None = None,
    endpoint_url: str | None = None,
    start: date | None = None,
    weeks: int | None = None,
    policies: list[str] | None = None,
) -> dict[str, Any]:
    """Validate, replay, publish and summarize one backtest; returns the summary.

    Args:
        config: Backtest YAML (run configuration plus a ``backtest:`` section), a path on the worker.
        inputs: Folder or s3://bucket/prefix: tables as of the start, history through the window.
        outputs: Folder or s3://bucket/prefix; results go under ``backtests/``.
        endpoint_url: S3-compatible endpoint (MinIO); default the config's, empty = AWS.
        start: First replayed Monday; default the config's, else the inventory snapshot's week.
        weeks: Weeks replayed; default the config's.
        policies: Any of planner, reorder_point, weeks_of_cover; default the config's.
    """
    try:
        params = BacktestParameters(
            config=config,
            inputs=inputs,
            outputs=outputs,
            endpoint_url=endpoint_url,
            start=start,
            weeks=weeks,
            policies=tuple(policies) if policies else None,
        )
        run_config, settings = params.resolve()
    except ValidationError as error:
        raise ConfigError(f"invalid backtest flow parameters: {error}") from None
    s = run_config.storage
    inputs_store = open_storage(s.inputs, endpoint_url=s.endpoint_url, region=s.region)
    outputs_store = open_storage(s.outputs, endpoint_url=s.endpoint_url, region=s.region)
    try:
        checked = validate(inputs_store, run_config, settings)
    except InputContractError as error:
        report_rejection(error)
        raise
    result = replay_policies(checked, run_config, settings)
    published = publish(outputs_store, result, checked, run_config, settings)
    return summarize(result, published)
