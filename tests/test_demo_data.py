"""The demo brand generator: determinism, contract shape, integrity and the features it must exercise.

Most tests use a 40-SKU brand (sub-second); one test checks the 300-SKU default. The ``check_*``
helpers are shared with ``tests/test_m5.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_contracts.tables import CONTRACTS_BY_NAME
from planning.demo_data import (
    FBA,
    HORIZON_WEEKS,
    OVERSEAS,
    generate_demo_tables,
    holiday_peak,
    open_order_balances,
    pre_peak_weeks,
    write_demo_tables,
)

AS_OF = date(2026, 11, 30)
Tables = Mapping[str, pd.DataFrame]
_DTYPES = {"date": "datetime64[ns]", "int": "int64", "float": "float64", "bool": "bool"}


@pytest.fixture(scope="module")
def small() -> dict[str, pd.DataFrame]:
    return generate_demo_tables(seed=7, n_skus=40)


@pytest.fixture(scope="module")
def full() -> dict[str, pd.DataFrame]:
    """The 300-SKU default, for properties that need the whole catalogue to be stable."""
    return generate_demo_tables()


# --------------------------------------------------------------------------------------------
# Shared checks (also used by tests/test_m5.py)
# --------------------------------------------------------------------------------------------


def check_columns_match_contracts(tables: Tables) -> None:
    """Known tables only; required columns present, no unknown ones, contract order and dtypes."""
    assert set(tables) <= set(CONTRACTS_BY_NAME)
    for name, frame in tables.items():
        contract = CONTRACTS_BY_NAME[name]
        required = [c.name for c in contract.columns if c.required]
        assert set(required) <= set(frame.columns), name
        assert list(frame.columns) == [c for c in contract.column_names if c in frame.columns], name
        for col in contract.columns:
            if col.name in frame and col.kind in _DTYPES:
                assert str(frame[col.name].dtype) == _DTYPES[col.kind], (name, col.name)


def check_keys_unique(tables: Tables) -> None:
    for name, frame in tables.items():
        key = list(CONTRACTS_BY_NAME[name].key)
        assert not frame.duplicated(key).any(), name


def check_values_in_contract_ranges(tables: Tables) -> None:
    """Non-nullable cells are filled; numbers respect min/max; closed vocabularies hold."""
    for name, frame in tables.items():
        for col in CONTRACTS_BY_NAME[name].columns:
            if col.name not in frame:
                continue
            values = frame[col.name]
            if not col.nullable:
                assert values.notna().all(), (name, col.name)
            present = values.dropna()
            if col.min_value is not None:
                ok = present > col.min_value if col.strict_min else present >= col.min_value
                assert ok.all(), (name, col.name)
            if col.max_value is not None:
                assert (present <= col.max_value).all(), (name, col.name)
            if col.allowed is not None:
                assert set(present) <= set(col.allowed), (name, col.name)


def check_references_resolve(tables: Tables) -> None:
    """Every sku, supplier, location and channel reference points at an existing row."""
    skus = set(tables["items"]["sku"])
    suppliers = set(tables["suppliers"]["supplier"])
    locations = tables["locations"].set_index("location")
    served = {(loc, ch) for loc, chs in locations["channels"].items() for ch in chs.split(";")}
    for name in ("demand_history", "inventory", "open_orders", "sourcing_options", "locked_orders"):
        if name in tables:
            assert set(tables[name]["sku"]) <= skus, name
    for name in ("sourcing_options", "supplier_closures", "locked_orders"):
        if name in tables:
            assert set(tables[name]["supplier"]) <= suppliers, name
    demand = tables["demand_history"]
    assert set(zip(demand["location"], demand["channel"], strict=True)) <= served
    assert set(tables["inventory"]["location"]) <= set(locations.index)
    assert set(tables["sourcing_options"]["ship_to"]) <= set(locations.index)
    if "open_orders" in tables:
        orders = tables["open_orders"]
        assert set(orders["destination"]) <= set(locations.index)
        by_supplier = orders["origin_type"] == "supplier"
        assert set(orders.loc[by_supplier, "origin"]) <= suppliers
        assert set(orders.loc[~by_supplier, "origin"]) <= set(locations.index)
    if "transfer_lanes" in tables:
        lanes = tables["transfer_lanes"]
        assert set(lanes["from_location"]) | set(lanes["to_location"]) <= set(locations.index)
        assert (lanes["from_location"] != lanes["to_location"]).all()
    if "budgets" in tables:
        budgets = tables["budgets"]
        assert set(budgets["category"]) - {""} <= set(tables["items"]["category"])
        assert set(budgets["supplier"]) - {""} <= suppliers


def check_demand_reachable(tables: Tables) -> None:
    """Each (sku, location) with demand is bought into it, or into a location with a lane into it."""
    direct = set(zip(tables["sourcing_options"]["sku"], tables["sourcing_options"]["ship_to"], strict=True))
    lanes = tables.get("transfer_lanes", pd.DataFrame(columns=["from_location", "to_location"]))
    feeders: dict[str, set[str]] = {}
    for origin, destination in zip(lanes["from_location"], lanes["to_location"], strict=True):
        feeders.setdefault(destination, set()).add(origin)
    demand = tables["demand_history"][["sku", "location"]].drop_duplicates()
    for sku, location in zip(demand["sku"], demand["location"], strict=True):
        reachable = (sku, location) in direct or any((sku, f) in direct for f in feeders.get(location, ()))
        assert reachable, (sku, location)


def check_all_integrity(tables: Tables) -> None:
    check_columns_match_contracts(tables)
    check_keys_unique(tables)
    check_values_in_contract_ranges(tables)
    check_references_resolve(tables)
    check_demand_reachable(tables)


def assert_tables_equal(left: Tables, right: Tables) -> None:
    assert left.keys() == right.keys()
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], obj=name)


# --------------------------------------------------------------------------------------------
# Determinism and shape
# --------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_tables(small: dict[str, pd.DataFrame]) -> None:
    assert_tables_equal(small, generate_demo_tables(seed=7, n_skus=40))


def test_different_seed_gives_different_tables(small: dict[str, pd.DataFrame]) -> None:
    other = generate_demo_tables(seed=8, n_skus=40)
    assert not small["demand_history"].equals(other["demand_history"])
    assert not small["items"].equals(other["items"])


def test_tables_satisfy_contracts_and_integrity(small: dict[str, pd.DataFrame]) -> None:
    check_all_integrity(small)
    assert "external_forecast" not in small
    assert set(small) == set(CONTRACTS_BY_NAME) - {"external_forecast"}


def test_as_of_must_be_a_monday() -> None:
    with pytest.raises(ValueError, match="Monday"):
        generate_demo_tables(as_of=date(2026, 12, 1), n_skus=20)


def test_too_small_catalogue_is_rejected() -> None:
    with pytest.raises(ValueError, match="n_skus"):
        generate_demo_tables(n_skus=5)


def test_another_monday_gives_consistent_dates() -> None:
    as_of = date(2025, 9, 1)
    tables = generate_demo_tables(seed=3, as_of=as_of, n_skus=20)
    check_all_integrity(tables)
    demand = tables["demand_history"]
    assert demand["date"].max() == pd.Timestamp(as_of - timedelta(days=1))
    assert (tables["inventory"]["as_of_date"] == pd.Timestamp(as_of)).all()
    assert tables["budgets"]["period_start"].min() == pd.Timestamp(as_of)


def test_full_size_demo_has_the_documented_scale(full: dict[str, pd.DataFrame]) -> None:
    tables = full
    check_all_integrity(tables)
    assert 150_000 <= len(tables["demand_history"]) <= 400_000
    items = tables["items"]
    assert len(items) == 300
    assert items["category"].value_counts().min() >= 20
    assert set(items["service_class"]) == {"A", "B", "C"}
    assert 5 <= (items["status"] == "new").sum() <= 20
    assert 5 <= (items["status"] == "discontinued").sum() <= 20
    two_sources = tables["sourcing_options"].groupby("sku")["supplier"].nunique() > 1
    assert two_sources.sum() >= 20


# --------------------------------------------------------------------------------------------
# Demand history features
# --------------------------------------------------------------------------------------------


def test_history_is_two_years_of_daily_rows_ending_before_as_of(small: dict[str, pd.DataFrame]) -> None:
    dates = small["demand_history"]["date"]
    assert dates.min() == pd.Timestamp(AS_OF - timedelta(days=730))
    assert dates.max() == pd.Timestamp(AS_OF - timedelta(days=1))
    assert dates.nunique() == 730


def test_sparse_history_keeps_only_sales_returns_and_stockouts(small: dict[str, pd.DataFrame]) -> None:
    demand = small["demand_history"]
    assert not ((demand["units"] == 0) & demand["in_stock"]).any()
    stockouts = demand[~demand["in_stock"]]
    assert len(stockouts) > 0
    assert (stockouts["units"] == 0).all()


def _daily_units(demand: pd.DataFrame) -> tuple[pd.Series, pd.DatetimeIndex]:
    daily = demand.groupby("date")["units"].sum()
    return daily, pd.DatetimeIndex(daily.index)


def test_december_demand_is_above_average(small: dict[str, pd.DataFrame]) -> None:
    daily, days = _daily_units(small["demand_history"])
    assert daily[days.month == 12].mean() > daily.mean()


def test_full_catalogue_has_a_strong_holiday_season(full: dict[str, pd.DataFrame]) -> None:
    demand = full["demand_history"]
    daily, days = _daily_units(demand)
    assert daily[days.month == 12].mean() > 1.2 * daily.mean()
    # Outerwear has the strongest winter season, so it must show it on its own.
    outerwear, outerwear_days = _daily_units(demand[demand["sku"].str.startswith("OUT-")])
    assert outerwear[outerwear_days.month == 12].mean() > 1.3 * outerwear.mean()
    assert outerwear[outerwear_days.month == 7].mean() < outerwear.mean()


def test_weekday_pattern_peaks_early_in_the_week(small: dict[str, pd.DataFrame]) -> None:
    daily, days = _daily_units(small["demand_history"])
    by_weekday = daily.groupby(days.day_of_week).mean()
    assert by_weekday[0] > by_weekday[5]


def test_intermittent_series_are_common(small: dict[str, pd.DataFrame]) -> None:
    """Over each series' selling span, a good share of series sells on fewer than 30 % of days."""
    demand = small["demand_history"]
    grouped = demand.groupby(["sku", "location", "channel"])
    span_days = (grouped["date"].max() - grouped["date"].min()).dt.days + 1
    selling = demand[demand["units"] > 0].groupby(["sku", "location", "channel"]).size()
    zero_share = 1 - selling.reindex(span_days.index, fill_value=0) / span_days
    assert (zero_share > 0.7).mean() >= 0.2


