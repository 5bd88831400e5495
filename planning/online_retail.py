"""Canonical input tables from the UCI Online Retail extract: real UK web-shop demand, a synthetic supply side.

The daily units, the stock codes, their descriptions and median prices are real (a UK online gift
shop, 2010-12-01 to 2011-12-09, the 50 stock codes with the most trading days; see
``/work/shared/datasets/README.md``). The extract has no costs, suppliers, lead times, stock or
budgets, so those are generated here, deterministically from ``seed``.
``data_contracts/SYNTHETIC_DATA.md`` lists exactly what is real and what is synthetic.

Design:
  * One warehouse ``UK-WH`` fulfils one channel, ``web``. The sku is the StockCode as written
    (``85099B``, ``85123A``). ``POST`` is the postage charged on an order, not a product: dropped.
  * The demand history is dense: every sku x day of the source appears, zeros included. The
    extract has no stock signal, and its zero days are days the shop did not trade (Saturdays,
    the Christmas break, UK bank holidays), not stockouts: ``in_stock`` is true on every day.
    ``price`` is the item's median unit price over the whole file (there are no daily prices).
  * Prices are in pounds sterling, so every money column is in ``GBP``: run the planner with
    ``costs.currency: GBP`` (or give ``costs.fx_rates.GBP``).
  * category: the first keyword group (``CATEGORY_KEYWORDS``) with a keyword that starts a word
    of the description, else ``gifts``. unit_cost: half the median price (a 50 % gross margin).
    case_pack: by the average weekly units of the year before as_of (``CASE_PACK_BY_WEEKLY_UNITS``):
    faster sellers ship in bigger cases. service_class: ABC on that year's revenue.
  * Three synthetic suppliers (``SUPPLIER_SPECS``): a UK wholesaler (1 week, truck), an EU maker
    (3 weeks, truck) and a Chinese factory (8 weeks, ocean, 30 % deposit). Each item gets one,
    drawn with weights by category that favour the Chinese factory for gift-shop goods.
  * Stock on hand is 3-6 weeks of the trailing 8-week average demand. Open orders: about half of the
    items whose cover is under their lead time plus two weeks have one PO line of four weeks of
    demand on its way, arriving within one lead time. Budgets: 26 weekly cash limits of 90-120 %
    of the trailing 8-week average weekly purchase need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from planning.demo_data import conform_to_contract, require_monday, service_targets_table

RETAIL_LOCATION = "UK-WH"
RETAIL_CHANNEL = "web"
UNITS_FILE, ITEMS_FILE = "top50_daily_units.csv", "top50_items.csv"
HORIZON_WEEKS = 26
CURRENCY = "GBP"
UNIT_COST_SHARE = 0.5  # the extract has no costs: a 50 % gross margin is assumed
MIN_UNIT_COST = 0.01
NON_PRODUCT_CODES = ("POST",)  # postage charged on orders, not something to stock
TRAILING_DAYS = 56  # stock, open orders and budgets are sized on the last 8 weeks
YEAR_DAYS = 364  # ABC classes and case packs look at the last 52 weeks
OPEN_ORDER_SHARE = 0.5
OPEN_ORDER_WEEKS_OF_DEMAND = 4

# First group with a keyword that starts a word of the description wins; no match = DEFAULT_CATEGORY.
CATEGORY_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bags", ("BAG", "SHOPPER")),
    ("kitchen", ("CAKE", "TEA", "MUG", "LUNCH BOX", "BOWL", "NAPKIN", "JAM", "RECIPE")),
    ("home", ("LIGHT", "HOLDER", "LANTERN", "CLOCK", "FRAME", "SIGN", "CHALKBOARD", "PEG")),
)
DEFAULT_CATEGORY = "gifts"

# (average weekly units below which the pack applies, pack); faster sellers ship in bigger cases.
CASE_PACK_BY_WEEKLY_UNITS: tuple[tuple[float, int], ...] = ((100.0, 6), (200.0, 12), (400.0, 24))
LARGEST_CASE_PACK = 48


@dataclass(frozen=True, slots=True)
class _SupplierSpec:
    """Fixed terms of one synthetic supplier; only its lead-time spread is drawn from the seed."""

    supplier: str
    name: str
    mode: str
    lead_time_weeks: float
    po_minimum_value: float
    fixed_cost_per_po: float
    deposit_share: float


SUPPLIER_SPECS: tuple[_SupplierSpec, ...] = (
    _SupplierSpec("SUP-UK", "UK gift wholesaler (synthetic)", "truck", 1.0, 200.0, 30.0, 0.0),
    _SupplierSpec("SUP-EU", "European homeware maker (synthetic)", "truck", 3.0, 750.0, 120.0, 0.0),
    _SupplierSpec("SUP-CN", "Chinese gift factory, ocean to the UK (synthetic)", "ocean", 8.0, 3000.0, 450.0, 0.3),
)

# Synthetic supply parameters per category: (draw weights of SUP-UK, SUP-EU, SUP-CN, unit volume litres).
SUPPLY_BY_CATEGORY: dict[str, tuple[tuple[float, float, float], tuple[float, float]]] = {
    "bags": ((0.15, 0.15, 0.70), (0.3, 1.2)),
    "kitchen": ((0.25, 0.30, 0.45), (0.5, 3.0)),
    "home": ((0.15, 0.25, 0.60), (0.5, 4.0)),
    "gifts": ((0.20, 0.20, 0.60), (0.2, 2.0)),
}


@dataclass(frozen=True, slots=True)
class _RetailRaw:
    """The source files after light parsing; ``history`` is long and already truncated at as_of."""

    history: pd.DataFrame
    catalogue: pd.DataFrame
    first_date: date
    as_of: date


def load_online_retail_tables(
    dataset_dir: Path, *, as_of: date | None = None, seed: int = 13
) -> dict[str, pd.DataFrame]:
    """Turn the UCI Online Retail top-50 extract into canonical input tables.

    Args:
        dataset_dir: Folder holding ``top50_daily_units.csv`` and ``top50_items.csv``.
        as_of: Plan date (a Monday). Defaults to the Monday after the last history day; history on
            or after it is dropped.
        seed: Seed of the synthetic supply side; the demand history does not depend on it.

    Returns:
        Canonical tables keyed by table name: demand_history, items, locations, suppliers,
        sourcing_options, inventory, open_orders, budgets and service_targets.

    Raises:
        FileNotFoundError: A source file is missing.
        ValueError: ``as_of`` is not a Monday or leaves no history before it, or the two files
            disagree on the stock codes.
    """
    raw = _read_raw(dataset_dir, as_of)
    rng = np.random.default_rng(seed)
    items = _items(rng, raw)
    supplier_of = _assign_suppliers(rng, items)
    suppliers, lead_std = _suppliers(rng)
    sourcing = _sourcing_options(rng, items, supplier_of, lead_std)
    inventory = _inventory(rng, raw)
    tables = {
        "demand_history": raw.history,
        "inventory": inventory,
        "open_orders": _open_orders(rng, raw, inventory, sourcing),
        "items": items,
        "sourcing_options": sourcing,
        "suppliers": suppliers,
        "locations": pd.DataFrame({"location": [RETAIL_LOCATION], "type": "warehouse", "channels": RETAIL_CHANNEL}),
        "budgets": _budgets(rng, raw, items),
        "service_targets": service_targets_table(),
    }
    return {name: conform_to_contract(name, frame) for name, frame in tables.items()}


def _read_raw(dataset_dir: Path, as_of: date | None) -> _RetailRaw:
    missing = [name for name in (UNITS_FILE, ITEMS_FILE) if not (dataset_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"Online Retail extract incomplete in {dataset_dir}: missing {missing}")
    catalogue = pd.read_csv(dataset_dir / ITEMS_FILE, dtype={"StockCode": str})
    catalogue = catalogue[~catalogue["StockCode"].isin(NON_PRODUCT_CODES)].set_index("StockCode")
    # Descriptions carry stray trailing and double spaces ("LUNCH BAG  BLACK SKULL.").
    catalogue["description"] = catalogue["description"].map(lambda text: " ".join(str(text).split()))
    wide = pd.read_csv(dataset_dir / UNITS_FILE, parse_dates=["date"]).sort_values("date")
    wide = wide.drop(columns=[c for c in NON_PRODUCT_CODES if c in wide.columns])
    unknown = sorted(set(wide.columns) - {"date"} - set(catalogue.index))
    if unknown:
        raise ValueError(f"{UNITS_FILE} has stock codes missing from {ITEMS_FILE}: {unknown}; use matching files")
    first_date = wide["date"].iloc[0].date()
    last_date = wide["date"].iloc[-1].date()
    resolved = _resolve_as_of(first_date, last_date, as_of)
    wide = wide[wide["date"] < pd.Timestamp(resolved)]
    history = _long_history(wide, catalogue["median_price"])
    return _RetailRaw(history, catalogue, first_date, resolved)


def _resolve_as_of(first_date: date, last_date: date, as_of: date | None) -> date:
    if as_of is None:
        # The Monday strictly after the last day, so the last (partial) week is history.
        return last_date + timedelta(days=7 - last_date.weekday())
    require_monday(as_of)
    if as_of <= first_date:
        raise ValueError(
            f"as_of {as_of} leaves no Online Retail history (the data start on {first_date}); pick a later Monday"
        )
    return as_of


def _long_history(wide: pd.DataFrame, median_price: pd.Series) -> pd.DataFrame:
    """Wide stock-code columns to the canonical long table, one row per sku x day."""
    skus = sorted(c for c in wide.columns if c != "date")
    n_days = len(wide)
    return pd.DataFrame(
        {
            "date": np.tile(wide["date"].to_numpy(), len(skus)),
            "sku": np.repeat(skus, n_days),
            "location": RETAIL_LOCATION,
            "channel": RETAIL_CHANNEL,
            "units": wide[skus].to_numpy(dtype=np.float64).ravel(order="F"),
            "price": np.repeat(median_price.reindex(skus).to_numpy(dtype=np.float64), n_days),
            # No stock signal in the extract; a day the shop was closed is zero demand, not a stockout.
            "in_stock": True,
        }
    )


def _weekly_rate(raw: _RetailRaw, days: int) -> pd.Series:
    """Average weekly units per sku over the last ``days`` calendar days before as_of.

    Days inside the window but past the end of the file count as zero (the file ends on a Friday,
    and the shop never trades on Saturdays); a window reaching back before the first day is cut there.
    Every sku of the history gets a rate, zero if it sold nothing in the window.
    """
    start = max(raw.as_of - timedelta(days=days), raw.first_date)
    history = raw.history
    recent = history[history["date"] >= pd.Timestamp(start)]
    units = recent.groupby("sku")["units"].sum().reindex(sorted(history["sku"].unique()), fill_value=0.0)
    return units * 7 / (raw.as_of - start).days


def _category(description: str) -> str:
    for category, keywords in CATEGORY_KEYWORDS:
        if any(re.search(rf"\b{re.escape(word)}", description.upper()) for word in keywords):
            return category
    return DEFAULT_CATEGORY


def _case_pack(weekly_units: float) -> int:
    for bound, pack in CASE_PACK_BY_WEEKLY_UNITS:
        if weekly_units < bound:
            return pack
    return LARGEST_CASE_PACK


def _abc(revenue: pd.Series) -> pd.Series:
    """A = items making the top 80 % of revenue, B = the next 15 %, C = the rest."""
    ordered = revenue.sort_values(ascending=False, kind="stable")
    share_before = (ordered.cumsum() - ordered) / max(float(ordered.sum()), 1e-9)
    classes = np.where(share_before < 0.80, "A", np.where(share_before < 0.95, "B", "C"))
    return pd.Series(classes, index=ordered.index).reindex(revenue.index)


def _items(rng: np.random.Generator, raw: _RetailRaw) -> pd.DataFrame:
    """Real codes, descriptions and prices; category by keyword; synthetic cost, volume and case pack."""
    history = raw.history
    skus = sorted(history["sku"].unique())
    catalogue = raw.catalogue.reindex(skus)
    price = catalogue["median_price"].astype(float).round(2)
    recent = history[history["date"] >= pd.Timestamp(raw.as_of) - timedelta(days=YEAR_DAYS)]
    revenue = (recent["units"] * recent["price"]).groupby(recent["sku"]).sum().reindex(skus, fill_value=0.0)
    weekly = _weekly_rate(raw, YEAR_DAYS).reindex(skus, fill_value=0.0)
    category = [_category(text) for text in catalogue["description"]]
    return pd.DataFrame(
        {
            "sku": skus,
            "description": catalogue["description"].to_numpy(),
            "category": category,
            "unit_cost": np.maximum((price.to_numpy() * UNIT_COST_SHARE).round(2), MIN_UNIT_COST),
            "selling_price": price.to_numpy(),
            "unit_volume": [round(float(rng.uniform(*SUPPLY_BY_CATEGORY[c][1])), 2) for c in category],
            "case_pack": [_case_pack(float(w)) for w in weekly],
            "status": "active",
            "service_class": _abc(revenue).to_numpy(),
        }
    )


def _assign_suppliers(rng: np.random.Generator, items: pd.DataFrame) -> pd.Series:
    """One supplier per item, drawn with its category's weights (in sku order, so the draw is stable)."""
    ids = [spec.supplier for spec in SUPPLIER_SPECS]
    chosen = [ids[int(rng.choice(len(ids), p=SUPPLY_BY_CATEGORY[c][0]))] for c in items["category"]]
    return pd.Series(chosen, index=items["sku"].to_numpy())


