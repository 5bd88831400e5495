"""Measure the Pyomo → HiGHS handover of ``planning.solve`` against Pyomo's ``appsi_highs``.

For each size a buy-plan-shaped MIP is generated (SKUs × weeks: integer order cases, order
binaries, inventory and lost sales; inventory balance, order-if-placed, a ranged weekly
capacity row and a weekly budget row with priced overrun). Then:

* ``planning.solve.solve`` runs with a short time limit, and its report gives the seconds for
  "compile" (Pyomo → standard form), "handover" (arrays + ``passModel``), "solve" (HiGHS)
  and "extract" (values by name);
* ``pyo.SolverFactory("appsi_highs").set_instance(model)`` loads the same model into HiGHS
  through Pyomo's persistent interface (the load only, no solve).

Printed per size: both load times, their ratio, and the share of the wall time of our solve
spent outside HiGHS. Run::

    .venv/bin/python bench/bench_handover.py                       # 100k and 300k columns
    .venv/bin/python bench/bench_handover.py --columns 100000 --solve-seconds 20
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyomo.environ as pyo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planning.config import SolverConfig
from planning.solve import solve

WEEKS = 26
COLUMNS_PER_SKU_WEEK = 4


def build_model(n_skus: int, seed: int = 0) -> pyo.ConcreteModel:
    """A buy-plan-shaped MIP with ``4 × n_skus × 26`` columns (before presolve)."""
    rng = np.random.default_rng(seed)
    demand = rng.gamma(2.0, 20.0, size=(n_skus, WEEKS)).round()
    unit_cost = rng.uniform(2.0, 40.0, size=n_skus).round(2)
    case_size = rng.choice([1, 6, 12, 24], size=n_skus)
    start_stock = rng.integers(0, 60, size=n_skus)
    budget = 0.8 * float((demand * unit_cost[:, None]).sum(axis=0).mean())
    capacity = 0.9 * float((demand.sum(axis=0)).mean())

    m = pyo.ConcreteModel()
    m.SKUS = pyo.RangeSet(0, n_skus - 1)
    m.WEEKS = pyo.RangeSet(0, WEEKS - 1)
    m.cases = pyo.Var(m.SKUS, m.WEEKS, domain=pyo.NonNegativeIntegers, bounds=(0, 200))
    m.placed = pyo.Var(m.SKUS, m.WEEKS, domain=pyo.Binary)
    m.stock = pyo.Var(m.SKUS, m.WEEKS, domain=pyo.NonNegativeReals)
    m.lost = pyo.Var(m.SKUS, m.WEEKS, domain=pyo.NonNegativeReals)
    m.overrun = pyo.Var(m.WEEKS, domain=pyo.NonNegativeReals)

    @m.Constraint(m.SKUS, m.WEEKS)
    def balance(m: pyo.ConcreteModel, s: int, w: int) -> Any:
        before = m.stock[s, w - 1] if w > 0 else int(start_stock[s])
        received = int(case_size[s]) * m.cases[s, w]
        return m.stock[s, w] == before + received + m.lost[s, w] - float(demand[s, w])

    @m.Constraint(m.SKUS, m.WEEKS)
    def order_if_placed(m: pyo.ConcreteModel, s: int, w: int) -> Any:
        return m.cases[s, w] <= 200 * m.placed[s, w]

    @m.Constraint(m.WEEKS)
    def capacity_row(m: pyo.ConcreteModel, w: int) -> Any:
        units = sum(int(case_size[s]) * m.cases[s, w] for s in m.SKUS)
        return pyo.inequality(0.0, units, capacity)

    @m.Constraint(m.WEEKS)
    def budget_row(m: pyo.ConcreteModel, w: int) -> Any:
        spend = sum(float(unit_cost[s] * case_size[s]) * m.cases[s, w] for s in m.SKUS)
        return spend <= budget + m.overrun[w]

    m.cost = pyo.Objective(
        expr=sum(
            0.005 * float(unit_cost[s]) * m.stock[s, w]
            + 15.0 * m.placed[s, w]
            + 2.0 * float(unit_cost[s]) * m.lost[s, w]
            for s in m.SKUS
            for w in m.WEEKS
        )
        + sum(1000.0 * m.overrun[w] for w in m.WEEKS)
        + float((start_stock * unit_cost).sum())  # constant: value of the opening stock
    )
    return m


def appsi_load_seconds(model: pyo.ConcreteModel) -> float:
    """Seconds for Pyomo's persistent ``appsi_highs`` interface to load the model into HiGHS."""
    opt = pyo.SolverFactory("appsi_highs")
    began = time.perf_counter()
    opt.set_instance(model)
    seconds = time.perf_counter() - began
    del opt
    gc.collect()
    return seconds


def measure(columns: int, solve_seconds: float, skip_appsi: bool) -> dict[str, Any]:
    """Build one instance, solve it through ``planning.solve`` and load it through appsi."""
    n_skus = max(1, round(columns / (COLUMNS_PER_SKU_WEEK * WEEKS)))
    began = time.perf_counter()
    model = build_model(n_skus)
    build = time.perf_counter() - began

    settings = SolverConfig(time_limit_s=solve_seconds, backstop_s=60.0, threads=1, random_seed=0)
    report = solve(model, settings).report
    ours = report.timings["compile"] + report.timings["handover"]
    outside = report.timings["total"] - report.timings["solve"]
    row: dict[str, Any] = {
        "skus": n_skus,
        "columns": report.columns,
        "rows": report.rows,
        "nonzeros": report.nonzeros,
        "build_s": build,
        **{f"{key}_s": value for key, value in report.timings.items()},
        "ours_load_s": ours,
        "outside_highs_share": outside / report.timings["total"],
    }
    row["status"] = report.status.value
    if not skip_appsi:
        row["appsi_load_s"] = appsi_load_seconds(model)
        row["appsi_over_ours"] = row["appsi_load_s"] / ours
        row["appsi_over_passmodel"] = row["appsi_load_s"] / report.timings["handover"]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--columns", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--solve-seconds", type=float, default=10.0, help="HiGHS time limit per size")
    parser.add_argument("--skip-appsi", action="store_true", help="measure our path only")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    solve(build_model(2), SolverConfig(time_limit_s=5.0))  # one-off costs: scipy import, HiGHS banner
    rows = []
    for columns in args.columns:
        row = measure(columns, args.solve_seconds, args.skip_appsi)
        rows.append(row)
        print(
            f"{row['columns']:>8} cols {row['rows']:>8} rows {row['nonzeros']:>9} nz | build {row['build_s']:6.2f}s"
            f" | compile {row['compile_s']:6.2f}s handover {row['handover_s']:5.2f}s"
            f" solve {row['solve_s']:6.2f}s extract {row['extract_s']:5.2f}s"
            f" | outside HiGHS {row['outside_highs_share']:6.1%} ({row['status']})",
            flush=True,
        )
        if "appsi_load_s" in row:
            print(
                f"{'':>8} appsi_highs load {row['appsi_load_s']:6.2f}s vs ours {row['ours_load_s']:5.2f}s"
                f" (compile + handover): {row['appsi_over_ours']:.1f}x;"
                f" vs passModel alone: {row['appsi_over_passmodel']:.0f}x",
                flush=True,
            )
        gc.collect()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
