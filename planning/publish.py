"""Publish a checked plan atomically: run folder, manifest last, success marker, then "latest".

Layout (keys below the output storage)::

    plans/as_of=YYYY-MM-DD/run=<run id>/   tables (Parquet), erp/*.csv, report.html,
                                           manifest.json, then _SUCCESS (or _FAILED)
    plans/_latest/weeks/as_of=YYYY-MM-DD/<generation>.json   the week's pointer log
    plans/_latest/all/<generation>.json                      the overall pointer log

The protocol:

1. Every table and file is built and checked against its contract in memory first
   (``planning.outputs``); a broken table fails the run before anything is written.
2. The objects go under the run-scoped prefix, ``manifest.json`` last (each output with its
   rows and SHA-256), then every object is read back and compared with the manifest, then
   ``_SUCCESS`` is created with a conditional create. A reader trusts a run folder only with
   ``_SUCCESS``, so it never sees a half-written run. If a write fails, ``_FAILED`` (the error)
   is written and ``PublishError`` raised; nothing is deleted, because a retry of the same run
   id may be writing the same keys concurrently. The run id is derived from the input
   checksums and the config hash, so a rerun of the same inputs rewrites the same keys and
   completes the run; a finished run is never written twice.
3. Only then does "latest" move. Each pointer log is a sequence of generations, each created
   with a conditional create (``If-None-Match: *`` on S3, a hard link locally), so exactly one
   writer creates each generation. A run claims generation g+1 of its week, where g is the
   generation it saw *before it started planning*: if another run for the same week claimed a
   generation meanwhile, this run loses (``LatestPointerConflictError``) and stays complete but
   not latest; two racing runs can never both become latest. The overall log only moves
   forward in (as-of week, week generation), retrying on conflicts with runs of other weeks,
   so an older week's run never displaces a newer week's plan.

``planning/storage.py`` offers conditional create only (no ``If-Match``), which is all this
needs: a log of create-once generations is a compare-and-swap register.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import platform
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from importlib import metadata
from typing import Any

import pandas as pd

from planning.config import RunConfig
from planning.errors import PublishError, StorageError
from planning.outputs import REPORT, PlanOutputs, PreviousPlan, build_outputs
from planning.plan_vs_actual import PublishedWeek
from planning.publish_settings import PublishSettings
from planning.run import PlanRun
from planning.storage import ConditionalWriteFailedError, ObjectNotFoundError, Storage
from planning.validation import ValidationReport

log = logging.getLogger(__name__)

SUCCESS = "_SUCCESS"
FAILED = "_FAILED"
MANIFEST = "manifest.json"
LATEST = "plans/_latest"
# Dual prices of the rows that couple SKUs in the column-generation master (block method).
COUPLING_PRICES = "coupling_prices"
LIBRARIES = (
    "buyplan",
    "pyomo",
    "highspy",
    "pandas",
    "pyarrow",
    "great-expectations",
    "boto3",
    "matplotlib",
)


class LatestPointerConflictError(PublishError):
    """Another run for the same week became the latest plan while this one was planning."""


@dataclass(frozen=True, slots=True)
class Pointer:
    """One generation of a pointer log: which run folder is the latest plan."""

    generation: int
    run_id: str
    as_of: date
    prefix: str
    week_generation: int

    def payload(self) -> bytes:
        # Deterministic bytes: a conditional create whose response was lost is recognised by content.
        data = {**asdict(self), "as_of": self.as_of.isoformat()}
        return json.dumps(data, sort_keys=True).encode()

    @classmethod
    def parse(cls, data: bytes) -> Pointer:
        raw = json.loads(data)
        return cls(**{**raw, "as_of": date.fromisoformat(raw["as_of"])})


@dataclass(frozen=True, slots=True)
class PublishResult:
    """Where a run was published and whether it is the latest plan."""

    run_id: str
    prefix: str
    uri: str
    week_generation: int
    latest_overall: bool
    written: bool  # False when the run folder was already complete (an idempotent rerun)


def run_id(inputs: ValidationReport, config: RunConfig, earlier_runs: tuple[str, ...] = ()) -> str:
    """Deterministic run id: the same inputs and configuration give the same id.

    ``earlier_runs``: the published runs whose projections the run compared with actuals and
    whose realised errors fed its safety stock; the plan depends on them, so the id does too
    (none, as before this feedback existed, leaves the id unchanged).
    """
    digest = hashlib.sha256(config.config_hash().encode())
    for table in sorted(inputs.tables, key=lambda t: t.table):
        digest.update(f"{table.table}:{table.checksum}".encode())
    for earlier in earlier_runs:
        digest.update(f"earlier:{earlier}".encode())
    return digest.hexdigest()[:12]


def run_prefix(as_of: date, identifier: str) -> str:
    return f"plans/as_of={as_of.isoformat()}/run={identifier}"


def _week_log(as_of: date) -> str:
    return f"{LATEST}/weeks/as_of={as_of.isoformat()}/"


def _overall_log() -> str:
    return f"{LATEST}/all/"


def _generation_key(log_prefix: str, generation: int) -> str:
    return f"{log_prefix}{generation:09d}.json"


def _log_keys(storage: Storage, log_prefix: str) -> list[tuple[int, str]]:
    """(generation, key) of every pointer in a log, oldest first; read from the listing alone."""
    found = []
    for key in storage.list_keys(log_prefix):
        name = key.removeprefix(log_prefix)
        if name.endswith(".json") and name[:-5].isdigit():
            found.append((int(name[:-5]), key))
    return sorted(found)


def _read_log(storage: Storage, log_prefix: str) -> list[Pointer]:
    return [Pointer.parse(storage.read_bytes(key)) for _, key in _log_keys(storage, log_prefix)]


def _head(storage: Storage, log_prefix: str) -> Pointer | None:
    """The newest pointer of a log (one read, however long the log grows)."""
    keys = _log_keys(storage, log_prefix)
    return Pointer.parse(storage.read_bytes(keys[-1][1])) if keys else None


def week_generation(storage: Storage, as_of: date) -> int:
    """The latest generation of the week's pointer log (0 before the first publish)."""
    keys = _log_keys(storage, _week_log(as_of))
    return keys[-1][0] if keys else 0


