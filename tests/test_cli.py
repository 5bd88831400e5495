"""The command line: exit codes, messages that name the fix, nothing written on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from planning import cli
from tests.inline_tables import VALID_TABLES, write_tables


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_validate_valid_folder_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = write_tables(tmp_path / "inputs", dict(VALID_TABLES))
    assert cli.main(["validate", "--inputs", str(inputs)]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "are valid" in out and "validation_report.html" in out


def test_validate_broken_folder_exits_two_and_writes_only_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables = dict(VALID_TABLES)
    tables["sourcing_options"] = tables["sourcing_options"].replace(",300,12,", ",-300,12,")
    inputs = write_tables(tmp_path / "inputs", tables)
    before = _files(tmp_path)
    outputs = tmp_path / "outputs"
    config = tmp_path / "run.yaml"
    config.write_text(f"storage:\n  inputs: {inputs}\n  outputs: {outputs}\n")
    assert cli.main(["validate", "--config", str(config)]) == cli.EXIT_INVALID_INPUT
    err = capsys.readouterr().err
    assert "sourcing_options.moq" in err and "Fix:" in err and "row 3" in err
    new_files = _files(tmp_path) - before - {"run.yaml"}
    assert new_files == {"inputs/_validation/validation_report.json", "inputs/_validation/validation_report.html"}
    assert not outputs.exists()


def test_bad_config_exits_three(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("solver:\n  time_limt_s: 5\n")
    assert cli.main(["validate", "--config", str(config), "--inputs", str(tmp_path)]) == cli.EXIT_BAD_CONFIG
    assert "unknown key 'solver.time_limt_s'" in capsys.readouterr().err


def test_unreadable_inputs_exit_five(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "--inputs", "gs://elsewhere/x"]) == cli.EXIT_STORAGE
    assert "gs://" in capsys.readouterr().err


def test_help_lists_commands_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["--help"])
    assert raised.value.code == 0
    out = capsys.readouterr().out
    for word in ("demo", "validate", "generate-demo", "load-m5", "Exit codes"):
        assert word in out


@pytest.mark.s3
def test_validate_inputs_on_s3_over_http(
    s3_endpoint: str, s3_bucket: str, s3_admin_client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in VALID_TABLES.items():
        s3_admin_client.put_object(Bucket=s3_bucket, Key=f"brand/inputs/{name}.csv", Body=text.encode())
    config = tmp_path / "run.yaml"
    config.write_text(f"storage:\n  inputs: s3://{s3_bucket}/brand/inputs\n  endpoint_url: {s3_endpoint}\n")
    assert cli.main(["validate", "--config", str(config)]) == cli.EXIT_OK
    assert f"s3://{s3_bucket}/brand/inputs/_validation/validation_report.html" in capsys.readouterr().out
    body = s3_admin_client.get_object(Bucket=s3_bucket, Key="brand/inputs/_validation/validation_report.json")["Body"]
    report = json.loads(body.read())
    assert report["valid"] is True and len(report["tables"]) == len(VALID_TABLES)
    assert "testing" not in json.dumps(report)  # no credential ever lands in a report


def _plan_config(tmp_path: Path, inputs: str, outputs: str, extra: str = "") -> Path:
    config = tmp_path / "plan.yaml"
    config.write_text(
        f"storage:\n  inputs: {inputs}\n  outputs: {outputs}\n{extra}"
        "solver:\n  time_limit_s: 20\n  backstop_s: 5\n  threads: 1\n"
    )
    return config


def test_plan_publishes_tables_manifest_and_success_marker_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = write_tables(tmp_path / "inputs", dict(VALID_TABLES))
    outputs = tmp_path / "outputs"
    config = _plan_config(tmp_path, str(inputs), str(outputs))
    assert cli.main(["plan", "--config", str(config)]) == cli.EXIT_OK
    assert "Published:" in capsys.readouterr().out
    (run,) = list((outputs / "plans" / "as_of=2026-11-30").iterdir())
    names = {p.name for p in run.iterdir()}
    assert {"purchase_plan.parquet", "projected_inventory.parquet", "manifest.json", "_SUCCESS"} <= names
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["solve"]["status"] in {"optimal", "time_limit_with_plan"}
    assert manifest["solve"]["gap"] is not None and manifest["solve"]["best_bound"] is not None
    assert {o["table"] for o in manifest["outputs"]} >= {"purchase_plan", "transfer_plan", "projected_inventory"}
    marker_time = (run / "_SUCCESS").stat().st_mtime_ns
    # Same inputs and config: same run id, nothing written again.
    assert cli.main(["plan", "--config", str(config)]) == cli.EXIT_OK
    assert [p.name for p in (outputs / "plans" / "as_of=2026-11-30").iterdir()] == [run.name]
    assert (run / "_SUCCESS").stat().st_mtime_ns == marker_time
    capsys.readouterr()
    # The latest plan's report and ERP files, as a planner fetches them.
    assert cli.main(["report", "--config", str(config), "--out", str(tmp_path / "r.html")]) == cli.EXIT_OK
    assert b"<html" in (tmp_path / "r.html").read_bytes()
    erp = tmp_path / "erp"
    assert cli.main(["export", "--config", str(config), "--out", str(erp), "--layout", "netsuite"]) == cli.EXIT_OK
    assert [p.name for p in erp.iterdir()] == ["netsuite_purchase_orders.csv"]
    assert cli.main(["export", "--config", str(config), "--out", str(erp)]) == cli.EXIT_OK
    assert {p.name for p in erp.iterdir()} == {
        "netsuite_purchase_orders.csv",
        "odoo_purchase_orders.csv",
        "purchase_orders.csv",
    }


def test_report_before_any_plan_exits_five(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", "--outputs", str(tmp_path / "empty")]) == cli.EXIT_STORAGE
    assert "run `buyplan plan` first" in capsys.readouterr().err


def test_plan_on_invalid_inputs_publishes_nothing(tmp_path: Path) -> None:
    tables = dict(VALID_TABLES)
    tables["items"] = tables["items"].replace("2.6,12,active", "2.6,12,retired")
    inputs = write_tables(tmp_path / "inputs", tables)
    outputs = tmp_path / "outputs"
    config = _plan_config(tmp_path, str(inputs), str(outputs))
    assert cli.main(["plan", "--config", str(config)]) == cli.EXIT_INVALID_INPUT
    assert not outputs.exists()


@pytest.mark.s3
def test_plan_reads_and_publishes_on_s3_over_http(
    s3_endpoint: str, s3_bucket: str, s3_admin_client: Any, tmp_path: Path
) -> None:
    for name, text in VALID_TABLES.items():
        s3_admin_client.put_object(Bucket=s3_bucket, Key=f"in/{name}.csv", Body=text.encode())
    endpoint = f"  endpoint_url: {s3_endpoint}\n"  # inside the storage section
    config = _plan_config(tmp_path, f"s3://{s3_bucket}/in", f"s3://{s3_bucket}/out", extra=endpoint)
    assert cli.main(["plan", "--config", str(config)]) == cli.EXIT_OK
    listed = s3_admin_client.list_objects_v2(Bucket=s3_bucket, Prefix="out/plans/")
    keys = sorted(obj["Key"].rsplit("/", 1)[1] for obj in listed["Contents"])
    assert "_SUCCESS" in keys and "purchase_plan.parquet" in keys and "manifest.json" in keys


def test_forecast_writes_the_forecast_methods_and_accuracy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from planning.demo_data import generate_demo_tables, write_demo_tables

    inputs, outputs = tmp_path / "inputs", tmp_path / "outputs"
    write_demo_tables(generate_demo_tables(n_skus=10), inputs)
    assert cli.main(["forecast", "--inputs", str(inputs), "--outputs", str(outputs)]) == cli.EXIT_OK
    written = _files(outputs)
    prefix = "forecasts/as_of=2026-11-30"
    assert {f"{prefix}/forecast.parquet", f"{prefix}/series.parquet", f"{prefix}/accuracy.parquet"} <= written
    accuracy = pd.read_parquet(outputs / prefix / "accuracy.parquet")
    assert {"selected", "seasonal_naive", "moving_average"} <= set(accuracy["method"])
    assert "holdout WAPE selected" in capsys.readouterr().out
