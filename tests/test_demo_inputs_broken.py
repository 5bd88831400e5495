"""A broken copy of the demo inputs: every problem is named in one report, exit code 2, no outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from planning import cli
from planning.demo_data import generate_demo_tables, write_demo_tables


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "inputs"
    write_demo_tables(generate_demo_tables(seed=3, n_skus=40), folder, fmt="csv")
    return folder


def test_demo_inputs_are_valid(demo_inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "--inputs", str(demo_inputs)]) == cli.EXIT_OK
    assert "are valid" in capsys.readouterr().out


def _break(folder: Path) -> None:
    """Six classic export mistakes at once."""
    items = pd.read_csv(folder / "items.csv", dtype=str, keep_default_na=False)
    items.drop(columns=["category"]).to_csv(folder / "items.csv", index=False)  # a missing column
    options = pd.read_csv(folder / "sourcing_options.csv", dtype=str, keep_default_na=False)
    options.loc[0, "moq"] = "-50"  # a negative MOQ
    options.to_csv(folder / "sourcing_options.csv", index=False)
    orders = pd.read_csv(folder / "open_orders.csv", dtype=str, keep_default_na=False)
    orders.loc[0, "sku"] = "GHOST-1"  # an unknown SKU in open orders
    orders.loc[1, "expected_arrival"] = "next tuesday"  # an unparseable date
    orders.to_csv(folder / "open_orders.csv", index=False)
    inventory = pd.read_csv(folder / "inventory.csv", dtype=str, keep_default_na=False)
    pd.concat([inventory, inventory.iloc[[0]]]).to_csv(folder / "inventory.csv", index=False)  # duplicate keys
    suppliers = pd.read_csv(folder / "suppliers.csv", dtype=str, keep_default_na=False)
    suppliers.iloc[0:0].to_csv(folder / "suppliers.csv", index=False)  # an empty table


def test_broken_demo_copy_is_rejected_with_every_problem_named(
    demo_inputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "inputs"
    broken.mkdir()
    for path in demo_inputs.glob("*.csv"):
        (broken / path.name).write_bytes(path.read_bytes())
    _break(broken)
    outputs = tmp_path / "outputs"
    config = tmp_path / "run.yaml"
    config.write_text(f"storage:\n  inputs: {broken}\n  outputs: {outputs}\n")
    assert cli.main(["validate", "--config", str(config)]) == cli.EXIT_INVALID_INPUT
    err = capsys.readouterr().err
    report = json.loads((broken / "_validation" / "validation_report.json").read_text())
    rules = {f["rule"] for f in report["failures"] if f["severity"] == "error"}
    expected = {
        "items.category.present",
        "sourcing_options.moq.range",
        "open_orders.sku.references_items_sku",
        "open_orders.expected_arrival.parses",
        "inventory.key.unique",
        "suppliers.not_empty",
    }
    assert expected <= rules, sorted(rules)
    for rule in expected:
        assert rule.rsplit(".", 1)[0].split(".")[0] in err  # each table is named on the console too
    assert (broken / "_validation" / "validation_report.html").exists()
    assert not outputs.exists()
