"""Column generation over SKU plans (``planning.colgen``): proven gaps, work, determinism, Dask.

Instances: the demo brand at ``--skus`` SKUs x 3 locations x 26 weeks (seed 7, trailing-average
forecast, binding budgets, PO minimums, lanes and capacities, as ``bench_core.py``), or an M5
weekly problem (``--source m5``: the 28 items x 10 stores of ``../shared/datasets/m5_subset``
planned 12 weeks ahead with ``configs/backtest_m5.yaml``'s run settings, as-of ``--as-of``).

Modes:

* ``plan``: ``plan_by_columns`` with the configured work limits. Recorded: the published plan's
  cost, the Lagrangian bound and the proven gap (none of them depends on the machine's load:
  every limit is a round or node count), whether the wall-clock safety net fired, seconds per
  stage, the rounds' master LP values and bounds, the candidate plans and the polish trace, and a
  checksum of the published tables (to compare runs). ``--whole-nodes N`` also solves the whole
  model with HiGHS to a node limit, warm-started from the column-generation plan, for its bound.
* ``blocks``: what makes a SKU block hard (issue 13 item 4). Every block priced once at zero
  duals with the default 100-node limit; on the blocks that leave the root node ("hard"), the
  same MIP again with: the pack counts continuous (the relaxation ``refine_bound`` uses); four
  times the node limit; multi-slot (l,S) rows separated exactly at the block LP (up to 5 rounds)
  and added before the MIP; the mixed-integer rounding of single-slot (l,S) rows by the pack
  size; and (l,S) rows with packs continuous. Recorded per variant: the LP bound after the rows,
  the proven bound, the best plan, blocks still open, nodes and CPU seconds.
* ``pricing``: one pricing round at zero duals over the first ``--blocks`` blocks on 1 and 2
  threads and on a local Dask cluster of 1 and 2 worker processes (one thread each): seconds,
  the speed-up from 1 to 2 workers, and whether every block's bound and plan are identical.

Run one at a time on an otherwise idle machine::

    .venv/bin/python bench/bench_colgen.py plan --skus 100 --json /tmp/cg100.json
    .venv/bin/python bench/bench_colgen.py plan --source m5 --as-of 2015-10-05
    .venv/bin/python bench/bench_colgen.py pricing --skus 300 --blocks 200
    .venv/bin/python bench/bench_colgen.py blocks --skus 100
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models import build_model  # noqa: E402
from models.coupling import absent_rows, coupling_rhs  # noqa: E402
from planning.blocks import PricingTask, compile_block, price_block, priced_objective  # noqa: E402
from planning.checks import check_plan  # noqa: E402
from planning.colgen import make_blocks, plan_by_columns  # noqa: E402
from planning.config import RunConfig, parse_config, read_yaml  # noqa: E402
from planning.demo_data import generate_demo_tables, write_demo_tables  # noqa: E402
from planning.executors import DaskExecutor, ThreadExecutor  # noqa: E402
from planning.forecast import trailing_average_forecast  # noqa: E402
from planning.inputs import load_input_tables  # noqa: E402
from planning.plan import PlanTables  # noqa: E402
from planning.problem import PlanningProblem, build_problem  # noqa: E402
from planning.solve import solve  # noqa: E402
from planning.storage import LocalStorage  # noqa: E402
from planning.work import WorkBudget  # noqa: E402

AS_OF = date(2026, 11, 30)
M5_DIR = ROOT.parent / "shared" / "datasets" / "m5_subset"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def demo_problem(n_skus: int, config: RunConfig) -> PlanningProblem:
    raw = generate_demo_tables(seed=7, as_of=AS_OF, n_skus=n_skus)
    with tempfile.TemporaryDirectory() as folder:
        write_demo_tables(raw, Path(folder))
        typed = {name: t.typed for name, t in load_input_tables(LocalStorage(Path(folder))).items()}
    forecast = trailing_average_forecast(typed["demand_history"], AS_OF, config.horizon.weeks)
    return build_problem(typed, forecast, config, AS_OF)


def m5_problem(as_of: date, config: RunConfig) -> PlanningProblem:
    from planning.backtest.replay import typed_tables
    from planning.m5 import load_m5_tables
    from planning.run import make_forecast

    tables = typed_tables(load_m5_tables(M5_DIR, as_of=as_of))
    forecast = make_forecast(tables, as_of, config).forecast
    return build_problem(tables, forecast, config, as_of)


def run_config(args: argparse.Namespace) -> RunConfig:
    data: dict[str, Any] = {}
    if args.source == "m5":  # the run settings of the M5 backtest, without its backtest section
        loaded = read_yaml(ROOT / "configs" / "backtest_m5.yaml")
        data = {k: v for k, v in dict(loaded).items() if k != "backtest"}  # type: ignore[call-overload]
    data["as_of"] = (args.as_of if args.source == "m5" else AS_OF).isoformat()
    data.setdefault("solver", {}).update({"time_limit_s": args.safety_s, "threads": 1, "random_seed": 0})
    decomposition = {
        "method": "blocks",
        "workers": args.workers,
        "max_rounds": args.rounds,
        "block_max_nodes": args.block_nodes,
        "polish_rounds": args.polish_rounds,
        "group_max_nodes": args.group_nodes,
        "smoothing": args.smoothing,
        "master_max_nodes": args.master_nodes,
    }
    data["decomposition"] = {k: v for k, v in decomposition.items() if v is not None}
    return parse_config(data, "bench_colgen flags")


def checksum(plan: PlanTables) -> str:
    digest = hashlib.sha256()
    for frame in (plan.purchases, plan.transfers, plan.inventory):
        digest.update(frame.round(6).to_csv(index=False).encode())
    return digest.hexdigest()[:16]


def plan_mode(args: argparse.Namespace) -> dict[str, Any]:
    config = run_config(args)
    t0 = time.perf_counter()
    problem = m5_problem(args.as_of, config) if args.source == "m5" else demo_problem(args.skus, config)
    prepare = time.perf_counter() - t0
    t1 = time.perf_counter()
    executor = DaskExecutor(args.dask) if args.dask else None
    result = plan_by_columns(
        problem, config.solver, config.decomposition, executor=executor, frozen_weeks=config.horizon.frozen_weeks
    )
    seconds = time.perf_counter() - t1
    report = result.report
    row: dict[str, Any] = {
        "source": args.source,
        "skus": len(problem.skus),
        "weeks": len(problem.week_starts),
        "stock_points": len(problem.stock_points),
        "objective": report.objective,
        "bound": report.best_bound,
        "gap": report.gap,
        "status": report.status.value,
        "clock_fired": result.details["clock_fired"],
        "plan_seconds": seconds,
        "prepare_seconds": prepare,
        "stage_seconds": result.stage_seconds,
        "checks_passed": not check_plan(result.plan, problem),
        "purchase_lines": len(result.plan.purchases),
        "checksum": checksum(result.plan),
        "peak_rss_mib": peak_rss_mib(),
        "budget_prices_nonzero": sum(1 for v in result.budget_prices.values() if v > 1e-9),
        "budgets": len(result.budget_prices),
        **{
            k: result.details[k]
            for k in ("columns", "link_rows", "candidate_costs", "master_mip_cost", "rounds", "bound_refinement")
        },
        "polish_kept": sum(1 for r in result.details["polish"] if r["kept"]),  # type: ignore[union-attr]
        "polish_rounds": len(result.details["polish"]),  # type: ignore[arg-type]
        "budget_binding": _binding_budgets(result.plan, problem, result.budget_prices),
    }
    if args.whole_nodes:
        row["whole_model"] = whole_model(problem, config, result.plan, args.whole_nodes)
    if executor is not None:
        executor.close()
    return row


def _binding_budgets(plan: PlanTables, problem: PlanningProblem, prices: dict[str, float]) -> dict[str, int]:
    """How the published budget prices line up with the budgets the plan fills (the published
    ``budget_usage.binding`` rule: at most ``NEAR_LIMIT`` of the limit left)."""
    from planning.metrics import NEAR_LIMIT, _spend, cash_payments

    payments = cash_payments(plan.purchases, problem)
    spent = {budget.budget_id: _spend(payments, budget) for budget in problem.budgets}
    out = {"binding_priced": 0, "binding_unpriced": 0, "slack_priced": 0, "slack_unpriced": 0}
    for budget in problem.budgets:
        binding = budget.limit - spent[budget.budget_id] <= NEAR_LIMIT * max(1.0, budget.limit)
        priced = prices.get(budget.budget_id, 0.0) > 1e-9
        out[f"{'binding' if binding else 'slack'}_{'priced' if priced else 'unpriced'}"] += 1
    return out


def whole_model(problem: PlanningProblem, config: RunConfig, plan: PlanTables, nodes: int) -> dict[str, Any]:
    """HiGHS on the whole model to a node limit (warm-started from nothing: its own heuristics)."""
    m = build_model(problem)
    settings = config.solver.model_copy(update={"time_limit_s": 3600.0, "mip_rel_gap": 1e-4})
    result = solve(m, settings, highs_options={"mip_max_nodes": nodes})
    report = result.report
    return {
        "nodes": report.mip_node_count,
        "objective": report.objective,
        "bound": report.best_bound,
        "gap": report.gap,
        "seconds": report.timings.get("total"),
        "status": report.status.value,
    }


def pricing_mode(args: argparse.Namespace) -> dict[str, Any]:
    """One pricing round at zero duals on threads and on Dask, 1 and 2 workers."""
    config = run_config(args)
    problem = demo_problem(args.skus, config)
    blocks = make_blocks(problem, 1)[: args.blocks]
    subproblems = problem.split(blocks)
    rhs, absent = coupling_rhs(problem), absent_rows(problem)
    forms = [compile_block(sub, k, rhs, absent) for k, sub in enumerate(subproblems)]
    budget = WorkBudget.of(config.solver, config.decomposition)
    settings = budget.block_settings(config.solver)
    tasks = []
    for form in forms:
        cost, constant = priced_objective(form, np.zeros(len(form.usage_rows)), {})
        tasks.append(PricingTask(form, cost, constant, settings, budget.block_options(), None))
    row: dict[str, Any] = {"skus": args.skus, "blocks": len(forms)}
    reference = None
    for label, make in (
        ("threads_1", lambda: ThreadExecutor(1)),
        ("threads_2", lambda: ThreadExecutor(2)),
        ("dask_1", lambda: _dask(1)),
        ("dask_2", lambda: _dask(2)),
    ):
        executor, cluster = make() if label.startswith("dask") else (make(), None)
        started = time.perf_counter()
        results = executor.map(price_block, tasks)
        elapsed = time.perf_counter() - started
        executor.close()
        if cluster is not None:
            cluster.close()
        fingerprint = [(r.bound, None if r.x is None else r.x.round(9).tobytes()) for r in results]
        reference = reference or fingerprint
        row[label] = {
            "seconds": elapsed,
            "blocks_per_s": len(tasks) / elapsed,
            "identical_to_threads_1": fingerprint == reference,
            "clock_stopped": sum(r.clock_stopped for r in results),
        }
    row["dask_speedup_1_to_2"] = row["dask_1"]["seconds"] / row["dask_2"]["seconds"]
    row["threads_speedup_1_to_2"] = row["threads_1"]["seconds"] / row["threads_2"]["seconds"]
    return row


BlockVariant = tuple[bool, bool, bool, int]  # (l,S) separation, pack MIR rows, packs continuous, node factor
BLOCK_VARIANTS: dict[str, BlockVariant] = {
    "packs_continuous": (False, False, True, 1),
    "nodes_x4": (False, False, False, 4),
    "ls_separation": (True, False, False, 1),
    "pack_mir": (False, True, False, 1),
    "ls_separation_packs_continuous": (True, False, True, 1),
}
SEPARATION_ROUNDS = 5


def blocks_mode(args: argparse.Namespace) -> dict[str, Any]:
    """Each block's pricing MIP at zero duals; the hard ones again under each variant."""
    config = run_config(args)
    problem = demo_problem(args.skus, config)
    subproblems = problem.split(make_blocks(problem, 1))
    rhs, absent = coupling_rhs(problem), absent_rows(problem)
    forms = [compile_block(sub, k, rhs, absent) for k, sub in enumerate(subproblems)]
    budget = WorkBudget.of(config.solver, config.decomposition)
    settings = budget.block_settings(config.solver)
    zero = [priced_objective(form, np.zeros(len(form.usage_rows)), {}) for form in forms]
    base = [
        _price_variant(form, sub, cost, settings, budget, (False, False, False, 1))
        for form, sub, cost in zip(forms, subproblems, zero, strict=True)
    ]
    hard = [k for k, r in enumerate(base) if r["nodes"] > 1]
    row: dict[str, Any] = {"skus": args.skus, "blocks": len(forms), "hard_blocks": len(hard)}
    row["all_blocks"] = _block_totals(base, range(len(forms)), budget.block_rel_gap)
    row["hard"] = {"base": _block_totals(base, hard, budget.block_rel_gap)}
    for name, variant in BLOCK_VARIANTS.items():
        runs = {k: _price_variant(forms[k], subproblems[k], zero[k], settings, budget, variant) for k in hard}
        row["hard"][name] = _block_totals(runs, hard, budget.block_rel_gap)
    return row