def test_promotions_cut_price_and_lift_units(small: dict[str, pd.DataFrame]) -> None:
    demand = small["demand_history"]
    regular = demand.groupby(["sku", "channel"])["price"].transform("max")
    promo = (demand["price"] < 0.9 * regular) & (demand["units"] > 0)
    assert promo.sum() > 50
    assert demand.loc[promo, "units"].mean() > demand.loc[~promo & (demand["units"] > 0), "units"].mean()
    assert np.allclose(demand["revenue"], (demand["units"] * demand["price"]).round(2))


def test_returns_are_rare_and_small(small: dict[str, pd.DataFrame]) -> None:
    units = small["demand_history"]["units"]
    returns = units[units < 0]
    assert 0 < len(returns) < 0.01 * len(units)
    assert returns.min() >= -2


def test_lifecycle_new_launches_and_discontinued(small: dict[str, pd.DataFrame]) -> None:
    items, demand = small["items"].set_index("sku"), small["demand_history"]
    first_sale = demand[demand["units"] > 0].groupby("sku")["date"].min()
    last_sale = demand[demand["units"] > 0].groupby("sku")["date"].max()
    new = items[items["status"] == "new"]
    assert len(new) >= 2 and new["launch_date"].notna().all()
    assert (new["launch_date"] >= pd.Timestamp(AS_OF - timedelta(days=28))).all()
    sold_new = new.index.intersection(first_sale.index)
    assert (first_sale[sold_new] >= new.loc[sold_new, "launch_date"]).all()
    discontinued = items[items["status"] == "discontinued"].index
    assert len(discontinued) >= 2
    assert (last_sale.reindex(discontinued) < pd.Timestamp(AS_OF - timedelta(days=25))).all()
    stock = small["inventory"].groupby("sku")["on_hand"].sum()
    assert stock.reindex(discontinued).sum() > 0
    launched_mid = items[(items["status"] == "active") & items["launch_date"].notna()]
    assert len(launched_mid) >= 2
    assert (first_sale.reindex(launched_mid.index) >= launched_mid["launch_date"]).all()


