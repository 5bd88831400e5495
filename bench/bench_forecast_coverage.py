"""Coverage of the published forecast quantiles, and the cycle service the safety stock delivers.

At plan dates the engine has not been tuned on, ``forecast_demand`` forecasts 13 weeks ahead
from the history before the date; its ``forecast_quantiles`` (planning/forecast/spread.py) are
compared with what sold afterwards:

* coverage of the p-quantile of the k-week total (k = 1, 4, 13) = the share of series x plan
  dates whose actual total was at most the quantile; nominal = p. The old rule, the forecast
  plus z(p) sigma_d sqrt(k) (independent weeks), is scored on the same points;
* the cycle service the safety stock delivers: per series, k = its lead time + 1 review week
  (the planner's protection interval, the series' sourcing option), order-up-to = the k-week
  forecast + the safety stock for a 95 % cycle-service target; delivered = the share of series
  x dates whose actual k-week demand was at most that level. Measured for the new stock
  (``spread_safety_stock``) and the old one (``planning.forecast.safety_stock``).

Totals holding a week with an out-of-stock day are left out (their demand is unknown).

    .venv/bin/python bench/bench_forecast_coverage.py                  # M5 and Online Retail
    .venv/bin/python bench/bench_forecast_coverage.py --dataset m5 --dates 4
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtri  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planning.backtest.replay import typed_tables  # noqa: E402
from planning.forecast import ForecastSettings, forecast_demand, safety_stock  # noqa: E402
from planning.forecast.baseline import weekly_history  # noqa: E402
from planning.forecast.spread import QUANTILE_COLUMNS, QUANTILE_LEVELS, quantile_table, spread_safety_stock  # noqa: E402
from planning.m5 import load_m5_tables  # noqa: E402
from planning.online_retail import load_online_retail_tables  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
HORIZON = 13
TOTALS = (1, 4, 13)
CYCLE_TARGET = 0.95
# Plan dates: Mondays with 13 weeks of actuals after them (M5 ends 2016-04-24, Online Retail's last
# full week starts 2011-11-28), spread over the last year of each data set.
LAST_DATE = {"m5": date(2016, 1, 25), "online_retail": date(2011, 9, 5)}
STEP_WEEKS = {"m5": 6, "online_retail": 3}


def load(dataset: str, as_of: date | None) -> dict[str, pd.DataFrame]:
    """The data set's tables as a weekly run reads them (typed by their contracts)."""
    if dataset == "m5":
        return typed_tables(load_m5_tables(DATASETS / "m5_subset", as_of=as_of))
    return typed_tables(load_online_retail_tables(DATASETS / "online_retail", as_of=as_of))


