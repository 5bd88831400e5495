"""The demo brand: a deterministic synthetic data set in the canonical input tables.

"Northwind Goods" (fictional) is a mid-market DTC and marketplace brand selling about 300 SKUs
in five categories through Shopify, Amazon and Walmart. Its data are generated here so the
project can ship a demo, tests and benchmarks that need no downloaded data. Every table uses
exactly the column names of ``data_contracts.tables``.

Structure (``data_contracts/SYNTHETIC_DATA.md`` documents each parameter and what it exercises):
  * one overseas supplier (ocean 8-12 weeks, an air option for some SKUs, a PO minimum, a
    Chinese New Year shutdown) and three domestic suppliers with short lead times;
  * three locations: an own warehouse, a smaller 3PL and Amazon FBA, which is replenished
    through transfer lanes;
  * two years of daily demand per SKU x location x channel with yearly seasonality, a holiday
    peak, a weekly pattern, trend, promotions, stockouts, intermittent and lumpy SKUs, returns,
    launches and discontinuations.

Demand history is sparse: a missing (date, sku, location, channel) row means zero demand while
the SKU was in stock there. Stockout days are kept as rows with ``in_stock = false``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from data_contracts.tables import CONTRACTS_BY_NAME, Column

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

HISTORY_DAYS = 730
HORIZON_WEEKS = 26
CURRENCY = "USD"

WAREHOUSE, THREE_PL, FBA = "WH-MAIN", "3PL-WEST", "FBA-US"
LOCATION_IDS = (WAREHOUSE, THREE_PL, FBA)
CHANNELS = ("shopify", "amazon", "walmart")
# (location, channel) pairs that can carry demand: the locations' channel lists.
SERIES_SLOTS = (
    (WAREHOUSE, "shopify"),
    (WAREHOUSE, "walmart"),
    (THREE_PL, "shopify"),
    (THREE_PL, "walmart"),
    (FBA, "amazon"),
)
CHANNEL_SHARE = {"shopify": 0.55, "amazon": 0.30, "walmart": 0.15}
# Walmart undercuts slightly; the brand matches on its own site.
CHANNEL_PRICE = {"shopify": 1.0, "amazon": 1.0, "walmart": 0.97}
WAREHOUSE_SHARE_OF_FULFILMENT = 0.65

OVERSEAS, CUT_AND_SEW, HOME_GOODS, BEAUTY_LAB = "SZ-TEXTILE", "LA-CUTSEW", "CAROLINA-HOME", "PACIFIC-BEAUTY"

# Monday = 0: DTC orders peak early in the week and dip on Saturday.
DAY_OF_WEEK_FACTOR = np.array([1.12, 1.08, 1.04, 1.00, 0.95, 0.86, 0.95])

# Chinese New Year (first day); factories close about 10 days before and reopen ~17 days after.
CHINESE_NEW_YEAR = (
    date(2024, 2, 10),
    date(2025, 1, 29),
    date(2026, 2, 17),
    date(2027, 2, 6),
    date(2028, 1, 26),
    date(2029, 2, 13),
    date(2030, 2, 3),
    date(2031, 1, 23),
    date(2032, 2, 11),
)

PRE_PEAK_BUDGET_FACTOR = 0.6
PRE_SHUTDOWN_BUDGET_FACTOR = 0.7
NORMAL_BUDGET_FACTOR = 1.15


@dataclass(frozen=True, slots=True)
class CategorySpec:
    """Generation parameters of one merchandise category.

    Attributes:
        name: Category name as it appears in ``items.category``.
        prefix: SKU id prefix.
        share: Share of the catalogue.
        cost_range: Uniform range of the landed unit cost (USD).
        markup_range: Uniform range of selling price / unit cost.
        volume_range: Uniform range of the unit volume (litres).
        case_packs: Case pack sizes to draw from.
        rate_scale: Multiplier on the SKU's base daily demand.
        season_amplitude: Amplitude of the yearly cosine (0.5 = +-50 %).
        season_peak_day: Day of the year where the yearly cosine peaks.
        holiday_lift: Strength of the Black Friday to Christmas peak.
        supplier: Primary supplier id.
        second_supplier: Optional second source.
        second_share: Share of the category's SKUs that also have the second source.
        air_share: Share of SKUs with an air option (overseas primary only).
        nouns: Product nouns for descriptions.
    """

    name: str
    prefix: str
    share: float
    cost_range: tuple[float, float]
    markup_range: tuple[float, float]
    volume_range: tuple[float, float]
    case_packs: tuple[int, ...]
    rate_scale: float
    season_amplitude: float
    season_peak_day: int
    holiday_lift: float
    supplier: str
    second_supplier: str | None
    second_share: float
    air_share: float
    nouns: tuple[str, ...]


CATEGORIES = (
    CategorySpec(
        "Apparel",
        "APP",
        0.30,
        (6.0, 20.0),
        (3.0, 4.0),
        (0.6, 2.5),
        (12, 24, 36),
        1.0,
        0.25,
        160,
        0.6,
        OVERSEAS,
        CUT_AND_SEW,
        0.3,
        0.25,
        ("tee", "henley", "jogger", "polo", "crewneck", "tank"),
    ),
    CategorySpec(
        "Outerwear",
        "OUT",
        0.12,
        (25.0, 70.0),
        (2.8, 3.5),
        (4.0, 10.0),
        (6, 12),
        0.6,
        0.65,
        345,
        0.7,
        OVERSEAS,
        None,
        0.0,
        0.6,
        ("parka", "puffer", "rain shell", "fleece jacket", "vest"),
    ),
    CategorySpec(
        "Home",
        "HOME",
        0.22,
        (8.0, 40.0),
        (2.5, 3.2),
        (3.0, 15.0),
        (4, 6, 12),
        0.8,
        0.15,
        320,
        0.9,
        HOME_GOODS,
        OVERSEAS,
        0.25,
        0.0,
        ("throw", "candle", "towel set", "mug set", "pillow cover"),
    ),
    CategorySpec(
        "Accessories",
        "ACC",
        0.18,
        (3.0, 15.0),
        (3.5, 5.0),
        (0.2, 1.0),
        (24, 48),
        1.1,
        0.10,
        340,
        1.0,
        OVERSEAS,
        CUT_AND_SEW,
        0.3,
        0.2,
        ("beanie", "scarf", "tote", "cap", "socks 3-pack", "gloves"),
    ),
    CategorySpec(
        "Beauty",
        "BEA",
        0.18,
        (2.0, 12.0),
        (4.0, 6.0),
        (0.1, 0.5),
        (24, 48, 72),
        1.2,
        0.10,
        110,
        0.8,
        BEAUTY_LAB,
        None,
        0.0,
        0.0,
        ("lip balm", "hand cream", "face serum", "body wash", "sunscreen"),
    ),
)
COLOURS = ("black", "sand", "navy", "olive", "rust", "heather grey", "ivory", "sage")
ADJECTIVES = ("Organic", "Classic", "Everyday", "Heritage", "Coastal", "Alpine", "Studio")


@dataclass(frozen=True, slots=True)
class _DemandModel:
    """Internal arrays shared by the table builders (rows = SKUs or series, columns = days)."""

    catalog: pd.DataFrame
    series: pd.DataFrame
    expected: FloatArray
    units: FloatArray
    in_stock: BoolArray
    price: FloatArray
    first_day: date


def generate_demo_tables(seed: int = 7, as_of: date = date(2026, 11, 30), n_skus: int = 300) -> dict[str, pd.DataFrame]:
    """Generate the demo brand's input tables.

    Args:
        seed: Seed of the numpy Generator; the same seed gives identical tables.
        as_of: Plan date, which must be a Monday. History ends the day before.
        n_skus: Catalogue size (at least 10, so every category and lifecycle status appears).

    Returns:
        Canonical tables keyed by table name (no ``external_forecast``).

    Raises:
        ValueError: ``as_of`` is not a Monday or ``n_skus`` is below 10.
    """
    require_monday(as_of)
    if n_skus < 10:
        raise ValueError(f"n_skus must be at least 10 to cover every category and status, got {n_skus}")
    rng = np.random.default_rng(seed)
    catalog = _build_catalog(rng, n_skus)
    series = _build_series(catalog)
    model = _simulate_demand(rng, catalog, series, as_of)
    catalog = catalog.assign(service_class=_abc_classes(model))
    closures = _supplier_closures(as_of)
    sourcing = _sourcing_options(rng, catalog)
    inventory = _inventory(rng, model, as_of)
    open_orders = _open_orders(rng, model, sourcing, as_of)
    suppliers = _suppliers(model)
    tables = {
        "demand_history": _demand_history(model),
        "inventory": inventory,
        "open_orders": open_orders,
        "items": _items(catalog, model.first_day),
        "sourcing_options": sourcing,
        "suppliers": suppliers,
        "supplier_closures": closures,
        "locations": _locations(model, inventory),
        "transfer_lanes": _transfer_lanes(),
        "budgets": _budgets(model, as_of, closures, open_order_balances(open_orders, sourcing, suppliers, as_of)),
        "service_targets": service_targets_table(),
        "locked_orders": _locked_orders(sourcing, catalog, closures, as_of),
        "events": _events(model.first_day),
        # The own warehouse also ships Walmart orders: keep a week of Shopify cover back for DTC.
        "channel_reservations": pd.DataFrame(
            {
                "location": [WAREHOUSE],
                "channel": ["shopify"],
                "category": [""],
                "reserved_units": [np.nan],
                "weeks_of_cover": [1.0],
            }
        ),
    }
    return {name: conform_to_contract(name, frame) for name, frame in tables.items()}


def write_demo_tables(
    tables: Mapping[str, pd.DataFrame], folder: Path, fmt: Literal["csv", "parquet"] = "csv"
) -> dict[str, Path]:
    """Write each table to ``<folder>/<name>.<fmt>``.

    CSV files use ISO dates (``YYYY-MM-DD``), ``true``/``false`` booleans and empty cells for
    missing values, which is what data owners are asked to upload.

    Args:
        tables: Tables keyed by name, as returned by the generators.
        folder: Target folder; created if missing.
        fmt: ``csv`` or ``parquet``.

    Returns:
        The written path per table name.

    Raises:
        ValueError: ``fmt`` is neither ``csv`` nor ``parquet``.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name, frame in tables.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            _csv_ready(frame).to_csv(path, index=False, na_rep="", lineterminator="\n")
        else:
            frame.to_parquet(path, index=False)
        written[name] = path
    return written