def test_service_classes_follow_revenue(small: dict[str, pd.DataFrame]) -> None:
    demand, items = small["demand_history"], small["items"].set_index("sku")
    active = items[items["status"] == "active"].index
    revenue = demand[demand["date"] >= pd.Timestamp(AS_OF - timedelta(days=364))].groupby("sku")["revenue"].sum()
    by_class = revenue.reindex(active).groupby(items.loc[active, "service_class"]).median()
    assert by_class["A"] > by_class["C"]


# --------------------------------------------------------------------------------------------
# Supply side, position and budgets
# --------------------------------------------------------------------------------------------


def test_overseas_supplier_ocean_air_minimum_and_shutdown(small: dict[str, pd.DataFrame]) -> None:
    options = small["sourcing_options"]
    ocean = options[(options["supplier"] == OVERSEAS) & (options["mode"] == "ocean")]
    air = options[(options["supplier"] == OVERSEAS) & (options["mode"] == "air")]
    assert ocean["lead_time_weeks"].between(8, 12).all() and (ocean["lead_time_std_weeks"] > 0).all()
    assert len(air) > 0 and (air["lead_time_weeks"] <= 3).all()
    pair = air.merge(ocean, on=["sku", "ship_to"], suffixes=("_air", "_ocean"))
    assert (pair["unit_cost_air"] > pair["unit_cost_ocean"]).all()
    assert (small["suppliers"].query("supplier == @OVERSEAS")["po_minimum_value"] > 0).all()
    domestic = options[options["supplier"] != OVERSEAS]
    assert (domestic["lead_time_weeks"] <= 4.5).all()
    closures = small["supplier_closures"]
    cny = closures[closures["supplier"] == OVERSEAS].iloc[0]
    horizon_end = pd.Timestamp(AS_OF + timedelta(weeks=HORIZON_WEEKS))
    assert pd.Timestamp(AS_OF) < cny["start_date"] <= cny["end_date"] < horizon_end
    assert cny["start_date"].month in (1, 2) and cny["start_date"].year == 2027


