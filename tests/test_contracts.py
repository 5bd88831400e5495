"""Contract tests: inline tables accepted or rejected, one broken rule at a time.

Each case copies the valid inline data set, breaks one thing, and checks that the report
names the table, the rule, the failing row and value, and nothing else is reported as an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from data_contracts import docs
from planning.config import RunConfig
from planning.errors import InputContractError
from planning.inputs import load_input_tables
from planning.pipeline import check_inputs
from planning.storage import LocalStorage
from planning.validation import ValidationReport, validate_inputs
from tests.inline_tables import VALID_TABLES, write_tables

Mutation = Callable[[dict[str, str]], None]


def _validate(tmp_path: Path, tables: dict[str, str]) -> ValidationReport:
    storage = LocalStorage(write_tables(tmp_path / "inputs", tables))
    return validate_inputs(load_input_tables(storage), inputs_uri=storage.uri)


def _replace(table: str, old: str, new: str) -> Mutation:
    def mutate(tables: dict[str, str]) -> None:
        assert old in tables[table], f"test setup: {old!r} not in {table}"
        tables[table] = tables[table].replace(old, new, 1)

    return mutate


def _append(table: str, line: str) -> Mutation:
    def mutate(tables: dict[str, str]) -> None:
        tables[table] += line

    return mutate


def _set(table: str, text: str | None) -> Mutation:
    def mutate(tables: dict[str, str]) -> None:
        if text is None:
            del tables[table]
        else:
            tables[table] = text

    return mutate


def test_valid_inline_tables_pass(tmp_path: Path) -> None:
    report = _validate(tmp_path, dict(VALID_TABLES))
    assert report.is_valid, [f.describe() for f in report.failures]
    assert report.failures == ()
    assert report.as_of is not None and report.as_of.isoformat() == "2026-11-30"
    assert {t.table for t in report.tables} == set(VALID_TABLES)


# (case id, mutation, failing rule, expected failing (row, value) or None for table-level rules)
BROKEN_CASES: list[tuple[str, Mutation, str, tuple[int, str] | None]] = [
    ("missing column", _replace("items", "unit_cost,", "unitcost,"), "items.unit_cost.present", None),
    ("negative moq", _replace("sourcing_options", ",300,12,", ",-300,12,"), "sourcing_options.moq.range", (3, "-300")),
    (
        "unknown sku in open orders",
        _replace("open_orders", "TR-881,TEE-001", "TR-881,TEE-999"),
        "open_orders.sku.references_items_sku",
        (2, "TEE-999"),
    ),
    (
        "duplicate keys",
        _append("inventory", "HOOD-020,WH-EAST,91,0,2026-11-30\n"),
        "inventory.key.unique",
        (3, ""),
    ),
    (
        "unparseable date",
        _replace("open_orders", "2026-12-21", "21/12/2026"),
        "open_orders.expected_arrival.parses",
        (1, "21/12/2026"),
    ),
    ("impossible date", _replace("open_orders", "2026-12-21", "2026-02-30"), "open_orders.expected_arrival.in_calendar", (1, "2026-02-30")),
    ("empty table", _set("items", "sku,category,unit_cost,selling_price,status\n"), "items.not_empty", None),
    ("missing table", _set("suppliers", None), "suppliers.present", None),
    ("text in a number", _replace("inventory", "420,35", "lots,35"), "inventory.on_hand.parses", (1, "lots")),
    ("case pack zero", _replace("items", "0.9,24,active", "0.9,0,active"), "items.case_pack.range", (1, "0")),
    ("status unknown", _replace("items", "2.6,12,active", "2.6,12,retired"), "items.status.allowed", (2, "retired")),
    ("empty required cell", _replace("items", "Fleece hoodie sand L,Apparel", "Fleece hoodie sand L,"), "items.category.not_empty", (2, "(empty)")),
    (
        "channel not served",
        _append("demand_history", "2026-11-23,HOOD-020,FBA-US,shopify,1,64.0,true\n"),
        "demand_history.channel.served_by_location",
        (7, "shopify"),
    ),
    (
        "sku cannot be supplied",
        _replace("transfer_lanes", "WH-EAST,FBA-US,2", "FBA-US,WH-EAST,2"),
        "demand_history.sku.can_be_supplied",
        (2, "TEE-001"),
    ),
    ("history after as-of", _append("demand_history", "2026-11-30,TEE-001,WH-EAST,shopify,3,28.0,true\n"), "demand_history.date.before_as_of", (7, "2026-11-30")),
    ("stale open order", _replace("open_orders", "2026-12-21", "2026-09-01"), "open_orders.expected_arrival.not_stale", (1, "2026-09-01")),
    ("lane to itself", _replace("transfer_lanes", "WH-EAST,FBA-US", "FBA-US,FBA-US"), "transfer_lanes.to_location.differs", (1, "FBA-US")),
    ("weekly budget not on monday", _replace("budgets", "2026-12-07,week", "2026-12-08,week"), "budgets.period_start.aligned", (2, "2026-12-08")),
    ("new item without launch", _replace("items", "new,2027-01-11", "new,"), "items.launch_date.given_for_new", (3, "(empty)")),
    ("locked order without option", _replace("locked_orders", ",ocean,2026-12-07", ",air-express,2026-12-07"), "locked_orders.sourcing_option.exists", (1, "TEE-001")),
    ("closure ends before start", _replace("supplier_closures", "2027-02-01,2027-02-21", "2027-02-21,2027-02-01"), "supplier_closures.end_date.after_start", (1, "2027-02-01")),
    ("deposit above one", _replace("suppliers", ",20000,0.3", ",20000,30"), "suppliers.deposit_share.range", (1, "30")),
    ("reservation for a channel not served", _replace("channel_reservations", "WH-EAST,shopify", "WH-EAST,amazon"), "channel_reservations.channel.served_by_location", (1, "amazon")),
    ("reservation of both kinds", _replace("channel_reservations", ",,2", ",40,2"), "channel_reservations.reserved_units.one_of", (1, "40")),
    ("service target for unknown class", _append("service_targets", "service_class,Z,fill_rate,0.9\n"), "service_targets.scope_value.references_items_service_class", (3, "Z")),
]  # fmt: skip


@pytest.mark.parametrize(("case", "mutate", "rule", "row"), BROKEN_CASES, ids=[c[0] for c in BROKEN_CASES])
def test_broken_input_names_the_rule_and_row(
    tmp_path: Path, case: str, mutate: Mutation, rule: str, row: tuple[int, str] | None
) -> None:
    tables = dict(VALID_TABLES)
    mutate(tables)
    report = _validate(tmp_path, tables)
    assert not report.is_valid
    failing = {f.rule: f for f in report.errors}
    assert rule in failing, f"{case}: expected {rule}, got {sorted(failing)}"
    failure = failing[rule]
    assert failure.fix and failure.expected
    if row is not None:
        assert (failure.rows[0].row, failure.rows[0].value) == row
        assert failure.rows[0].key  # every failing row is identified by its key too


def test_one_break_is_reported_once(tmp_path: Path) -> None:
    tables = dict(VALID_TABLES)
    _replace("sourcing_options", ",300,12,", ",-300,12,")(tables)
    report = _validate(tmp_path, tables)
    assert [f.rule for f in report.errors] == ["sourcing_options.moq.range"]


def test_every_failure_is_listed_in_one_report(tmp_path: Path) -> None:
    tables = dict(VALID_TABLES)
    _replace("sourcing_options", ",300,12,", ",-300,12,")(tables)
    _replace("open_orders", "TR-881,TEE-001", "TR-881,TEE-999")(tables)
    _replace("items", "2.6,12,active", "2.6,12,retired")(tables)
    report = _validate(tmp_path, tables)
    assert {f.rule for f in report.errors} == {
        "sourcing_options.moq.range",
        "open_orders.sku.references_items_sku",
        "items.status.allowed",
    }


def test_warnings_do_not_stop_the_run(tmp_path: Path) -> None:
    tables = dict(VALID_TABLES)
    _append("demand_history", "2026-11-24,TEE-001,WH-EAST,shopify,-2,28.0,true\n")(tables)  # a return
    _append("items", "MUG-9,Mug,Home,2.0,9.0,0.4,6,active,,C\n")(tables)  # active, no history
    _append("sourcing_options", "MUG-9,DALLAS-CAPS,WH-EAST,truck,2.0,0,6,1,0\n")(tables)
    _replace("inventory", "420,35", "20,35")(tables)  # allocated above on hand
    report = _validate(tmp_path, tables)
    assert report.is_valid, [f.describe() for f in report.errors]
    assert {f.rule for f in report.warnings} == {
        "demand_history.units.returns",
        "items.sku.has_history",
        "inventory.allocated.within_on_hand",
    }


@pytest.mark.parametrize(
    ("order_date", "warned"),
    [
        ("2026-12-07", False),  # week 1 of the plan starting Monday 2026-11-30
        ("2026-11-23", True),  # before the plan starts: placed already, belongs in open_orders
        ("2027-02-22", True),  # 12 weeks from 2026-11-30 end on 2027-02-21: a later run plans it
        ("2027-02-15", False),  # the last week of the horizon
    ],
)
def test_a_locked_order_outside_the_plans_weeks_is_a_warning_naming_the_row(
    tmp_path: Path, order_date: str, warned: bool
) -> None:
    tables = dict(VALID_TABLES)
    _replace("locked_orders", ",ocean,2026-12-07", f",ocean,{order_date}")(tables)
    storage = LocalStorage(write_tables(tmp_path / "inputs", tables))
    report = validate_inputs(load_input_tables(storage), inputs_uri=storage.uri, horizon_weeks=12)
    assert report.is_valid
    warnings = {f.rule: f for f in report.warnings}
    assert ("locked_orders.order_date.in_horizon" in warnings) is warned
    if warned:
        failure = warnings["locked_orders.order_date.in_horizon"]
        assert (failure.rows[0].row, failure.rows[0].value) == (1, order_date)
        assert "open_orders" in failure.fix


def test_parquet_inputs_validate_like_csv(tmp_path: Path) -> None:
    import pandas as pd

    folder = write_tables(tmp_path / "inputs", dict(VALID_TABLES))
    for name in ("items", "demand_history", "inventory"):
        csv_path = folder / f"{name}.csv"
        frame = pd.read_csv(
            csv_path,
            parse_dates=[
                c for c in ("date", "as_of_date", "launch_date") if c in csv_path.read_text().split("\n")[0].split(",")
            ],
        )
        frame.to_parquet(folder / f"{name}.parquet", index=False)
        csv_path.unlink()
    storage = LocalStorage(folder)
    report = validate_inputs(load_input_tables(storage), inputs_uri=storage.uri)
    assert report.is_valid, [f.describe() for f in report.failures]
    assert {t.table: t.fmt for t in report.tables}["items"] == "parquet"


def test_invalid_inputs_raise_and_write_the_report_next_to_them(tmp_path: Path) -> None:
    tables = dict(VALID_TABLES)
    _replace("open_orders", "TR-881,TEE-001", "TR-881,TEE-999")(tables)
    storage = LocalStorage(write_tables(tmp_path / "inputs", tables))
    with pytest.raises(InputContractError) as raised:
        check_inputs(storage, RunConfig())
    assert "open_orders" in str(raised.value) and "validation_report.html" in str(raised.value)
    saved = json.loads((tmp_path / "inputs" / "_validation" / "validation_report.json").read_text())
    assert saved["valid"] is False
    assert saved["failures"][0]["rows"][0]["value"] == "TEE-999"
    page = (tmp_path / "inputs" / "_validation" / "validation_report.html").read_text()
    assert "TEE-999" in page and "open_orders.sku" in page


def test_contract_docs_are_up_to_date() -> None:
    assert docs.README.read_text() == docs.render(), "run: python -m data_contracts.docs"
