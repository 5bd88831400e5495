"""Scale: 1,000 to 50,000 SKUs x 3 locations x 26 weeks by SKU blocks, in process and on Dask.

**Instance.** The demo brand at ``--base-skus`` SKUs (``planning.demo_data``, seed 7, forecast
by the trailing average as in ``bench_core.py``), replicated ``--copies`` times at the problem
level: every SKU gets copies named ``<sku>~<r>`` with the same demand, stock, open orders,
options and terms; budgets, supplier weekly capacities, location capacities and lane-week
bounds are multiplied by the number of copies, so budgets and capacities bind as they do at
the base size. PO minimums and fixed costs stay as they are (more SKUs share each PO).
Generating 10,000 SKUs' daily history directly would take the demo generator far longer than
the plan, and measure the generator, not the planner.

**Modes.**

* ``plan``: ``planning.decompose.decompose`` in this process within ``--time-limit``, on
  ``--workers`` threads (or on a local Dask cluster of ``--dask-workers`` processes). Recorded:
  seconds to the first plan, the trace of (seconds, best plan cost, best bound), the proven gap
  at the limit, seconds to a gap of 1 % (if reached), peak RSS of this process (and of each
  Dask worker).
* ``throughput``: one pricing pass's work, the first ``--blocks`` blocks at zero prices, on a
  local Dask cluster of 1 and then 2 worker processes (one thread each), and on 1 and 2
  threads in process; blocks per second, the speed-up, and what a full pass over
  ``--project-skus`` SKUs would take at 1, 2, 8 and 32 workers if the speed-up per worker held.
  A block's work does not depend on the catalogue it comes from (its subproblem is the same
  SKU's, whatever the copies), so the blocks come from the base instance, not a replicated one
  held in memory for nothing.

Run::

    .venv/bin/python bench/bench_scale.py plan --base-skus 1000 --copies 10 --time-limit 1800 --json /tmp/s10k.json
    .venv/bin/python bench/bench_scale.py throughput --base-skus 1000 --blocks 200 --project-skus 50000
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planning.config import DecompositionConfig, RunConfig, parse_config
from planning.decompose import BlockTask, block_highs_options, decompose, make_blocks, po_shares, solve_block
from planning.demo_data import generate_demo_tables, write_demo_tables
from planning.executors import DaskExecutor, ThreadExecutor
from planning.forecast import trailing_average_forecast
from planning.inputs import load_input_tables
from planning.problem import Budget, Option, PlanningProblem, Supplier, build_problem
from planning.storage import LocalStorage

AS_OF_TEXT = "2026-11-30"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def base_problem(n_skus: int, config: RunConfig) -> PlanningProblem:
    as_of = config.as_of
    assert as_of is not None
    with tempfile.TemporaryDirectory() as folder:
        write_demo_tables(generate_demo_tables(seed=7, as_of=as_of, n_skus=n_skus), Path(folder))
        typed = {name: t.typed for name, t in load_input_tables(LocalStorage(Path(folder))).items()}
    forecast = trailing_average_forecast(typed["demand_history"], as_of, config.horizon.weeks)
    return build_problem(typed, forecast, config, as_of)


def replicate(problem: PlanningProblem, copies: int) -> PlanningProblem:
    """``copies`` copies of every SKU (see the module docstring); shared capacities scaled to match."""
    if copies == 1:
        return problem

    def sku_of(sku: str, r: int) -> str:
        return sku if r == 0 else f"{sku}~{r}"

    def option_of(option_id: str, r: int) -> str:
        return option_id if r == 0 else f"{sku_of(problem.options[option_id].sku, r)}|{option_id.split('|', 1)[1]}"

    def per_sku(mapping: Any, key_sku: Any) -> dict[Any, Any]:
        return {key_sku(key, r): value for r in range(copies) for key, value in mapping.items()}

    def first(key: Any, r: int) -> Any:
        return (sku_of(key[0], r), *key[1:])

    def slot(key: Any, r: int) -> Any:
        return (option_of(key[0], r), key[1])

    options: dict[str, Option] = {}
    for r in range(copies):
        for option_id, option in problem.options.items():
            new_id = option_of(option_id, r)
            options[new_id] = replace(option, option_id=new_id, sku=sku_of(option.sku, r))
    suppliers: dict[str, Supplier] = {
        name: replace(s, weekly_capacity=None if s.weekly_capacity is None else s.weekly_capacity * copies)
        for name, s in problem.suppliers.items()
    }
    budgets: tuple[Budget, ...] = tuple(replace(b, limit=b.limit * copies) for b in problem.budgets)
    penalties = replace(
        problem.penalties,
        safety_stock_shortfall=per_sku(problem.penalties.safety_stock_shortfall, sku_of),
        reservation_shortfall=per_sku(problem.penalties.reservation_shortfall, sku_of),
        fill_rate_shortfall=per_sku(problem.penalties.fill_rate_shortfall, sku_of),
    )
    return replace(
        problem,
        items={
            sku_of(sku, r): replace(item, sku=sku_of(sku, r))
            for r in range(copies)
            for sku, item in problem.items.items()
        },
        locations={
            loc: (None if cap is None else cap * copies, unit) for loc, (cap, unit) in problem.locations.items()
        },
        stock_points=tuple(first(p, r) for r in range(copies) for p in problem.stock_points),
        initial_stock=per_sku(problem.initial_stock, first),
        open_arrivals=per_sku(problem.open_arrivals, first),
        demand=per_sku(problem.demand, first),
        safety_stock=per_sku(problem.safety_stock, first),
        fill_rate_target=per_sku(problem.fill_rate_target, sku_of),
        options=options,
        suppliers=suppliers,
        order_slots=tuple(slot(s, r) for r in range(copies) for s in problem.order_slots),
        order_pack_bound=per_sku(problem.order_pack_bound, slot),
        locked_units=per_sku(problem.locked_units, slot),
        transfer_slots=tuple(first(s, r) for r in range(copies) for s in problem.transfer_slots),
        transfer_bound=per_sku(problem.transfer_bound, first),
        lane_week_bound={key: bound * copies for key, bound in problem.lane_week_bound.items()},
        budgets=budgets,
        penalties=penalties,
        reservations=per_sku(problem.reservations, first),
    )


def run_config(args: argparse.Namespace) -> RunConfig:
    return parse_config(
        {
            "as_of": AS_OF_TEXT,
            "horizon": {"weeks": 26, "frozen_weeks": 2},
            "solver": {"time_limit_s": args.time_limit, "backstop_s": 60, "mip_rel_gap": 0.01, "threads": 1},
        }
    )


def worker_peak_rss(executor: DaskExecutor) -> dict[str, float]:
    def peak() -> float:
        import resource as r

        return r.getrusage(r.RUSAGE_SELF).ru_maxrss / 1024.0

    return {str(k): float(v) for k, v in executor._client.run(peak).items()}


def plan_mode(args: argparse.Namespace) -> dict[str, Any]:
    config = run_config(args)
    t0 = time.perf_counter()
    problem = replicate(base_problem(args.base_skus, config), args.copies)
    setup_s = time.perf_counter() - t0
    rss_problem = peak_rss_mib()
    decomposition = DecompositionConfig(method="blocks", workers=args.workers)
    cluster = None
    executor: Any
    if args.dask_workers:
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=args.dask_workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        )
        executor = DaskExecutor(cluster.scheduler_address)
    else:
        executor = ThreadExecutor(args.workers)
    try:
        t1 = time.perf_counter()
        result, record = decompose(
            problem, config.solver, decomposition, executor=executor, frozen_weeks=config.horizon.frozen_weeks
        )
        plan_s = time.perf_counter() - t1
        workers_rss = worker_peak_rss(executor) if isinstance(executor, DaskExecutor) else {}
    finally:
        executor.close()
        if cluster is not None:
            cluster.close()
    trace = [list(t) for t in result.details.get("trace", [])]
    to_one_percent = next(
        (t for t, cost, bound in trace if math.isfinite(bound) and (cost - bound) / abs(cost) <= 0.01), None
    )
    report = result.report
    return {
        "mode": "plan",
        "skus": len(problem.items),
        "base_skus": args.base_skus,
        "copies": args.copies,
        "time_limit_s": args.time_limit,
        "workers": args.dask_workers or args.workers,
        "executor": "dask" if args.dask_workers else "threads",
        "setup_s": setup_s,
        "plan_s": plan_s,
        "whole_model": result.model is not None,
        "first_plan_s": result.stage_seconds.get("first_plan"),
        "to_1pct_s": to_one_percent,
        "objective": report.objective,
        "bound": report.best_bound,
        "gap": report.gap,
        "status": report.status.value,
        "passes": [dataclasses.asdict(p) for p in record.passes],
        "trace": trace,
        "stage_seconds": dict(result.stage_seconds),
        "peak_rss_after_problem_mib": rss_problem,
        "peak_rss_mib": peak_rss_mib(),
        "dask_worker_peak_rss_mib": workers_rss,
        "purchase_lines": len(result.plan.purchases) if result.plan is not None else None,
    }


def throughput_mode(args: argparse.Namespace) -> dict[str, Any]:
    config = run_config(args)
    problem = base_problem(args.base_skus, config)
    decomposition = DecompositionConfig(method="blocks")
    blocks = make_blocks(problem, 1)
    chosen = blocks[: args.blocks]
    subs = problem.split(chosen)
    shares = po_shares(problem, blocks)
    settings = config.solver.model_copy(
        update={"time_limit_s": decomposition.block_time_limit_s, "mip_rel_gap": decomposition.block_rel_gap}
    )
    options = block_highs_options(decomposition)
    tasks = [BlockTask(sub, {}, {po: shares[po] for po in sub.po_slots}, settings, options) for sub in subs]
    rows: list[dict[str, Any]] = []
    for kind in ("threads", "dask"):
        for workers in (1, 2):
            cluster = None
            executor: Any
            if kind == "dask":
                from distributed import LocalCluster

                cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
                )
                executor = DaskExecutor(cluster.scheduler_address)
            else:
                executor = ThreadExecutor(workers)
            try:
                executor.map(solve_block, tasks[: 2 * workers])  # warm-up: imports, first compile
                t = time.perf_counter()
                results = executor.map(solve_block, tasks)
                seconds = time.perf_counter() - t
                rss = worker_peak_rss(executor) if isinstance(executor, DaskExecutor) else {}
            finally:
                executor.close()
                if cluster is not None:
                    cluster.close()
            rows.append(
                {
                    "executor": kind,
                    "workers": workers,
                    "blocks": len(tasks),
                    "seconds": seconds,
                    "blocks_per_s": len(tasks) / seconds,
                    "bound_sum": sum(r.bound or 0.0 for r in results),
                    "worker_peak_rss_mib": rss,
                }
            )
            print(
                f"{kind:8s} {workers} worker(s): {len(tasks)} blocks in {seconds:.1f} s ({len(tasks) / seconds:.2f}/s)"
            )
    projections = {}
    for kind in ("threads", "dask"):
        one, two = (next(r for r in rows if r["executor"] == kind and r["workers"] == w) for w in (1, 2))
        efficiency = two["blocks_per_s"] / (2 * one["blocks_per_s"])
        projections[kind] = {
            "speedup_2": two["blocks_per_s"] / one["blocks_per_s"],
            "efficiency_2": efficiency,
            "full_pass_s": {
                str(w): args.project_skus / (one["blocks_per_s"] * (1 if w == 1 else w * efficiency))
                for w in (1, 2, 8, 32)
            },
        }
    return {
        "mode": "throughput",
        "base_skus": args.base_skus,
        "project_skus": args.project_skus,
        "rows": rows,
        "projections": projections,
        "main_peak_rss_mib": peak_rss_mib(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["plan", "throughput"])
    parser.add_argument("--base-skus", type=int, default=1000)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--workers", type=int, default=2, help="threads (plan mode, without --dask-workers)")
    parser.add_argument(
        "--dask-workers", type=int, default=0, help="plan on a local Dask cluster of this many processes"
    )
    parser.add_argument("--blocks", type=int, default=200, help="blocks solved (throughput mode)")
    parser.add_argument("--project-skus", type=int, default=50_000, help="catalogue a full pass is projected for")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out = plan_mode(args) if args.mode == "plan" else throughput_mode(args)
    summary = {k: v for k, v in out.items() if k not in ("trace", "passes", "rows")}
    print(json.dumps(summary, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
