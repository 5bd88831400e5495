"""Backtest bench: the planner against ERP reorder points and weeks-of-cover rules on history.

For a data set (``--dataset m5``, ``demo`` or ``online_retail``) and its config (``configs/backtest_<dataset>.yaml``)
it builds the backtest inputs (``planning.backtest.datasets``), types them by their contracts,
replays the planner week by week, tunes both baselines to the planner's fill rate (a grid, then
bisection) and writes:

  bench/backtest_plots/<dataset>_*.png          cost breakdown, weekly service and stock, tuning trace
  bench/backtest_plots/<dataset>_results.json   outcomes, tuning trace, timings, settings

and prints the outcomes as a markdown table. Timing: the planner's replay (forecast + problem
+ solve + simulation for every week) is reported apart from the baselines' tuning replays.

    .venv/bin/python bench/bench_backtest.py --dataset m5
    .venv/bin/python bench/bench_backtest.py --dataset demo --skus 60
    .venv/bin/python bench/bench_backtest.py --dataset m5 --weeks 8 --warmup-weeks 0      # a quick look
    .venv/bin/python bench/bench_backtest.py --dataset m5 --planner-cache /tmp/m5_planner.pkl
    .venv/bin/python bench/bench_backtest.py --dataset m5 --warmup-weeks 26 --name m5_warmup26 \
        --planner-cache /tmp/m5_planner.pkl     # the same planner run, measured on the last 26 weeks
    .venv/bin/python bench/bench_backtest.py --dataset m5 --ignore-commitments --name m5_no_commitments \
        --planner-cache /tmp/m5_planner.pkl     # the rules' budget check as blind as the planner's
    .venv/bin/python bench/bench_backtest.py --dataset m5 --service-levels 0.9 0.98 0.995 --name m5_frontier
        # the planner at more service settings: the service-cost frontier and the planner against each rule
    .venv/bin/python bench/bench_backtest.py --dataset demo --service-levels 0.9 0.95 0.99 \
        --policies planner reorder_point weeks_of_cover clairvoyant --name demo_frontier
        # ... with the clairvoyant plan (the model solved once over the window, demand known)
"""

from __future__ import annotations

import argparse
import json
import logging
import pickle
import platform
import sys
import time
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planning.backtest.datasets import DATASETS, backtest_tables  # noqa: E402
from planning.backtest.engine import BacktestResult, run_backtest  # noqa: E402
from planning.backtest.replay import typed_tables  # noqa: E402
from planning.backtest.settings import load_backtest_config  # noqa: E402

DATASET_DIRS = {
    "m5": ROOT.parent / "shared" / "datasets" / "m5_subset",
    "online_retail": ROOT.parent / "shared" / "datasets" / "online_retail",
}
PLOTS = ROOT / "bench" / "backtest_plots"
COLORS = {"planner": "#1b6ca8", "reorder_point": "#c0392b", "weeks_of_cover": "#7f8c8d", "clairvoyant": "#27ae60"}
TABLE_COLUMNS = {
    "policy": "policy",
    "parameter": "param",
    "fill_rate": "fill rate",
    "stockout_weeks": "stockout wks",
    "average_inventory_value": "avg inv value",
    "annual_turnover": "turnover/yr",
    "sell_through": "sell-through",
    "weeks_of_supply": "wks supply",
    "purchase_spend": "purchases",
    "spend_vs_budget": "cash/budget",
    "weeks_over_budget": "wks over budget",
    "holding_cost": "holding",
    "ordering_cost": "ordering",
    "lost_margin": "lost margin",
    "freight_cost": "freight",
    "total_cost": "total cost",
}


