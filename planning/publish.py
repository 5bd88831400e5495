"""Publish a checked plan: tables under a run-scoped prefix, the manifest, then a success marker.

Layout: ``plans/as_of=YYYY-MM-DD/run=<run id>/`` holding the plan tables (Parquet), the solve
report and ``manifest.json``; ``_SUCCESS`` is written last, with a conditional create. A
reader treats a run as finished only when its ``_SUCCESS`` exists, so a half-written run is
never taken for a plan. The run id is derived from the input checksums and the config hash:
re-running the same inputs and configuration finds its own ``_SUCCESS`` and publishes nothing
twice. (The "latest" pointer and failed-run cleanup belong to the publishing issue.)
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import platform
from dataclasses import asdict
from datetime import date
from importlib import metadata
from typing import Any

import pandas as pd

from planning.config import RunConfig
from planning.run import PlanRun
from planning.storage import ConditionalWriteFailedError, Storage, write_table
from planning.validation import ValidationReport

SUCCESS = "_SUCCESS"
# Lagrange prices of the rows that couple SKUs (block method): next week's run starts from them.
COUPLING_PRICES = "coupling_prices"
LIBRARIES = ("buyplan", "pyomo", "highspy", "pandas", "pyarrow", "great-expectations", "boto3")


def run_id(inputs: ValidationReport, config: RunConfig) -> str:
    """Deterministic run id: the same inputs and configuration give the same id."""
    digest = hashlib.sha256(config.config_hash().encode())
    for table in sorted(inputs.tables, key=lambda t: t.table):
        digest.update(f"{table.table}:{table.checksum}".encode())
    return digest.hexdigest()[:12]


def run_prefix(run: PlanRun, identifier: str) -> str:
    return f"plans/as_of={run.as_of.isoformat()}/run={identifier}"


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _tables(run: PlanRun) -> dict[str, pd.DataFrame]:
    costs = pd.DataFrame({"term": list(run.plan.costs), "cost": list(run.plan.costs.values())})
    prices = pd.DataFrame(
        {"budget_id": list(run.budget_shadow_prices), "saving_per_unit": list(run.budget_shadow_prices.values())}
    )
    overruns = pd.DataFrame({"limit": list(run.plan.overruns), "overrun": list(run.plan.overruns.values())})
    coupling = pd.DataFrame(
        list(run.result.details.get("prices", [])), columns=["kind", "name", "week_start", "price"]
    ).astype({"kind": "string", "name": "string", "week_start": "string", "price": "float64"})
    return {
        COUPLING_PRICES: coupling,
        "purchase_plan": run.plan.purchases,
        "transfer_plan": run.plan.transfers,
        "projected_inventory": run.plan.inventory,
        "cost_breakdown": costs,
        "budget_shadow_prices": prices,
        "limit_overruns": overruns,
    }


def _solve_summary(run: PlanRun) -> dict[str, Any]:
    report = run.report
    return {
        "status": report.status.value,
        "termination": report.termination,
        "objective": report.objective,
        "best_bound": report.best_bound,
        "gap": report.gap,
        "method": run.result.method,
        "method_details": {k: v for k, v in run.result.details.items() if k != "prices"},
        "lp_bound": run.result.lp_bound,
        "from_rounded_start": run.result.from_start,
        "backstop_fired": report.backstop_fired,
        "columns": report.columns,
        "rows": report.rows,
        "integer_columns": report.integer_columns,
        "forecast_method": run.forecast.method,
    }


def publish_plan(outputs: Storage, run: PlanRun, inputs: ValidationReport, config: RunConfig) -> str:
    """Write the run's tables and manifest, then ``_SUCCESS``; returns the run's URI.

    Idempotent: when this run id already has ``_SUCCESS`` nothing is written again.
    """
    identifier = run_id(inputs, config)
    prefix = run_prefix(run, identifier)
    if outputs.exists(f"{prefix}/{SUCCESS}"):
        return outputs.uri_for(prefix)
    written = []
    for name, frame in _tables(run).items():
        checksum = write_table(outputs, f"{prefix}/{name}.parquet", frame)
        written.append({"table": name, "key": f"{name}.parquet", "rows": len(frame), "sha256": checksum})
    manifest = {
        "run_id": identifier,
        "as_of": run.as_of.isoformat(),
        "config_hash": config.config_hash(),
        "inputs": [asdict(t) for t in inputs.tables],
        "outputs": written,
        "solve": _solve_summary(run),
        "timings": {**run.seconds, **{f"highs_{k}": v for k, v in run.report.timings.items()}},
        "versions": _versions(),
    }
    outputs.write_bytes(f"{prefix}/manifest.json", json.dumps(manifest, indent=2, default=str).encode())
    # If an identical run finished first, its marker stands; this run's tables are the same inputs' plan.
    with contextlib.suppress(ConditionalWriteFailedError):
        outputs.write_bytes(f"{prefix}/{SUCCESS}", identifier.encode(), if_absent=True)
    return outputs.uri_for(prefix)


def previous_coupling_prices(outputs: Storage, as_of: date) -> list[dict[str, object]]:
    """The coupling prices of the latest finished run for an earlier week; [] when there is none."""
    finished = []
    for key in outputs.list_keys("plans/"):
        parts = key.split("/")
        if len(parts) == 4 and parts[3] == SUCCESS and parts[1].startswith("as_of=") and parts[2].startswith("run="):
            with contextlib.suppress(ValueError):
                week = date.fromisoformat(parts[1].removeprefix("as_of="))
                if week < as_of:
                    finished.append((week, outputs.read_bytes(key), "/".join(parts[:3])))
    # Of several finished runs for that week, the one whose marker is newest in key order is as good
    # as any: each was a complete, checked plan.
    for _, _, prefix in sorted(finished, reverse=True)[:1]:
        key = f"{prefix}/{COUPLING_PRICES}.parquet"
        if outputs.exists(key):
            frame = pd.read_parquet(io.BytesIO(outputs.read_bytes(key)))
            return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]
    return []
