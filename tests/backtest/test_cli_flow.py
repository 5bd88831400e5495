"""``buyplan backtest`` and the backtest Prefect flow end to end on a tiny local folder."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from planning.cli import EXIT_BAD_CONFIG, EXIT_INVALID_INPUT, EXIT_OK, main
from planning.demo_data import write_demo_tables
from tests.backtest.helpers import START, raw_tables

CONFIG = f"""
horizon: {{weeks: 6, frozen_weeks: 1}}
solver: {{time_limit_s: 5, backstop_s: 2, threads: 1}}
forecast: {{selection_weeks: 8, evaluation_weeks: 4, error_window_weeks: 8}}
backtest:
  start: {START.isoformat()}
  weeks: 3
  lead_time_noise: true
  service_levels: [0.8]
  tuning: {{grid_points: 2, iterations: 1}}
"""


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Inputs (tables as of START, history through the 6-week window), outputs and a config file."""
    inputs, outputs = tmp_path / "inputs", tmp_path / "outputs"
    write_demo_tables(raw_tables(), inputs)
    config = tmp_path / "backtest.yaml"
    config.write_text(CONFIG)
    return inputs, outputs, config


def _run_folder(outputs: Path) -> Path:
    runs = list((outputs / "backtests" / f"start={START.isoformat()}").glob("run=*"))
    assert len(runs) == 1
    return runs[0]


def test_cli_backtest_publishes_tables_report_and_manifest(folders: tuple[Path, Path, Path]) -> None:
    inputs, outputs, config = folders
    code = main(["backtest", "--config", str(config), "--inputs", str(inputs), "--outputs", str(outputs)])
    assert code == EXIT_OK
    run = _run_folder(outputs)
    assert (run / "_SUCCESS").exists() and not (run / "_FAILED").exists()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["kind"] == "backtest" and manifest["weeks"] == 3
    keys = {entry["key"] for entry in manifest["outputs"]}
    assert {"outcomes.parquet", "stock.parquet", "purchases.parquet", "report.html"} <= keys
    outcomes = pd.read_parquet(run / "outcomes.parquet")
    assert list(outcomes["policy"]) == ["planner", "reorder_point", "weeks_of_cover"]
    assert outcomes["fill_rate"].between(0, 1).all()
    assert b"<svg" in (run / "report.html").read_bytes()
    assert not (outputs / "plans").exists()  # backtests never touch the plans
    # The frontier: the planner at the configured targets and at 80 %, each rule at its grid points and bisection.
    points = pd.read_parquet(run / "frontier.parquet")
    planner = points.loc[points["policy"] == "planner", "parameter"]
    assert len(planner) == 2 and planner.isna().sum() == 1 and 0.8 in set(planner)
    assert {"reorder_point", "weeks_of_cover"} <= set(points["policy"])
    for policy, part in points.groupby("policy"):  # a flagged run: none of its policy serves as well for less
        for point in part[part["on_frontier"]].itertuples():
            rivals = part[(part["fill_rate"] >= point.fill_rate) & (part["total_cost"] < point.total_cost)]
            assert rivals.empty, (policy, point.parameter)
    comparison = pd.read_parquet(run / "comparison.parquet")
    assert set(comparison["rule"]) <= {"reorder_point", "weeks_of_cover"}
    assert comparison["rule_fill_rate"].between(0.90, 0.99).all()


def test_cli_backtest_rejects_broken_inputs_with_exit_code_2(folders: tuple[Path, Path, Path]) -> None:
    inputs, outputs, config = folders
    items = pd.read_csv(inputs / "items.csv")
    items.loc[0, "unit_cost"] = -1.0
    items.to_csv(inputs / "items.csv", index=False)
    assert main(["backtest", "--config", str(config), "--inputs", str(inputs), "--outputs", str(outputs)]) == (
        EXIT_INVALID_INPUT
    )
    assert not outputs.exists()


def test_cli_backtest_window_past_the_history_is_a_configuration_error(
    folders: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, outputs, config = folders
    args = ["backtest", "--config", str(config), "--inputs", str(inputs), "--outputs", str(outputs), "--weeks", "9"]
    assert main(args) == EXIT_BAD_CONFIG
    assert "shorten --weeks" in capsys.readouterr().err


def test_flow_backtests_into_a_local_folder(prefect_server: None, folders: tuple[Path, Path, Path]) -> None:
    from flows.backtest import backtest_flow

    inputs, outputs, config = folders
    summary = backtest_flow(
        config=str(config), inputs=str(inputs), outputs=str(outputs), policies=["planner", "reorder_point"]
    )
    run = _run_folder(outputs)
    assert summary["uri"].endswith(run.name)
    assert [row["policy"] for row in summary["outcomes"]] == ["planner", "reorder_point"]
    stock = pd.read_parquet(io.BytesIO((run / "stock.parquet").read_bytes()))
    assert set(stock["policy"]) == {"planner", "reorder_point"}
    assert (run / "_SUCCESS").exists()


def test_python_m_flows_backtest_takes_the_flow_parameters() -> None:
    from flows.__main__ import build_parser

    args = build_parser().parse_args(
        [
            "backtest",
            "--config",
            "b.yaml",
            "--inputs",
            "in",
            "--outputs",
            "out",
            "--start",
            "2026-03-02",
            "--weeks",
            "4",
        ]
    )
    assert (args.command, args.config, args.inputs, args.outputs, args.weeks) == ("backtest", "b.yaml", "in", "out", 4)
    assert args.start.isoformat() == "2026-03-02"


ONLINE_RETAIL = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "online_retail"


@pytest.mark.skipif(not ONLINE_RETAIL.is_dir(), reason="the Online Retail extract is not on this machine")
def test_cli_prepares_online_retail_re_supplied_and_publishes_the_clairvoyant(tmp_path: Path) -> None:
    inputs, outputs = tmp_path / "inputs", tmp_path / "outputs"
    config = tmp_path / "backtest.yaml"
    config.write_text(
        """
horizon: {weeks: 10, frozen_weeks: 1}
costs: {currency: GBP}
solver: {time_limit_s: 10, backstop_s: 2, threads: 1}
backtest:
  start: 2011-09-05
  weeks: 3
  policies: [reorder_point, clairvoyant]
  clairvoyant_time_limit_s: 30
  supply: {lead_time_weeks: [2, 2], moq_weeks_of_demand: 1.0, budget_tightness: 2.0}
"""
    )
    args = ["backtest", "--config", str(config), "--inputs", str(inputs), "--outputs", str(outputs)]
    assert main([*args, "--prepare", "online_retail", "--no-tuning"]) == EXIT_OK
    # The written inputs carry the configured supply side.
    options = pd.read_csv(inputs / "sourcing_options.csv")
    assert set(options["lead_time_weeks"]) == {2.0}
    assert ((options["moq"] % options["order_multiple"]) == 0).all()
    run = next((outputs / "backtests" / "start=2011-09-05").glob("run=*"))
    outcomes = pd.read_parquet(run / "outcomes.parquet")
    assert list(outcomes["policy"]) == ["clairvoyant", "reorder_point"]
    points = pd.read_parquet(run / "frontier.parquet").set_index("policy")
    assert points.loc["clairvoyant", "cost_above_clairvoyant"] == 0.0
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["clairvoyant_solve"]["status"] in {"optimal", "time_limit_with_plan", "limit_with_plan"}
    assert b"clairvoyant" in (run / "report.html").read_bytes()
