"""Atomic publishing: fault injection at every write, idempotent reruns, the race for "latest".

One small run is solved once per module; ``build_outputs`` is memoised per run id so that the
dozens of publishes here exercise the write protocol, not the chart drawing again and again.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from planning import publish
from planning.errors import PublishError
from planning.outputs import PlanOutputs
from planning.publish import (
    FAILED,
    SUCCESS,
    LatestPointerConflictError,
    erp_exports,
    latest_run,
    plan_report,
    publish_plan,
    read_run_table,
    week_generation,
)
from planning.run import PlanRun
from planning.storage import LocalStorage, S3Storage, Storage
from planning.validation import ValidationReport
from tests.publish_helpers import (
    FaultyStorage,
    InjectedCrashError,
    assert_nothing_partial_is_visible,
    assert_run_complete,
    small_config,
    small_run,
)


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanRun, ValidationReport]:
    return small_run(tmp_path_factory.mktemp("inputs"))


@pytest.fixture(autouse=True)
def memoised_build(monkeypatch: pytest.MonkeyPatch) -> None:
    cache: dict[tuple[str, bool], PlanOutputs] = {}
    build = publish.build_outputs

    # Keyed without the run id: runs that differ only by config share their files here (the run id
    # printed in the ERP files and the report is the first one's), which these pointer tests never read.
    def cached(run: PlanRun, run_id: str, previous: Any = None, *args: Any) -> PlanOutputs:
        key = (run.as_of.isoformat(), previous is None)
        if key not in cache:
            cache[key] = build(run, run_id, previous, *args)
        return cache[key]

    monkeypatch.setattr(publish, "build_outputs", cached)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A factory of fresh, empty output storages on one backend."""
    if request.param == "local":
        yield lambda: LocalStorage(tmp_path / uuid.uuid4().hex)
        return
    endpoint, bucket = request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket")
    yield lambda: S3Storage(bucket, f"out-{uuid.uuid4().hex[:8]}", endpoint_url=endpoint, region="us-east-1")


def test_publish_writes_every_table_file_manifest_marker_and_pointers(backend: Any, planned: Any) -> None:
    run, report = planned
    storage: Storage = backend()
    result = publish_plan(storage, run, report, small_config())
    assert result.written and result.latest_overall and result.week_generation == 1
    manifest = assert_run_complete(storage, result.prefix)
    keys = {entry["key"] for entry in manifest["outputs"]}
    assert {"purchase_plan.parquet", "metrics.parquet", "exceptions.parquet", "plan_diff.parquet"} <= keys
    assert {"erp/netsuite_purchase_orders.csv", "erp/odoo_purchase_orders.csv", "report.html"} <= keys
    assert {t["table"] for t in manifest["inputs"]} == {t.table for t in report.tables}
    assert manifest["solve"]["status"] in {"optimal", "time_limit_with_plan"}
    assert "matplotlib" in manifest["versions"] and "total" in manifest["timings"]
    purchases = read_run_table(storage, result.prefix, "purchase_plan")
    assert next(e["rows"] for e in manifest["outputs"] if e["table"] == "purchase_plan") == len(purchases)
    pointer = latest_run(storage)
    assert pointer is not None and pointer.run_id == result.run_id
    assert latest_run(storage, run.as_of) == pointer
    exports = erp_exports(storage)
    assert set(exports) == {
        "erp/purchase_orders.csv",
        "erp/netsuite_purchase_orders.csv",
        "erp/odoo_purchase_orders.csv",
    }
    uri, page = plan_report(storage, run.as_of)
    assert uri.endswith(f"{result.prefix}/report.html") and page.startswith(b"<!DOCTYPE html>")


def test_exports_before_any_publish_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="buyplan plan"):
        erp_exports(LocalStorage(tmp_path))


def test_rerunning_the_same_inputs_and_config_publishes_nothing_twice(backend: Any, planned: Any) -> None:
    run, report = planned
    storage = FaultyStorage(backend())
    first = publish_plan(storage, run, report, small_config())
    writes = len(storage.calls)
    again = publish_plan(storage, run, report, small_config())
    assert (again.run_id, again.week_generation, again.latest_overall) == (first.run_id, 1, True)
    assert not again.written and len(storage.calls) == writes  # not one object written again
    assert week_generation(storage, run.as_of) == 1


def _fault_points(backend: Any, planned: Any) -> list[int]:
    """Indexes of the mutating calls at each step of a clean publish: the first and the last data
    file, the manifest, the stale ``_FAILED`` delete, ``_SUCCESS``, the week pointer and
    the overall pointer."""
    run, report = planned
    probe = FaultyStorage(backend())
    publish_plan(probe, run, report, small_config())
    keys = [key for _, key in probe.calls]
    manifest = next(i for i, key in enumerate(keys) if key.endswith("/manifest.json"))
    steps = [0, manifest - 1, manifest, manifest + 1, manifest + 2, manifest + 3, manifest + 4]
    assert probe.calls[manifest + 1] == ("delete", keys[manifest].replace("manifest.json", FAILED))
    assert keys[manifest + 2].endswith(SUCCESS) and len(keys) == manifest + 5
    assert "/_latest/weeks/" in keys[manifest + 3] and "/_latest/all/" in keys[manifest + 4]
    return steps


