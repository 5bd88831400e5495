"""Plan against actual: the comparison by hand, its exceptions, the safety-stock feedback, two weeks end to end."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_contracts.outputs import OUTPUTS_BY_NAME, to_arrow
from flows.summary import build_summary
from planning.forecast import Forecast
from planning.forecast.feedback import blend_realised_errors
from planning.inputs import load_input_tables
from planning.pipeline import CheckedInputs, plan_and_publish
from planning.plan_vs_actual import PublishedWeek, plan_vs_actual, realised_errors, variance_exceptions
from planning.problem import build_problem
from planning.publish import published_weeks, read_manifest, read_run_table
from planning.publish_settings import ExceptionSettings
from planning.run import make_forecast
from planning.storage import LocalStorage
from tests.inline_tables import VALID_TABLES, write_tables
from tests.publish_helpers import checksum_report, small_config

INVENTORY_COLUMNS = ["opening", "receipts", "transfers_out", "demand", "served", "unmet", "closing", "safety_stock"]


def _projection(rows: list[tuple[str, str, int, float, float, float, float, float, float]]) -> pd.DataFrame:
    """projected_inventory rows: sku, location, week, opening, receipts, transfers_out, demand, served, closing."""
    frame = pd.DataFrame(
        rows, columns=["sku", "location", "week", "opening", "receipts", "transfers_out", "demand", "served", "closing"]
    )
    return frame.assign(unmet=frame["demand"] - frame["served"], safety_stock=0.0)


def _history(csv: str) -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(csv), dtype={"sku": "string", "location": "string", "channel": "string"})
    return frame.assign(date=pd.to_datetime(frame["date"]), in_stock=frame["in_stock"].astype("boolean"))


# The week of 2026-11-23, daily rows. TEE-001 sells 10 + 20 (shopify) + 15 (walmart) = 45, in stock all
# week. HOOD-020 sells 6 + 4 on its two in-stock days and is out of stock the other five days.
HISTORY = _history(
    "date,sku,location,channel,units,in_stock\n"
    "2026-11-16,TEE-001,WH-EAST,shopify,25,true\n"
    "2026-11-23,TEE-001,WH-EAST,shopify,10,true\n"
    "2026-11-24,TEE-001,WH-EAST,shopify,20,true\n"
    "2026-11-25,TEE-001,WH-EAST,walmart,15,true\n"
    "2026-11-23,HOOD-020,WH-EAST,walmart,6,true\n"
    "2026-11-24,HOOD-020,WH-EAST,walmart,4,true\n"
    "2026-11-25,HOOD-020,WH-EAST,walmart,0,false\n"
    "2026-11-26,HOOD-020,WH-EAST,walmart,0,false\n"
    "2026-11-27,HOOD-020,WH-EAST,walmart,0,false\n"
    "2026-11-28,HOOD-020,WH-EAST,walmart,0,false\n"
    "2026-11-29,HOOD-020,WH-EAST,walmart,0,false\n"
)
SNAPSHOT = pd.DataFrame(
    {
        "sku": ["TEE-001", "HOOD-020"],
        "location": ["WH-EAST", "WH-EAST"],
        "on_hand": [80.0, 0.0],
        "allocated": [5.0, 0.0],
    }
)
# Run B planned the week of 11-23 (its week 0); run A the week before, for TEE-001 only.
RUN_A = PublishedWeek("run-a", date(2026, 11, 16), _projection([("TEE-001", "WH-EAST", 0, 90, 0, 0, 30, 30, 60)]))
RUN_B = PublishedWeek(
    "run-b",
    date(2026, 11, 23),
    _projection(
        [
            ("TEE-001", "WH-EAST", 0, 100, 50, 10, 40, 40, 100),
            ("TEE-001", "WH-EAST", 1, 100, 0, 0, 40, 40, 60),
            ("HOOD-020", "WH-EAST", 0, 30, 0, 0, 20, 20, 10),
        ]
    ),
)
AS_OF = date(2026, 11, 30)


def test_comparison_matches_the_hand_calculation() -> None:
    record = plan_vs_actual([RUN_B, RUN_A], {"demand_history": HISTORY, "inventory": SNAPSHOT}, AS_OF)
    assert record.previous_run_id == "run-b" and record.week_start == date(2026, 11, 23)
    table = record.table.set_index("sku")
    tee, hood = table.loc["TEE-001"], table.loc["HOOD-020"]
    # TEE-001: in stock all week, demand = sales = 45 against 40: +5, +12.5 %.
    assert (tee["actual_sales"], tee["actual_demand"], tee["demand_variance"]) == (45, 45, 5)
    assert tee["demand_relative_variance"] == pytest.approx(5 / 40)
    # Stock: snapshot 80 - 5 allocated = 75 against 100 projected: -25 (-25 %).
    assert (tee["actual_closing"], tee["stock_variance"]) == (75, -25)
    assert tee["stock_relative_variance"] == pytest.approx(-0.25)
    # Net receipts: 75 - 100 opening + 45 sold = 20 against 50 - 10 = 40 planned: -20.
    assert (tee["actual_net_receipts"], tee["projected_net_receipts"], tee["receipts_variance"]) == (20, 40, -20)
    assert (tee["actual_fill_rate"], tee["projected_fill_rate"], tee["fill_rate_variance"]) == (1, 1, 0)
    assert not tee["censored"] and tee["out_of_stock_days"] == 0
    # HOOD-020: 10 sold on 2 in-stock days = 5 a day; 5 days out -> 25 lost; demand 35 against 20: +15.
    assert bool(hood["censored"]) and hood["out_of_stock_days"] == 5
    assert (hood["actual_sales"], hood["actual_demand"], hood["demand_variance"]) == (10, 35, 15)
    assert hood["actual_fill_rate"] == pytest.approx(10 / 35)  # 28.6 % against the planned 100 %
    assert hood["fill_rate_variance"] == pytest.approx(10 / 35 - 1)
    # Stock 0 against 10; net receipts 0 - 30 + 10 = -20 (stock lost or moved) against 0 planned.
    assert (hood["stock_variance"], hood["actual_net_receipts"], hood["receipts_variance"]) == (-10, -20, -20)
    assert hood["stock_relative_variance"] == pytest.approx(-1.0)
    to_arrow(record.table, OUTPUTS_BY_NAME["plan_vs_actual"])  # the table meets its contract


def test_realised_errors_are_week_zero_errors_on_uncensored_weeks() -> None:
    errors = realised_errors([RUN_A, RUN_B], HISTORY, AS_OF).set_index("sku")
    # TEE-001: run A forecast 30 for 11-16, 25 sold (+5); run B 40 for 11-23, 45 sold (-5): MSE 25, bias 0.
    assert errors.loc["TEE-001", ["weeks", "mean_square_error", "bias"]].tolist() == [2, 25.0, 0.0]
    assert "HOOD-020" not in errors.index  # its only week was out of stock: censored, not an error
    # A run whose week 0 has not ended yet (as of the same Monday) contributes nothing.
    assert realised_errors([RUN_B], HISTORY, date(2026, 11, 24)).empty


def test_no_earlier_run_or_a_gap_gives_an_empty_table_with_a_note() -> None:
    tables = {"demand_history": HISTORY, "inventory": SNAPSHOT}
    first = plan_vs_actual([], tables, AS_OF)
    assert first.table.empty and first.previous_run_id is None and "no run published" in first.note
    short = PublishedWeek("run-old", date(2026, 11, 9), RUN_A.inventory)  # projects only its week 0
    gap = plan_vs_actual([short], tables, AS_OF)
    assert gap.table.empty and "does not project the week of 2026-11-23" in gap.note


def test_a_gap_week_compares_a_later_plan_week_without_receipts() -> None:
    # Run B's projection as if it had been published for 11-16: the week of 11-23 is its week 1.
    record = plan_vs_actual(
        [PublishedWeek("run-b", date(2026, 11, 16), RUN_B.inventory)],
        {"demand_history": HISTORY, "inventory": SNAPSHOT},
        AS_OF,
    )
    tee = record.table.set_index("sku").loc["TEE-001"]
    # Week 1 of a run for 11-16 is 11-23: projected 40 demand, 60 closing; the opening was never observed.
    assert (tee["plan_week"], tee["projected_demand"], tee["projected_closing"]) == (1, 40, 60)
    assert pd.isna(tee["actual_net_receipts"]) and pd.isna(tee["receipts_variance"])
    assert "receipts not inferred" in record.note


def test_large_variances_become_exceptions_and_small_ones_do_not() -> None:
    record = plan_vs_actual([RUN_B], {"demand_history": HISTORY, "inventory": SNAPSHOT}, AS_OF)
    category = {"TEE-001": "Apparel", "HOOD-020": "Apparel"}
    found = {(r["exception"], r["sku"]): r for r in variance_exceptions(record.table, category, ExceptionSettings())}
    # Defaults: a variance must exceed 10 units and 50 % of the projection.
    # HOOD-020: demand +15 > max(10, 0.5 x 20 = 10); receipts -20 > max(10, 0); fill rate 28.6 % < 100 % - 10 pts;
    # stock -10 is not above 10 units.
    assert set(found) == {
        ("demand_variance", "HOOD-020"),
        ("receipt_variance", "HOOD-020"),
        ("fill_rate_variance", "HOOD-020"),
    }
    assert found[("demand_variance", "HOOD-020")]["cause"] == "censored"
    assert found[("receipt_variance", "HOOD-020")]["severity"] == "high"  # less arrived than planned
    assert "chase the late order" in str(found[("receipt_variance", "HOOD-020")]["detail"])
    # TEE-001's receipts are 20 short of 40: exactly 50 %, not above it; at 49 % the exception fires.
    lower = ExceptionSettings(variance_share=0.49)
    fired = {(r["exception"], r["sku"]) for r in variance_exceptions(record.table, category, lower)}
    assert ("receipt_variance", "TEE-001") in fired and ("stock_variance", "TEE-001") not in fired
    # Raising the unit floor above every variance silences the unit-based ones.
    quiet = ExceptionSettings(variance_min_units=30, fill_rate_drop=0.9)
    assert variance_exceptions(record.table, category, quiet) == []


def test_blend_weights_realised_errors_by_their_weeks() -> None:
    frame = pd.DataFrame(
        {
            "sku": ["TEE-001"] * 4 + ["HOOD-020"] * 2 + ["CAP-300"] * 2,
            "location": ["WH-EAST"] * 4 + ["FBA-US"] * 2 + ["WH-EAST"] * 2,
            "channel": ["shopify", "shopify", "walmart", "walmart", "amazon", "amazon", "shopify", "shopify"],
            "week": [0, 1] * 4,
            "units": [10.0] * 8,
            "units_std": [3.0, 3.0, 4.0, 4.0, 0.0, 0.0, 2.0, 2.0],
        }
    )
    errors = pd.DataFrame(
        {
            "sku": ["TEE-001", "HOOD-020"],
            "location": ["WH-EAST", "FBA-US"],
            "weeks": [2, 2],
            "mean_square_error": [100.0, 50.0],
        }
    )
    out = blend_realised_errors(Forecast(frame, "engine"), errors, prior_weeks=8).frame
    # TEE-001 WH-EAST: model variance 3^2 + 4^2 = 25; w = 2 / (2 + 8) = 0.2; V = 0.2 x 100 + 0.8 x 25 = 40;
    # each channel scaled by sqrt(40 / 25): 3 -> 3.795, 4 -> 5.060.
    assert out["units_std"].iloc[:4].tolist() == pytest.approx([3 * np.sqrt(1.6)] * 2 + [4 * np.sqrt(1.6)] * 2)
    # HOOD-020 FBA-US had no modelled spread: V = 0.2 x 50 = 10 on its one channel.
    assert out["units_std"].iloc[4:6].tolist() == pytest.approx([np.sqrt(10)] * 2)
    assert out["units_std"].iloc[6:].tolist() == [2.0, 2.0]  # no realised errors: unchanged


def _typed(folder: Path, tables: dict[str, str]) -> tuple[dict[str, pd.DataFrame], LocalStorage]:
    storage = LocalStorage(write_tables(folder, tables))
    return {name: t.typed for name, t in load_input_tables(storage).items()}, storage


def test_large_realised_errors_raise_next_weeks_safety_stock(tmp_path: Path) -> None:
    config = small_config()
    tables, _ = _typed(tmp_path, dict(VALID_TABLES))
    as_of = date(2026, 11, 30)
    errors = pd.DataFrame({"sku": ["TEE-001"], "location": ["WH-EAST"], "weeks": [4], "mean_square_error": [900.0]})
    plain = build_problem(tables, make_forecast(tables, as_of, config).forecast, config, as_of)
    fed = build_problem(tables, make_forecast(tables, as_of, config, errors).forecast, config, as_of)
    tee = [k for k in plain.safety_stock if k[:2] == ("TEE-001", "WH-EAST")]
    assert tee and all(fed.safety_stock[k] > plain.safety_stock[k] + 1 for k in tee)
    others = {k: v for k, v in plain.safety_stock.items() if k[:2] != ("TEE-001", "WH-EAST")}
    assert others and all(fed.safety_stock[k] == pytest.approx(v) for k, v in others.items())


def _checked(storage: LocalStorage, as_of: str) -> CheckedInputs:
    """The loaded tables with a report carrying their checksums (the Great Expectations pass is skipped)."""
    tables = load_input_tables(storage)
    return CheckedInputs(tables=tables, report=checksum_report(tables, storage.uri, as_of), report_uri=storage.uri)


def _second_week() -> dict[str, str]:
    """The inline brand a week later: the week of 11-30 sold, stock counted on 12-07."""
    tables = dict(VALID_TABLES)
    tables["demand_history"] = VALID_TABLES["demand_history"] + (
        "2026-11-30,TEE-001,WH-EAST,shopify,40,28.0,true\n"
        "2026-11-30,TEE-001,FBA-US,amazon,7,30.0,true\n"
        "2026-11-30,HOOD-020,WH-EAST,walmart,4,64.0,true\n"
    )
    tables["inventory"] = (
        "sku,location,on_hand,allocated,as_of_date\n"
        "TEE-001,WH-EAST,350,10,2026-12-07\n"
        "TEE-001,FBA-US,143,0,2026-12-07\n"
        "HOOD-020,WH-EAST,82,0,2026-12-07\n"
    )
    return tables


def test_two_weekly_runs_publish_last_weeks_projection_against_actuals(tmp_path: Path) -> None:
    outputs, config = LocalStorage(tmp_path / "out"), small_config()
    first = plan_and_publish(
        _checked(LocalStorage(write_tables(tmp_path / "w1", dict(VALID_TABLES))), "2026-11-30"), outputs, config
    )
    assert first.result is not None
    assert read_run_table(outputs, first.result.prefix, "plan_vs_actual").empty
    assert "no run published" in read_manifest(outputs, first.result.prefix)["plan_vs_actual"]["note"]

    second = plan_and_publish(
        _checked(LocalStorage(write_tables(tmp_path / "w2", _second_week())), "2026-12-07"), outputs, config
    )
    assert second.result is not None
    manifest = read_manifest(outputs, second.result.prefix)["plan_vs_actual"]
    assert (manifest["previous_run_id"], manifest["week_start"]) == (first.result.run_id, "2026-11-30")
    assert manifest["earlier_runs"] == [first.result.run_id]  # part of the run id: the plan depends on it
    assert manifest["error_points"] == 4  # week-0 errors of TEE-001 x 2, HOOD-020 and CAP-300 (0 forecast, 0 sold)
    table = read_run_table(outputs, second.result.prefix, "plan_vs_actual").set_index(["sku", "location"])
    projected = read_run_table(outputs, first.result.prefix, "projected_inventory")
    week0 = projected[projected["week"] == 0].set_index(["sku", "location"])
    assert set(table.index) == set(week0.index)
    assert (table["previous_run_id"] == first.result.run_id).all() and (table["plan_week"] == 0).all()
    pd.testing.assert_series_equal(table["projected_demand"], week0["demand"].loc[table.index], check_names=False)
    pd.testing.assert_series_equal(table["projected_closing"], week0["closing"].loc[table.index], check_names=False)
    # Actuals from the second week's inputs (weekly rows, all in stock): sales 40 / 7 / 4; stock
    # 350 - 10 = 340, 143, 82; net receipts = closing - the first run's opening + sales.
    expected = {
        ("TEE-001", "WH-EAST"): (40.0, 340.0),
        ("TEE-001", "FBA-US"): (7.0, 143.0),
        ("HOOD-020", "WH-EAST"): (4.0, 82.0),
    }
    for point, (sales, closing) in expected.items():
        row = table.loc[point]
        assert (row["actual_sales"], row["actual_demand"], row["actual_closing"]) == (sales, sales, closing)
        assert row["actual_net_receipts"] == pytest.approx(closing - week0.loc[point, "opening"] + sales)
        assert row["demand_variance"] == pytest.approx(sales - week0.loc[point, "demand"])
    # The exceptions table carries exactly the variance rows its thresholds select from this table.
    exceptions = read_run_table(outputs, second.result.prefix, "exceptions")
    variances = exceptions[exceptions["exception"].str.endswith("_variance")]
    category = {"TEE-001": "Apparel", "HOOD-020": "Apparel"}
    selected = variance_exceptions(table.reset_index(), category, config.publish.exceptions)
    assert sorted(zip(variances["exception"], variances["sku"], variances["location"], strict=True)) == sorted(
        (r["exception"], r["sku"], r["location"]) for r in selected
    )
    # The flow's summary and the HTML report carry last week's figures.
    summary = build_summary(
        second.run,
        run_id=second.result.run_id,
        plan_uri=second.uri,
        validation_report_uri="",
        latest=True,
        tables={"plan_vs_actual": table.reset_index(), "exceptions": exceptions},
    )
    assert summary.last_week_fill_rate == pytest.approx(1.0)  # every point in stock: sales = demand
    assert summary.last_week_planned_fill_rate == pytest.approx(
        table["projected_sales"].sum() / table["projected_demand"].sum()
    )
    assert summary.variance_exceptions == len(selected) and first.result.run_id in str(summary.last_week_note)
    page = outputs.read_bytes(f"{second.result.prefix}/report.html").decode()
    assert "Last week against plan" in page and first.result.run_id in page
    assert [w.run_id for w in published_weeks(outputs, date(2026, 12, 14), 13)] == [
        first.result.run_id,
        second.result.run_id,
    ]