def conform_to_contract(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Order a frame's columns as in the contract and cast them to the contract's kinds.

    Args:
        name: Contract (table) name.
        frame: The generated table.

    Returns:
        A new frame with a fresh index.

    Raises:
        ValueError: The frame has a column the contract does not know, or lacks a required one;
            this is a generator bug, not a data problem.
    """
    contract = CONTRACTS_BY_NAME[name]
    unknown = sorted(set(frame.columns) - set(contract.column_names))
    missing = [col.name for col in contract.columns if col.required and col.name not in frame.columns]
    if unknown or missing:
        raise ValueError(f"table {name!r}: unknown columns {unknown}, missing required columns {missing}")
    out = frame[[c for c in contract.column_names if c in frame.columns]].reset_index(drop=True)
    return out.assign(**{col.name: _cast(out[col.name], col) for col in contract.columns if col.name in out})


def service_targets_table() -> pd.DataFrame:
    """The service targets both data sets use: 95 % overall, 98 % for A items, 90 % for C items."""
    return pd.DataFrame(
        {
            "scope": ["all", "service_class", "service_class"],
            "scope_value": ["", "A", "C"],
            "metric": ["fill_rate"] * 3,
            "target": [0.95, 0.98, 0.90],
        }
    )


def require_monday(as_of: date) -> None:
    """Raise ValueError unless ``as_of`` is a Monday (plans run in Monday-starting weeks)."""
    if as_of.weekday() != 0:
        raise ValueError(f"as_of must be a Monday (plans run in Monday-starting weeks), got {as_of} ({as_of:%A})")


def _cast(values: pd.Series, col: Column) -> pd.Series:
    if col.kind == "date":
        return pd.to_datetime(values).astype("datetime64[ns]")
    if col.kind == "int":
        return values.astype("int64")
    if col.kind == "float":
        return values.astype("float64")
    if col.kind == "bool":
        return values.astype("bool")
    return values.astype("str")


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            out[name] = column.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(column):
            out[name] = column.map({True: "true", False: "false"})
    return out


# --------------------------------------------------------------------------------------------
# Catalogue and demand series
# --------------------------------------------------------------------------------------------


def _category_counts(n_skus: int) -> IntArray:
    shares = np.array([spec.share for spec in CATEGORIES])
    counts = np.maximum(1, np.floor(shares * n_skus)).astype(np.int64)
    # Hand the rounding remainder to the largest categories so the total is exact.
    order = np.argsort(-shares)
    i = 0
    while counts.sum() < n_skus:
        counts[order[i % len(order)]] += 1
        i += 1
    while counts.sum() > n_skus:
        counts[order[i % len(order)]] -= 1
        i += 1
    return counts


def _build_catalog(rng: np.random.Generator, n_skus: int) -> pd.DataFrame:
    """SKU attributes plus the hidden demand parameters (base rate, lifecycle, lumpiness)."""
    counts = _category_counts(n_skus)
    cat_idx = np.repeat(np.arange(len(CATEGORIES)), counts)
    specs = [CATEGORIES[i] for i in cat_idx]
    number = np.concatenate([np.arange(1, c + 1) for c in counts])
    unit_cost = np.array([rng.uniform(*s.cost_range) for s in specs]).round(2)
    price = np.array([c * rng.uniform(*s.markup_range) for c, s in zip(unit_cost, specs, strict=True)])
    # Prices end in .99 or .00, as a merchandiser would set them.
    price = np.maximum(np.floor(price) + rng.choice([0.0, 0.99], size=n_skus), unit_cost * 1.5).round(2)
    # A heavy-tailed base rate: a few best sellers and a long tail of slow movers.
    base_rate = np.exp(rng.normal(np.log(1.25), 1.3, size=n_skus)) * np.array([s.rate_scale for s in specs])
    base_rate = np.clip(base_rate, 0.03, 60.0)
    catalog = pd.DataFrame(
        {
            "sku": [f"{s.prefix}-{k:03d}" for s, k in zip(specs, number, strict=True)],
            "description": [f"{rng.choice(ADJECTIVES)} {rng.choice(s.nouns)} {rng.choice(COLOURS)}" for s in specs],
            "cat_idx": cat_idx,
            "category": [s.name for s in specs],
            "unit_cost": unit_cost,
            "selling_price": price,
            "unit_volume": np.array([rng.uniform(*s.volume_range) for s in specs]).round(2),
            "case_pack": [int(rng.choice(s.case_packs)) for s in specs],
            "base_rate": base_rate,
            "growth": rng.normal(0.08, 0.15, size=n_skus),
        }
    )
    return _assign_lifecycle(rng, _assign_demand_shape(rng, catalog))


def _assign_demand_shape(rng: np.random.Generator, catalog: pd.DataFrame) -> pd.DataFrame:
    """Mark the slow tail as intermittent and a third of it as lumpy (rare multi-unit orders)."""
    n = len(catalog)
    slow = catalog["base_rate"].rank(pct=True).to_numpy() <= 0.4
    lumpy = slow & (rng.random(n) < 0.35)
    lumpy_size = np.where(lumpy, rng.uniform(3.0, 8.0, size=n), 1.0)
    rank = catalog["base_rate"].rank(pct=True).to_numpy()
    return catalog.assign(
        demand_shape=np.where(lumpy, "lumpy", np.where(slow, "intermittent", "smooth")),
        lumpy_size=lumpy_size,
        # Fast movers are the ones worth splitting to the 3PL.
        at_3pl=rng.random(n) < 0.2 + 0.6 * rank,
        on_amazon=rng.random(n) < 0.65,
        on_walmart=rng.random(n) < 0.4,
    )


def _assign_lifecycle(rng: np.random.Generator, catalog: pd.DataFrame) -> pd.DataFrame:
    """Pick new, discontinued and mid-history launches; days count from the first history day."""
    n = len(catalog)
    n_new, n_disc, n_mid = max(2, round(0.03 * n)), max(2, round(0.03 * n)), max(2, round(0.10 * n))
    order = rng.permutation(n)
    new, disc, mid = order[:n_new], order[n_new : n_new + n_disc], order[n_new + n_disc : n_new + n_disc + n_mid]
    status = np.full(n, "active", dtype=object)
    launch_day = np.full(n, -10_000, dtype=np.int64)
    end_day = np.full(n, 10_000, dtype=np.int64)
    status[new] = "new"
    # New items launch between three weeks before and ten weeks after as_of.
    launch_day[new] = rng.integers(HISTORY_DAYS - 21, HISTORY_DAYS + 70, size=n_new)
    status[disc] = "discontinued"
    end_day[disc] = rng.integers(HISTORY_DAYS - 180, HISTORY_DAYS - 30, size=n_disc)
    launch_day[mid] = rng.integers(90, HISTORY_DAYS - 120, size=n_mid)
    on_amazon = catalog["on_amazon"].to_numpy().copy()
    at_3pl = catalog["at_3pl"].to_numpy().copy()
    at_3pl[new] = False  # a launch starts in the own warehouse only
    on_amazon[new] = True
    return catalog.assign(status=status, launch_day=launch_day, end_day=end_day, on_amazon=on_amazon, at_3pl=at_3pl)


def _build_series(catalog: pd.DataFrame) -> pd.DataFrame:
    """One row per sku x location x channel that carries demand, with its share of the SKU's demand."""
    rows: list[tuple[int, str, str, float]] = []
    for i, sku in enumerate(catalog.itertuples(index=False)):
        channels = ["shopify"] + (["amazon"] if sku.on_amazon else []) + (["walmart"] if sku.on_walmart else [])
        total = sum(CHANNEL_SHARE[c] for c in channels)
        for location, channel in SERIES_SLOTS:
            if channel not in channels or (location == THREE_PL and not sku.at_3pl):
                continue
            share = CHANNEL_SHARE[channel] / total
            if channel != "amazon" and sku.at_3pl:
                share *= WAREHOUSE_SHARE_OF_FULFILMENT if location == WAREHOUSE else 1 - WAREHOUSE_SHARE_OF_FULFILMENT
            rows.append((i, location, channel, share))
    frame = pd.DataFrame(rows, columns=["sku_idx", "location", "channel", "share"])
    return frame.assign(
        sku=catalog["sku"].to_numpy()[frame["sku_idx"]],
        loc_idx=frame["location"].map({loc: k for k, loc in enumerate(LOCATION_IDS)}).to_numpy(),
        chan_idx=frame["channel"].map({c: k for k, c in enumerate(CHANNELS)}).to_numpy(),
    )


# --------------------------------------------------------------------------------------------
# Demand simulation
# --------------------------------------------------------------------------------------------


def holiday_peak(year: int) -> tuple[date, date]:
    """The holiday peak of a year: Black Friday (day after US Thanksgiving) through Christmas Eve."""
    november_first = date(year, 11, 1)
    first_thursday = november_first + timedelta(days=(3 - november_first.weekday()) % 7)
    return first_thursday + timedelta(days=22), date(year, 12, 24)


def _holiday_shape(days: pd.DatetimeIndex) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Per day: the holiday boost (scaled by category), a multiplicative dip, and the BFCM mask."""
    boost = np.zeros(len(days))
    dip = np.ones(len(days))
    bfcm = np.zeros(len(days), dtype=bool)
    as_dates = days.date
    for year in range(days[0].year - 1, days[-1].year + 1):
        black_friday, christmas_eve = holiday_peak(year)
        cyber_monday = black_friday + timedelta(days=3)
        in_bfcm = (as_dates >= black_friday) & (as_dates <= cyber_monday)
        bfcm |= in_bfcm
        boost[in_bfcm] = 2.0
        boost[(as_dates > cyber_monday) & (as_dates <= date(year, 12, 20))] = 0.8
        # After the shipping cut-off only last-minute gift cards and express orders remain.
        boost[(as_dates > date(year, 12, 20)) & (as_dates <= christmas_eve)] = 0.3
        # Shoppers hold off the week before Black Friday, and little sells over the holidays.
        dip[(as_dates >= black_friday - timedelta(days=7)) & (as_dates < black_friday)] = 0.92
        dip[(as_dates > christmas_eve) & (as_dates <= date(year + 1, 1, 1))] = 0.75
    return boost, dip, bfcm


def _season_matrix(days: pd.DatetimeIndex) -> FloatArray:
    """Seasonal index per category x day: a yearly cosine times the holiday peak."""
    day_of_year = days.day_of_year.to_numpy()
    boost, dip, _ = _holiday_shape(days)
    rows = [
        (1 + spec.season_amplitude * np.cos(2 * np.pi * (day_of_year - spec.season_peak_day) / 365.25))
        * (1 + spec.holiday_lift * boost)
        * dip
        for spec in CATEGORIES
    ]
    return np.vstack(rows)


def _lifecycle_matrix(catalog: pd.DataFrame, t: IntArray) -> FloatArray:
    """Per SKU x day: 0 before launch, a four-week ramp-up, and a six-week taper before the end."""
    since = t[None, :] - catalog["launch_day"].to_numpy()[:, None]
    ramp = np.where(since >= 0, np.clip(0.3 + 0.7 * since / 28, 0.3, 1.0), 0.0)
    until = catalog["end_day"].to_numpy()[:, None] - t[None, :]
    taper = np.where(until > 0, np.clip(0.4 + 0.6 * until / 42, 0.4, 1.0), 0.0)
    return ramp * taper


def _expected_rates(catalog: pd.DataFrame, series: pd.DataFrame, days: pd.DatetimeIndex) -> FloatArray:
    """Noise-free daily demand per series x day (history and horizon), without promotions."""
    t = np.arange(len(days), dtype=np.int64)
    season = _season_matrix(days)[catalog["cat_idx"].to_numpy()]
    # Trend is anchored at as_of, so base_rate reads as today's level.
    trend = np.exp(catalog["growth"].to_numpy()[:, None] * (t - HISTORY_DAYS)[None, :] / 365.0)
    day_of_week = DAY_OF_WEEK_FACTOR[days.day_of_week.to_numpy()]
    per_sku = catalog["base_rate"].to_numpy()[:, None] * season * trend * _lifecycle_matrix(catalog, t)
    per_sku *= day_of_week[None, :]
    return per_sku[series["sku_idx"].to_numpy()] * series["share"].to_numpy()[:, None]


def _promotions(rng: np.random.Generator, n_skus: int, bfcm: BoolArray) -> tuple[FloatArray, FloatArray]:
    """Price factor and demand uplift per SKU x channel x history day."""
    price_factor = np.ones((n_skus, len(CHANNELS), HISTORY_DAYS))
    uplift = np.ones_like(price_factor)
    for i in range(n_skus):
        for c in range(len(CHANNELS)):
            for _ in range(rng.poisson(1.5)):
                start = int(rng.integers(0, HISTORY_DAYS - 3))
                stop = start + int(rng.integers(3, 11))
                discount = rng.uniform(0.15, 0.35)
                price_factor[i, c, start:stop] = 1 - discount
                # Constant-elasticity response: 20 % off with elasticity 3 sells about twice as much.
                uplift[i, c, start:stop] = (1 - discount) ** -rng.uniform(2.0, 3.5)
    # The sitewide Black Friday sale on the own site; its uplift is already in the holiday peak.
    shopify = CHANNELS.index("shopify")
    price_factor[:, shopify, bfcm] = np.minimum(price_factor[:, shopify, bfcm], 0.8)
    return price_factor, uplift


def _stockouts(rng: np.random.Generator, alive: BoolArray) -> BoolArray:
    """Out-of-stock spells (3-21 days) per SKU x location x history day, inside the SKU's life."""
    out = np.zeros((alive.shape[0], len(LOCATION_IDS), HISTORY_DAYS), dtype=bool)
    for i in range(alive.shape[0]):
        alive_days = np.flatnonzero(alive[i])
        if len(alive_days) < 30:
            continue
        for loc in range(len(LOCATION_IDS)):
            for _ in range(int(rng.choice([0, 1, 2], p=[0.55, 0.35, 0.10]))):
                length = int(rng.integers(3, 22))
                start = int(rng.choice(alive_days[:-length]))
                out[i, loc, start : start + length] = True
    return out & alive[:, None, :]


def _sample_units(rng: np.random.Generator, rates: FloatArray, lumpy_size: FloatArray) -> FloatArray:
    """Gamma-Poisson daily units; lumpy series place rare orders of several units each."""
    mixed = rates * rng.gamma(4.0, 0.25, size=rates.shape)
    size = lumpy_size[:, None]
    orders = rng.poisson(mixed / size)
    # Each order is 1 + NegBin extra units, so its mean size is `size` and the mean rate is kept.
    extra = rng.negative_binomial(np.maximum(orders, 1), np.broadcast_to(1.0 / size, orders.shape))
    return np.where(orders > 0, orders + extra, 0).astype(np.float64)


def _simulate_demand(
    rng: np.random.Generator, catalog: pd.DataFrame, series: pd.DataFrame, as_of: date
) -> _DemandModel:
    """Draw daily history per series and keep the noise-free expectation for the horizon."""
    first_day = as_of - timedelta(days=HISTORY_DAYS)
    days = pd.date_range(first_day, periods=HISTORY_DAYS + HORIZON_WEEKS * 7, freq="D")
    expected = _expected_rates(catalog, series, days)
    sku, chan, loc = (series[c].to_numpy() for c in ("sku_idx", "chan_idx", "loc_idx"))
    _, _, bfcm = _holiday_shape(days[:HISTORY_DAYS])
    price_factor, uplift = _promotions(rng, len(catalog), bfcm)
    units = _sample_units(rng, expected[:, :HISTORY_DAYS] * uplift[sku, chan], catalog["lumpy_size"].to_numpy()[sku])
    sku_alive = _lifecycle_matrix(catalog, np.arange(HISTORY_DAYS, dtype=np.int64)) > 0
    out_of_stock = _stockouts(rng, sku_alive)[sku, loc]
    units[out_of_stock] = 0.0
    # Rare returns show up as negative net units on days without sales.
    returns = (units == 0) & ~out_of_stock & sku_alive[sku] & (rng.random(units.shape) < 0.0015)
    units[returns] = -rng.choice([1.0, 2.0], p=[0.8, 0.2], size=int(returns.sum()))
    channel_price = np.array([CHANNEL_PRICE[c] for c in CHANNELS])[chan]
    regular = catalog["selling_price"].to_numpy()[sku] * channel_price
    price = (regular[:, None] * price_factor[sku, chan]).round(2)
    return _DemandModel(catalog, series, expected, units, ~out_of_stock, price, first_day)


def _events(first_day: date) -> pd.DataFrame:
    """The own site's sitewide Black Friday to Cyber Monday sale, on every past day it ran."""
    days = pd.date_range(first_day, periods=HISTORY_DAYS, freq="D")
    _, _, bfcm = _holiday_shape(days)
    return pd.DataFrame({"date": days[bfcm], "event": "black_friday_sale", "sku": ""})


def _demand_history(model: _DemandModel) -> pd.DataFrame:
    """The sparse long table: rows with non-zero units plus every stockout day."""
    s_idx, d_idx = np.nonzero((model.units != 0) | ~model.in_stock)
    dates = pd.date_range(model.first_day, periods=HISTORY_DAYS, freq="D")
    units = model.units[s_idx, d_idx]
    price = model.price[s_idx, d_idx]
    frame = pd.DataFrame(
        {
            "date": dates[d_idx],
            "sku": model.series["sku"].to_numpy()[s_idx],
            "location": model.series["location"].to_numpy()[s_idx],
            "channel": model.series["channel"].to_numpy()[s_idx],
            "units": units,
            "revenue": (units * price).round(2),
            "price": price,
            "in_stock": model.in_stock[s_idx, d_idx],
        }
    )
    return frame.sort_values(["date", "sku", "location", "channel"], kind="stable").reset_index(drop=True)


def _abc_classes(model: _DemandModel) -> npt.NDArray[np.str_]:
    """ABC by revenue: A = top 80 % of revenue, B = next 15 %, C = the rest.

    Revenue is the trailing 52 weeks, annualised for SKUs launched inside that window and
    taken from the launch plan (expected units) for SKUs that have not sold yet.
    """
    catalog, sku = model.catalog, model.series["sku_idx"].to_numpy()
    n, window = len(catalog), HISTORY_DAYS - 364
    revenue = np.bincount(
        sku, weights=(np.clip(model.units, 0, None) * model.price)[:, window:].sum(axis=1), minlength=n
    )
    launch = catalog["launch_day"].to_numpy()
    alive_days = np.clip(HISTORY_DAYS - np.maximum(launch, window), 0, 364)
    recent = (launch > window) & (alive_days > 0)
    revenue[recent] *= 364 / alive_days[recent]
    planned = np.bincount(sku, weights=model.expected[:, HISTORY_DAYS:].sum(axis=1), minlength=n)
    unsold = alive_days == 0
    revenue[unsold] = (planned * catalog["selling_price"].to_numpy() * 2.0)[unsold]
    order = np.argsort(-revenue, kind="stable")
    share_before = (np.cumsum(revenue[order]) - revenue[order]) / max(revenue.sum(), 1e-9)
    classes = np.empty(n, dtype="<U1")
    classes[order] = np.where(share_before < 0.80, "A", np.where(share_before < 0.95, "B", "C"))
    return classes


# --------------------------------------------------------------------------------------------
# Master data: items, suppliers, sourcing, locations, lanes
# --------------------------------------------------------------------------------------------


def _items(catalog: pd.DataFrame, first_day: date) -> pd.DataFrame:
    """The catalogue table; launch_date is set for launches inside or after the history."""
    launch = [first_day + timedelta(days=int(d)) if d >= 0 else pd.NaT for d in catalog["launch_day"]]
    unit_cost = catalog["unit_cost"].to_numpy()
    # Beauty carries shelf-life write-offs, so its holding cost is overridden upwards.
    holding = np.where(catalog["category"] == "Beauty", (unit_cost * 0.01).round(4), np.nan)
    return pd.DataFrame(
        {
            "sku": catalog["sku"],
            "description": catalog["description"],
            "category": catalog["category"],
            "unit_cost": unit_cost,
            "selling_price": catalog["selling_price"],
            "unit_volume": catalog["unit_volume"],
            "case_pack": catalog["case_pack"],
            "status": catalog["status"],
            "launch_date": pd.to_datetime(pd.Series(launch, dtype="object")),
            "service_class": catalog["service_class"],
            "holding_cost_per_unit_week": holding,
        }
    )


SOURCING_COLUMNS = (
    "sku",
    "supplier",
    "ship_to",
    "mode",
    "unit_cost",
    "moq",
    "order_multiple",
    "lead_time_weeks",
    "lead_time_std_weeks",
)
_Option = tuple[str, str, str, str, float, float, int, float, float]


def _round_up(quantity: float, multiple: int) -> float:
    return float(max(1, int(np.ceil(quantity / multiple))) * multiple)


def _ocean_and_air(rng: np.random.Generator, sku: str, cost: float, case: int, air_share: float) -> list[_Option]:
    """The overseas supplier ships ocean containers (and air for some SKUs) to the own warehouse only."""
    multiple = case * 2 if case <= 12 else case  # ocean ships master cartons of two inner cases
    moq = _round_up(float(rng.choice([150, 300, 500])), multiple)
    lead = round(float(rng.uniform(8.0, 12.0)) * 2) / 2
    options: list[_Option] = [
        (
            sku,
            OVERSEAS,
            WAREHOUSE,
            "ocean",
            round(cost * 0.92, 2),
            moq,
            multiple,
            lead,
            round(float(rng.uniform(1.0, 2.0)), 1),
        )
    ]
    if rng.random() < air_share:
        air_cost = round(cost * float(rng.uniform(1.25, 1.45)), 2)
        lead_air = round(float(rng.uniform(2.0, 3.0)) * 2) / 2
        options.append((sku, OVERSEAS, WAREHOUSE, "air", air_cost, float(case * 2), case, lead_air, 0.5))
    return options


def _domestic(rng: np.random.Generator, sku: str, supplier: str, cost: float, case: int, at_3pl: bool) -> list[_Option]:
    """A domestic supplier trucks to the warehouse, and to the 3PL when the SKU is stocked there."""
    lead_range = {HOME_GOODS: (2.0, 3.0), BEAUTY_LAB: (1.0, 2.0), CUT_AND_SEW: (2.0, 4.0)}[supplier]
    premium = (1.15, 1.30) if supplier == CUT_AND_SEW else (1.0, 1.08)  # the second source costs more
    unit_cost = round(cost * float(rng.uniform(*premium)), 2)
    moq = float(case * int(rng.integers(1, 5)))
    lead = round(float(rng.uniform(*lead_range)) * 2) / 2
    std = round(float(rng.uniform(0.2, 0.6)), 1)
    options: list[_Option] = [(sku, supplier, WAREHOUSE, "truck", unit_cost, moq, case, lead, std)]
    if at_3pl:
        # The 3PL is across the country: half a week longer and a little dearer.
        options.append((sku, supplier, THREE_PL, "truck", round(unit_cost * 1.02, 2), moq, case, lead + 0.5, std))
    return options


def _sourcing_options(rng: np.random.Generator, catalog: pd.DataFrame) -> pd.DataFrame:
    """Every SKU can be bought into the own warehouse; some have a second source or a direct FBA route."""
    rows: list[_Option] = []
    for item in catalog.to_dict("records"):
        spec = CATEGORIES[int(item["cat_idx"])]
        sku, cost, case = str(item["sku"]), float(item["unit_cost"]), int(item["case_pack"])
        if spec.supplier == OVERSEAS:
            rows += _ocean_and_air(rng, sku, cost, case, spec.air_share)
        else:
            rows += _domestic(rng, sku, spec.supplier, cost, case, bool(item["at_3pl"]))
        if spec.second_supplier is not None and rng.random() < spec.second_share:
            if spec.second_supplier == OVERSEAS:
                rows += _ocean_and_air(rng, sku, cost, case, 0.0)
            else:
                rows += _domestic(rng, sku, spec.second_supplier, cost, case, bool(item["at_3pl"]))
        if spec.supplier == BEAUTY_LAB and item["on_amazon"] and rng.random() < 0.3:
            # A few beauty SKUs are shipped straight into FBA by parcel.
            lead = round(float(rng.uniform(1.5, 2.5)) * 2) / 2
            rows.append((sku, BEAUTY_LAB, FBA, "parcel", round(cost * 1.05, 2), float(case * 2), case, lead, 0.5))
    return pd.DataFrame(rows, columns=list(SOURCING_COLUMNS))


def _suppliers(model: _DemandModel) -> pd.DataFrame:
    """Supplier terms; the overseas factory's weekly capacity is 2.5x its average weekly volume."""
    catalog, sku = model.catalog, model.series["sku_idx"].to_numpy()
    overseas_sku = np.array([CATEGORIES[int(c)].supplier == OVERSEAS for c in catalog["cat_idx"]])
    weekly_units = model.expected[overseas_sku[sku], HISTORY_DAYS:].sum() / HORIZON_WEEKS
    overseas_capacity = float(np.ceil(2.5 * weekly_units / 1000.0) * 1000.0)
    return pd.DataFrame(
        {
            "supplier": [OVERSEAS, CUT_AND_SEW, HOME_GOODS, BEAUTY_LAB],
            "name": [
                "Shenzhen Textile & Accessories Co.",
                "LA Cut & Sew",
                "Carolina Home Goods",
                "Pacific Botanicals Lab",
            ],
            "currency": [CURRENCY] * 4,
            "po_minimum_value": [20_000.0, 2_500.0, 1_500.0, 1_000.0],
            "fixed_cost_per_po": [650.0, 150.0, 90.0, 60.0],
            "weekly_capacity_units": [overseas_capacity, 3_000.0, np.nan, np.nan],
            # The factory takes a 30 % deposit; domestic suppliers are paid on receipt.
            "deposit_share": [0.3, 0.5, 0.0, 0.0],
        }
    )


def _supplier_closures(as_of: date) -> pd.DataFrame:
    """The overseas factory's next Chinese New Year shutdown and the LA shop's holiday week."""
    starts: list[date] = []
    ends: list[date] = []
    suppliers: list[str] = []
    reasons: list[str] = []
    next_cny = next((d for d in CHINESE_NEW_YEAR if d + timedelta(days=17) >= as_of), None)
    if next_cny is not None:
        suppliers.append(OVERSEAS)
        starts.append(next_cny - timedelta(days=10))
        ends.append(next_cny + timedelta(days=17))
        reasons.append("Chinese New Year factory shutdown")
    suppliers.append(CUT_AND_SEW)
    starts.append(date(as_of.year, 12, 24))
    ends.append(date(as_of.year + 1, 1, 3))
    reasons.append("Holiday shutdown")
    return pd.DataFrame({"supplier": suppliers, "start_date": starts, "end_date": ends, "reason": reasons})


def _locations(model: _DemandModel, inventory: pd.DataFrame) -> pd.DataFrame:
    """Capacities sized so the warehouse is roomy, the 3PL tighter (by volume) and FBA small."""
    series = model.series
    weekly = model.expected[:, HISTORY_DAYS:].sum(axis=1) / HORIZON_WEEKS
    volume = model.catalog.set_index("sku")["unit_volume"]
    on_hand = inventory.groupby("location")["on_hand"].sum()
    on_hand_volume = (inventory["on_hand"] * inventory["sku"].map(volume)).groupby(inventory["location"]).sum()
    at = series["location"].to_numpy()
    three_pl_volume = float((weekly * series["sku"].map(volume).to_numpy())[at == THREE_PL].sum())
    capacity = [
        np.ceil(max(1.5 * on_hand.get(WAREHOUSE, 0.0), 12 * weekly.sum()) / 1000) * 1000,
        np.ceil(max(1.3 * on_hand_volume.get(THREE_PL, 0.0), 6 * three_pl_volume) / 1000) * 1000,
        # Amazon rations FBA space: about five average weeks of Amazon demand.
        np.ceil(max(1.1 * on_hand.get(FBA, 0.0), 5 * weekly[at == FBA].sum()) / 100) * 100,
    ]
    return pd.DataFrame(
        {
            "location": list(LOCATION_IDS),
            "type": ["warehouse", "3pl", "marketplace"],
            "capacity": capacity,
            "capacity_unit": ["units", "volume", "units"],
            "channels": ["shopify;walmart", "shopify;walmart", "amazon"],
        }
    )


def _transfer_lanes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "from_location": [WAREHOUSE, WAREHOUSE, THREE_PL],
            "to_location": [THREE_PL, FBA, FBA],
            "lead_time_weeks": [1.0, 2.0, 1.0],
            "cost_per_unit": [0.35, 0.60, 0.45],
            "min_shipment": [300.0, 200.0, 100.0],
        }
    )