def _suppliers(rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, float]]:
    """The three synthetic suppliers, and each one's lead-time standard deviation (10-30 % of the mean)."""
    lead_std = {spec.supplier: round(spec.lead_time_weeks * float(rng.uniform(0.1, 0.3)), 1) for spec in SUPPLIER_SPECS}
    suppliers = pd.DataFrame(
        {
            "supplier": [spec.supplier for spec in SUPPLIER_SPECS],
            "name": [spec.name for spec in SUPPLIER_SPECS],
            "currency": CURRENCY,
            "po_minimum_value": [spec.po_minimum_value for spec in SUPPLIER_SPECS],
            "fixed_cost_per_po": [spec.fixed_cost_per_po for spec in SUPPLIER_SPECS],
            "deposit_share": [spec.deposit_share for spec in SUPPLIER_SPECS],
        }
    )
    return suppliers, lead_std


def _sourcing_options(
    rng: np.random.Generator, items: pd.DataFrame, supplier_of: pd.Series, lead_std: dict[str, float]
) -> pd.DataFrame:
    """Each item comes from its one supplier straight to the warehouse, in whole cases."""
    specs = {spec.supplier: spec for spec in SUPPLIER_SPECS}
    supplier = supplier_of.reindex(items["sku"]).to_numpy()
    # The MOQ is one to three cases.
    moq = items["case_pack"].to_numpy() * rng.integers(1, 4, size=len(items))
    return pd.DataFrame(
        {
            "sku": items["sku"].to_numpy(),
            "supplier": supplier,
            "ship_to": RETAIL_LOCATION,
            "mode": [specs[s].mode for s in supplier],
            "unit_cost": items["unit_cost"].to_numpy(),
            "moq": moq.astype("float64"),
            "order_multiple": items["case_pack"].to_numpy(),
            "lead_time_weeks": [specs[s].lead_time_weeks for s in supplier],
            "lead_time_std_weeks": [lead_std[s] for s in supplier],
        }
    )


