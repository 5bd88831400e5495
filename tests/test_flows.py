"""The weekly Prefect flow end to end on a small demo brand: local folder, S3 over HTTP, rejected
inputs, a time-limited solve; plus its parameters and retry rule as plain functions.

One temporary Prefect server (``prefect_test_harness``) serves the whole module: starting it is
the slow part (10-25 s), each flow run then takes a few seconds.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from flows.summary import RunSummary, summary_markdown, summary_rows
from flows.weekly import (
    FAILURES_KEY,
    FIGURES_KEY,
    REJECTION_KEY,
    SUMMARY_KEY,
    PlanParameters,
    is_transient,
    weekly_plan,
)
from planning.demo_data import generate_demo_tables, write_demo_tables
from planning.errors import ConfigError, InputContractError, PublishError, StorageError
from planning.publish import LatestPointerConflictError
from planning.storage import ObjectNotFoundError

AS_OF = date(2026, 11, 30)
FAST = "horizon:\n  weeks: 8\nsolver:\n  time_limit_s: 20\n  backstop_s: 5\n  mip_rel_gap: 0.05\n  threads: 1\n"
# No gap allowed, 26 weeks and one second: HiGHS stops at the limit holding an incumbent (8 weeks
# of the 10-SKU demo can close within the second on an idle machine).
TIME_LIMITED = (
    "horizon:\n  weeks: 26\nsolver:\n  time_limit_s: 1\n  backstop_s: 0.5\n  mip_rel_gap: 0.0\n  threads: 1\n"
)


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo brand's tables for 10 SKUs as CSV (written once; each test copies what it changes)."""
    folder = tmp_path_factory.mktemp("demo") / "inputs"
    write_demo_tables(generate_demo_tables(seed=7, as_of=AS_OF, n_skus=10), folder)
    return folder


def _config(tmp_path: Path, text: str = FAST) -> str:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return str(path)


def _artifacts(flow_run_id: UUID) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {str(artifact.key): artifact for artifact in found}