def _interrupt_each_step(backend: Any, planned: Any, *, crash: bool) -> None:
    run, report = planned
    for fail_at in _fault_points(backend, planned):
        storage = backend()
        faulty = FaultyStorage(storage, fail_at, crash=crash)
        with pytest.raises(InjectedCrashError if crash else PublishError):
            publish_plan(faulty, run, report, small_config())
        assert_nothing_partial_is_visible(storage, run.as_of)
        op, failed_key = faulty.calls[fail_at]
        folder = failed_key.rsplit("/", 1)[0]
        if not crash and "/run=" in failed_key and not failed_key.endswith(SUCCESS) and op == "write":
            assert storage.exists(f"{folder}/{FAILED}")  # marked failed, not silently half-written
        result = publish_plan(storage, run, report, small_config())
        assert result.latest_overall, f"rerun after a fault at {op} {failed_key}"
        assert_run_complete(storage, result.prefix)
        assert not storage.exists(f"{result.prefix}/{FAILED}")
        assert latest_run(storage) == latest_run(storage, run.as_of)


def test_a_publish_failing_at_each_step_shows_no_partial_run_and_a_rerun_completes_it(
    backend: Any, planned: Any
) -> None:
    _interrupt_each_step(backend, planned, crash=False)


def test_a_publish_killed_at_each_step_locally_shows_no_partial_run_and_a_rerun_completes_it(
    tmp_path: Path, planned: Any
) -> None:
    _interrupt_each_step(lambda: LocalStorage(tmp_path / uuid.uuid4().hex), planned, crash=True)


@pytest.mark.s3
@pytest.mark.slow
def test_a_publish_killed_at_each_step_on_s3_shows_no_partial_run_and_a_rerun_completes_it(
    s3_endpoint: str, s3_bucket: str, planned: Any
) -> None:
    def backend() -> S3Storage:
        return S3Storage(s3_bucket, f"out-{uuid.uuid4().hex[:8]}", endpoint_url=s3_endpoint, region="us-east-1")

    _interrupt_each_step(backend, planned, crash=True)


def test_two_runs_for_the_same_week_cannot_both_become_latest(backend: Any, planned: Any) -> None:
    run, report = planned
    storage = backend()
    # Both started planning before either published: both saw generation 0.
    winner = publish_plan(storage, run, report, small_config(), observed_generation=0)
    with pytest.raises(LatestPointerConflictError, match=winner.run_id):
        publish_plan(storage, run, report, small_config(order_line_cost=16.0), observed_generation=0)
    pointer = latest_run(storage)
    assert pointer is not None and pointer.run_id == winner.run_id
    assert week_generation(storage, run.as_of) == 1
    # The loser's folder is complete (a finished plan), just not the latest; a later rerun may take over.
    loser = publish_plan(storage, run, report, small_config(order_line_cost=16.0))
    assert loser.latest_overall and loser.week_generation == 2 and not loser.written


def test_concurrent_publishers_on_local_storage_have_exactly_one_winner(tmp_path: Path, planned: Any) -> None:
    run, report = planned
    storage = LocalStorage(tmp_path / "out")
    configs = [small_config(order_line_cost=15.0 + k) for k in range(4)]
    publish.build_outputs(run, "any")  # build (and cache) outside the race so the threads only publish
    barrier, outcomes = threading.Barrier(len(configs)), []

    def publish_one(config: Any) -> None:
        barrier.wait()
        try:
            outcomes.append(publish_plan(storage, run, report, config, observed_generation=0).run_id)
        except LatestPointerConflictError:
            outcomes.append("lost")

    threads = [threading.Thread(target=publish_one, args=(c,)) for c in configs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o != "lost"]
    assert len(winners) == 1 and len(outcomes) == len(configs)
    pointer = latest_run(storage)
    assert pointer is not None and pointer.run_id == winners[0]
    assert_nothing_partial_is_visible(storage, run.as_of)


def test_an_older_weeks_run_never_displaces_a_newer_weeks_plan(backend: Any, planned: Any) -> None:
    run, report = planned
    storage = backend()
    next_week = replace(run, as_of=run.as_of + timedelta(weeks=1))
    newer = publish_plan(storage, next_week, report, small_config())
    older = publish_plan(storage, run, report, small_config())  # a backfill of the earlier week
    assert newer.latest_overall and not older.latest_overall
    pointer = latest_run(storage)
    assert pointer is not None and pointer.prefix == newer.prefix
    week_pointer = latest_run(storage, run.as_of)
    assert week_pointer is not None and week_pointer.prefix == older.prefix


def test_the_diff_compares_against_the_previous_published_run(tmp_path: Path, planned: Any) -> None:
    run, report = planned
    storage = LocalStorage(tmp_path / "out")
    first = publish_plan(storage, run, report, small_config())
    assert read_run_table(storage, first.prefix, "plan_diff").empty  # nothing published before
    second = publish_plan(storage, run, report, small_config(order_line_cost=16.0))
    diff = read_run_table(storage, second.prefix, "plan_diff")
    purchases = read_run_table(storage, second.prefix, "purchase_plan")
    assert len(diff) == len(purchases) and set(diff["change"]) == {"unchanged"}


def test_a_contract_breaking_table_fails_before_anything_is_written(tmp_path: Path, planned: Any) -> None:
    run, report = planned
    broken = replace(run, plan=replace(run.plan, transfers=run.plan.transfers.assign(extra=1)))
    storage = FaultyStorage(LocalStorage(tmp_path / "out"))
    with pytest.raises(ValueError, match="transfer_plan"):
        publish_plan(storage, broken, report, small_config())
    assert storage.calls == []