# --------------------------------------------------------------------------------------------
# Position at as_of: inventory, open orders, budgets, locked orders
# --------------------------------------------------------------------------------------------


def _run_rate_by_sku(model: _DemandModel) -> FloatArray:
    """Expected weekly units per SKU over the days it sells in the horizon (covers future launches)."""
    future = model.expected[:, HISTORY_DAYS:]
    per_series = future.sum(axis=1) / np.maximum((future > 0).sum(axis=1), 1) * 7
    sku = model.series["sku_idx"].to_numpy()
    return np.bincount(sku, weights=per_series, minlength=len(model.catalog)).astype(np.float64)


def _inventory(rng: np.random.Generator, model: _DemandModel, as_of: date) -> pd.DataFrame:
    """On-hand per SKU x stocking location as weeks of cover, with leftovers for discontinued SKUs."""
    series, catalog = model.series, model.catalog
    pairs = (
        series.assign(
            now=model.expected[:, HISTORY_DAYS : HISTORY_DAYS + 28].mean(axis=1) * 7,
            past=model.expected[:, HISTORY_DAYS - 365 : HISTORY_DAYS].mean(axis=1) * 7,
            in_stock=model.in_stock[:, -1],
        )
        .groupby(["sku_idx", "sku", "location"], sort=False)
        .agg(now=("now", "sum"), past=("past", "sum"), in_stock=("in_stock", "all"))
        .reset_index()
    )
    n, idx = len(pairs), pairs["sku_idx"].to_numpy()
    status = catalog["status"].to_numpy()[idx]
    launched = catalog["launch_day"].to_numpy()[idx] < HISTORY_DAYS
    overseas = np.array([CATEGORIES[int(c)].supplier == OVERSEAS for c in catalog["cat_idx"]])[idx]
    location = pairs["location"].to_numpy()
    # Long ocean lead times mean more cover in the warehouse; FBA and the 3PL run lean.
    cover = np.where(
        location == WAREHOUSE,
        np.where(overseas, rng.uniform(4, 10, n), rng.uniform(2, 6, n)),
        np.where(location == THREE_PL, rng.uniform(1.5, 4, n), rng.uniform(1, 4, n)),
    )
    cover = np.where(rng.random(n) < 0.08, rng.uniform(0, 0.5, n), cover)  # a few urgent pairs
    on_hand = pairs["now"].to_numpy() * cover
    # Discontinued lines keep remnant stock, at least about a case in the warehouse, to sell off.
    remnant = pairs["past"].to_numpy() * rng.uniform(1, 6, n)
    remnant += np.where(location == WAREHOUSE, catalog["case_pack"].to_numpy()[idx] * rng.uniform(0.5, 2, n), 0.0)
    on_hand = np.where(status == "discontinued", remnant, on_hand)
    on_hand = np.where((status == "new") & launched, pairs["now"].to_numpy() * rng.uniform(4, 8, n), on_hand)
    on_hand = np.where(launched & pairs["in_stock"].to_numpy(), np.floor(on_hand), 0.0)
    return pd.DataFrame(
        {
            "sku": pairs["sku"],
            "location": location,
            "on_hand": on_hand,
            "allocated": np.floor(on_hand * rng.uniform(0, 0.04, n)),
            "as_of_date": pd.Timestamp(as_of),
        }
    )