def latest_run(storage: Storage, as_of: date | None = None) -> Pointer | None:
    """The latest published run overall, or of the week starting ``as_of``; None if there is none."""
    head = _head(storage, _overall_log() if as_of is None else _week_log(as_of))
    if head is None:
        return None
    if not storage.exists(f"{head.prefix}/{SUCCESS}"):  # never the case by protocol; refuse rather than guess
        raise PublishError(
            f"the latest pointer names {head.prefix}, which has no {SUCCESS}: storage was edited by hand"
        )
    return head


def read_manifest(storage: Storage, prefix: str) -> dict[str, Any]:
    """The manifest of a run folder."""
    manifest: dict[str, Any] = json.loads(storage.read_bytes(f"{prefix}/{MANIFEST}"))
    return manifest


def read_run_table(storage: Storage, prefix: str, name: str) -> pd.DataFrame:
    """One published table of a run folder."""
    return pd.read_parquet(io.BytesIO(storage.read_bytes(f"{prefix}/{name}.parquet")))


def _latest_or_fail(storage: Storage, as_of: date | None) -> Pointer:
    pointer = latest_run(storage, as_of)
    if pointer is None:
        week = f" for the week of {as_of}" if as_of else ""
        raise PublishError(f"no published plan{week} in {storage.uri}: run `buyplan plan` first")
    return pointer


def erp_exports(storage: Storage, as_of: date | None = None) -> dict[str, bytes]:
    """The latest published run's ERP files (``erp/<file>.csv`` -> bytes), overall or of one week.

    Raises:
        PublishError: Nothing is published yet.
    """
    pointer = _latest_or_fail(storage, as_of)
    keys = storage.list_keys(f"{pointer.prefix}/erp/")
    return {key.removeprefix(f"{pointer.prefix}/"): storage.read_bytes(key) for key in keys}


def plan_report(storage: Storage, as_of: date | None = None) -> tuple[str, bytes]:
    """The latest published run's HTML report: (its URI, the page).

    Raises:
        PublishError: Nothing is published yet.
    """
    pointer = _latest_or_fail(storage, as_of)
    key = f"{pointer.prefix}/{REPORT}"
    return storage.uri_for(key), storage.read_bytes(key)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def solve_summary(run: PlanRun) -> dict[str, Any]:
    """Solver status, objective, bound, gap and how the plan was found."""
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


def _manifest(
    identifier: str, run: PlanRun, inputs: ValidationReport, config: RunConfig, outputs: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "run_id": identifier,
        "as_of": run.as_of.isoformat(),
        "config_hash": config.config_hash(),
        "inputs": [asdict(t) for t in inputs.tables],
        "outputs": outputs,
        "solve": solve_summary(run),
        "timings": {**run.seconds, **{f"highs_{k}": v for k, v in run.report.timings.items()}},
        "versions": versions(),
        "plan_vs_actual": (
            run.plan_vs_actual.manifest_entry()
            if run.plan_vs_actual is not None
            else {"note": "not compared: the run was planned without the previous runs' projections"}
        ),
    }


