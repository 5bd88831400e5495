"""Forecasting benchmarks (issue 5): M5-subset accuracy against baselines, and throughput.

(a) Accuracy: the M5 subset (280 Walmart item x store series, daily 2011-2016) at weekly grain.
    ``forecast_demand`` runs at four plan dates 13 weeks apart over the last year; each run's
    rolling-origin holdout (methods chosen on the 13 weeks before the 13 scored weeks, horizons
    1-4) is pooled, and the table is grouped by the data set's own demand classes (README) and by
    the engine's weekly ADI/CV^2 classes. Target: the selected methods beat seasonal naive on
    WAPE overall and in every class.
(b) Throughput: 10,000 synthetic series with two years of daily history (7.3 million rows: trend,
    yearly season, holidays, intermittent and lumpy series, stockouts), forecast 26 weeks ahead.
    Target: at most 120 s on this 2-core machine, loading excluded, aggregation included.

Run:  .venv/bin/python bench/bench_forecast.py [--series 10000] [--skip-m5]
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from planning.forecast import ForecastSettings, accuracy_table, forecast_demand
from planning.m5 import load_m5_tables

M5_DIR = Path(__file__).resolve().parents[1].parent / "shared/datasets/m5_subset"
M5_README = M5_DIR.parent / "README.md"
M5_END = date(2016, 4, 25)  # Monday after the last M5 day
HORIZON = 26


def m5_classes() -> dict[str, str]:
    """Item -> demand class as listed in the data set README ("smooth FOODS_3_586, ...")."""
    text = M5_README.read_text()
    line = next(row for row in text.splitlines() if row.startswith("Items by class:"))
    classes: dict[str, str] = {}
    for part in line.removeprefix("Items by class:").split(";"):
        label, *items = part.replace(",", " ").rstrip(". ").split()
        classes.update(dict.fromkeys(items, label))
    return classes


def m5_accuracy(
    settings: ForecastSettings | None = None, origins: int = 4, step_weeks: int = 13
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, float]:
    """Pooled accuracy over ``origins`` plan dates; by README class, by engine class, methods used."""
    settings = settings or ForecastSettings()
    pooled, methods = [], []
    seconds = 0.0
    for k in range(origins):
        as_of = M5_END - timedelta(weeks=step_weeks * k)
        tables = load_m5_tables(M5_DIR, as_of=as_of)
        started = time.perf_counter()
        run = forecast_demand(tables, as_of, HORIZON, settings)
        seconds += time.perf_counter() - started
        keys = run.series[["sku", "location", "channel", "demand_class"]].reset_index(drop=True)
        errors = run.errors.drop(columns="demand_class").merge(
            keys.reset_index(names="series"), on="series", how="left"
        )
        pooled.append(errors.assign(series=errors["sku"] + "|" + errors["location"], origin=str(as_of)))
        methods.append(run.series.assign(origin=str(as_of)))
    errors = pd.concat(pooled, ignore_index=True)
    labels = m5_classes()
    errors["m5_class"] = errors["sku"].map(labels).fillna("unlisted")
    by_readme = accuracy_table(errors, group="m5_class")
    by_engine = accuracy_table(errors, group="demand_class")
    used = pd.concat(methods).groupby(["demand_class", "method"]).size().rename("series").reset_index()
    return by_readme, by_engine, used, seconds


def synthetic_history(n_series: int, days: int = 730, seed: int = 5) -> tuple[pd.DataFrame, date, pd.DataFrame]:
    """Daily demand of ``n_series`` SKUs at one location and channel (two years before as_of), and items."""
    rng = np.random.default_rng(seed)
    as_of = date(2026, 11, 30)
    dates = pd.date_range(pd.Timestamp(as_of) - pd.Timedelta(days=days), periods=days, freq="D")
    t = np.arange(days)
    level = rng.lognormal(0.0, 1.2, n_series)[:, None]
    trend = 1 + rng.normal(0, 0.3, n_series)[:, None] * t / days
    season = 1 + rng.uniform(0, 0.5, n_series)[:, None] * np.cos(2 * np.pi * (dates.day_of_year.to_numpy() - 340) / 365)
    holiday = np.where((dates.month == 11) & (dates.day >= 20), 2.0, 1.0)[None, :]
    rate = level * np.clip(trend, 0.2, None) * season * holiday
    intermittent = rng.random(n_series) < 0.3
    occurs = np.where(intermittent[:, None], rng.random((n_series, days)) < 0.15, True)
    sizes = np.where(intermittent[:, None], rng.geometric(0.3, (n_series, days)), 1)
    units = np.where(occurs, rng.poisson(np.where(intermittent[:, None], 1.0, rate)) * sizes, 0).astype(float)
    out = rng.random((n_series, days)) < 0.01  # one day in a hundred out of stock
    units[out] = 0.0
    skus = np.array([f"SKU-{i:05d}" for i in range(n_series)])
    frame = pd.DataFrame(
        {
            "date": np.tile(dates.to_numpy(), n_series),
            "sku": np.repeat(skus, days),
            "location": "WH-1",
            "channel": "shopify",
            "units": units.ravel(),
            "in_stock": pd.array(~out.ravel(), dtype="boolean"),
        }
    )
    items = pd.DataFrame(
        {"sku": skus, "category": np.where(intermittent, "spares", "core"), "status": "active", "launch_date": pd.NaT}
    )
    return frame, as_of, items


def throughput(n_series: int) -> tuple[float, int, pd.DataFrame]:
    """Seconds to forecast ``n_series`` synthetic series, the input row count and the accuracy table."""
    demand, as_of, items = synthetic_history(n_series)
    started = time.perf_counter()
    run = forecast_demand({"demand_history": demand, "items": items}, as_of, HORIZON, ForecastSettings())
    seconds = time.perf_counter() - started
    assert run.forecast.frame["sku"].nunique() == n_series
    return seconds, len(demand), run.accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--skip-m5", action="store_true")
    args = parser.parse_args()
    pd.set_option("display.width", 160)
    pd.set_option("display.precision", 3)
    if not args.skip_m5 and M5_DIR.is_dir():
        by_readme, by_engine, used, seconds = m5_accuracy()
        print(f"M5 subset, 4 plan dates, forecast_demand total {seconds:.2f} s")
        print("\nBy the data set's demand classes:\n", by_readme.to_string(index=False))
        print("\nBy the engine's weekly ADI/CV^2 classes:\n", by_engine.to_string(index=False))
        print("\nMethods chosen (series x plan dates):\n", used.to_string(index=False))
        for name, table in (("m5_class", by_readme), ("demand_class", by_engine)):
            wide = table.pivot(index=table.columns[0], columns="method", values="wape")
            met = (wide["selected"] < wide["seasonal_naive"]).all()
            print(f"\nselected beats seasonal naive on WAPE in every {name} and overall: {met}")
    seconds, rows, accuracy = throughput(args.series)
    print(f"\nThroughput: {args.series} series, {rows} daily rows, {seconds:.1f} s (target <= 120 s)")
    print(accuracy.to_string(index=False))


if __name__ == "__main__":
    main()
