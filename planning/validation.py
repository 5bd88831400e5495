"""Validate the input tables against their data contracts with Great Expectations (GX Core 1.x).

``validate_inputs`` runs every rule of ``data_contracts.suites`` on the supplied tables and
returns one ``ValidationReport``: each failing rule with its failing rows (table, row number,
key, value, what was expected, how to fix it). Nothing is raised here; the caller decides
(``require_valid`` raises ``InputContractError`` when any error-level rule failed).

GX costs seconds to import, so it is imported inside the validation step, not at module load.
"""

from __future__ import annotations

import html
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, cast

import pandas as pd

from data_contracts.suites import DOCS, WHERE, Rule, RuleContext, Severity, build_rules, derive_columns
from data_contracts.tables import CONTRACTS
from planning.errors import InputContractError
from planning.inputs import ROW_COLUMN, InputTable

log = logging.getLogger(__name__)

MAX_ROWS_PER_FAILURE = 25
TEXT_PREFIX = "text::"


@dataclass(frozen=True, slots=True)
class FailingRow:
    """One row that broke a rule: its data-row number (1 = first row under the header)."""

    row: int
    key: dict[str, str]
    value: str


@dataclass(frozen=True, slots=True)
class Failure:
    """One broken rule, with a sample of its failing rows and how many failed in all."""

    table: str
    rule: str
    severity: Severity
    column: str | None
    expected: str
    fix: str
    failing_count: int
    rows: tuple[FailingRow, ...] = ()

    def describe(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        count = f"{self.failing_count} row(s)" if self.failing_count else "table"
        sample = ", ".join(f"row {r.row} {_key_text(r.key)}= {r.value!r}" for r in self.rows[:3])
        more = f" e.g. {sample}" if sample else ""
        return f"[{self.severity}] {where}: expected {self.expected}; {count} failed{more}. Fix: {self.fix}"


@dataclass(frozen=True, slots=True)
class TableSummary:
    """What was read for one table."""

    table: str
    location: str
    fmt: str
    rows: int
    checksum: str


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The outcome of validating one set of inputs."""

    inputs_uri: str
    as_of: date | None
    tables: tuple[TableSummary, ...]
    failures: tuple[Failure, ...]
    rules_checked: int
    seconds: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> tuple[Failure, ...]:
        return tuple(f for f in self.failures if f.severity == "error")

    @property
    def warnings(self) -> tuple[Failure, ...]:
        return tuple(f for f in self.failures if f.severity == "warning")

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def summary_line(self) -> str:
        if self.is_valid:
            return (
                f"Inputs at {self.inputs_uri} are valid: {len(self.tables)} tables, "
                f"{self.rules_checked} rules checked, {len(self.warnings)} warning(s)."
            )
        tables = sorted({f.table for f in self.errors})
        return (
            f"Inputs at {self.inputs_uri} break {len(self.errors)} data-contract rule(s) in "
            f"{', '.join(tables)}. Correct the rows listed in the report (each entry says what was "
            f"expected and how to fix it; the table contracts are in {DOCS}) and run again. "
            "Nothing was planned or published."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.is_valid,
            "summary": self.summary_line(),
            "inputs_uri": self.inputs_uri,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "rules_checked": self.rules_checked,
            "error_count": len(self.errors),
            "warning_count": len(self.warnings),
            "seconds": round(self.seconds, 2),
            "tables": [asdict(t) for t in self.tables],
            "failures": [asdict(f) for f in self.failures],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def to_html(self) -> str:
        return render_html(self)


def _key_text(key: Mapping[str, str]) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in key.items()) + ") " if key else ""


def _cell(value: object) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return "(empty)"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def _new_context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX logs at INFO (some of its modules set their own levels) and draws progress bars per
    # metric; neither helps a planner.
    for name in [n for n in logging.root.manager.loggerDict if n.startswith("great_expectations")]:
        logging.getLogger(name).setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _run_rules(context: Any, asset_name: str, frame: pd.DataFrame, rules: list[Rule]) -> list[Any]:
    """Validate one frame against its rules in a single GX suite; results in rule order."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    if not rules:
        return []
    source = context.data_sources.add_or_update_pandas(f"source_{asset_name}")
    asset = source.add_dataframe_asset(asset_name)
    batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": frame})
    suite = gx.ExpectationSuite(name=asset_name)
    for index, rule in enumerate(rules):
        kwargs = dict(rule.kwargs)
        if rule.view == "text" and "column" in kwargs:
            kwargs["column"] = TEXT_PREFIX + kwargs["column"]
        if WHERE in kwargs:
            column, value = kwargs.pop(WHERE)
            kwargs["row_condition"] = Column(column) == value
        suite.add_expectation(getattr(gxe, rule.expectation)(**kwargs, meta={"rule_index": index}))
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    by_index = {int(r.expectation_config.meta["rule_index"]): r for r in result.results}
    return [by_index[i] for i in range(len(rules))]


def _failure_from_result(rule: Rule, result: Any, table: InputTable, frame: pd.DataFrame) -> Failure | None:
    if result.success:
        return None
    exception = (result.exception_info or {}).get("exception_message")
    if exception:
        # A rule that could not run is a defect of ours, not of the data: say so plainly.
        raise RuntimeError(f"validation rule {rule.rule_id} could not run: {exception}")
    details = result.result or {}
    indexes = list(details.get("unexpected_index_list") or [])
    count = int(details.get("unexpected_count") or len(indexes))
    rows = []
    key_columns = [k for k in table.contract.key if k in table.typed.columns]
    for index in indexes[:MAX_ROWS_PER_FAILURE]:
        label = index if not isinstance(index, dict) else index.get("index", index)
        if label not in frame.index:
            continue
        # Keys as the data owner wrote them, so an unparseable key cell still shows its text.
        key = {
            k: _cell(table.text.at[label, k] if k in table.text.columns else table.typed.at[label, k])
            for k in key_columns
        }
        if rule.column is None:
            value = ""
        elif rule.column in table.text.columns:  # the cell as written
            value = _cell(table.text.at[label, rule.column])
        else:  # an optional column the file left out: its default
            value = _cell(frame.at[label, rule.column])
        row_number = cast(int, table.typed.at[label, ROW_COLUMN])
        rows.append(FailingRow(row=int(row_number), key=key, value=value))
    return Failure(table.name, rule.rule_id, rule.severity, rule.column, rule.expected, rule.fix, count, tuple(rows))


def _structure_failures(tables: Mapping[str, InputTable], inputs_uri: str) -> list[Failure]:
    """Missing tables and columns, and columns the contract does not know."""
    failures = []
    for contract in CONTRACTS:
        table = tables.get(contract.name)
        if table is None:
            if contract.required:
                failures.append(
                    Failure(
                        contract.name,
                        f"{contract.name}.present",
                        "error",
                        None,
                        f"a file {contract.name}.csv or {contract.name}.parquet in {inputs_uri}",
                        f"export the {contract.title.lower()} to {contract.name}.csv",
                        0,
                    )
                )
            continue
        for column in table.missing_columns:
            failures.append(
                Failure(
                    contract.name,
                    f"{contract.name}.{column}.present",
                    "error",
                    column,
                    f"a column named {column} ({contract.column(column).description})",
                    f"add the column {column} to {table.source.key} (names are case-sensitive)",
                    0,
                )
            )
        for column in table.unknown_columns:
            failures.append(
                Failure(
                    contract.name,
                    f"{contract.name}.{column}.unknown",
                    "warning",
                    column,
                    f"only the columns of the contract ({', '.join(contract.column_names)})",
                    f"nothing: the column {column} is ignored; rename it if it is meant to be one of those",
                    0,
                )
            )
    return failures


def infer_as_of(tables: Mapping[str, InputTable], configured: date | None) -> date | None:
    """The plan's as-of date: configured, else the inventory snapshot date."""
    if configured is not None:
        return configured
    inventory = tables.get("inventory")
    if inventory is None:
        return None
    dates = inventory.typed["as_of_date"].dropna()
    return None if dates.empty else dates.max().date()


def validate_inputs(
    tables: Mapping[str, InputTable],
    *,
    inputs_uri: str,
    as_of: date | None = None,
    open_order_max_days_late: int = 28,
    horizon_weeks: int | None = None,
) -> ValidationReport:
    """Check every supplied table against its contract and the cross-table rules."""
    started = time.perf_counter()
    as_of = infer_as_of(tables, as_of)
    typed = {name: t.typed for name, t in tables.items()}
    ctx = RuleContext(
        as_of=as_of, open_order_max_days_late=open_order_max_days_late, frames=typed, horizon_weeks=horizon_weeks
    )
    derived = derive_columns(typed, ctx)
    rules = build_rules({name: set(t.text.columns) for name, t in tables.items()}, ctx)
    failures = _structure_failures(tables, inputs_uri)
    context = _new_context()
    checked = 0
    for name, table in tables.items():
        table_rules = rules[name]
        checked += len(table_rules)
        # One GX run per table over the typed columns plus the text columns under a prefix:
        # each GX validate call has a fixed cost that dominates on small tables.
        frame = pd.concat([derived[name], table.text.add_prefix(TEXT_PREFIX)], axis=1)
        for rule, result in zip(table_rules, _run_rules(context, name, frame, table_rules), strict=True):
            failure = _failure_from_result(rule, result, table, frame)
            if failure is not None:
                failures.append(failure)
    summaries = tuple(
        TableSummary(t.name, t.source.key, t.source.fmt, t.row_count, t.source.checksum) for t in tables.values()
    )
    order = {c.name: i for i, c in enumerate(CONTRACTS)}
    failures.sort(key=lambda f: (f.severity != "error", order[f.table]))
    return ValidationReport(
        inputs_uri=inputs_uri,
        as_of=as_of,
        tables=summaries,
        failures=tuple(failures),
        rules_checked=checked,
        seconds=time.perf_counter() - started,
    )


def require_valid(report: ValidationReport, report_location: str | None = None) -> None:
    """Raise ``InputContractError`` when any error-level rule failed."""
    if not report.is_valid:
        raise InputContractError(report, report_location)


def render_html(report: ValidationReport) -> str:
    """A self-contained page a data owner can read: one section per failing rule."""
    esc = html.escape
    status = "valid" if report.is_valid else "invalid"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>buyplan input validation</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.2em .5em}"
        ".error{color:#a00}.warning{color:#a60}.valid{color:#070}</style></head><body>",
        f"<h1>Input validation: <span class='{status}'>{status}</span></h1>",
        f"<p>{esc(report.summary_line())}</p>",
        f"<p>As-of date: {esc(str(report.as_of))}. Rules checked: {report.rules_checked}.</p>",
        "<h2>Tables read</h2><table><tr><th>table</th><th>file</th><th>rows</th><th>sha256</th></tr>",
    ]
    for t in report.tables:
        parts.append(
            f"<tr><td>{esc(t.table)}</td><td>{esc(t.location)}</td><td>{t.rows}</td><td>{esc(t.checksum[:12])}</td></tr>"
        )
    parts.append("</table>")
    for severity, failures in (("error", report.errors), ("warning", report.warnings)):
        if not failures:
            continue
        parts.append(f"<h2 class='{severity}'>{len(failures)} {severity}(s)</h2>")
        for f in failures:
            where = f"{f.table}.{f.column}" if f.column else f.table
            parts.append(
                f"<h3 class='{severity}'>{esc(where)} <small>({esc(f.rule)})</small></h3>"
                f"<p><b>Expected:</b> {esc(f.expected)}<br><b>Fix:</b> {esc(f.fix)}<br>"
                f"<b>Failing rows:</b> {f.failing_count or 'whole table'}</p>"
            )
            if f.rows:
                parts.append("<table><tr><th>row</th><th>key</th><th>value</th></tr>")
                for r in f.rows:
                    parts.append(f"<tr><td>{r.row}</td><td>{esc(_key_text(r.key))}</td><td>{esc(r.value)}</td></tr>")
                if f.failing_count > len(f.rows):
                    parts.append(f"<tr><td colspan=3>… and {f.failing_count - len(f.rows)} more</td></tr>")
                parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