def _output_entries(built: PlanOutputs, files: dict[str, bytes]) -> list[dict[str, Any]]:
    entries = []
    for key, data in sorted(files.items()):
        name = key.rsplit(".", 1)[0]
        frame = built.tables.get(name)
        rows = len(frame) if frame is not None else max(0, data.count(b"\n") - 1) if key.endswith(".csv") else None
        entries.append(
            {"table": name, "key": key, "rows": rows, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        )
    return entries


def write_run(storage: Storage, prefix: str, files: dict[str, bytes], manifest: dict[str, Any]) -> None:
    """Write a run folder: the files, the manifest, a read-back check, then ``_SUCCESS``.

    Raises:
        PublishError: A write or the read-back failed; ``_FAILED`` is left in the folder when
            the storage still accepts it. Rerunning the same inputs and config completes the run.
    """
    try:
        for key, data in sorted(files.items()):
            storage.write_bytes(f"{prefix}/{key}", data)
        storage.write_bytes(f"{prefix}/{MANIFEST}", json.dumps(manifest, indent=2, default=str).encode())
        for entry in manifest["outputs"]:
            stored = hashlib.sha256(storage.read_bytes(f"{prefix}/{entry['key']}")).hexdigest()
            if stored != entry["sha256"]:
                raise PublishError(f"{storage.uri_for(prefix)}/{entry['key']} changed while publishing")
        # A crash between these two leaves neither marker: an unfinished run, as it should read.
        storage.delete(f"{prefix}/{FAILED}")
        # If an identical run finished first, its marker stands; its outputs are the same plan's.
        with contextlib.suppress(ConditionalWriteFailedError):
            storage.write_bytes(f"{prefix}/{SUCCESS}", manifest["run_id"].encode(), if_absent=True)
    except (StorageError, PublishError) as error:
        with contextlib.suppress(StorageError):  # best effort: the storage may be what failed
            storage.write_bytes(f"{prefix}/{FAILED}", f"{type(error).__name__}: {error}\n".encode())
        raise PublishError(
            f"publishing {storage.uri_for(prefix)} failed and nothing was marked as the latest plan ({error}). "
            "Rerun with the same inputs and configuration: the run id is the same and the rerun completes it."
        ) from error


def _append(storage: Storage, log_prefix: str, pointer: Pointer) -> bool:
    """Create the pointer's generation; True if this call (or a lost response of it) created it."""
    key = _generation_key(log_prefix, pointer.generation)
    try:
        storage.write_bytes(key, pointer.payload(), if_absent=True)
    except ConditionalWriteFailedError:
        with contextlib.suppress(ObjectNotFoundError):
            return storage.read_bytes(key) == pointer.payload()
        return False
    return True


def claim_week(storage: Storage, as_of: date, identifier: str, prefix: str, observed: int) -> int:
    """Make the run the week's latest plan; returns its week generation.

    A run already in the week's log keeps its generation (an idempotent rerun claims nothing).

    Raises:
        LatestPointerConflictError: Another run for the week claimed a generation after ``observed``.
    """
    log_prefix = _week_log(as_of)
    pointers = _read_log(storage, log_prefix)
    mine = [p.generation for p in pointers if p.run_id == identifier]
    if mine:
        return max(mine)
    head = pointers[-1] if pointers else None
    pointer = Pointer(observed + 1, identifier, as_of, prefix, observed + 1)
    if (head is None or head.generation == observed) and _append(storage, log_prefix, pointer):
        return pointer.generation
    winner = _head(storage, log_prefix) or pointer
    raise LatestPointerConflictError(
        f"run {winner.run_id} became the latest plan for the week of {as_of} while run {identifier} was planning; "
        f"{storage.uri_for(prefix)} is complete but not the latest. Rerun to make it the latest plan."
    )


def claim_overall(storage: Storage, pointer: Pointer, attempts: int) -> bool:
    """Move the overall latest pointer to ``pointer``'s run unless a newer plan holds it.

    Returns whether the run is the overall latest plan afterwards.
    """
    log_prefix = _overall_log()
    for _ in range(attempts):
        head = _head(storage, log_prefix)
        if head is not None and (head.as_of, head.week_generation) >= (pointer.as_of, pointer.week_generation):
            return (head.run_id, head.as_of) == (pointer.run_id, pointer.as_of)
        candidate = replace(pointer, generation=(head.generation if head else 0) + 1)
        if _append(storage, log_prefix, candidate):
            return True
        # Another week's run appended first: look again at who holds the pointer now.
    raise PublishError(f"the overall latest pointer kept moving: gave up after {attempts} attempts; rerun to retry")


def _published_week_starts(storage: Storage) -> set[date]:
    """Mondays that have a week pointer log."""
    weeks = set()
    for key in storage.list_keys(f"{LATEST}/weeks/"):
        folder = key.removeprefix(f"{LATEST}/weeks/").split("/")[0]
        with contextlib.suppress(ValueError):
            weeks.add(date.fromisoformat(folder.removeprefix("as_of=")))
    return weeks


def published_weeks(storage: Storage, as_of: date, weeks: int) -> list[PublishedWeek]:
    """The latest run of each of the ``weeks`` weeks before ``as_of`` that has one, oldest first,
    with its projected inventory (what ``planning.plan_vs_actual`` compares with the actuals)."""
    found = []
    for week in sorted(w for w in _published_week_starts(storage) if as_of - timedelta(weeks=weeks) <= w < as_of):
        head = latest_run(storage, week)
        if head is not None:
            inventory = read_run_table(storage, head.prefix, "projected_inventory")
            found.append(PublishedWeek(head.run_id, head.as_of, inventory))
    return found


def previous_plan(storage: Storage, as_of: date, identifier: str) -> PreviousPlan | None:
    """The plan to diff against: this week's latest run if it is another run, else the latest
    run of the most recent earlier week; None before the first publish."""
    for week in sorted((w for w in _published_week_starts(storage) if w <= as_of), reverse=True):
        head = latest_run(storage, week)
        if head is not None and head.run_id != identifier:
            return PreviousPlan(
                run_id=head.run_id,
                as_of=head.as_of,
                purchases=read_run_table(storage, head.prefix, "purchase_plan"),
                inventory=read_run_table(storage, head.prefix, "projected_inventory"),
            )
    return None


def publish_plan(
    outputs: Storage,
    run: PlanRun,
    inputs: ValidationReport,
    config: RunConfig,
    *,
    settings: PublishSettings | None = None,
    observed_generation: int | None = None,
) -> PublishResult:
    """Publish the run's folder (unless already complete), then move the latest pointers.

    Args:
        outputs: The output storage.
        run: The checked plan run.
        inputs: The validation report of the run's inputs (checksums, row counts).
        config: The run configuration (its hash is part of the run id).
        settings: Publishing settings; defaults when None.
        observed_generation: The week's pointer generation seen before planning started
            (``week_generation``); None reads it now, which narrows the race window to the
            publish itself.

    Raises:
        PublishError: A write failed (the run is marked ``_FAILED``; rerun to complete it).
        LatestPointerConflictError: Another run for the week became latest meanwhile.
    """
    settings = settings or PublishSettings()
    identifier = run_id(inputs, config, run.plan_vs_actual.earlier_runs if run.plan_vs_actual is not None else ())
    prefix = run_prefix(run.as_of, identifier)
    observed = week_generation(outputs, run.as_of) if observed_generation is None else observed_generation
    written = not outputs.exists(f"{prefix}/{SUCCESS}")
    if written:
        summary = solve_summary(run)
        built = build_outputs(
            run, identifier, previous_plan(outputs, run.as_of, identifier), settings.exceptions, summary
        )
        files = built.rendered
        write_run(outputs, prefix, files, _manifest(identifier, run, inputs, config, _output_entries(built, files)))
    try:
        generation = claim_week(outputs, run.as_of, identifier, prefix, observed)
        overall = claim_overall(
            outputs, Pointer(0, identifier, run.as_of, prefix, generation), settings.latest_attempts
        )
    except StorageError as error:
        raise PublishError(
            f"{outputs.uri_for(prefix)} is complete, but the latest pointers could not be moved ({error}); "
            "rerun with the same inputs and configuration to finish"
        ) from error
    return PublishResult(identifier, prefix, outputs.uri_for(prefix), generation, overall, written)


def _previous_finished_run(outputs: Storage, as_of: date) -> str | None:
    """Prefix of the latest finished run for a week before ``as_of``; None when there is none."""
    finished = []
    for key in outputs.list_keys("plans/"):
        parts = key.split("/")
        if len(parts) == 4 and parts[3] == SUCCESS and parts[1].startswith("as_of=") and parts[2].startswith("run="):
            with contextlib.suppress(ValueError):
                week = date.fromisoformat(parts[1].removeprefix("as_of="))
                if week < as_of:
                    finished.append((week, "/".join(parts[:3])))
    # Of several finished runs for that week, the last in key order is as good as any: each was a
    # complete, checked plan (the marker's existence is what counts, not its content).
    return max(finished)[1] if finished else None


def previous_plan_tables(outputs: Storage, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """``purchase_plan`` and ``transfer_plan`` of the latest finished run for an earlier week (the
    warm start of ``planning.warm_start``); None when there is none."""
    prefix = _previous_finished_run(outputs, as_of)
    if prefix is None:
        return None
    return read_run_table(outputs, prefix, "purchase_plan"), read_run_table(outputs, prefix, "transfer_plan")
