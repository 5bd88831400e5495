"""What last week's coupling prices and plan save this week: block decomposition cold versus warm-started.

``--seed prices`` (default):

Week 1 (as-of A) is planned cold; its published coupling prices (``price_rows``) are mapped onto
week 2 (as-of A + 7 days, the demo generator's data one week on) by ``prices_from_rows``, and week 2
is planned twice, cold and warm, with the same fixed number of pricing passes. Block solves stop
at a node limit, so the passes' bounds and plan costs do not depend on machine load; the time
limit is set high enough never to cut a pass short. Reported per pass: the Lagrangian bound, the
repaired plan's cost, and seconds.

``--seed plan``: week 1 is planned by blocks within ``--time-limit`` (one pass, then polish);
its published purchase and transfer plan, shifted onto week 2 by ``planning.warm_start``, seeds
week 2, which is planned twice within the same limit, cold and seeded. Reported: seconds to the
first plan, the seeded start's cost, the final plan's cost, bound and gap, and the pass time
(blocks given the start as their MIP start). ``--assembly-max-skus 0`` runs both weeks without
the whole model (plans assembled block by block, no polish).

``--seed replay``: the realistic case. The demo brand's backtest inputs
(``planning.backtest.datasets.demo_backtest_tables``, ``configs/backtest_demo.yaml``: 16-week
horizon, 20 s a week) are replayed for ``--weeks`` weeks by the planner twice: cold (nothing
carried between weeks) and warm (last week's plan and coupling prices, as a weekly run gets them
from the previous published run). Each week's stock and open orders come from the simulation of
the weeks before, so this week's inputs are what last week's plan left. Reported per variant:
the mean proven gap, the mean seconds to the first plan, and the simulated total cost.

Run::

    .venv/bin/python bench/bench_warm_start.py --skus 100 --passes 3 --json /tmp/warm.json
    .venv/bin/python bench/bench_warm_start.py --seed replay --skus 100 --weeks 8
    .venv/bin/python bench/bench_warm_start.py --seed plan --skus 300 --time-limit 120
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
from planning.plan import extract_plan
from planning.problem import PlanningProblem, build_problem
from planning.run import make_forecast
from planning.storage import LocalStorage
from planning.warm_start import PlanStart, start_from_plan

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


def timed_run(
    problem: PlanningProblem, config: RunConfig, assembly_max_skus: int, start: PlanStart | None = None
) -> tuple[dict[str, Any], Any]:
    decomposition = DecompositionConfig(method="blocks", whole_model_assembly_max_skus=assembly_max_skus)
    result, record = decompose(problem, config.solver, decomposition, start_plan=start, frozen_weeks=2)
    plan = result.plan if result.plan is not None else extract_plan(result.model, problem, 2)
    seconds = result.stage_seconds
    row = {
        "objective": result.report.objective,
        "bound": result.report.best_bound,
        "gap": result.report.gap,
        "first_plan_s": seconds.get("first_plan"),
        "seed_s": seconds.get("seed"),
        "start_plan_cost": result.details.get("start_plan_cost"),
        "pass_s": [p.seconds for p in record.passes],
        "pass_plan_cost": [p.plan_cost for p in record.passes],
        "polish_rounds_kept": len(result.details.get("polish_costs", [])),
        "total_s": seconds.get("total"),
    }
    return row, plan


def main_plan_seed(args: argparse.Namespace) -> int:
    config = parse_config({"solver": {"time_limit_s": args.time_limit, "threads": 1}})
    week1 = problem_for(WEEK_1, args.skus, config)
    first, plan = timed_run(week1, config, args.assembly_max_skus)
    week2 = problem_for(WEEK_1 + timedelta(days=7), args.skus, config)
    start = start_from_plan(week2, plan.purchases, plan.transfers)
    cold, _ = timed_run(week2, config, args.assembly_max_skus)
    seeded, _ = timed_run(week2, config, args.assembly_max_skus, start)
    out = {
        "skus": args.skus,
        "time_limit_s": args.time_limit,
        "week1": first,
        "week2_cold": cold,
        "week2_seeded": seeded,
        "seed_order_slots": len(start.packs),
        "seed_transfer_slots": len(start.shipped),
    }
    for name in ("week1", "week2_cold", "week2_seeded"):
        row = out[name]
        print(
            f"{name:12s} first plan {row['first_plan_s'] or float('nan'):6.1f} s  objective {row['objective']:,.0f}"
            f"  bound {row['bound']:,.0f}  gap {row['gap']:.2%}  passes {[round(s, 1) for s in row['pass_s']]} s"
            f"  start {row['start_plan_cost'] or float('nan'):,.0f}"
        )
    print(f"seed: {len(start.packs)} order slots, {len(start.shipped)} transfer slots from week 1's plan")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    return 0


def main_replay(args: argparse.Namespace) -> int:
    from datetime import date as date_

    from planning.backtest.datasets import demo_backtest_tables
    from planning.backtest.outcomes import item_rates, overall_budget_by_week, policy_outcomes
    from planning.backtest.policies import PlannerPolicy
    from planning.backtest.replay import ForecastCache, replay, typed_tables
    from planning.backtest.settings import load_backtest_config

    config, settings = load_backtest_config(Path(__file__).resolve().parents[1] / "configs" / "backtest_demo.yaml")
    start = settings.start or date_(2026, 3, 2)
    tables = typed_tables(demo_backtest_tables(start, args.weeks, n_skus=args.skus))
    cache = ForecastCache(config)
    out: dict[str, Any] = {"skus": args.skus, "weeks": args.weeks, "time_limit_s": config.solver.time_limit_s}
    for name, warm in (("cold", False), ("warm", True)):
        planner = PlannerPolicy(keep_runs=True, warm_start=warm)
        run = replay(tables, planner, config, start=start, weeks=args.weeks, forecasts=cache)
        gaps = [r.report.gap for r in planner.runs if r.report.gap is not None]
        first = [r.result.stage_seconds.get("first_plan") for r in planner.runs]
        budget = overall_budget_by_week(tables.get("budgets"), start, args.weeks)
        outcomes = policy_outcomes(run, item_rates(tables["items"], config), budget)
        out[name] = {
            "mean_gap": sum(gaps) / len(gaps) if gaps else None,
            "gaps": gaps,
            "first_plan_s": first,
            "plan_objectives": [r.report.objective for r in planner.runs],
            "start_plan_costs": [r.result.details.get("start_plan_cost") for r in planner.runs],
            "total_cost": float(outcomes["total_cost"]),  # type: ignore[arg-type]
            "fill_rate": float(outcomes["fill_rate"]),  # type: ignore[arg-type]
        }
        row = out[name]
        mean_first = sum(f for f in first if f is not None) / max(1, sum(f is not None for f in first))
        print(
            f"{name}: mean gap {row['mean_gap']:.2%}, mean first plan {mean_first:.1f} s, "
            f"simulated total cost {row['total_cost']:,.0f}, fill rate {row['fill_rate']:.2%}"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", choices=["prices", "plan", "replay"], default="prices")
    parser.add_argument("--weeks", type=int, default=8, help="replayed weeks (--seed replay)")
    parser.add_argument("--skus", type=int, default=100)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=120.0, help="per week (--seed plan)")
    parser.add_argument("--assembly-max-skus", type=int, default=1500, help="(--seed plan)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.seed == "plan":
        return main_plan_seed(args)
    if args.seed == "replay":
        return main_replay(args)
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
