"""Publish a backtest like a plan run: Parquet tables and an HTML report, atomically.

    backtests/start=YYYY-MM-DD/run=<run id>/   outcomes, tuning, frontier, comparison, weekly,
                                               stock, purchases, transfers, forecast_actual
                                               (Parquet), report.html,
                                               manifest.json, then _SUCCESS (or _FAILED)

The run folder is written by the plan publisher's own ``planning.publish.write_run``: every
file, the manifest (rows, bytes and SHA-256 of each) last, a read-back check, then the
``_SUCCESS`` marker with a conditional create; a reader trusts a folder only with ``_SUCCESS``.
The run id hashes the inputs, the configuration and the backtest settings, so a rerun of the
same backtest rewrites the same keys. Backtests live apart from ``plans/`` and never move the
plans' "latest" pointers.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from planning.backtest.engine import BacktestResult
from planning.backtest.report import render_backtest_report
from planning.backtest.settings import BacktestSettings
from planning.config import RunConfig
from planning.publish import versions, write_run
from planning.storage import Storage

PREFIX = "backtests"


@dataclass(frozen=True, slots=True)
class PublishedBacktest:
    run_id: str
    prefix: str
    uri: str


def inputs_digest(tables: Mapping[str, pd.DataFrame]) -> str:
    """Content hash of the typed input tables (row hashes, in table-name order)."""
    digest = hashlib.sha256()
    for name in sorted(tables):
        frame = tables[name]
        digest.update(name.encode())
        digest.update(pd.util.hash_pandas_object(frame.astype("string"), index=False).to_numpy().tobytes())
    return digest.hexdigest()


def backtest_run_id(digest: str, config: RunConfig, settings: BacktestSettings) -> str:
    payload = f"{digest}:{config.config_hash()}:{settings.model_dump_json()}"
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def result_tables(result: BacktestResult) -> dict[str, pd.DataFrame]:
    """The published tables; per-run frames carry a ``policy`` column."""

    def stacked(attribute: str) -> pd.DataFrame:
        frames = [getattr(run, attribute).assign(policy=name) for name, run in result.runs.items()]
        frame = pd.concat(frames, ignore_index=True)
        return frame[["policy", *[c for c in frame.columns if c != "policy"]]]

    return {
        "outcomes": result.outcomes,
        "outcomes_full_window": result.outcomes_full_window,
        "tuning": result.tuning,
        "frontier": result.frontier,
        "comparison": result.comparison,
        "weekly": result.weekly,
        "stock": stacked("stock"),
        "purchases": stacked("purchases"),
        "transfers": stacked("transfers"),
        "forecast_actual": result.forecast_actual,
    }


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def publish_backtest(
    storage: Storage,
    result: BacktestResult,
    config: RunConfig,
    settings: BacktestSettings,
    digest: str,
    notes: Mapping[str, str] | None = None,
) -> PublishedBacktest:
    """Write the backtest's run folder (module docstring); returns where it is.

    Raises:
        PublishError: A write or the read-back failed (``_FAILED`` is left in the folder).
    """
    run_id = backtest_run_id(digest, config, settings)
    prefix = f"{PREFIX}/start={result.start.isoformat()}/run={run_id}"
    tables = result_tables(result)
    files = {f"{name}.parquet": _parquet(frame) for name, frame in tables.items()}
    facts = {
        "window": f"{result.weeks} weeks from {result.start}",
        "config hash": config.config_hash(),
        **(notes or {}),
    }
    files["report.html"] = render_backtest_report(result, run_id, facts)
    outputs: list[dict[str, Any]] = [
        {
            "table": key.rsplit(".", 1)[0],
            "key": key,
            "rows": len(tables[key.rsplit(".", 1)[0]]) if key.endswith(".parquet") else None,
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        for key, data in sorted(files.items())
    ]
    manifest = {
        "run_id": run_id,
        "kind": "backtest",
        "start": result.start.isoformat(),
        "weeks": result.weeks,
        "inputs_sha256": digest,
        "config_hash": config.config_hash(),
        "settings": json.loads(settings.model_dump_json()),
        "outputs": outputs,
        "timings": result.seconds,
        "clairvoyant_solve": result.clairvoyant_solve,
        "versions": versions(),
    }
    write_run(storage, prefix, files, manifest)
    return PublishedBacktest(run_id, prefix, storage.uri_for(prefix))
