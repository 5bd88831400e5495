"""What last week's coupling prices save this week: block decomposition cold versus warm-started.

Week 1 (as-of A) is planned cold; its published coupling prices (``price_rows``) are mapped onto
week 2 (as-of A + 7 days, the demo generator's data one week on) by ``prices_from_rows``, and week 2
is planned twice, cold and warm, with the same fixed number of pricing passes. Block solves stop
at a node limit, so the passes' bounds and plan costs do not depend on machine load; the time
limit is set high enough never to cut a pass short. Reported per pass: the Lagrangian bound, the
repaired plan's cost, and seconds.

Run::

    .venv/bin/python bench/bench_warm_start.py --skus 100 --passes 3 --json /tmp/warm.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planning.config import DecompositionConfig, RunConfig, parse_config
from planning.decompose import decompose, price_rows, prices_from_rows
from planning.demo_data import generate_demo_tables, write_demo_tables
from planning.inputs import load_input_tables
from planning.problem import PlanningProblem, build_problem
from planning.run import make_forecast
from planning.storage import LocalStorage

WEEK_1 = date(2026, 11, 30)


def problem_for(as_of: date, n_skus: int, config: RunConfig) -> PlanningProblem:
    with tempfile.TemporaryDirectory() as folder:
        write_demo_tables(generate_demo_tables(seed=7, as_of=as_of, n_skus=n_skus), Path(folder))
        typed = {name: t.typed for name, t in load_input_tables(LocalStorage(Path(folder))).items()}
    return build_problem(typed, make_forecast(typed, as_of, config).forecast, config, as_of)


def run(problem: PlanningProblem, config: RunConfig, passes: int, start: Any = None) -> dict[str, Any]:
    decomposition = DecompositionConfig(method="blocks", max_passes=passes)
    result, record = decompose(problem, config.solver, decomposition, start_prices=start)
    return {
        "objective": result.report.objective,
        "bound": result.report.best_bound,
        "gap": result.report.gap,
        "passes": [dataclasses.asdict(p) for p in record.passes],
        "prices": record.prices,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skus", type=int, default=100)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    config = parse_config({"solver": {"time_limit_s": 3600, "threads": 1}})
    week1 = problem_for(WEEK_1, args.skus, config)
    first = run(week1, config, args.passes)
    week2 = problem_for(WEEK_1 + timedelta(days=7), args.skus, config)
    warm_prices = prices_from_rows(week2, price_rows(week1, first.pop("prices")))
    cold = run(week2, config, args.passes)
    warm = run(week2, config, args.passes, warm_prices)
    cold.pop("prices")
    warm.pop("prices")
    out = {"skus": args.skus, "week1": first, "week2_cold": cold, "week2_warm": warm, "warm_rows": len(warm_prices)}
    for name in ("week1", "week2_cold", "week2_warm"):
        row = out[name]
        print(f"{name:11s} objective {row['objective']:,.0f} bound {row['bound']:,.0f} gap {row['gap']:.2%}")
        for p in row["passes"]:
            print(f"    pass {p['index']}: bound {p['bound']:,.0f} plan {p['plan_cost']:,.0f} {p['seconds']:.1f} s")
    print(f"prices carried over: {len(warm_prices)} rows")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
