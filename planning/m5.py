"""Canonical input tables from the M5 subset: real Walmart demand, a synthetic supply side.

The demand history, prices, item ids, categories and stores are real (the M5 competition data,
see ``/work/shared/datasets/README.md``). M5 has no costs, suppliers, lead times, stock or
budgets, so those are generated here, deterministically from ``seed``.
``data_contracts/SYNTHETIC_DATA.md`` lists exactly what is real and what is synthetic.

The demand history is dense: every item x store x day of the source appears, zeros included.
A week without a sell-price row means the item was not on sale in that store; its days carry
``in_stock = false``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from planning.demo_data import conform_to_contract, require_monday, service_targets_table

M5_CHANNEL = "store"
SALES_FILE, PRICES_FILE, CALENDAR_FILE = "sales_daily_wide.csv", "sell_prices_weekly.csv", "calendar.csv"
HORIZON_WEEKS = 26
CURRENCY = "USD"
UNIT_COST_SHARE = 0.6  # M5 has no costs: a 40 % gross margin is assumed
NEW_ITEM_WINDOW = timedelta(weeks=8)
RECENT_DAYS = 28

# Synthetic supply parameters per M5 category: (lead-time range in weeks, case packs, unit volume litres).
SUPPLY_BY_CATEGORY: dict[str, tuple[tuple[int, int], tuple[int, ...], tuple[float, float]]] = {
    "FOODS": ((1, 2), (12, 24), (0.3, 1.5)),
    "HOUSEHOLD": ((2, 4), (6, 12), (1.0, 5.0)),
    "HOBBIES": ((3, 6), (6, 12), (0.5, 3.0)),
}


@dataclass(frozen=True, slots=True)
class _M5Raw:
    """The source files after light parsing; ``history`` is long and already truncated at as_of."""

    history: pd.DataFrame
    prices: pd.DataFrame
    week_start: pd.Series
    first_date: date
    as_of: date


def load_m5_tables(dataset_dir: Path, *, as_of: date | None = None, seed: int = 11) -> dict[str, pd.DataFrame]:
    """Turn the M5 subset into canonical input tables.

    Args:
        dataset_dir: Folder holding ``sales_daily_wide.csv``, ``sell_prices_weekly.csv`` and
            ``calendar.csv``.
        as_of: Plan date (a Monday). Defaults to the Monday after the last history day; history on
            or after it is dropped.
        seed: Seed of the synthetic supply side; the demand history does not depend on it.

    Returns:
        Canonical tables keyed by table name: demand_history, items, locations, suppliers,
        sourcing_options, inventory, open_orders, budgets and service_targets.

    Raises:
        FileNotFoundError: A source file is missing.
        ValueError: ``as_of`` is not a Monday or leaves no history before it.
    """
    raw = _read_raw(dataset_dir, as_of)
    rng = np.random.default_rng(seed)
    items = _items(rng, raw)
    suppliers, lead_times = _suppliers(rng, items)
    sourcing = _sourcing_options(rng, raw.history, items, lead_times)
    inventory = _inventory(rng, raw)
    tables = {
        "demand_history": raw.history,
        "inventory": inventory,
        "open_orders": _open_orders(rng, raw, inventory, sourcing),
        "items": items.drop(columns=["dept"]),
        "sourcing_options": sourcing,
        "suppliers": suppliers,
        "locations": _locations(raw.history),
        "budgets": _budgets(rng, raw, items),
        "service_targets": service_targets_table(),
    }
    return {name: conform_to_contract(name, frame) for name, frame in tables.items()}


def _read_raw(dataset_dir: Path, as_of: date | None) -> _M5Raw:
    missing = [name for name in (SALES_FILE, PRICES_FILE, CALENDAR_FILE) if not (dataset_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"M5 subset incomplete in {dataset_dir}: missing {missing}")
    calendar = pd.read_csv(dataset_dir / CALENDAR_FILE, usecols=["date", "wm_yr_wk"], parse_dates=["date"])
    # The calendar repeats every date once per state; the week id is the same for all of them.
    calendar = calendar.drop_duplicates("date").sort_values("date")
    week_start = calendar.groupby("wm_yr_wk")["date"].min()
    prices = pd.read_csv(dataset_dir / PRICES_FILE)
    wide = pd.read_csv(dataset_dir / SALES_FILE, parse_dates=["date"]).sort_values("date")
    first_date = wide["date"].iloc[0].date()
    last_date = wide["date"].iloc[-1].date()
    resolved = _resolve_as_of(first_date, last_date, as_of)
    wide = wide[wide["date"] < pd.Timestamp(resolved)]
    history = _long_history(wide, calendar, prices)
    return _M5Raw(history, prices, week_start, first_date, resolved)


def _resolve_as_of(first_date: date, last_date: date, as_of: date | None) -> date:
    if as_of is None:
        # The Monday strictly after the last day, so the last (possibly partial) week is history.
        return last_date + timedelta(days=7 - last_date.weekday())
    require_monday(as_of)
    if as_of <= first_date:
        raise ValueError(f"as_of {as_of} leaves no M5 history (the data start on {first_date}); pick a later Monday")
    return as_of


def _long_history(wide: pd.DataFrame, calendar: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """Wide ``ITEM|STORE`` columns to the canonical long table with price and in_stock."""
    series = [c for c in wide.columns if c != "date"]
    item_ids = [s.split("|", 1)[0] for s in series]
    store_ids = [s.split("|", 1)[1] for s in series]
    n_days = len(wide)
    dates = wide["date"].to_numpy()
    week = calendar.set_index("date")["wm_yr_wk"].reindex(wide["date"]).to_numpy()
    long = pd.DataFrame(
        {
            "date": np.tile(dates, len(series)),
            "sku": np.repeat(item_ids, n_days),
            "location": np.repeat(store_ids, n_days),
            "channel": M5_CHANNEL,
            "units": wide[series].to_numpy(dtype=np.float64).ravel(order="F"),
            "wm_yr_wk": np.tile(week, len(series)),
        }
    )
    price_rows = prices.rename(columns={"item_id": "sku", "store_id": "location", "sell_price": "price"})
    long = long.merge(price_rows, on=["sku", "location", "wm_yr_wk"], how="left", validate="many_to_one")
    # No price row = not on sale that week; a sale on such a day would prove otherwise.
    in_stock = long["price"].notna() | (long["units"] > 0)
    return long.drop(columns=["wm_yr_wk"]).assign(in_stock=in_stock)


def _abc(revenue: pd.Series) -> pd.Series:
    """A = items making the top 80 % of revenue, B = the next 15 %, C = the rest."""
    ordered = revenue.sort_values(ascending=False, kind="stable")
    share_before = (ordered.cumsum() - ordered) / max(float(ordered.sum()), 1e-9)
    classes = np.where(share_before < 0.80, "A", np.where(share_before < 0.95, "B", "C"))
    return pd.Series(classes, index=ordered.index).reindex(revenue.index)


def _items(rng: np.random.Generator, raw: _M5Raw) -> pd.DataFrame:
    """Real ids, categories, prices and launch dates; synthetic cost, volume and case pack."""
    history, prices = raw.history, raw.prices
    skus = sorted(history["sku"].unique())
    before = prices[prices["wm_yr_wk"].map(raw.week_start) < pd.Timestamp(raw.as_of)]
    price = before.groupby("item_id")["sell_price"].median().reindex(skus)
    price = price.fillna(prices.groupby("item_id")["sell_price"].median()).round(2)
    first_week = prices.groupby("item_id")["wm_yr_wk"].min().map(raw.week_start).reindex(skus)
    last_week = before.groupby("item_id")["wm_yr_wk"].max().map(raw.week_start).reindex(skus)
    as_of = pd.Timestamp(raw.as_of)
    status = np.where(
        first_week >= as_of - NEW_ITEM_WINDOW,
        "new",
        np.where(last_week < as_of - timedelta(days=RECENT_DAYS), "discontinued", "active"),
    )
    recent = history[history["date"] >= as_of - timedelta(days=364)]
    revenue = (recent["units"] * recent["price"].fillna(0)).groupby(recent["sku"]).sum().reindex(skus, fill_value=0.0)
    category = [s.split("_", 1)[0] for s in skus]
    specs = [SUPPLY_BY_CATEGORY[c] for c in category]
    return pd.DataFrame(
        {
            "sku": skus,
            "description": [f"M5 item {s}" for s in skus],
            "category": category,
            "dept": [s.rsplit("_", 1)[0] for s in skus],
            "unit_cost": (price.to_numpy() * UNIT_COST_SHARE).round(2),
            "selling_price": price.to_numpy(),
            "unit_volume": [round(float(rng.uniform(*spec[2])), 2) for spec in specs],
            "case_pack": [int(rng.choice(spec[1])) for spec in specs],
            "status": status,
            # Only launches inside the data window are real launch dates.
            "launch_date": first_week.where(first_week > pd.Timestamp(raw.first_date)).to_numpy(),
            "service_class": _abc(revenue).to_numpy(),
        }
    )


def _suppliers(rng: np.random.Generator, items: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, tuple[float, float]]]:
    """One synthetic supplier per M5 department, with its lead time (mean, std) in weeks."""
    depts = sorted(items["dept"].unique())
    lead_times: dict[str, tuple[float, float]] = {}
    for dept in depts:
        low, high = SUPPLY_BY_CATEGORY[dept.split("_", 1)[0]][0]
        mean = float(rng.integers(low, high + 1))
        lead_times[dept] = (mean, round(mean * float(rng.uniform(0.1, 0.3)), 1))
    suppliers = pd.DataFrame(
        {
            "supplier": [f"SUP-{d}" for d in depts],
            "name": [f"{d.replace('_', ' ').title()} distributor (synthetic)" for d in depts],
            "currency": CURRENCY,
            "po_minimum_value": [float(rng.choice([0.0, 100.0, 250.0, 500.0])) for _ in depts],
            "fixed_cost_per_po": [round(float(rng.uniform(15.0, 60.0)), 2) for _ in depts],
            "deposit_share": 0.0,  # store suppliers are paid on receipt
        }
    )
    return suppliers, lead_times


def _sourcing_options(
    rng: np.random.Generator,
    history: pd.DataFrame,
    items: pd.DataFrame,
    lead_times: dict[str, tuple[float, float]],
) -> pd.DataFrame:
    """Each item is trucked from its department's supplier straight to every store that sells it."""
    pairs = history[["sku", "location"]].drop_duplicates().sort_values(["sku", "location"])
    item = items.set_index("sku")
    # The MOQ is one to three cases, fixed per item across stores.
    moq = pd.Series(item["case_pack"].to_numpy() * rng.integers(1, 4, size=len(item)), index=item.index)
    dept = pairs["sku"].map(item["dept"])
    return pd.DataFrame(
        {
            "sku": pairs["sku"].to_numpy(),
            "supplier": ("SUP-" + dept).to_numpy(),
            "ship_to": pairs["location"].to_numpy(),
            "mode": "truck",
            "unit_cost": pairs["sku"].map(item["unit_cost"]).to_numpy(),
            "moq": pairs["sku"].map(moq).astype("float64").to_numpy(),
            "order_multiple": pairs["sku"].map(item["case_pack"]).to_numpy(),
            "lead_time_weeks": dept.map({d: lt[0] for d, lt in lead_times.items()}).to_numpy(),
            "lead_time_std_weeks": dept.map({d: lt[1] for d, lt in lead_times.items()}).to_numpy(),
        }
    )