def _inventory(rng: np.random.Generator, raw: _RetailRaw) -> pd.DataFrame:
    """Synthetic on-hand: three to six weeks of the trailing 8-week average demand."""
    weekly = _weekly_rate(raw, TRAILING_DAYS)
    cover = rng.uniform(3.0, 6.0, size=len(weekly))
    return pd.DataFrame(
        {
            "sku": weekly.index.to_numpy(),
            "location": RETAIL_LOCATION,
            "on_hand": np.round(weekly.to_numpy() * cover),
            "allocated": 0.0,  # web orders ship the day they are placed: nothing is committed ahead
            "as_of_date": pd.Timestamp(raw.as_of),
        }
    )


def _open_orders(
    rng: np.random.Generator, raw: _RetailRaw, inventory: pd.DataFrame, sourcing: pd.DataFrame
) -> pd.DataFrame:
    """POs on their way for about half of the items with less cover than their lead time plus two weeks."""
    state = (
        _weekly_rate(raw, TRAILING_DAYS)
        .rename("weekly")
        .reset_index()
        .merge(inventory[["sku", "on_hand"]], on="sku")
        .merge(sourcing, on="sku")
    )
    short = state[(state["weekly"] > 0) & (state["on_hand"] < (state["lead_time_weeks"] + 2) * state["weekly"])]
    short = short[rng.random(len(short)) < OPEN_ORDER_SHARE]
    # Placed within the last lead time, so each arrives 1 day to one lead time after as_of.
    days = rng.integers(1, (7 * short["lead_time_weeks"].to_numpy()).astype(np.int64) + 1)
    multiple = short["order_multiple"].to_numpy()
    wanted = np.maximum(OPEN_ORDER_WEEKS_OF_DEMAND * short["weekly"].to_numpy(), short["moq"].to_numpy())
    return pd.DataFrame(
        {
            # One PO per supplier and arrival week, one line per item.
            "order_id": [f"PO-{s}-W{(int(d) - 1) // 7:02d}" for s, d in zip(short["supplier"], days, strict=True)],
            "sku": short["sku"].to_numpy(),
            "origin": short["supplier"].to_numpy(),
            "origin_type": "supplier",
            "destination": short["ship_to"].to_numpy(),
            "quantity": np.maximum(np.ceil(wanted / multiple), 1) * multiple,
            "expected_arrival": [raw.as_of + timedelta(days=int(d)) for d in days],
        }
    )


def _budgets(rng: np.random.Generator, raw: _RetailRaw, items: pd.DataFrame) -> pd.DataFrame:
    """Weekly cash limits of 90-120 % of the trailing 8-week average weekly purchase need (units x cost)."""
    weekly = _weekly_rate(raw, TRAILING_DAYS)
    need = float((weekly * items.set_index("sku")["unit_cost"].reindex(weekly.index)).sum())
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
