"""The Online Retail loader: real demand kept intact, synthetic supply side deterministic and consistent.

Skipped when the shared Online Retail extract is not on this machine (it is not shipped with the project).
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from planning.demo_data import write_demo_tables
from planning.inputs import load_input_tables
from planning.online_retail import load_online_retail_tables
from planning.storage import LocalStorage
from planning.validation import validate_inputs
from tests.test_demo_data import assert_tables_equal, check_all_integrity

RETAIL_DIR = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "online_retail"
DEFAULT_AS_OF = date(2011, 12, 12)  # the Monday after the last day, Friday 2011-12-09
MID_AS_OF = date(2011, 6, 6)

pytestmark = pytest.mark.skipif(
    not RETAIL_DIR.is_dir(),
    reason=f"Online Retail extract not found at {RETAIL_DIR} (shared data set, not shipped with the project)",
)


@pytest.fixture(scope="module")
def retail() -> dict[str, pd.DataFrame]:
    return load_online_retail_tables(RETAIL_DIR)


@pytest.fixture(scope="module")
def mid() -> dict[str, pd.DataFrame]:
    return load_online_retail_tables(RETAIL_DIR, as_of=MID_AS_OF)


@pytest.fixture(scope="module")
def wide() -> pd.DataFrame:
    return pd.read_csv(RETAIL_DIR / "top50_daily_units.csv", parse_dates=["date"])


def test_tables_satisfy_contracts_and_integrity(retail: dict[str, pd.DataFrame], mid: dict[str, pd.DataFrame]) -> None:
    check_all_integrity(retail)
    check_all_integrity(mid)
    expected = {
        "demand_history",
        "inventory",
        "open_orders",
        "items",
        "sourcing_options",
        "suppliers",
        "locations",
        "budgets",
        "service_targets",
    }
    assert set(retail) == expected


@pytest.mark.parametrize("as_of", [None, MID_AS_OF], ids=["default", "mid-data"])
def test_tables_pass_input_validation(as_of: date | None, tmp_path: Path) -> None:
    tables = load_online_retail_tables(RETAIL_DIR, as_of=as_of)
    write_demo_tables(tables, tmp_path)
    report = validate_inputs(load_input_tables(LocalStorage(tmp_path)), inputs_uri=str(tmp_path))
    assert report.is_valid, [f.describe() for f in report.errors]
    assert report.as_of == (as_of or DEFAULT_AS_OF)


def test_same_seed_gives_identical_tables(retail: dict[str, pd.DataFrame]) -> None:
    assert_tables_equal(retail, load_online_retail_tables(RETAIL_DIR))


def test_seed_changes_only_the_synthetic_supply_side(retail: dict[str, pd.DataFrame]) -> None:
    other = load_online_retail_tables(RETAIL_DIR, seed=14)
    pd.testing.assert_frame_equal(retail["demand_history"], other["demand_history"])
    pd.testing.assert_frame_equal(retail["locations"], other["locations"])
    assert not retail["inventory"].equals(other["inventory"])
    assert not retail["sourcing_options"].equals(other["sourcing_options"])


def test_default_as_of_is_the_monday_after_the_history(retail: dict[str, pd.DataFrame]) -> None:
    assert retail["demand_history"]["date"].max() == pd.Timestamp(date(2011, 12, 9))
    assert (retail["inventory"]["as_of_date"] == pd.Timestamp(DEFAULT_AS_OF)).all()
    budgets = retail["budgets"]
    assert budgets["period_start"].tolist() == [pd.Timestamp(DEFAULT_AS_OF + timedelta(weeks=w)) for w in range(26)]
    assert set(budgets["period"]) == {"week"} and set(budgets["category"]) == {""} and set(budgets["supplier"]) == {""}


def test_history_ends_before_a_mid_data_as_of(mid: dict[str, pd.DataFrame]) -> None:
    demand = mid["demand_history"]
    assert demand["date"].max() == pd.Timestamp(MID_AS_OF - timedelta(days=1))
    assert demand["date"].min() == pd.Timestamp(date(2010, 12, 1))


def test_real_daily_demand_is_kept_intact(retail: dict[str, pd.DataFrame], wide: pd.DataFrame) -> None:
    demand = retail["demand_history"]
    products = [c for c in wide.columns if c not in ("date", "POST")]
    assert len(demand) == len(products) * len(wide) == 49 * 374
    assert demand["units"].sum() == wide[products].to_numpy().sum()
    for code in ("85123A", "85099B", "22197"):
        one = demand[demand["sku"] == code].set_index("date")["units"]
        assert one.sum() == wide[code].sum()
        assert one.to_numpy().tolist() == wide.set_index("date")[code].astype(float).tolist()
    assert set(demand["location"]) == {"UK-WH"} and set(demand["channel"]) == {"web"}
    assert demand["in_stock"].all()


def test_postage_is_not_a_product(retail: dict[str, pd.DataFrame]) -> None:
    for name in ("demand_history", "items", "inventory", "sourcing_options", "open_orders"):
        assert "POST" not in set(retail[name]["sku"]), name
    assert len(retail["items"]) == 49


def test_items_carry_real_descriptions_and_prices(retail: dict[str, pd.DataFrame]) -> None:
    source = pd.read_csv(RETAIL_DIR / "top50_items.csv", dtype={"StockCode": str}).set_index("StockCode")
    items = retail["items"].set_index("sku")
    assert (items["selling_price"] == source["median_price"].reindex(items.index)).all()
    assert items.loc["20727", "description"] == "LUNCH BAG BLACK SKULL."  # double space collapsed
    assert ((items["unit_cost"] - 0.5 * items["selling_price"]).abs() <= 0.006).all()
    assert set(items["category"]) == {"bags", "kitchen", "home", "gifts"}
    assert items.loc["85099B", "category"] == "bags" and items.loc["22629", "category"] == "kitchen"
    assert items.loc["85123A", "category"] == "home" and items.loc["47566", "category"] == "gifts"
    assert set(items["service_class"]) == {"A", "B", "C"}
    assert (items["status"] == "active").all()
    price = retail["demand_history"].groupby("sku")["price"].unique()
    assert all(len(p) == 1 and p[0] == items.loc[sku, "selling_price"] for sku, p in price.items())


def test_faster_sellers_ship_in_bigger_cases(retail: dict[str, pd.DataFrame]) -> None:
    demand = retail["demand_history"]
    year = demand[demand["date"] >= pd.Timestamp(DEFAULT_AS_OF - timedelta(days=364))]
    daily = year.groupby("sku")["units"].mean()
    packs = retail["items"].set_index("sku")["case_pack"].reindex(daily.index)
    assert set(packs) == {6, 12, 24, 48}
    by_pack = daily.groupby(packs)
    assert (by_pack.max().to_numpy()[:-1] <= by_pack.min().to_numpy()[1:]).all()


def test_suppliers_and_sourcing(retail: dict[str, pd.DataFrame]) -> None:
    suppliers = retail["suppliers"].set_index("supplier")
    assert list(suppliers.index) == ["SUP-UK", "SUP-EU", "SUP-CN"]
    assert suppliers.loc["SUP-CN", "deposit_share"] == 0.3
    options = retail["sourcing_options"]
    assert len(options) == len(retail["items"]) and options["sku"].is_unique
    lead = options.groupby("supplier")["lead_time_weeks"].unique()
    assert {s: list(v) for s, v in lead.items()} == {"SUP-UK": [1.0], "SUP-EU": [3.0], "SUP-CN": [8.0]}
    ratio = options["lead_time_std_weeks"] / options["lead_time_weeks"]
    assert ratio.between(0.05, 0.35).all()
    assert (options["mode"] == options["supplier"].map({"SUP-UK": "truck", "SUP-EU": "truck", "SUP-CN": "ocean"})).all()
    assert options["supplier"].value_counts().idxmax() == "SUP-CN"
    merged = options.merge(retail["items"][["sku", "case_pack", "unit_cost"]], on="sku", suffixes=("", "_item"))
    assert (merged["order_multiple"] == merged["case_pack"]).all()
    assert ((merged["moq"] / merged["case_pack"]).isin([1.0, 2.0, 3.0])).all()
    assert (merged["unit_cost"] == merged["unit_cost_item"]).all()


def test_inventory_is_three_to_six_weeks_of_recent_demand(retail: dict[str, pd.DataFrame]) -> None:
    demand = retail["demand_history"]
    recent = demand[demand["date"] >= pd.Timestamp(DEFAULT_AS_OF - timedelta(weeks=8))]
    weekly = recent.groupby("sku")["units"].sum() / 8
    inventory = retail["inventory"].set_index("sku")
    weekly = weekly.reindex(inventory.index)
    assert (inventory["on_hand"] >= 3 * weekly - 0.5).all() and (inventory["on_hand"] <= 6 * weekly + 0.5).all()
    assert (inventory["allocated"] == 0).all()


def test_open_orders_arrive_within_their_lead_time(retail: dict[str, pd.DataFrame]) -> None:
    orders = retail["open_orders"].merge(retail["sourcing_options"], on="sku")
    assert 0 < len(orders) <= 0.5 * len(retail["items"])
    assert (orders["origin"] == orders["supplier"]).all()
    assert (orders["expected_arrival"] > pd.Timestamp(DEFAULT_AS_OF)).all()
    latest = pd.Timestamp(DEFAULT_AS_OF) + pd.to_timedelta(7 * orders["lead_time_weeks"], unit="D")
    assert (orders["expected_arrival"] <= latest).all()
    assert (orders["quantity"] % orders["order_multiple"] == 0).all() and (orders["quantity"] >= orders["moq"]).all()


def test_budgets_follow_the_recent_purchase_need(retail: dict[str, pd.DataFrame]) -> None:
    demand = retail["demand_history"]
    recent = demand[demand["date"] >= pd.Timestamp(DEFAULT_AS_OF - timedelta(weeks=8))]
    cost = recent["sku"].map(retail["items"].set_index("sku")["unit_cost"])
    need = float((recent["units"] * cost).sum()) / 8
    limits = retail["budgets"]["cash_limit"]
    assert limits.between(0.9 * need - 5, 1.2 * need + 5).all()
    assert set(retail["budgets"]["currency"]) == {"GBP"} and set(retail["suppliers"]["currency"]) == {"GBP"}


def test_as_of_must_be_a_monday() -> None:
    with pytest.raises(ValueError, match="Monday"):
        load_online_retail_tables(RETAIL_DIR, as_of=date(2011, 6, 7))


def test_as_of_before_the_data_is_rejected() -> None:
    with pytest.raises(ValueError, match="no Online Retail history"):
        load_online_retail_tables(RETAIL_DIR, as_of=date(2010, 11, 29))


@pytest.mark.parametrize("present", [(), ("top50_daily_units.csv",)], ids=["both-missing", "items-missing"])
def test_missing_files_are_named(present: tuple[str, ...], tmp_path: Path) -> None:
    for name in present:
        shutil.copy(RETAIL_DIR / name, tmp_path / name)
    with pytest.raises(FileNotFoundError, match=r"top50_items\.csv"):
        load_online_retail_tables(tmp_path)


def test_missing_units_file_is_named(tmp_path: Path) -> None:
    shutil.copy(RETAIL_DIR / "top50_items.csv", tmp_path / "top50_items.csv")
    with pytest.raises(FileNotFoundError, match=r"top50_daily_units\.csv"):
        load_online_retail_tables(tmp_path)