_OrderLine = tuple[str, str, str, str, str, float, date]


def _purchase_lines(
    rng: np.random.Generator, model: _DemandModel, sourcing: pd.DataFrame, as_of: date
) -> list[_OrderLine]:
    """Ocean POs arriving over the next ten weeks, domestic POs this or next week, launch stock."""
    skus = [str(s) for s in model.catalog["sku"]]
    weekly = dict(zip(skus, _run_rate_by_sku(model).tolist(), strict=True))
    status_of = dict(zip(skus, model.catalog["status"].astype(str), strict=True))
    launch_of = dict(zip(skus, model.catalog["launch_day"].astype(int), strict=True))
    lines: list[_OrderLine] = []
    launch_covered: set[str] = set()
    for opt in sourcing.to_dict("records"):
        sku, supplier, ship_to, mode = str(opt["sku"]), str(opt["supplier"]), str(opt["ship_to"]), str(opt["mode"])
        status, launch_day = status_of[sku], launch_of[sku]
        multiple, moq = int(opt["order_multiple"]), float(opt["moq"])
        if status == "active" and mode == "ocean" and rng.random() < 0.6:
            week = int(rng.integers(0, 10))
            qty = _round_up(max(moq, weekly[sku] * rng.uniform(4, 8)), multiple)
            arrival = as_of + timedelta(days=7 * week + int(rng.integers(0, 5)))
            lines.append((f"PO-{supplier}-W{week:02d}", sku, supplier, "supplier", ship_to, qty, arrival))
        elif status == "active" and mode == "truck" and rng.random() < 0.2:
            week = int(rng.integers(0, 2))
            qty = _round_up(max(moq, weekly[sku] * rng.uniform(1, 3)), multiple)
            arrival = as_of + timedelta(days=7 * week + int(rng.integers(0, 5)))
            lines.append((f"PO-{supplier}-{ship_to}-W{week:02d}", sku, supplier, "supplier", ship_to, qty, arrival))
        elif status == "new" and launch_day >= HISTORY_DAYS and ship_to == WAREHOUSE and sku not in launch_covered:
            # Launch stock lands a week before the launch date.
            launch_covered.add(sku)
            arrival = max(as_of, model.first_day + timedelta(days=launch_day - 7))
            qty = _round_up(max(moq, weekly[sku] * 6), multiple)
            lines.append((f"PO-{supplier}-LAUNCH", sku, supplier, "supplier", ship_to, qty, arrival))
    return lines


