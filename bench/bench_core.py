"""Measure the whole optimization core on generated demo instances, stage by stage.

For each size N the demo generator (``planning.demo_data.generate_demo_tables(n_skus=N)``)
gives N SKUs x 3 locations with MOQs, case packs, lead times, supplier closures, PO minimums,
weekly budgets that bind and service targets; the run then follows the production path:

* "load": tables written to a temp folder as CSV (not timed), read back with
  ``load_input_tables(LocalStorage(folder))`` and their ``.typed`` frames taken (no GX);
* "forecast": ``trailing_average_forecast`` over 26 weeks;
* "problem": ``build_problem`` with a ``RunConfig`` whose solver settings come from the flags;
* "model": ``models.build_model``;
* "compile", "handover", "solve", "extract": ``planning.solve.solve`` (non-raising) and its
  ``SolveReport.timings``;
* "plan": ``load_values`` + ``extract_plan`` + ``check_plan``.

``--path optimize`` measures ``planning.optimize.optimize`` instead (LP relaxation, a rounded
feasible start, then the warm-started MIP, all inside the time limit), with its three solves'
timings summed.

"End to end" is load through plan (generating the synthetic data is not part of a weekly run
and is reported apart). Each size runs in its own child process, one after the other, so the
peak RSS (``resource.getrusage`` maxrss, recorded after every stage) belongs to that size and an
abandoned HiGHS thread cannot steal a core from the next size. ``--tracemalloc`` adds the
Python-heap peak but slows every Python stage: use it in a separate run, not for timings.

Targets checked (sizes 100 and 300):

* 100 x 3 x 26: gap <= mip_rel_gap within the time limit end to end, with model build +
  compile + hand-over <= 25 % of the end-to-end wall time;
* 300 x 3 x 26: ``solve`` returns a plan, with its gap, within time limit + backstop.

Run::

    .venv/bin/python bench/bench_core.py --skus 50 100 300 --time-limit 60 --threads 1 \\
        --json /tmp/bench_core.json --seed 7
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
import traceback
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pyomo.environ as pyo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import build_model
from planning.checks import check_plan
from planning.config import RunConfig, SolverConfig, parse_config
from planning.demo_data import generate_demo_tables, write_demo_tables
from planning.forecast import trailing_average_forecast
from planning.inputs import load_input_tables
from planning.plan import PlanTables, extract_plan
from planning.problem import build_problem
from planning.solve import load_values, solve
from planning.storage import LocalStorage

AS_OF = date(2026, 11, 30)  # the generator's default plan date (a Monday)
BUILD_SHARE_TARGET = 0.25
GAP_TARGET_SKUS = 100
PLAN_TARGET_SKUS = 300


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Stages:
    """Times named stages and records the peak RSS after each."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak_rss_mib: dict[str, float] = {}

    def run(self, name: str, step: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        out = step()
        self.seconds[name] = time.perf_counter() - began
        self.peak_rss_mib[name] = peak_rss_mib()
        return out


def run_config(args: argparse.Namespace) -> RunConfig:
    solver = {
        "time_limit_s": args.time_limit,
        "backstop_s": args.backstop,
        "mip_rel_gap": args.gap,
        "threads": args.threads,
        "random_seed": 0,
        "mip_heuristic_effort": args.heuristic_effort,
    }
    return parse_config({"as_of": AS_OF.isoformat(), "solver": solver}, "bench_core flags")


def raw_options(args: argparse.Namespace) -> dict[str, bool | int | float | str]:
    """``--highs-option name=value`` pairs, values read as bool, int, float or text."""
    out: dict[str, bool | int | float | str] = {}
    for pair in args.highs_option:
        name, _, text = pair.partition("=")
        value: bool | int | float | str = text
        if text.lower() in ("true", "false"):
            value = text.lower() == "true"
        else:
            for kind in (int, float):
                try:
                    value = kind(text)
                    break
                except ValueError:
                    continue
        out[name.strip()] = value
    return out


def load_typed(folder: Path) -> dict[str, Any]:
    """CSV in a folder -> ``load_input_tables`` -> typed frames (the path a weekly run reads)."""
    return {name: table.typed for name, table in load_input_tables(LocalStorage(folder)).items()}


def warm_up() -> None:
    """Pay one-off costs (lazy scipy import, HiGHS banner) outside the measured stages."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 3))
    m.c = pyo.Constraint(expr=m.x >= 1.5)
    m.o = pyo.Objective(expr=m.x)
    solve(m, SolverConfig(time_limit_s=5.0))


def budget_usage(model: pyo.ConcreteModel) -> tuple[int, int]:
    """(budget rows at >= 99.9 % of their limit, budget rows) in the loaded plan."""
    binding = 0
    rows = list(model.budget_limit.values())
    for con in rows:
        body = pyo.value(con.body, exception=False)
        upper = pyo.value(con.upper)
        if body is not None and upper is not None and body >= upper - 1e-3 * max(1.0, abs(upper)):
            binding += 1
    return binding, len(rows)


def shortfall_skus(model: pyo.ConcreteModel) -> int:
    """SKUs whose fill-rate target the plan misses (priced shortfall used)."""
    return sum(1 for v in model.fill_rate_shortfall.values() if (v.value or 0.0) > 1e-6)


def measure(n_skus: int, args: argparse.Namespace) -> dict[str, Any]:
    """One size, every stage, in this process; returns one JSON-ready row."""
    config = run_config(args)
    stages = Stages()
    row: dict[str, Any] = {"skus": n_skus, "locations": 3, "weeks": config.horizon.weeks}
    raw = stages.run("generate", lambda: generate_demo_tables(seed=args.seed, as_of=AS_OF, n_skus=n_skus))
    with tempfile.TemporaryDirectory() as folder:
        write_demo_tables(raw, Path(folder))
        del raw
        gc.collect()
        typed = stages.run("load", lambda: load_typed(Path(folder)))
    weeks = config.horizon.weeks
    forecast = stages.run("forecast", lambda: trailing_average_forecast(typed["demand_history"], AS_OF, weeks))
    problem = stages.run("problem", lambda: build_problem(typed, forecast, config, AS_OF))
    if args.path == "optimize":
        model, report, timings, extra = _run_optimize(problem, config, args, stages)
        row.update(extra)
        result = None
    elif args.path == "blocks":
        model, report, timings, extra = _run_blocks(problem, config, args, stages)
        row.update(extra)
        result = None
    else:
        model = stages.run("model", lambda: build_model(problem))
        options = raw_options(args)
        result = stages.run(
            "solver", lambda: solve(model, config.solver, log_to_console=args.highs_log, highs_options=options)
        )
        report, timings = result.report, result.report.timings
    row.update(_report_fields(report, config.solver), path=args.path, highs_options=raw_options(args))
    if report.has_plan:
        plan, violations = stages.run("plan", lambda: _plan_and_checks(model, problem, result, config))
        budget_overrun = sum(v for k, v in plan.overruns.items() if k.startswith("budget:"))
        row.update(
            checks_passed=not violations,
            violations=[f"{v.rule}: {v.detail}" for v in violations[:5]],
            budget_overrun_used=budget_overrun > 0,
            budget_overrun=budget_overrun,
            purchase_lines=len(plan.purchases),
            overruns=len(plan.overruns),
        )
        if isinstance(model, pyo.ConcreteModel):  # an assembled plan has no whole model to read these from
            binding, budgets = budget_usage(model)
            row.update(budgets_binding=binding, budgets=budgets, fill_rate_shortfall_skus=shortfall_skus(model))
    row.update(_timing_fields(stages, timings))
    return row


def _run_optimize(
    problem: Any, config: RunConfig, args: argparse.Namespace, stages: Stages
) -> tuple[pyo.ConcreteModel, Any, dict[str, float], dict[str, Any]]:
    """``planning.optimize.optimize`` with each of its ``solve`` calls recorded.

    Its model build is booked as stage "model" and the rest as "solver"; the solver timings
    are summed over its solves (LP relaxation, rounded start, warm-started MIP).
    """
    import planning.optimize as opt_module

    reports: list[Any] = []
    inner = opt_module.solve

    def recording_solve(*a: Any, **kw: Any) -> Any:
        out = inner(*a, **kw)
        reports.append(out.report)
        return out

    opt_module.solve = recording_solve
    try:
        out = stages.run("solver", lambda: opt_module.optimize(problem, config.solver, log_to_console=args.highs_log))
    finally:
        opt_module.solve = inner
    build = out.stage_seconds.get("build", 0.0)
    stages.seconds["model"] = build
    stages.seconds["solver"] -= build
    timings = {
        key: sum(r.timings.get(key, 0.0) for r in reports) for key in ("compile", "handover", "solve", "extract")
    }
    timings["total"] = sum(r.timings.get("total", 0.0) for r in reports)
    extra = {
        "optimize_stage_s": dict(out.stage_seconds),
        "optimize_lp_bound": out.lp_bound,
        "optimize_start_objective": out.start_objective,
        "optimize_from_start": out.from_start,
        "optimize_stage_status": [r.status.value for r in reports],
        "optimize_stage_time_limit_s": [r.time_limit_s for r in reports],
    }
    return out.model, out.report, timings, extra


def _run_blocks(
    problem: Any, config: RunConfig, args: argparse.Namespace, stages: Stages
) -> tuple[Any, Any, dict[str, float], dict[str, Any]]:
    """``planning.colgen.plan_by_columns`` (column generation over SKU blocks) with default work limits;
    ``bench_colgen.py`` measures it in detail."""
    from planning.colgen import plan_by_columns

    decomposition = config.decomposition.model_copy(
        update={"method": "blocks", "workers": args.workers, "block_skus": args.block_skus}
    )
    frozen = config.horizon.frozen_weeks
    out = stages.run("solver", lambda: plan_by_columns(problem, config.solver, decomposition, frozen_weeks=frozen))
    extra = {"blocks": out.details["blocks"], "workers": args.workers, "blocks_stage_s": dict(out.stage_seconds)}
    return out.plan, out.report, dict(out.report.timings), extra


def _plan_and_checks(model: Any, problem: Any, result: Any, config: RunConfig) -> tuple[Any, list[Any]]:
    if isinstance(model, PlanTables):  # assembled from blocks (planning.assemble)
        return model, check_plan(model, problem)
    if result is not None:  # the optimize path leaves its plan loaded in the model
        load_values(model, result)
    plan = extract_plan(model, problem, config.horizon.frozen_weeks)
    return plan, check_plan(plan, problem)


def _report_fields(report: Any, settings: SolverConfig) -> dict[str, Any]:
    return {
        "status": report.status.value,
        "termination": report.termination,
        "has_plan": report.has_plan,
        "objective": report.objective,
        "best_bound": report.best_bound,
        "gap": report.gap,
        "columns": report.columns,
        "rows": report.rows,
        "integer_columns": report.integer_columns,
        "nonzeros": report.nonzeros,
        "mip_nodes": report.mip_node_count,
        "backstop_fired": report.backstop_fired,
        "backstop_abandoned": report.backstop_abandoned,
        "time_limit_s": settings.time_limit_s,
        "backstop_s": settings.backstop_s,
        "mip_rel_gap": settings.mip_rel_gap,
        "threads": settings.threads,
        "mip_heuristic_effort": settings.mip_heuristic_effort,
        "solver": report.solver,
    }


def _timing_fields(stages: Stages, timings: dict[str, float]) -> dict[str, Any]:
    """Per-stage seconds, end-to-end wall, shares, and peak RSS per stage."""
    s: dict[str, Any] = {f"{k}_s": v for k, v in stages.seconds.items() if k != "solver"}
    for key in ("compile", "handover", "solve", "extract", "total"):
        s[f"{key}_s"] = timings.get(key, math.nan)
    s["solver_wall_s"] = stages.seconds["solver"]
    e2e_keys = ("load", "forecast", "problem", "model", "solver", "plan")
    e2e = sum(stages.seconds.get(k, 0.0) for k in e2e_keys)
    s["end_to_end_s"] = e2e
    s["outside_highs_share"] = (e2e - s["solve_s"]) / e2e
    s["build_handover_s"] = s["model_s"] + s["compile_s"] + s["handover_s"]
    s["build_handover_share"] = s["build_handover_s"] / e2e
    s["peak_rss_mib"] = peak_rss_mib()
    s["peak_rss_after_mib"] = dict(stages.peak_rss_mib)
    return s


def child(n_skus: int, args: argparse.Namespace) -> int:
    """Measure one size and write its row (or the exception) to ``args.child_out``."""
    if args.tracemalloc:
        tracemalloc.start()
    warm_up()
    try:
        row = measure(n_skus, args)
    except Exception as exc:  # recorded per size; the other sizes still run
        row = {"skus": n_skus, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        row["peak_rss_mib"] = peak_rss_mib()
    if args.tracemalloc:
        row["tracemalloc_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    Path(args.child_out).write_text(json.dumps(row, indent=2, default=str))
    return 0


def run_size(n_skus: int, args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    """Run one size in a child process and return its row."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    command = [sys.executable, __file__, *argv, "--child", str(n_skus), "--child-out", str(out)]
    deadline = args.time_limit + 2 * args.backstop + 1200.0
    began = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=deadline, check=False)
        text = out.read_text() if out.stat().st_size else ""
        row = json.loads(text) if text else {"skus": n_skus, "error": f"child exited {done.returncode}"}
        if done.returncode != 0:
            row.setdefault("error", f"child exited {done.returncode}: {done.stderr[-2000:]}")
        if args.highs_log:
            log_path = Path(args.highs_log_dir) / f"highs_{n_skus}.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_path.write_text(done.stdout)
            row["highs_log"] = str(log_path)
    except subprocess.TimeoutExpired:
        row = {"skus": n_skus, "error": f"child killed after {deadline:.0f} s"}
    finally:
        out.unlink(missing_ok=True)
    row["process_wall_s"] = time.perf_counter() - began
    return row