def test_locations_channels_and_lanes(small: dict[str, pd.DataFrame]) -> None:
    locations = small["locations"].set_index("location")
    assert sorted(locations["type"]) == ["3pl", "marketplace", "warehouse"]
    assert locations.loc[FBA, "channels"] == "amazon"
    assert locations["capacity"].notna().all()
    lanes = small["transfer_lanes"]
    assert lanes["lead_time_weeks"].between(1, 2).all() and (lanes["min_shipment"] > 0).all()
    assert set(lanes["to_location"]) >= {FBA}
    fba_skus = set(small["demand_history"].query("location == @FBA")["sku"])
    direct = set(small["sourcing_options"].query("ship_to == @FBA")["sku"])
    assert len(direct & fba_skus) < 0.5 * len(fba_skus)


def test_sourcing_minimums_and_multiples(small: dict[str, pd.DataFrame]) -> None:
    options = small["sourcing_options"].merge(small["items"][["sku", "case_pack"]], on="sku")
    assert (options["order_multiple"] % options["case_pack"] == 0).all()
    assert (options["moq"] % options["order_multiple"] == 0).all()
    assert (options["moq"] > 0).all()


def test_inventory_snapshot_covers_stocked_pairs(small: dict[str, pd.DataFrame]) -> None:
    inventory, items = small["inventory"], small["items"]
    assert (inventory["as_of_date"] == pd.Timestamp(AS_OF)).all()
    assert (inventory["allocated"] <= inventory["on_hand"]).all()
    active = set(items.loc[items["status"] == "active", "sku"])
    demand = small["demand_history"]
    sold = set(zip(demand["sku"], demand["location"], strict=True))
    stocked = set(zip(inventory["sku"], inventory["location"], strict=True))
    assert {p for p in sold if p[0] in active} <= stocked
    assert inventory["on_hand"].sum() > 0


