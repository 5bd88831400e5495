"""The M5 loader: real demand kept intact, synthetic supply side deterministic and consistent.

Skipped when the shared M5 subset is not on this machine (it is not shipped with the project).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from planning.m5 import load_m5_tables
from tests.test_demo_data import assert_tables_equal, check_all_integrity

M5_DIR = Path(__file__).resolve().parents[1].parent / "shared/datasets/m5_subset"
DEFAULT_AS_OF = date(2016, 4, 25)  # the Monday after the last M5 day, 2016-04-24

pytestmark = pytest.mark.skipif(
    not M5_DIR.is_dir(), reason=f"M5 subset not found at {M5_DIR} (shared data set, not shipped with the project)"
)


@pytest.fixture(scope="module")
def m5() -> dict[str, pd.DataFrame]:
    return load_m5_tables(M5_DIR)


@pytest.fixture(scope="module")
def wide() -> pd.DataFrame:
    return pd.read_csv(M5_DIR / "sales_daily_wide.csv", parse_dates=["date"])


def test_tables_satisfy_contracts_and_integrity(m5: dict[str, pd.DataFrame]) -> None:
    check_all_integrity(m5)
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
    assert set(m5) == expected


def test_same_seed_gives_identical_tables(m5: dict[str, pd.DataFrame]) -> None:
    assert_tables_equal(m5, load_m5_tables(M5_DIR))


def test_seed_changes_only_the_synthetic_supply_side(m5: dict[str, pd.DataFrame]) -> None:
    other = load_m5_tables(M5_DIR, seed=12)
    pd.testing.assert_frame_equal(m5["demand_history"], other["demand_history"])
    pd.testing.assert_frame_equal(m5["locations"], other["locations"])
    assert not m5["inventory"].equals(other["inventory"])
    assert not m5["sourcing_options"].equals(other["sourcing_options"])


def test_default_as_of_is_the_monday_after_the_history(m5: dict[str, pd.DataFrame]) -> None:
    assert m5["demand_history"]["date"].max() == pd.Timestamp(DEFAULT_AS_OF - timedelta(days=1))
    assert (m5["inventory"]["as_of_date"] == pd.Timestamp(DEFAULT_AS_OF)).all()
    assert m5["budgets"]["period_start"].min() == pd.Timestamp(DEFAULT_AS_OF)
    assert len(m5["budgets"]) == 26


def test_real_daily_demand_is_kept_intact(m5: dict[str, pd.DataFrame], wide: pd.DataFrame) -> None:
    demand = m5["demand_history"]
    series = [c for c in wide.columns if c != "date"]
    assert len(demand) == len(series) * len(wide)
    assert demand["units"].sum() == wide[series].to_numpy().sum()
    assert set(demand["channel"]) == {"store"}
    one = demand[(demand["sku"] == "FOODS_3_586") & (demand["location"] == "TX_2")].set_index("date")["units"]
    assert one.to_numpy().tolist() == wide.set_index("date")["FOODS_3_586|TX_2"].astype(float).tolist()


def test_price_comes_from_the_sell_price_week(m5: dict[str, pd.DataFrame]) -> None:
    calendar = pd.read_csv(M5_DIR / "calendar.csv", parse_dates=["date"]).drop_duplicates("date")
    prices = pd.read_csv(M5_DIR / "sell_prices_weekly.csv")
    sample = m5["demand_history"].sample(2_000, random_state=0)
    joined = sample.merge(calendar[["date", "wm_yr_wk"]], on="date").merge(
        prices, left_on=["sku", "location", "wm_yr_wk"], right_on=["item_id", "store_id", "wm_yr_wk"], how="left"
    )
    pd.testing.assert_series_equal(joined["price"], joined["sell_price"], check_names=False)


def test_days_without_a_price_are_not_in_stock(m5: dict[str, pd.DataFrame]) -> None:
    demand = m5["demand_history"]
    assert (~demand["in_stock"]).sum() > 1_000
    assert (demand["in_stock"] == demand["price"].notna()).all()
    assert (demand.loc[~demand["in_stock"], "units"] == 0).all()


def test_items_locations_and_synthetic_costs(m5: dict[str, pd.DataFrame]) -> None:
    items = m5["items"]
    assert len(items) == 28
    assert (items["category"] == items["sku"].str.split("_").str[0]).all()
    assert set(items["category"]) == {"FOODS", "HOBBIES", "HOUSEHOLD"}
    assert ((items["unit_cost"] - 0.6 * items["selling_price"]).abs() <= 0.006).all()
    assert set(items["service_class"]) == {"A", "B", "C"}
    assert (items["status"] == "active").all()
    locations = m5["locations"]
    assert sorted(locations["location"]) == [
        "CA_1",
        "CA_2",
        "CA_3",
        "CA_4",
        "TX_1",
        "TX_2",
        "TX_3",
        "WI_1",
        "WI_2",
        "WI_3",
    ]
    assert set(locations["type"]) == {"store"} and set(locations["channels"]) == {"store"}


def test_one_supplier_per_department_with_short_lead_times(m5: dict[str, pd.DataFrame]) -> None:
    options = m5["sourcing_options"]
    departments = options["sku"].str.rsplit("_", n=1).str[0]
    assert (options["supplier"] == "SUP-" + departments).all()
    assert len(m5["suppliers"]) == departments.nunique() == 7
    assert options["lead_time_weeks"].between(1, 6).all()
    per_supplier = options.groupby("supplier")["lead_time_weeks"].nunique()
    assert (per_supplier == 1).all()
    merged = options.merge(m5["items"][["sku", "case_pack"]], on="sku")
    assert (merged["order_multiple"] == merged["case_pack"]).all()
    assert (merged["moq"] % merged["order_multiple"] == 0).all()


def test_inventory_is_two_to_four_weeks_of_recent_demand(m5: dict[str, pd.DataFrame]) -> None:
    demand = m5["demand_history"]
    recent = demand[demand["date"] >= pd.Timestamp(DEFAULT_AS_OF - timedelta(days=28))]
    weekly = recent.groupby(["sku", "location"])["units"].mean() * 7
    inventory = m5["inventory"].set_index(["sku", "location"])["on_hand"]
    weekly = weekly.reindex(inventory.index)
    assert (inventory >= 2 * weekly - 0.5).all() and (inventory <= 4 * weekly + 0.5).all()


def test_open_orders_are_few_and_near(m5: dict[str, pd.DataFrame]) -> None:
    orders = m5["open_orders"]
    assert len(orders) <= 0.2 * len(m5["inventory"])
    assert (orders["expected_arrival"] > pd.Timestamp(DEFAULT_AS_OF)).all()
    assert (orders["expected_arrival"] < pd.Timestamp(DEFAULT_AS_OF + timedelta(weeks=2))).all()


def test_earlier_as_of_truncates_history_and_flags_new_items() -> None:
    as_of = date(2012, 1, 2)
    tables = load_m5_tables(M5_DIR, as_of=as_of)
    check_all_integrity(tables)
    assert tables["demand_history"]["date"].max() == pd.Timestamp(as_of - timedelta(days=1))
    items = tables["items"]
    new = items[items["status"] == "new"]
    assert len(new) > 0 and (new["launch_date"] >= pd.Timestamp(as_of - timedelta(weeks=8))).all()


def test_as_of_must_be_a_monday() -> None:
    with pytest.raises(ValueError, match="Monday"):
        load_m5_tables(M5_DIR, as_of=date(2016, 4, 26))


def test_as_of_before_the_data_is_rejected() -> None:
    with pytest.raises(ValueError, match="no M5 history"):
        load_m5_tables(M5_DIR, as_of=date(2010, 1, 4))


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"sales_daily_wide\.csv"):
        load_m5_tables(tmp_path)
