"""The published tables and files: schema round trips, ERP layouts, the plan diff, the HTML report."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pandas as pd
import pyarrow.parquet as pq
import pytest

from data_contracts.outputs import (
    NETSUITE_PO_CSV,
    ODOO_PO_CSV,
    OUTPUT_CONTRACTS,
    OUTPUTS_BY_NAME,
    PURCHASE_PLAN,
    OutputContractError,
    to_arrow,
)
from planning.checks import check_outputs
from planning.erp import erp_files
from planning.outputs import PlanOutputs, PreviousPlan, build_outputs
from planning.plan_diff import plan_diff
from planning.publish import solve_summary
from planning.run import PlanRun
from tests.publish_helpers import small_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> PlanRun:
    return small_run(tmp_path_factory.mktemp("inputs"))[0]


@pytest.fixture(scope="module")
def outputs(run: PlanRun) -> PlanOutputs:
    return build_outputs(run, "run123", None, None, solve_summary(run))


def test_every_contract_is_published_and_round_trips_through_parquet(outputs: PlanOutputs) -> None:
    assert set(outputs.tables) == {c.name for c in OUTPUT_CONTRACTS}
    for contract in OUTPUT_CONTRACTS:
        data = outputs.rendered[f"{contract.name}.parquet"]
        table = pq.read_table(io.BytesIO(data))
        assert table.schema.equals(contract.schema, check_metadata=False), contract.name
        back = table.to_pandas()
        assert list(back.columns) == list(contract.column_names)
        assert len(back) == len(outputs.tables[contract.name])
        # A second pass gives the same bytes: rereading and rewriting loses nothing.
        assert pq.read_table(io.BytesIO(data)).equals(to_arrow(back, contract)), contract.name


def test_purchase_plan_lines_carry_ids_cases_dates_and_reasons(outputs: PlanOutputs) -> None:
    lines = outputs.tables["purchase_plan"]
    assert len(lines) >= 1
    for row in lines.itertuples(index=False):
        assert row.po_id == f"PO-{row.order_date:%Y%m%d}-{row.supplier}-{row.ship_to}"
        assert row.cases == pytest.approx(row.quantity / row.case_pack)
        assert row.pack_size % row.case_pack == 0 and row.pack_size % row.order_multiple == 0
        assert row.arrival_date - row.order_date == timedelta(weeks=row.arrival_week - row.order_week)
        assert row.reason.startswith("covers week") and str(row.covers_from_week) in row.reason
    assert lines.groupby("po_id")["line"].apply(lambda s: s.tolist() == list(range(1, len(s) + 1))).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="reason"), "missing \\['reason'\\]"),
        (lambda f: f.assign(quantity="many"), "purchase_plan.quantity"),
        (lambda f: f.assign(sku=None), "purchase_plan.sku: 1 null"),
        (lambda f: pd.concat([f, f]), "not unique"),
    ],
)
def test_a_table_breaking_its_contract_is_refused(outputs: PlanOutputs, change, message: str) -> None:
    with pytest.raises(OutputContractError, match=message):
        to_arrow(change(outputs.tables["purchase_plan"].head(1)), PURCHASE_PLAN)


def test_erp_files_follow_their_layouts(outputs: PlanOutputs) -> None:
    purchases = outputs.tables["purchase_plan"]
    files = erp_files(purchases, "run123")
    canonical = pd.read_csv(io.BytesIO(files["erp/purchase_orders.csv"]), keep_default_na=False)
    assert list(canonical.columns) == list(PURCHASE_PLAN.column_names)
    assert canonical["quantity"].tolist() == purchases["quantity"].tolist()
    assert canonical["order_date"].tolist() == [f"{d:%Y-%m-%d}" for d in purchases["order_date"]]
    netsuite = pd.read_csv(io.BytesIO(files[NETSUITE_PO_CSV.file]), dtype=str)
    assert list(netsuite.columns) == [name for name, _ in NETSUITE_PO_CSV.columns]
    assert netsuite["External ID"].tolist() == purchases["po_id"].tolist()  # one row per line, grouped by PO
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", d) for d in netsuite["Date"])
    odoo = pd.read_csv(io.BytesIO(files[ODOO_PO_CSV.file]), dtype=str, keep_default_na=False)
    assert list(odoo.columns) == [name for name, _ in ODOO_PO_CSV.columns]
    first_rows = ~purchases["po_id"].duplicated()
    assert odoo.loc[first_rows.to_numpy(), "id"].tolist() == purchases.loc[first_rows, "po_id"].tolist()
    assert (odoo.loc[~first_rows.to_numpy(), ["id", "partner_id", "date_order"]] == "").all().all()


def test_erp_files_handle_several_lines_per_po_and_large_values() -> None:
    day = date(2026, 12, 7)
    lines = pd.DataFrame(
        {
            "po_id": ["PO-A", "PO-A", "PO-B"],
            "line": [1, 2, 1],
            "sku": ["S1", "S2", "S1"],
            "supplier": ["SUP", "SUP", "SUP"],
            "ship_to": ["WH", "WH", "DC"],
            "mode": ["ocean"] * 3,
            "order_date": [day] * 3,
            "arrival_date": [day + timedelta(weeks=10), day + timedelta(weeks=12), day + timedelta(weeks=10)],
            "quantity": [1200.0, 48.0, 24.0],
            "unit_cost": [1234.5, 2.0, 3.0],
            "line_value": [1481400.0, 96.0, 72.0],
            "currency": ["USD"] * 3,
            "firm": [True, True, False],
            "reason": ["covers weeks 10–12", "covers week 12", "covers week 10"],
        }
    )
    odoo = pd.read_csv(io.BytesIO(erp_files(lines.assign(**_extra()), "r")[ODOO_PO_CSV.file]), dtype=str)
    assert odoo["id"].fillna("").tolist() == ["PO-A", "", "PO-B"]
    assert odoo["date_planned"].fillna("").tolist()[0] == "2027-02-15 00:00:00"  # the earliest line of PO-A
    netsuite = pd.read_csv(io.BytesIO(erp_files(lines.assign(**_extra()), "r")[NETSUITE_PO_CSV.file]), dtype=str)
    assert netsuite["Amount"].tolist()[0] == "1481400.0"  # never "1.4814e+06"
    assert netsuite["Memo"].tolist() == ["buyplan run r; firm", "buyplan run r; firm", "buyplan run r; planned"]


def _extra() -> dict[str, object]:
    names = set(PURCHASE_PLAN.column_names) - {
        "po_id", "line", "sku", "supplier", "ship_to", "mode", "order_date", "arrival_date", "quantity",
        "unit_cost", "line_value", "currency", "firm", "reason",
    }  # fmt: skip
    return dict.fromkeys(sorted(names), 0)


def _lines(*rows: tuple[str, date, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "po_id": f"PO-{day:%Y%m%d}-SUP-WH",
                "sku": sku,
                "supplier": "SUP",
                "ship_to": "WH",
                "mode": "ocean",
                "order_date": day,
                "arrival_date": day + timedelta(weeks=2),
                "quantity": quantity,
                "covers_from_week": 2,
                "covers_to_week": 3,
                "reason": "covers weeks 2–3",
            }
            for sku, day, quantity in rows
        ]
    )


def _inventory(start: date, demand: float, opening: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": "A",
            "location": "WH",
            "week": range(6),
            "week_start": [start + timedelta(weeks=w) for w in range(6)],
            "demand": demand,
            "opening": opening,
        }
    )


def test_plan_diff_classifies_each_line_and_says_why() -> None:
    as_of = date(2026, 11, 30)
    week = [as_of + timedelta(weeks=k) for k in range(5)]
    old = _lines(("A", week[0] - timedelta(weeks=1), 50), ("A", week[1], 100), ("A", week[2], 80), ("B", week[1], 10),
                 ("C", week[3], 5))  # fmt: skip
    new = _lines(("A", week[1], 120), ("A", week[3], 80), ("C", week[3], 5), ("D", week[2], 7))
    diff = plan_diff(old, new, _inventory(as_of, 10, 40), _inventory(as_of, 12, 40), as_of)
    changes = {(r.sku, r.change): r for r in diff.itertuples(index=False)}
    # A's week-1 line grows; its week-2 line moves to week 3; B is dropped; C stays; D is new; the line
    # ordered before the as-of date is history and left out.
    assert set(changes) == {("A", "quantity_changed"), ("A", "date_moved"), ("B", "removed"), ("C", "unchanged"),
                            ("D", "added")}  # fmt: skip
    grown = changes[("A", "quantity_changed")]
    assert (grown.old_quantity, grown.new_quantity, grown.quantity_change) == (100, 120, 20)
    # The line covers weeks 2-3 from its arrival: demand 2 x 10 -> 2 x 12 units.
    assert "forecast" in grown.why and "20 → 24 units (+20%)" in grown.why and "now: covers weeks 2–3" in grown.why
    moved = changes[("A", "date_moved")]
    assert (moved.old_order_date, moved.new_order_date) == (week[2], week[3])
    assert pd.isna(changes[("B", "removed")].new_po_id) and "no longer needed" in changes[("B", "removed")].why
    assert changes[("C", "unchanged")].why == ""
    assert OUTPUTS_BY_NAME["plan_diff"].column_names == tuple(diff.columns)
    to_arrow(diff, OUTPUTS_BY_NAME["plan_diff"])  # the diff meets its own contract


def test_build_outputs_diffs_against_a_previous_plan(run: PlanRun, outputs: PlanOutputs) -> None:
    previous = PreviousPlan("old", run.as_of, outputs.tables["purchase_plan"], outputs.tables["projected_inventory"])
    again = build_outputs(run, "run124", previous)
    assert set(again.tables["plan_diff"]["change"]) == {"unchanged"}


def test_the_report_is_one_self_contained_page(outputs: PlanOutputs, run: PlanRun) -> None:
    page = outputs.rendered["report.html"].decode()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") >= 3  # inventory, cash, fill rate
    assert "<script" not in page and not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert run.report.status.value in page and "Exceptions" in page and "run123" in page
    again = build_outputs(run, "run123", None, None, solve_summary(run))
    assert again.rendered["report.html"] == page.encode()  # the same plan gives the same bytes


def test_published_tables_that_disagree_are_refused(outputs: PlanOutputs) -> None:
    assert check_outputs(outputs.tables) == []
    lines = outputs.tables["purchase_plan"]
    broken = {**outputs.tables, "purchase_plan": lines.assign(line_value=lines["line_value"] * 100)}
    assert {v.rule for v in check_outputs(broken)} == {"line_arithmetic"}
    metrics = outputs.tables["metrics"]
    zeroed = metrics.assign(served_units=metrics["served_units"].where(metrics["level"] != "sku", 0.0))
    assert {v.rule for v in check_outputs({**outputs.tables, "metrics": zeroed})} == {"metrics_totals"}