def _price_variant(
    form: Any,
    problem: PlanningProblem,
    priced: tuple[Any, float],
    settings: Any,
    budget: WorkBudget,
    variant: BlockVariant,
) -> dict[str, Any]:
    """One block's pricing MIP under a variant; CPU seconds include separation and the LP."""
    import dataclasses

    from planning.solve import arrays_with, solve_arrays

    separation, mir, continuous, node_factor = variant
    cost, constant = priced
    started = time.process_time()
    model = arrays_with(form.model, cost=cost, offset=constant)
    relaxed = arrays_with(model, integer=model.integer & False)
    seen: set[tuple[tuple[int, float], ...]] = set()
    added = 0
    for _ in range(SEPARATION_ROUNDS if separation or mir else 0):
        lp = solve_arrays(relaxed, settings)
        rows = _violated_lot_sizing_rows(form, problem, lp.x, separation, mir, seen)
        if not rows:
            break
        model, relaxed = _with_rows(model, rows), _with_rows(relaxed, rows)
        added += len(rows)
    lp_bound = solve_arrays(relaxed, settings).report.objective
    options = {**budget.block_options(), "mip_max_nodes": budget.block_nodes * node_factor}
    task = PricingTask(
        dataclasses.replace(form, model=model), model.cost, model.offset, settings, options, None, continuous
    )
    result = price_block(task)
    return {
        "lp": lp_bound,
        "bound": result.bound,
        "best": result.objective,
        "nodes": result.nodes,
        "cpu_s": time.process_time() - started,
        "rows_added": added,
    }