def _task_names(flow_run_id: UUID) -> set[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return {run.name.rsplit("-", 1)[0] for run in runs}


def _run(**parameters: Any) -> Any:
    state = weekly_plan(as_of=AS_OF, **parameters, return_state=True)
    return state, state.state_details.flow_run_id


# ---------------------------------------------------------------------------------------------
# End to end
# ---------------------------------------------------------------------------------------------


def test_flow_plans_the_demo_brand_into_a_local_folder(prefect_server: None, demo_inputs: Path, tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    state, flow_run_id = _run(config=_config(tmp_path), inputs=str(demo_inputs), outputs=str(outputs))
    assert state.is_completed(), state.message
    summary: RunSummary = state.result()
    assert summary.as_of == AS_OF and summary.status == "optimal" and not summary.stopped_by_limit
    assert summary.gap is not None and summary.gap <= 0.05
    run = Path(summary.plan_uri)
    assert run.parent == outputs / "plans" / f"as_of={AS_OF}" and (run / "_SUCCESS").exists()
    assert summary.latest and summary.purchase_lines > 0
    # Figures read back from the published tables, so they match what planners download.
    assert summary.fill_rate is not None and 0 < summary.fill_rate <= 1
    assert summary.exceptions is not None and summary.spend is not None and summary.budget is not None
    assert summary.validation_report_uri.endswith("_validation/validation_report.html")

    artifacts = _artifacts(flow_run_id)
    assert {SUMMARY_KEY, FIGURES_KEY} <= set(artifacts)
    markdown = artifacts[SUMMARY_KEY].data
    assert f"Buy plan for the week of {AS_OF}: optimal" in markdown and summary.plan_uri in markdown
    table = artifacts[FIGURES_KEY].data
    rows = json.loads(table) if isinstance(table, str) else table
    assert {row["measure"] for row in rows} >= {"solver status", "gap", "spend vs budget", "planned fill rate"}
    assert _task_names(flow_run_id) >= {
        "validate-inputs",
        "forecast",
        "build-problem",
        "solve",
        "check-plan",
        "publish",
    }


@pytest.mark.s3
def test_flow_reads_and_publishes_on_s3_over_http(
    prefect_server: None, demo_inputs: Path, tmp_path: Path, s3_endpoint: str, s3_bucket: str, s3_admin_client: Any
) -> None:
    for path in sorted(demo_inputs.glob("*.csv")):
        s3_admin_client.put_object(Bucket=s3_bucket, Key=f"brand/inputs/{path.name}", Body=path.read_bytes())
    state, flow_run_id = _run(
        config=_config(tmp_path),
        inputs=f"s3://{s3_bucket}/brand/inputs",
        outputs=f"s3://{s3_bucket}/brand/outputs",
        endpoint_url=s3_endpoint,
    )
    assert state.is_completed(), state.message
    summary: RunSummary = state.result()
    assert summary.plan_uri.startswith(f"s3://{s3_bucket}/brand/outputs/plans/as_of={AS_OF}/run=")
    prefix = summary.plan_uri.removeprefix(f"s3://{s3_bucket}/")
    listed = s3_admin_client.list_objects_v2(Bucket=s3_bucket, Prefix=f"{prefix}/")
    names = {obj["Key"].rsplit("/", 1)[1] for obj in listed["Contents"]}
    assert {"_SUCCESS", "manifest.json", "purchase_plan.parquet"} <= names
    report = s3_admin_client.head_object(Bucket=s3_bucket, Key="brand/inputs/_validation/validation_report.json")
    assert report["ContentLength"] > 0
    assert SUMMARY_KEY in _artifacts(flow_run_id)


def test_invalid_inputs_stop_the_flow_before_solving(prefect_server: None, demo_inputs: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for path in demo_inputs.glob("*.csv"):
        (inputs / path.name).write_bytes(path.read_bytes())
    items = (inputs / "items.csv").read_text().splitlines()
    header = items[0].split(",")
    first = items[1].split(",")
    first[header.index("unit_cost")] = "-5"  # a negative unit cost breaks the items contract
    (inputs / "items.csv").write_text("\n".join([items[0], ",".join(first), *items[2:]]) + "\n")
    outputs = tmp_path / "outputs"

    state, flow_run_id = _run(config=_config(tmp_path), inputs=str(inputs), outputs=str(outputs))
    assert state.is_failed()
    with pytest.raises(InputContractError):
        state.result()
    assert not outputs.exists()  # nothing published
    assert (inputs / "_validation" / "validation_report.json").exists()  # the rejection report is
    assert _task_names(flow_run_id) == {"validate-inputs"}  # stopped before forecasting or solving
    artifacts = _artifacts(flow_run_id)
    assert {REJECTION_KEY, FAILURES_KEY} <= set(artifacts) and SUMMARY_KEY not in artifacts
    assert "items.unit_cost" in artifacts[REJECTION_KEY].data


def test_bad_parameters_fail_the_run_as_a_configuration_error(prefect_server: None, tmp_path: Path) -> None:
    state, flow_run_id = _run(config=_config(tmp_path), timezone="Mars/Olympus")
    assert state.is_failed()
    with pytest.raises(ConfigError, match="IANA"):
        state.result()
    assert "configuration failed" in _artifacts(flow_run_id)[SUMMARY_KEY].data


def test_time_limited_solve_publishes_the_incumbent_flagged(
    prefect_server: None, demo_inputs: Path, tmp_path: Path
) -> None:
    outputs = tmp_path / "outputs"
    state, flow_run_id = _run(config=_config(tmp_path, TIME_LIMITED), inputs=str(demo_inputs), outputs=str(outputs))
    assert state.is_completed(), state.message
    summary: RunSummary = state.result()
    assert summary.status == "time_limit_with_plan" and summary.stopped_by_limit
    assert summary.gap is not None and summary.gap > 0
    manifest = json.loads((Path(summary.plan_uri) / "manifest.json").read_text())
    assert manifest["solve"]["status"] == "time_limit_with_plan"
    assert "The solver stopped at its limit" in _artifacts(flow_run_id)[SUMMARY_KEY].data


# ---------------------------------------------------------------------------------------------
# Parameters, retries and rendering as plain functions (no server)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "zone", "monday"),
    [
        (datetime(2026, 12, 2, 12, 0, tzinfo=UTC), "UTC", date(2026, 11, 30)),  # a Wednesday
        (datetime(2026, 11, 30, 6, 0, tzinfo=UTC), "UTC", date(2026, 11, 30)),  # the Monday itself
        # Monday 06:00 in Tokyo is still Sunday in UTC: the plan is for Tokyo's week.
        (datetime(2026, 11, 29, 21, 0, tzinfo=UTC), "Asia/Tokyo", date(2026, 11, 30)),
        (datetime(2026, 11, 29, 21, 0, tzinfo=UTC), "UTC", date(2026, 11, 23)),
    ],
)
def test_as_of_defaults_to_the_current_weeks_monday(now: datetime, zone: str, monday: date) -> None:
    assert PlanParameters(timezone=zone).start(now=now) == monday


def test_explicit_and_configured_as_of_win_over_today() -> None:
    now = datetime(2026, 12, 20, tzinfo=UTC)
    assert PlanParameters(as_of=date(2026, 12, 2)).start(date(2026, 11, 16), now) == date(2026, 11, 30)
    assert PlanParameters().start(date(2026, 11, 18), now) == date(2026, 11, 16)


def test_parameters_override_the_configs_storage(tmp_path: Path) -> None:
    config = _config(tmp_path, "storage:\n  inputs: s3://b/in\n  outputs: s3://b/out\n")
    params = PlanParameters(config=config, outputs="/tmp/elsewhere", endpoint_url="http://minio:9000", as_of=AS_OF)
    run_config = params.run_config()
    assert run_config.as_of == AS_OF
    assert (run_config.storage.inputs, run_config.storage.outputs) == ("s3://b/in", "/tmp/elsewhere")
    assert run_config.storage.endpoint_url == "http://minio:9000"


def test_bad_parameters_are_rejected_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="IANA"):
        PlanParameters(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="extra"):
        PlanParameters.model_validate({"as_off": "2026-11-30"})
    with pytest.raises(ConfigError, match="time_limt_s"):
        PlanParameters(config=_config(tmp_path, "solver:\n  time_limt_s: 5\n")).run_config()


def test_only_transient_storage_errors_are_retried() -> None:
    assert is_transient(StorageError("connection reset"))
    assert is_transient(PublishError("write failed"))
    assert not is_transient(ObjectNotFoundError("no such key"))
    assert not is_transient(LatestPointerConflictError("another run is latest"))
    assert not is_transient(ConfigError("bad key"))
    assert not is_transient(ValueError("a bug"))
    assert not is_transient(None)


def test_only_storage_tasks_retry_and_the_retry_rule_reads_the_failed_state() -> None:
    from prefect.states import Failed

    from flows import weekly

    for io_task in (weekly.validate_inputs, weekly.read_previous, weekly.publish, weekly.read_published):
        assert io_task.retries == weekly.IO_RETRIES and io_task.retry_condition_fn is weekly.retry_on_transient
    for compute in (weekly.forecast, weekly.build, weekly.solve, weekly.check, weekly.summarize):
        assert compute.retries == 0
    assert weekly.retry_on_transient(weekly.publish, None, Failed(data=StorageError("reset")))  # type: ignore[arg-type]
    assert not weekly.retry_on_transient(weekly.publish, None, Failed(data=ConfigError("bad")))  # type: ignore[arg-type]


def test_summary_renders_missing_figures_as_not_available() -> None:
    summary = RunSummary(
        as_of=AS_OF,
        status="time_limit_with_plan",
        stopped_by_limit=True,
        objective=1234.0,
        gap=0.125,
        currency="EUR",
        purchase_lines=3,
        purchase_value=900.0,
        run_id="abc",
        plan_uri="s3://b/out/plans/as_of=2026-11-30/run=abc",
        report_uri="s3://b/out/plans/as_of=2026-11-30/run=abc/report.html",
        validation_report_uri="s3://b/in/_validation/validation_report.html",
        latest=True,
    )
    rows = {row["measure"]: row["value"] for row in summary_rows(summary)}
    assert rows["gap"] == "12.50%" and rows["planned fill rate"] == "n/a" and rows["exceptions"] == "n/a"
    assert rows["solver status"] == "time_limit_with_plan (best plan at the limit)"
    assert "stopped at its limit" in summary_markdown(summary)