def _transfer_lines(rng: np.random.Generator, model: _DemandModel, as_of: date) -> list[_OrderLine]:
    """Two FBA inbound shipments in transit, mostly from the warehouse, some from the 3PL."""
    weekly = model.expected[:, HISTORY_DAYS : HISTORY_DAYS + 28].mean(axis=1) * 7
    status = model.catalog["status"].to_numpy()
    at_3pl = model.catalog["at_3pl"].to_numpy()
    case_pack = model.catalog["case_pack"].to_numpy()
    series_sku = model.series["sku"].to_numpy()
    series_sku_idx = model.series["sku_idx"].to_numpy()
    candidates = np.flatnonzero((model.series["location"] == FBA).to_numpy() & (status[series_sku_idx] == "active"))
    # About 15 % of the active FBA assortment is on its way, and always at least two lines.
    picked = np.sort(
        rng.choice(candidates, size=min(len(candidates), max(2, round(0.15 * len(candidates)))), replace=False)
    )
    lines: list[_OrderLine] = []
    for s in picked:
        i = int(series_sku_idx[s])
        origin = THREE_PL if at_3pl[i] and rng.random() < 0.3 else WAREHOUSE
        shipment = int(rng.integers(0, 2))
        qty = _round_up(float(weekly[s]) * rng.uniform(1, 3), int(case_pack[i]))
        arrival = as_of + timedelta(days=3 + 7 * shipment)
        lines.append((f"TR-{origin}-{shipment + 1}", str(series_sku[s]), origin, "location", FBA, qty, arrival))
    return lines