def verdicts(rows: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    """The two targets, judged on the rows of this run (None when the size was not run)."""
    by_size = {row["skus"]: row for row in rows}
    out: dict[str, Any] = {}
    r = by_size.get(GAP_TARGET_SKUS)
    if r is not None:
        gap_ok = r.get("has_plan", False) and r.get("gap") is not None and r["gap"] <= args.gap + 1e-12
        wall_ok = r.get("end_to_end_s", math.inf) <= args.time_limit
        share_ok = r.get("build_handover_share", math.inf) <= BUILD_SHARE_TARGET
        out["100_gap_within_limit"] = {
            "met": bool(gap_ok and wall_ok and share_ok),
            "gap_ok": bool(gap_ok),
            "end_to_end_within_limit": bool(wall_ok),
            "build_handover_share_ok": bool(share_ok),
        }
    r = by_size.get(PLAN_TARGET_SKUS)
    if r is not None:
        in_time = r.get("solve_s", math.inf) <= args.time_limit + args.backstop and not r.get("backstop_abandoned")
        out["300_plan_within_limit"] = {
            "met": bool(r.get("has_plan", False) and in_time),
            "has_plan": bool(r.get("has_plan", False)),
            "solve_within_limit_plus_backstop": bool(in_time),
            "end_to_end_within_limit": bool(r.get("end_to_end_s", math.inf) <= args.time_limit),
        }
    return out


def _fmt(value: Any, spec: str, missing: str = "-") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return format(value, spec)


def print_row(row: dict[str, Any]) -> None:
    if "error" in row and "status" not in row:
        print(f"{row['skus']:>4} SKUs | ERROR {row['error']}", flush=True)
        return
    gap = row.get("gap")
    print(
        f"{row['skus']:>4} SKUs | {row['columns']:>6} cols {row['integer_columns']:>6} int {row['rows']:>6} rows"
        f" | load {row['load_s']:5.1f} fcst {row['forecast_s']:4.1f} problem {row['problem_s']:5.1f}"
        f" model {row['model_s']:5.1f} compile {row['compile_s']:5.1f} handover {row['handover_s']:4.2f}"
        f" solve {row['solve_s']:6.1f} extract+checks {row['extract_s'] + row.get('plan_s', 0.0):5.1f}"
        f" | e2e {row['end_to_end_s']:6.1f}s outside HiGHS {row['outside_highs_share']:5.1%}"
        f" build+handover {row['build_handover_share']:5.1%}"
        f" | {row['status']} gap {_fmt(gap, '.3%', 'n/a')} obj {_fmt(row.get('objective'), '.6g')}"
        f" bound {_fmt(row.get('best_bound'), '.6g')} | RSS {row['peak_rss_mib']:6.0f} MiB"
        f" | checks {row.get('checks_passed', '-')} budget overrun {row.get('budget_overrun_used', '-')}"
        f" binding {row.get('budgets_binding', '-')}/{row.get('budgets', '-')}",
        flush=True,
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skus", type=int, nargs="+", default=[50, 100, 300])
    parser.add_argument("--time-limit", type=float, default=60.0, help="HiGHS time limit (s)")
    parser.add_argument("--backstop", type=float, default=60.0, help="seconds after the limit before interrupting")
    parser.add_argument("--gap", type=float, default=0.005, help="mip_rel_gap")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--heuristic-effort", type=float, default=0.25, help="mip_heuristic_effort")
    parser.add_argument("--seed", type=int, default=7, help="demo generator seed")
    parser.add_argument("--json", type=Path, help="also write the rows and verdicts to this JSON file")
    parser.add_argument(
        "--path",
        choices=["solve", "optimize", "blocks"],
        default="solve",
        help="solve: build_model + planning.solve.solve (default); optimize: planning.optimize.optimize; "
        "blocks: planning.colgen.plan_by_columns",
    )
    parser.add_argument("--workers", type=int, default=2, help="block-solving threads (--path blocks)")
    parser.add_argument("--block-skus", type=int, default=1, help="SKUs per block (--path blocks)")
    parser.add_argument("--highs-log", action="store_true", help="keep HiGHS's log per size")
    parser.add_argument("--highs-log-dir", default=".", help="folder for highs_<N>.log (with --highs-log)")
    parser.add_argument(
        "--highs-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="raw HiGHS option applied last (repeatable), e.g. mip_lp_age_limit=5; for diagnostics",
    )
    parser.add_argument("--tracemalloc", action="store_true", help="Python heap peak too (slows the run)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.child is not None:
        return child(args.child, args)
    passthrough = _without_sizes_and_json(argv)
    rows = []
    for n_skus in args.skus:
        row = run_size(n_skus, args, passthrough)
        rows.append(row)
        print_row(row)
    judged = verdicts(rows, args)
    result = {"rows": rows, "verdicts": judged, "argv": argv, "commit": _commit()}
    for name, verdict in judged.items():
        print(f"target {name}: {'MET' if verdict['met'] else 'NOT MET'} {verdict}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


def _commit() -> str:
    """HEAD of the checkout measured, with "+dirty" when tracked files differ from it."""
    root = Path(__file__).resolve().parents[1]
    git = ["git", "-C", str(root)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    dirty = subprocess.run([*git, "status", "--porcelain", "-uno"], capture_output=True, text=True, check=False)
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _without_sizes_and_json(argv: list[str]) -> list[str]:
    """The flags a child needs: everything but ``--skus`` and ``--json`` (and their values)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if arg in ("--skus", "--json"):
            skip = True
            continue
        if skip and not arg.startswith("--"):
            continue
        skip = False
        out.append(arg)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