def actual_totals(history: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per series and k = 1..HORIZON: the actual total of weeks 0..k-1, NaN once a week was out of stock."""
    weekly = weekly_history(history)
    start = pd.Timestamp(as_of)
    window = weekly[(weekly["week_start"] >= start) & (weekly["week_start"] < start + pd.Timedelta(weeks=HORIZON))]
    window = window.assign(weeks_ahead=((window["week_start"] - start).dt.days // 7 + 1).astype(int))
    window = window.assign(units=window["units"].where(window["in_stock"]))
    keys = ["sku", "location", "channel"]
    grid = window.pivot_table(index=keys, columns="weeks_ahead", values="units", aggfunc="sum", dropna=False)
    grid = grid.reindex(columns=range(1, HORIZON + 1))
    out_of_stock = window.pivot_table(index=keys, columns="weeks_ahead", values="in_stock", aggfunc="min")
    out_of_stock = out_of_stock.reindex(columns=range(1, HORIZON + 1)).fillna(True)
    values = grid.fillna(0.0).to_numpy()
    censored = np.cumsum(~out_of_stock.to_numpy(bool), axis=1) > 0
    totals = np.where(censored, np.nan, np.cumsum(values, axis=1))
    frame = pd.DataFrame(totals, index=grid.index, columns=range(1, HORIZON + 1))
    return frame.stack(future_stack=True).rename("actual").rename_axis([*keys, "weeks_ahead"]).reset_index()


def lead_times(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    options = tables["sourcing_options"]
    lead = options.groupby(["sku", "ship_to"], as_index=False).agg(
        lead=("lead_time_weeks", "min"), lead_std=("lead_time_std_weeks", "min")
    )
    return lead.rename(columns={"ship_to": "location"})


def one_date(dataset: str, full: dict[str, pd.DataFrame], as_of: date) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Quantiles against actuals, and the safety stock's protection-interval check, at one plan date."""
    tables = load(dataset, as_of)
    started = time.perf_counter()
    run = forecast_demand(tables, as_of, HORIZON, ForecastSettings())
    seconds = time.perf_counter() - started
    spread = run.forecast.spread
    assert spread is not None
    quantiles = quantile_table(run.forecast.frame, spread, HORIZON)
    sigma = run.forecast.frame.drop_duplicates(["sku", "location", "channel"])[
        ["sku", "location", "channel", "units_std"]
    ]
    scored = quantiles.merge(
        actual_totals(full["demand_history"], as_of), on=["sku", "location", "channel", "weeks_ahead"]
    )
    scored = scored.merge(sigma, on=["sku", "location", "channel"]).assign(plan_date=str(as_of))
    for name, level in zip(QUANTILE_COLUMNS, QUANTILE_LEVELS, strict=True):
        old = scored["units"] + float(ndtri(level)) * scored["units_std"] * np.sqrt(scored["weeks_ahead"])
        scored[f"old_{name}"] = np.maximum(old, 0.0)
    # The safety stock over each series' protection interval L + 1.
    protection = scored.merge(lead_times(tables), on=["sku", "location"])
    protection = protection[
        protection["weeks_ahead"] == (np.ceil(protection["lead"]).astype(int) + 1).clip(upper=HORIZON)
    ]
    rows = []
    for (cls, k), part in protection.groupby(["demand_class", "weeks_ahead"]):
        weekly = part["units"].to_numpy(float) / int(k)
        target = np.full(len(part), CYCLE_TARGET)
        new = spread_safety_stock(
            spread,
            str(cls),
            int(k),
            weekly,
            part["units_std"].to_numpy(float),
            target,
            "cycle_service_level",
            part["lead_std"].to_numpy(float),
        )
        old = safety_stock(
            weekly,
            part["units_std"].to_numpy(float),
            float(k) - 1,
            target,
            "cycle_service_level",
            lead_std=part["lead_std"].to_numpy(float),
        )
        rows.append(part.assign(new_level=part["units"] + new, old_level=part["units"] + old))
    levels = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return scored, levels, seconds


def coverage_table(scored: pd.DataFrame, by: str | None) -> pd.DataFrame:
    points = scored[scored["weeks_ahead"].isin(TOTALS) & scored["actual"].notna()]
    groups = ["weeks_ahead"] + ([by] if by else [])
    rows = []
    for key, part in points.groupby(groups):
        key = key if isinstance(key, tuple) else (key,)
        row: dict[str, object] = dict(zip(groups, key, strict=True)) | {"points": len(part)}
        for name, level in zip(QUANTILE_COLUMNS, QUANTILE_LEVELS, strict=True):
            row[f"{int(level * 100)}%"] = float((part["actual"] <= part[name] + 1e-9).mean())
            row[f"old {int(level * 100)}%"] = float((part["actual"] <= part[f"old_{name}"] + 1e-9).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def service_table(levels: pd.DataFrame) -> pd.DataFrame:
    points = levels[levels["actual"].notna()]
    rows = []
    for cls, part in [("all", points), *points.groupby("demand_class")]:
        rows.append(
            {
                "demand_class": cls,
                "points": len(part),
                "new safety stock": float((part["actual"] <= part["new_level"] + 1e-9).mean()),
                "old safety stock": float((part["actual"] <= part["old_level"] + 1e-9).mean()),
                "new stock / old": float(
                    (part["new_level"] - part["units"]).sum() / max((part["old_level"] - part["units"]).sum(), 1e-9)
                ),
            }
        )
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            if isinstance(value, float) and ("%" in str(column) or "stock" in str(column)):
                cells.append(f"{value:.1%}" if "/" not in str(column) else f"{value:.2f}")
            else:
                cells.append(f"{value:,}" if isinstance(value, int) else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=("m5", "online_retail", "both"), default="both")
    parser.add_argument("--dates", type=int, default=8, help="plan dates per data set")
    args = parser.parse_args()
    for dataset in ("m5", "online_retail") if args.dataset == "both" else (args.dataset,):
        full = load(dataset, None)
        dates = [LAST_DATE[dataset] - timedelta(weeks=STEP_WEEKS[dataset] * i) for i in range(args.dates)]
        scored, levels, seconds = [], [], 0.0
        for as_of in sorted(dates):
            s, lv, sec = one_date(dataset, full, as_of)
            scored.append(s)
            levels.append(lv)
            seconds += sec
        all_scored = pd.concat(scored, ignore_index=True)
        all_levels = pd.concat(levels, ignore_index=True)
        print(f"\n## {dataset}: {len(dates)} plan dates {min(dates)} .. {max(dates)}, forecast {seconds:.1f} s")
        print("\nCoverage of the k-week total's quantiles, pooled (nominal = the level; old = F + z sigma sqrt(k)):")
        print(markdown(coverage_table(all_scored, None)))
        print("\nBy demand class:")
        print(markdown(coverage_table(all_scored, "demand_class")))
        print(f"\nCycle service delivered over L + 1 weeks at a {CYCLE_TARGET:.0%} target:")
        print(markdown(service_table(all_levels)))


if __name__ == "__main__":
    main()