def _open_orders(rng: np.random.Generator, model: _DemandModel, sourcing: pd.DataFrame, as_of: date) -> pd.DataFrame:
    lines = _purchase_lines(rng, model, sourcing, as_of) + _transfer_lines(rng, model, as_of)
    columns = ["order_id", "sku", "origin", "origin_type", "destination", "quantity", "expected_arrival"]
    return pd.DataFrame(lines, columns=columns)


def pre_peak_weeks(as_of: date) -> list[date]:
    """Horizon Mondays in the run-up to (and early part of) the next holiday peak.

    These are the weeks whose purchases must land before Christmas: from eight weeks before
    Black Friday to the Monday before 18 December, clipped to the 26-week horizon.
    """
    year = as_of.year if as_of <= date(as_of.year, 12, 17) else as_of.year + 1
    black_friday, _ = holiday_peak(year)
    start, stop = black_friday - timedelta(weeks=8), date(year, 12, 18)
    mondays = [as_of + timedelta(weeks=w) for w in range(HORIZON_WEEKS)]
    return [m for m in mondays if start <= m < stop]


def open_order_balances(
    open_orders: pd.DataFrame, sourcing: pd.DataFrame, suppliers: pd.DataFrame, as_of: date
) -> pd.DataFrame:
    """What each open purchase-order line still owes (sku, due date, balance).

    Valued as the planner values it (``planning.problem``'s open balances): the balance after the
    supplier's deposit, at the cheapest option's unit cost, due on arrival (late lines: as of now).
    """
    deposit = dict(zip(suppliers["supplier"], suppliers["deposit_share"].astype(float), strict=True))
    lines = open_orders[open_orders["origin_type"] == "supplier"]
    cost = sourcing.groupby(["sku", "supplier", "ship_to"], as_index=False)["unit_cost"].min()
    priced = lines.merge(
        cost, left_on=["sku", "origin", "destination"], right_on=["sku", "supplier", "ship_to"], how="inner"
    )
    share = 1.0 - priced["origin"].map(deposit).fillna(0.0)
    return pd.DataFrame(
        {
            "sku": priced["sku"],
            "due": [max(as_of, pd.Timestamp(d).date()) for d in priced["expected_arrival"]],
            "balance": share * priced["unit_cost"] * priced["quantity"].astype(float),
        }
    )


