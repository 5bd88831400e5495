"""Shared pieces of the publishing tests: one small solved run, and a storage that fails on cue."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from planning.config import RunConfig, parse_config
from planning.errors import StorageError
from planning.inputs import InputTable, load_input_tables
from planning.publish import SUCCESS, latest_run, read_manifest
from planning.run import PlanRun, plan_week
from planning.storage import LocalStorage, Storage
from planning.validation import TableSummary, ValidationReport
from tests.inline_tables import AS_OF, VALID_TABLES, write_tables

SOLVER = {"time_limit_s": 20, "backstop_s": 5, "threads": 1, "random_seed": 0}


def small_config(**costs: Any) -> RunConfig:
    """The test config; different ``costs`` give a different config hash, hence a different run id."""
    return parse_config({"solver": SOLVER, "costs": costs})


def checksum_report(tables: Mapping[str, InputTable], uri: str, as_of: str) -> ValidationReport:
    """A passing validation report carrying the tables' real checksums (the Great Expectations
    pass is skipped): all that publishing reads from it."""
    return ValidationReport(
        inputs_uri=uri,
        as_of=date.fromisoformat(as_of),
        tables=tuple(
            TableSummary(t.name, t.source.key, t.source.fmt, t.row_count, t.source.checksum) for t in tables.values()
        ),
        failures=(),
        rules_checked=0,
    )


def small_run(folder: Path) -> tuple[PlanRun, ValidationReport]:
    """Plan the inline tables (two SKUs, a few seconds) without the Great Expectations pass.

    The report carries the real input checksums, which is all publishing reads from it.
    """
    inputs = LocalStorage(write_tables(folder, dict(VALID_TABLES)))
    tables = load_input_tables(inputs)
    report = checksum_report(tables, inputs.uri, AS_OF)
    run = plan_week({n: t.typed for n, t in tables.items()}, date.fromisoformat(AS_OF), small_config())
    return run, report


class InjectedCrashError(BaseException):
    """A process dying mid-publish: not an Exception, so nothing gets to mark the run failed."""


class FaultyStorage:
    """Wraps a storage and fails its ``fail_at``-th mutating call (write or delete), once.

    Attributes:
        calls: Every mutating call seen, as ("write" | "delete", key).
    """

    def __init__(self, inner: Storage, fail_at: int | None = None, *, crash: bool = False) -> None:
        self.inner, self.fail_at, self.crash = inner, fail_at, crash
        self.calls: list[tuple[str, str]] = []

    def _mutating(self, op: str, key: str) -> None:
        self.calls.append((op, key))
        if self.fail_at is not None and len(self.calls) - 1 == self.fail_at:
            if self.crash:
                raise InjectedCrashError(f"crash before {op} {key}")
            raise StorageError(f"injected failure on {op} {key}")

    @property
    def uri(self) -> str:
        return self.inner.uri

    def read_bytes(self, key: str) -> bytes:
        return self.inner.read_bytes(key)

    def write_bytes(self, key: str, data: bytes, *, if_absent: bool = False) -> None:
        self._mutating("write", key)
        self.inner.write_bytes(key, data, if_absent=if_absent)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def list_keys(self, prefix: str = "") -> list[str]:
        return self.inner.list_keys(prefix)

    def delete(self, key: str) -> None:
        self._mutating("delete", key)
        self.inner.delete(key)

    def uri_for(self, key: str) -> str:
        return self.inner.uri_for(key)


def assert_run_complete(storage: Storage, prefix: str) -> dict[str, Any]:
    """The run folder has its marker and every output the manifest lists, byte for byte."""
    assert storage.exists(f"{prefix}/{SUCCESS}")
    manifest = read_manifest(storage, prefix)
    for entry in manifest["outputs"]:
        data = storage.read_bytes(f"{prefix}/{entry['key']}")
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["key"]
    return manifest


def assert_nothing_partial_is_visible(storage: Storage, as_of: date) -> None:
    """Whatever a reader can find (a pointer, a run folder with ``_SUCCESS``) is complete."""
    for pointer in (latest_run(storage), latest_run(storage, as_of)):
        if pointer is not None:
            assert_run_complete(storage, pointer.prefix)
    for key in storage.list_keys("plans/"):
        if key.endswith(f"/{SUCCESS}"):
            assert_run_complete(storage, key.rsplit("/", 1)[0])


def manifest_text(storage: Storage, prefix: str) -> str:
    return json.dumps(read_manifest(storage, prefix), sort_keys=True)