def _block_totals(runs: Any, blocks: Any, rel_gap: float) -> dict[str, Any]:
    picked = [runs[k] for k in blocks]
    best = sum(r["best"] for r in picked if r["best"] is not None)
    return {
        "lp": sum(r["lp"] for r in picked),
        "bound": sum(r["bound"] for r in picked),
        "best": best,
        "gap": (best - sum(r["bound"] for r in picked)) / best if best else None,
        "open": sum(
            1 for r in picked if r["best"] is None or r["best"] - r["bound"] > max(rel_gap, 1e-6) * abs(r["best"])
        ),
        "nodes": sum(r["nodes"] for r in picked),
        "cpu_s": sum(r["cpu_s"] for r in picked),
        "rows_added": sum(r["rows_added"] for r in picked),
    }


def _violated_lot_sizing_rows(
    form: Any, problem: PlanningProblem, x: Any, separation: bool, mir: bool, seen: set[tuple[tuple[int, float], ...]]
) -> list[dict[int, float]]:
    """(l,S) rows violated by the block LP's x, as {column: coefficient} with ``<= 0``.

    For SKU i at location l, window end e and a set S of unlocked order slots (packs n_s of size
    p_s, line y_s, arriving a_s <= e), with D_s the demand of weeks a_s..e, I_e the closing stock
    and X the transfers out of l in weeks min a_s..e:
      (l,S)   sum_S (p_s n_s - D_s y_s) - I_e - X <= 0     (valid: served <= demand, stock >= 0)
    exact separation for fixed (i, l, e): S = {s: p_s n_s > D_s y_s}. Its mixed-integer rounding
    for one slot, beta = D_s / p_s with fractional part f > 0:
      (MIR)   p_s n_s - p_s floor(beta) y_s - (I_e + X) / (1 - f) <= 0
    """
    import math

    column = {name: j for j, name in enumerate(form.names)}
    line = {slot: j for j, slot in form.line_columns}
    weeks = len(problem.week_starts)
    demand: dict[tuple[str, str, int], float] = {}
    for (sku, loc, _, t), units in problem.demand.items():
        demand[(sku, loc, t)] = demand.get((sku, loc, t), 0.0) + units
    slots: dict[tuple[str, str], list[tuple[int, int, int, int]]] = {}
    for j, (option_id, t) in form.pack_columns:
        if (option_id, t) in problem.locked_units:
            continue
        option = problem.options[option_id]
        entry = (t + option.lead_weeks, option.pack_size, j, line[(option_id, t)])
        slots.setdefault((option.sku, option.ship_to), []).append(entry)
    shipped: dict[tuple[str, str, int], list[int]] = {}
    for j, (sku, origin, _, t) in form.transfer_columns:
        shipped.setdefault((sku, origin, t), []).append(j)
    rows: list[dict[int, float]] = []

    def keep(coefficients: dict[int, float], violation: float, scale: float) -> None:
        key = tuple(sorted(coefficients.items()))
        if violation > 1e-4 * max(1.0, scale) and key not in seen:
            seen.add(key)
            rows.append(coefficients)

    for (sku, loc), candidates in slots.items():
        cumulative = np.cumsum([demand.get((sku, loc, t), 0.0) for t in range(weeks)])

        def window(first: int, end: int, cumulative: Any = cumulative) -> float:
            return float(cumulative[end] - (cumulative[first - 1] if first > 0 else 0.0))

        for end in range(weeks):
            stock = column[f"inventory[{sku},{loc},{end}]"]
            arrived = [s for s in candidates if s[0] <= end]
            if separation:
                chosen = [s for s in arrived if s[1] * x[s[2]] - window(s[0], end) * x[s[3]] > 1e-6]
                if chosen:
                    first = min(s[0] for s in chosen)
                    out = [j for t in range(first, end + 1) for j in shipped.get((sku, loc, t), ())]
                    coefficients = {stock: -1.0}
                    for j in out:
                        coefficients[j] = coefficients.get(j, 0.0) - 1.0
                    for arrival, pack, n, y in chosen:
                        coefficients[n] = coefficients.get(n, 0.0) + pack
                        coefficients[y] = coefficients.get(y, 0.0) - window(arrival, end)
                    keep(coefficients, sum(v * x[j] for j, v in coefficients.items()), window(first, end))
            if mir:
                for arrival, pack, n, y in arrived:
                    d = window(arrival, end)
                    beta = d / pack
                    fraction = beta - math.floor(beta + 1e-9)
                    if d <= 0 or fraction < 1e-6:
                        continue
                    out = [j for t in range(arrival, end + 1) for j in shipped.get((sku, loc, t), ())]
                    share = 1.0 / (1.0 - fraction)
                    coefficients = {n: float(pack), y: -pack * math.floor(beta + 1e-9), stock: -share}
                    for j in out:
                        coefficients[j] = coefficients.get(j, 0.0) - share
                    keep(coefficients, sum(v * x[j] for j, v in coefficients.items()), d)
    return rows