def _budgets(model: _DemandModel, as_of: date, closures: pd.DataFrame, balances_due: pd.DataFrame) -> pd.DataFrame:
    """Weekly cash limits from the expected purchase need, tight before the peak and the shutdown.

    The need of a week is its expected demand valued at unit cost. The limit is 60 % of that in
    the pre-peak weeks, 70 % in the four weeks before the overseas shutdown and 115 % otherwise,
    so the budget binds exactly where buying ahead matters, plus what open purchase orders still
    owe that week: finance sets a budget knowing the POs it has approved, and an ERP's budget
    check counts them. One monthly Outerwear cap is added.
    """
    cost = model.catalog["unit_cost"].to_numpy()[model.series["sku_idx"].to_numpy()]
    daily_need = (model.expected[:, HISTORY_DAYS:] * cost[:, None]).sum(axis=0)
    weekly_need = daily_need.reshape(HORIZON_WEEKS, 7).sum(axis=1)
    mondays = [as_of + timedelta(weeks=w) for w in range(HORIZON_WEEKS)]
    factor = np.full(HORIZON_WEEKS, NORMAL_BUDGET_FACTOR)
    peak = set(pre_peak_weeks(as_of))
    shutdown = closures.loc[closures["supplier"] == OVERSEAS, "start_date"]
    for w, monday in enumerate(mondays):
        if monday in peak:
            factor[w] = PRE_PEAK_BUDGET_FACTOR
        elif any(start - timedelta(weeks=4) <= monday < start for start in shutdown):
            factor[w] = PRE_SHUTDOWN_BUDGET_FACTOR
    month_start = as_of if as_of.day == 1 else (as_of.replace(day=1) + timedelta(days=32)).replace(day=1)
    days = pd.date_range(as_of, periods=HORIZON_WEEKS * 7, freq="D")
    in_month = (days.year == month_start.year) & (days.month == month_start.month)
    outerwear = (model.catalog["category"] == "Outerwear").to_numpy()[model.series["sku_idx"].to_numpy()]
    outerwear_need = float((model.expected[outerwear, HISTORY_DAYS:][:, in_month] * cost[outerwear, None]).sum())
    due_week = np.array([(d - as_of).days // 7 for d in balances_due["due"]], dtype=int)
    owed = np.bincount(
        due_week[due_week < HORIZON_WEEKS], balances_due["balance"][due_week < HORIZON_WEEKS], HORIZON_WEEKS
    )
    outerwear_skus = set(model.catalog.loc[model.catalog["category"] == "Outerwear", "sku"].astype(str))
    owed_outerwear = sum(
        balance
        for sku, due, balance in zip(balances_due["sku"], balances_due["due"], balances_due["balance"], strict=True)
        if sku in outerwear_skus and (due.year, due.month) == (month_start.year, month_start.month)
    )
    return pd.DataFrame(
        {
            "period_start": [*mondays, month_start],
            "period": ["week"] * HORIZON_WEEKS + ["month"],
            "cash_limit": [
                *np.round(weekly_need * factor + owed, -2),
                round(0.5 * outerwear_need + owed_outerwear, -2),
            ],
            "currency": CURRENCY,
            "category": [""] * HORIZON_WEEKS + ["Outerwear"],
            "supplier": "",
        }
    )


def _first_open_monday(supplier: str, earliest: date, closures: pd.DataFrame) -> date:
    """The first Monday on or after ``earliest`` whose week does not overlap the supplier's closures."""
    rows = closures[closures["supplier"] == supplier]
    monday = earliest + timedelta(days=(7 - earliest.weekday()) % 7)
    while any(
        start <= monday + timedelta(days=6) and monday <= end
        for start, end in zip(rows["start_date"], rows["end_date"], strict=True)
    ):
        monday += timedelta(weeks=1)
    return monday


def _locked_orders(sourcing: pd.DataFrame, catalog: pd.DataFrame, closures: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Two approved lines: an ocean order for next week and a domestic beauty order this week."""
    active = set(catalog.loc[catalog["status"] == "active", "sku"])
    usable = sourcing[sourcing["sku"].isin(active) & (sourcing["ship_to"] == WAREHOUSE)]
    picks = [
        (usable[usable["mode"] == "ocean"].iloc[0], as_of + timedelta(weeks=1), 2),
        (usable[usable["supplier"] == BEAUTY_LAB].iloc[0], as_of, 1),
    ]
    rows = [
        (
            f"APPROVED-{k + 1:03d}",
            str(opt["sku"]),
            str(opt["supplier"]),
            str(opt["ship_to"]),
            str(opt["mode"]),
            _first_open_monday(str(opt["supplier"]), earliest, closures),
            _round_up(float(opt["moq"]) * cases, int(opt["order_multiple"])),
        )
        for k, (opt, earliest, cases) in enumerate(picks)
    ]
    return pd.DataFrame(rows, columns=["order_id", "sku", "supplier", "ship_to", "mode", "order_date", "quantity"])