def _recent_weekly(raw: _M5Raw) -> pd.DataFrame:
    """Average weekly units per item x store over the last four weeks, and whether it is on sale now."""
    recent = raw.history[raw.history["date"] >= pd.Timestamp(raw.as_of) - timedelta(days=RECENT_DAYS)]
    grouped = recent.groupby(["sku", "location"], sort=True)
    return pd.DataFrame(
        {"weekly": grouped["units"].mean() * 7, "in_stock_now": grouped["in_stock"].last()}
    ).reset_index()


def _inventory(rng: np.random.Generator, raw: _M5Raw) -> pd.DataFrame:
    """Synthetic on-hand: two to four weeks of recent average demand; none if not on sale now."""
    recent = _recent_weekly(raw)
    cover = rng.uniform(2.0, 4.0, size=len(recent))
    on_hand = np.where(recent["in_stock_now"], np.round(recent["weekly"].to_numpy() * cover), 0.0)
    return pd.DataFrame(
        {
            "sku": recent["sku"],
            "location": recent["location"],
            "on_hand": on_hand,
            "allocated": 0.0,  # stores sell cash-and-carry: nothing is committed ahead
            "as_of_date": pd.Timestamp(raw.as_of),
        }
    )


def _open_orders(
    rng: np.random.Generator, raw: _M5Raw, inventory: pd.DataFrame, sourcing: pd.DataFrame
) -> pd.DataFrame:
    """A few replenishment POs already placed for pairs under 2.5 weeks of cover."""
    recent = (
        _recent_weekly(raw)
        .merge(inventory, on=["sku", "location"])
        .merge(sourcing, left_on=["sku", "location"], right_on=["sku", "ship_to"])
    )
    low = recent[(recent["weekly"] > 0) & (recent["on_hand"] < 2.5 * recent["weekly"])]
    low = low[rng.random(len(low)) < 0.3]
    week = rng.integers(0, 2, size=len(low))
    cases = np.ceil(np.maximum(2 * low["weekly"].to_numpy(), low["moq"].to_numpy()) / low["order_multiple"].to_numpy())
    return pd.DataFrame(
        {
            "order_id": [
                f"PO-{s}-{loc}-W{w:02d}" for s, loc, w in zip(low["supplier"], low["location"], week, strict=True)
            ],
            "sku": low["sku"].to_numpy(),
            "origin": low["supplier"].to_numpy(),
            "origin_type": "supplier",
            "destination": low["location"].to_numpy(),
            "quantity": np.maximum(cases, 1) * low["order_multiple"].to_numpy(),
            "expected_arrival": [
                raw.as_of + timedelta(days=7 * int(w) + int(d))
                for w, d in zip(week, rng.integers(1, 5, size=len(low)), strict=True)
            ],
        }
    )


def _locations(history: pd.DataFrame) -> pd.DataFrame:
    stores = sorted(history["location"].unique())
    return pd.DataFrame({"location": stores, "type": "store", "channels": M5_CHANNEL})


def _budgets(rng: np.random.Generator, raw: _M5Raw, items: pd.DataFrame) -> pd.DataFrame:
    """Weekly cash limits of 90-120 % of the recent average weekly purchase need (units x cost)."""
    recent = raw.history[raw.history["date"] >= pd.Timestamp(raw.as_of) - timedelta(weeks=8)]
    need = float((recent["units"] * recent["sku"].map(items.set_index("sku")["unit_cost"])).sum()) / 8
    mondays = [raw.as_of + timedelta(weeks=w) for w in range(HORIZON_WEEKS)]
    return pd.DataFrame(
        {
            "period_start": mondays,
            "period": "week",
            "cash_limit": np.round(need * rng.uniform(0.9, 1.2, size=HORIZON_WEEKS), -1),
            "currency": CURRENCY,
            "category": "",
            "supplier": "",
        }
    )