def markdown(outcomes: pd.DataFrame) -> str:
    frame = outcomes[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS)
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            if isinstance(value, str):
                cells.append(value)
            elif column in ("fill rate", "sell-through", "cash/budget"):
                cells.append(f"{value:.2%}")
            elif column in ("param", "turnover/yr", "wks supply"):
                cells.append("" if pd.isna(value) else f"{value:.2f}")
            else:
                cells.append(f"{value:,.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plain_markdown(frame: pd.DataFrame) -> str:
    """Any frame as a markdown table: shares as percentages, money and counts with separators."""
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                cells.append("")
            elif isinstance(value, str | bool):
                cells.append(str(value))
            elif "fill_rate" in column or column in ("saving", "spend_vs_budget", "cost_above_clairvoyant"):
                cells.append(f"{value:.2%}")
            elif "parameter" in column or column == "lines_changed_per_week":
                cells.append(f"{value:.3g}")
            else:
                cells.append(f"{value:,.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(result: BacktestResult, name: str, warmup_weeks: int = 0) -> list[Path]:
    return plot_frames(result.outcomes, result.weekly, result.tuning, result.start, name, warmup_weeks)


def plot_frames(
    outcomes: pd.DataFrame, weekly: pd.DataFrame, tuning: pd.DataFrame, start: object, name: str, warmup_weeks: int
) -> list[Path]:
    PLOTS.mkdir(parents=True, exist_ok=True)
    paths = []
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    bottom = pd.Series(0.0, index=outcomes.index)
    for term, color in (
        ("holding_cost", "#5dade2"),
        ("ordering_cost", "#f5b041"),
        ("lost_margin", "#ec7063"),
        ("freight_cost", "#a569bd"),
    ):
        ax.bar(outcomes["policy"], outcomes[term], bottom=bottom, label=term.replace("_", " "), color=color)
        bottom += outcomes[term]
    for x, (total, fill) in enumerate(zip(outcomes["total_cost"], outcomes["fill_rate"], strict=True)):
        ax.text(x, total, f"{total:,.0f}\nfill {fill:.1%}", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, float(outcomes["total_cost"].max()) * 1.2)  # room for the labels
    ax.set_ylabel("cost over the measured weeks")
    ax.set_title(f"{name}: total cost after the {warmup_weeks}-week warm-up")
    ax.legend(fontsize=8, loc="upper left")
    paths.append(PLOTS / f"{name}_costs.png")
    fig.savefig(paths[-1], dpi=110, bbox_inches="tight")

    fig = Figure(figsize=(9, 5))
    top, low = fig.subplots(2, 1, sharex=True)
    for policy, part in weekly.groupby("policy", sort=False):
        top.plot(part["week_start"], part["fill_rate"], label=policy, color=COLORS.get(str(policy)))
        low.plot(part["week_start"], part["inventory_value"], label=policy, color=COLORS.get(str(policy)))
    if warmup_weeks:
        measured = pd.Timestamp(start) + pd.Timedelta(weeks=warmup_weeks)  # type: ignore[arg-type]
        for axis in (top, low):
            axis.axvline(measured, color="black", linestyle=":", linewidth=1)
        top.text(measured, top.get_ylim()[0], " measured from here", fontsize=7, va="bottom")
    top.set_ylabel("weekly fill rate")
    low.set_ylabel("closing stock value")
    top.legend(fontsize=8)
    top.set_title(f"{name}: service and stock week by week")
    fig.autofmt_xdate()
    paths.append(PLOTS / f"{name}_weekly.png")
    fig.savefig(paths[-1], dpi=110, bbox_inches="tight")

    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for policy, part in tuning.groupby("policy", sort=False):
        part = part.sort_values("fill_rate")
        marker = {"planner": "*", "clairvoyant": "D"}.get(str(policy), "o")
        ax.plot(
            part["fill_rate"],
            part["total_cost"],
            marker=marker,
            markersize={"*": 12, "D": 8}.get(marker, 5),
            label=str(policy),
            color=COLORS.get(str(policy)),
            linestyle="-" if policy != "clairvoyant" and (policy != "planner" or len(part) > 1) else "none",
        )
    ax.set_xlabel("fill rate over the measured weeks")
    ax.set_ylabel("total cost")
    ax.set_title(f"{name}: service-cost frontier, every evaluated run (after warm-up)")
    ax.legend(fontsize=8)
    paths.append(PLOTS / f"{name}_tuning.png")
    fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=DATASETS, default="m5")
    parser.add_argument("--config", type=Path, help="default: configs/backtest_<dataset>.yaml")
    parser.add_argument("--weeks", type=int, help="override the configured number of weeks")
    parser.add_argument("--warmup-weeks", type=int, help="override the configured warm-up")
    parser.add_argument(
        "--ignore-commitments", action="store_true", help="sensitivity: baselines' budget check ignores open orders"
    )
    parser.add_argument("--skus", type=int, default=60, help="demo catalogue size")
    parser.add_argument("--name", help="plot/result file prefix (default: the dataset)")
    parser.add_argument("--without-budgets", action="store_true", help="sensitivity: drop the budgets table")
    parser.add_argument("--replot", action="store_true", help="redraw the plots from <name>_results.json only")
    parser.add_argument("--policies", nargs="*", help="backtest.policies (e.g. add clairvoyant)")
    parser.add_argument(
        "--service-levels", type=float, nargs="*", help="backtest.service_levels: the planner's other service settings"
    )
    parser.add_argument(
        "--planner-cache",
        type=Path,
        help="pickle of the planner's run and forecasts: written after the replay, reused if it exists "
        "(same data, config and window: only the baselines are replayed)",
    )
    args = parser.parse_args()
    if args.replot:
        name = args.name or args.dataset
        saved = json.loads((PLOTS / f"{name}_results.json").read_text())
        weekly = pd.DataFrame(saved["weekly"]).assign(week_start=lambda f: pd.to_datetime(f["week_start"]))
        plot_frames(
            pd.DataFrame(saved["outcomes"]),
            weekly,
            pd.DataFrame(saved["tuning"]),
            saved["start"],
            name,
            saved.get("warmup_weeks", 0),
        )
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("pyomo").setLevel(logging.ERROR)
    config, settings = load_backtest_config(args.config or ROOT / "configs" / f"backtest_{args.dataset}.yaml")
    if args.weeks:
        settings = settings.model_copy(update={"weeks": args.weeks})
    if args.warmup_weeks is not None:
        settings = settings.model_copy(update={"warmup_weeks": args.warmup_weeks})
    if args.service_levels is not None:
        settings = settings.model_copy(update={"service_levels": tuple(args.service_levels)})
    if args.policies:
        settings = settings.model_copy(update={"policies": tuple(args.policies)})
    if args.ignore_commitments:
        baselines = settings.baselines.model_copy(update={"count_commitments": False})
        settings = settings.model_copy(update={"baselines": baselines})
    assert settings.start is not None
    started = time.perf_counter()
    raw = backtest_tables(
        args.dataset,
        settings.start,
        settings.weeks,
        config.horizon.weeks,
        settings.supply,
        dataset_dir=DATASET_DIRS.get(args.dataset),
        n_skus=args.skus,
    )
    if args.without_budgets:
        raw.pop("budgets", None)
    tables = typed_tables(raw)
    prepare = time.perf_counter() - started
    cached = None
    if args.planner_cache and args.planner_cache.exists():
        cached = pickle.loads(args.planner_cache.read_bytes())
        if cached["key"] != [config.config_hash(), settings.start, settings.weeks, settings.seed, args.without_budgets]:
            raise SystemExit(f"{args.planner_cache} holds another backtest's planner run")
    result = run_backtest(
        tables,
        config,
        settings,
        forecasts=cached["forecasts"] if cached else None,
        planner_run=cached["planner"] if cached else None,
    )
    if args.planner_cache and not cached and "planner" in result.runs:
        key = [config.config_hash(), settings.start, settings.weeks, settings.seed, args.without_budgets]
        args.planner_cache.write_bytes(
            pickle.dumps(
                {
                    "key": key,
                    "planner": result.runs["planner"],
                    "forecasts": result.forecasts,
                    "seconds": result.seconds["planner"],
                }
            )
        )
    name = args.name or args.dataset
    paths = plot(result, name, settings.warmup_weeks)
    planner_rows = result.tuning[result.tuning["policy"] == "planner"]
    finals = {
        p: float(result.tuning[(result.tuning["policy"] == p) & (result.tuning["parameter"] == v)]["seconds"].iloc[0])
        for p, v in zip(result.outcomes["policy"], result.outcomes["parameter"], strict=True)
        if p not in ("planner", "clairvoyant")
    }
    record = {
        "dataset": args.dataset,
        "skus": int(tables["items"]["sku"].nunique()),
        "stock_points": int(result.runs[next(iter(result.runs))].stock[["sku", "location"]].drop_duplicates().shape[0]),
        "start": settings.start.isoformat(),
        "weeks": settings.weeks,
        "config_hash": config.config_hash(),
        "settings": json.loads(settings.model_dump_json()),
        "horizon_weeks": config.horizon.weeks,
        "time_limit_s": config.solver.time_limit_s,
        "prepare_seconds": prepare,
        "seconds": result.seconds,
        "planner_replay_seconds": cached["seconds"] if cached else float(planner_rows["seconds"].sum()),
        "planner_from_cache": bool(cached),
        "final_baseline_replay_seconds": finals,
        "warmup_weeks": settings.warmup_weeks,
        "outcomes": json.loads(result.outcomes.to_json(orient="records")),
        "outcomes_full_window": json.loads(result.outcomes_full_window.to_json(orient="records")),
        "tuning": json.loads(result.tuning.drop(columns=["forecast_bias", "forecast_wape"]).to_json(orient="records")),
        "frontier": json.loads(result.frontier.to_json(orient="records")),
        "comparison": json.loads(result.comparison.to_json(orient="records")),
        "clairvoyant_solve": result.clairvoyant_solve,
        "weekly": json.loads(result.weekly.to_json(orient="records", date_format="iso")),
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor(),
            "cpus": __import__("os").cpu_count(),
        },
        "plots": [str(p.relative_to(ROOT)) for p in paths],
    }
    (PLOTS / f"{name}_results.json").write_text(json.dumps(record, indent=2, default=str))
    print(f"After the {settings.warmup_weeks}-week warm-up:")
    print(markdown(result.outcomes))
    print("Whole window, warm-up included:")
    print(markdown(result.outcomes_full_window))
    print("Service-cost frontier (every run, after the warm-up):")
    print(plain_markdown(result.frontier))
    print("The planner against each rule run with 90-99 % fill (cheapest planner run at >= its fill rate):")
    print(plain_markdown(result.comparison))
    print(
        json.dumps(
            {
                k: record[k]
                for k in ("seconds", "planner_replay_seconds", "final_baseline_replay_seconds", "prepare_seconds")
            },
            indent=2,
        )
    )
    best = result.outcomes[~result.outcomes["policy"].isin(["planner", "clairvoyant"])]
    if "planner" in set(result.outcomes["policy"]) and not best.empty:
        planner = result.outcomes.set_index("policy").loc["planner"]
        reached = best[best["reached_planner_fill_rate"]]
        if not reached.empty:
            cheapest = reached.sort_values("total_cost").iloc[0]
            saving = 1 - planner["total_cost"] / cheapest["total_cost"]
            print(
                f"planner total cost vs best baseline at >= its fill rate ({cheapest['policy']}): {saving:+.1%} saving"
            )


if __name__ == "__main__":
    main()
