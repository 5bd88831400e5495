"""Planner variants in the backtest: re-planning churn and cost at several values of one config key.

Replays only the planner (``buyplan backtest`` machinery, no baselines, no tuning) on the M5
subset (``configs/backtest_m5.yaml``) once per value of one config key, on the same weeks,
forecasts and actual demand, and prints one markdown row per value: lines changed per week
against the previous week's plan (over the dates both plans cover), purchase lines and orders
placed, fill rate and the cost terms, all measured after ``--warmup-weeks``.

    # issue 14 item 2: the plan-change penalty
    .venv/bin/python bench/bench_nervousness.py --weeks 10 --warmup-weeks 2 --penalties 0 15 60
    # issue 14 item 1: how closing stock is valued
    .venv/bin/python bench/bench_nervousness.py --key closing_stock_valuation --values share sell_through
    # issue 14 item 3: the service setting
    .venv/bin/python bench/bench_nervousness.py --key service.default_fill_rate --values 0.9 0.95 0.98 0.995

The planner's solve stops at the config's wall-clock limit (8 s a week on M5), so these figures
move with machine load: run it alone and say what else ran.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planning.backtest.datasets import m5_backtest_tables  # noqa: E402
from planning.backtest.engine import run_backtest  # noqa: E402
from planning.backtest.replay import ForecastCache, typed_tables  # noqa: E402
from planning.backtest.settings import load_backtest_config  # noqa: E402

M5_DIR = ROOT.parent / "shared" / "datasets" / "m5_subset"
COLUMNS = {
    "lines_changed_per_week": ("lines changed/wk", ".1f"),
    "purchase_lines": ("lines", ",.0f"),
    "purchase_orders": ("POs", ",.0f"),
    "fill_rate": ("fill rate", ".2%"),
    "ordering_cost": ("ordering", ",.0f"),
    "holding_cost": ("holding", ",.0f"),
    "lost_margin": ("lost margin", ",.0f"),
    "total_cost": ("total cost", ",.0f"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "backtest_m5.yaml")
    parser.add_argument("--weeks", type=int, default=10)
    parser.add_argument("--warmup-weeks", type=int, default=2)
    parser.add_argument(
        "--key", default="plan_change_penalty", help="the config key to vary: a costs key, or section.key"
    )
    parser.add_argument("--values", nargs="+", help="its values (numbers or words)")
    parser.add_argument("--penalties", nargs="+", help="shorthand: --key plan_change_penalty --values ...")
    parser.add_argument("--window", type=int, default=4, help="costs.plan_change_window_weeks")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config, settings = load_backtest_config(args.config)
    assert settings.start is not None
    settings = settings.model_copy(
        update={
            "weeks": args.weeks,
            "warmup_weeks": args.warmup_weeks,
            "policies": ("planner",),
            "tuning": settings.tuning.model_copy(update={"enabled": False}),
        }
    )
    horizon = config.horizon.weeks
    tables = typed_tables(m5_backtest_tables(M5_DIR, settings.start, settings.weeks, horizon))
    forecasts: ForecastCache | None = None
    key = "plan_change_penalty" if args.penalties else args.key
    values = [_value(v) for v in (args.penalties or args.values or ["0", "15", "60"])]
    header = [key, *(label for label, _ in COLUMNS.values()), "seconds"]
    rows = []
    section, _, name = key.rpartition(".")
    section = section or "costs"
    windowed = config.model_copy(
        update={"costs": config.costs.model_copy(update={"plan_change_window_weeks": args.window})}
    )
    for value in values:
        part = getattr(windowed, section)
        varied = windowed.model_copy(update={section: part.model_validate({**part.model_dump(), name: value})})
        started = time.perf_counter()
        result = run_backtest(tables, varied, settings, forecasts=forecasts)
        seconds = time.perf_counter() - started
        forecasts = result.forecasts  # the same weekly forecasts for every penalty
        row = result.outcomes.set_index("policy").loc["planner"]
        cells = [format(float(row[k]), fmt) for k, (_, fmt) in COLUMNS.items()]
        rows.append([f"{value:g}" if isinstance(value, float) else value, *cells, f"{seconds:.0f}"])
        print(f"{key} {value}: done in {seconds:.0f} s", file=sys.stderr, flush=True)
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for cells in rows:
        print("| " + " | ".join(cells) + " |")


def _value(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


if __name__ == "__main__":
    main()