def test_open_orders_arrive_within_ten_weeks(small: dict[str, pd.DataFrame]) -> None:
    orders = small["open_orders"]
    assert (orders["expected_arrival"] >= pd.Timestamp(AS_OF)).all()
    assert (orders["expected_arrival"] < pd.Timestamp(AS_OF + timedelta(weeks=11))).all()
    assert set(orders["origin_type"]) == {"supplier", "location"}
    lanes = set(zip(small["transfer_lanes"]["from_location"], small["transfer_lanes"]["to_location"], strict=True))
    transfers = orders[orders["origin_type"] == "location"]
    assert set(zip(transfers["origin"], transfers["destination"], strict=True)) <= lanes
    purchases = orders[orders["origin_type"] == "supplier"]
    options = set(zip(small["sourcing_options"]["sku"], small["sourcing_options"]["supplier"], strict=True))
    assert set(zip(purchases["sku"], purchases["origin"], strict=True)) <= options


def test_locked_orders_match_an_open_sourcing_option(small: dict[str, pd.DataFrame]) -> None:
    locked, options = small["locked_orders"], small["sourcing_options"]
    key = ["sku", "supplier", "ship_to", "mode"]
    assert len(locked.merge(options, on=key)) == len(locked) >= 1
    closures = small["supplier_closures"]
    for row in locked.to_dict("records"):
        order_date = pd.Timestamp(row["order_date"])
        mine = closures[closures["supplier"] == row["supplier"]]
        overlaps = (mine["start_date"] <= order_date + pd.Timedelta(days=6)) & (mine["end_date"] >= order_date)
        assert not overlaps.any()
        assert pd.Timestamp(AS_OF) <= order_date < pd.Timestamp(AS_OF + timedelta(weeks=HORIZON_WEEKS))


def test_budgets_cover_the_horizon(small: dict[str, pd.DataFrame]) -> None:
    budgets = small["budgets"]
    weekly = budgets[(budgets["period"] == "week") & (budgets["category"] == "")]
    expected = [pd.Timestamp(AS_OF + timedelta(weeks=w)) for w in range(HORIZON_WEEKS)]
    assert list(weekly["period_start"]) == expected
    assert (weekly["cash_limit"] > 0).all() and set(budgets["currency"]) == {"USD"}
    category_rows = budgets[budgets["category"] != ""]
    assert len(category_rows) == 1 and category_rows["period_start"].dt.day.eq(1).all()