def _with_rows(model: Any, rows: list[dict[int, float]]) -> Any:
    """The model with rows ``sum coefficient * x <= 0`` appended."""
    import scipy.sparse as sp

    from planning.solve import array_form

    n = len(model.cost)
    matrix = sp.csc_matrix((model.a_value, model.a_index, model.a_start), shape=(len(model.row_lower), n))
    data, row_index, col_index = [], [], []
    for i, coefficients in enumerate(rows):
        for j, value in coefficients.items():
            data.append(value)
            row_index.append(i)
            col_index.append(j)
    extra = sp.csc_matrix((data, (row_index, col_index)), shape=(len(rows), n))
    stacked = sp.vstack([matrix, extra]).tocsc()
    return array_form(
        model.cost,
        model.offset,
        model.col_lower,
        model.col_upper,
        model.integer,
        np.concatenate([model.row_lower, np.full(len(rows), -np.inf)]),
        np.concatenate([model.row_upper, np.zeros(len(rows))]),
        stacked.indptr,
        stacked.indices,
        stacked.data,
    )


def _dask(workers: int) -> tuple[Any, Any]:
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return DaskExecutor(cluster.scheduler_address), cluster


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["plan", "pricing", "blocks"])
    parser.add_argument("--source", choices=["demo", "m5"], default="demo")
    parser.add_argument("--skus", type=int, default=100)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2015, 10, 5), help="M5 plan date (Monday)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dask", help="plan on this Dask scheduler instead of threads")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--block-nodes", type=int)
    parser.add_argument("--polish-rounds", type=int)
    parser.add_argument("--group-nodes", type=int)
    parser.add_argument("--master-nodes", type=int)
    parser.add_argument("--smoothing", type=float)
    parser.add_argument("--safety-s", type=float, default=3600.0, help="wall-clock safety net (s)")
    parser.add_argument("--whole-nodes", type=int, default=0, help="also solve the whole model to this node limit")
    parser.add_argument("--blocks", type=int, default=200, help="blocks in the pricing round (pricing mode)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    modes = {"plan": plan_mode, "pricing": pricing_mode, "blocks": blocks_mode}
    row = modes[args.mode](args)
    row["argv"] = sys.argv[1:]
    text = json.dumps(row, indent=2, default=lambda v: None if isinstance(v, float) and math.isnan(v) else str(v))
    print(text)
    if args.json:
        args.json.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