def _seasonal_naive_need(tables: Tables) -> pd.Series:
    """Purchase need per horizon week: a level-adjusted seasonal naive forecast valued at unit cost.

    The need of a week is the same week last year (units x unit cost), scaled by how the last eight
    weeks compare with the same eight weeks a year earlier (growth, launches, discontinuations).
    """
    demand = tables["demand_history"]
    cost = demand["units"] * demand["sku"].map(tables["items"].set_index("sku")["unit_cost"])
    weekly = cost.groupby(demand["date"] - pd.to_timedelta(demand["date"].dt.day_of_week, unit="D")).sum()
    year = pd.Timedelta(weeks=52)
    recent = pd.DatetimeIndex([AS_OF - timedelta(weeks=w) for w in range(1, 9)])
    level = weekly.reindex(recent, fill_value=0.0).sum() / weekly.reindex(recent - year, fill_value=0.0).sum()
    mondays = pd.DatetimeIndex([AS_OF + timedelta(weeks=w) for w in range(HORIZON_WEEKS)])
    return pd.Series(level * weekly.reindex(mondays - year, fill_value=0.0).to_numpy(), index=mondays)


def test_budgets_bind_before_the_holiday_peak_and_the_shutdown(full: dict[str, pd.DataFrame]) -> None:
    """What a budget leaves for new lines (its limit less what open POs owe) over the need is below 1
    before the peak, and lower there and before the shutdown than elsewhere.

    Uses the full catalogue: on 40 SKUs one promotion last year moves the seasonal naive need a lot.
    """
    need = _seasonal_naive_need(full)
    budgets = full["budgets"]
    weekly = budgets[(budgets["period"] == "week") & (budgets["category"] == "")].set_index("period_start")
    owed = open_order_balances(full["open_orders"], full["sourcing_options"], full["suppliers"], AS_OF)
    due_monday = [pd.Timestamp(AS_OF + timedelta(weeks=(due - AS_OF).days // 7)) for due in owed["due"]]
    committed = owed.groupby(due_monday)["balance"].sum().reindex(need.index, fill_value=0.0)
    assert committed.sum() > 0  # the demo's open POs do owe cash inside the horizon
    budget = weekly["cash_limit"].reindex(need.index) - committed
    peak = pd.DatetimeIndex(pre_peak_weeks(AS_OF))
    assert len(peak) >= 3 and peak.max() < pd.Timestamp(holiday_peak(AS_OF.year)[1])
    shutdown_start = full["supplier_closures"].query("supplier == @OVERSEAS")["start_date"].iloc[0]
    pre_shutdown = need.index[(need.index >= shutdown_start - pd.Timedelta(weeks=4)) & (need.index < shutdown_start)]
    normal = need.index.difference(peak).difference(pre_shutdown)

    def ratio(weeks: pd.Index) -> float:
        return float(budget[weeks].sum() / need[weeks].sum())

    assert ratio(peak) < 0.9
    assert ratio(peak) < ratio(normal) and ratio(pre_shutdown) < ratio(normal)


def test_service_targets() -> None:
    targets = generate_demo_tables(n_skus=10)["service_targets"].set_index(["scope", "scope_value"])["target"]
    assert targets[("all", "")] == 0.95
    assert targets[("service_class", "A")] == 0.98
    assert targets[("service_class", "C")] == 0.90


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def test_write_csv_uses_iso_dates_lowercase_booleans_and_empty_cells(
    small: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    written = write_demo_tables(small, tmp_path)
    assert set(written) == set(small)
    demand = pd.read_csv(written["demand_history"], dtype=str, keep_default_na=False)
    assert list(demand.columns) == list(small["demand_history"].columns)
    assert set(demand["in_stock"]) == {"true", "false"}
    assert demand["date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    items = pd.read_csv(written["items"], dtype=str, keep_default_na=False)
    assert (items["launch_date"] == "").any() and (items["holding_cost_per_unit_week"] == "").any()
    budgets = pd.read_csv(written["budgets"], dtype=str, keep_default_na=False)
    assert (budgets["category"] == "").sum() == HORIZON_WEEKS
    assert len(demand) == len(small["demand_history"])


def test_write_parquet_round_trips(small: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    written = write_demo_tables(small, tmp_path, fmt="parquet")
    for name, path in written.items():
        pd.testing.assert_frame_equal(pd.read_parquet(path), small[name], obj=name)


def test_write_rejects_unknown_format(small: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fmt"):
        write_demo_tables(small, tmp_path, fmt="xlsx")  # type: ignore[arg-type]
