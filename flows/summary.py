"""The weekly run's summary as plain values, and its renderings for Prefect artifacts.

Pure functions only (no Prefect, no storage): the flow reads what it needs and calls these, and
tests call them directly. A planner reads the markdown; the table carries the same figures one
measure a row, so runs can be compared side by side in the Prefect UI.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from planning.run import PlanRun
from planning.solve import PlanStatus
from planning.validation import ValidationReport

# Statuses that publish the best plan found when a limit stopped the solver, not a proven optimum.
STOPPED_BY_LIMIT = frozenset(
    {PlanStatus.TIME_LIMIT_WITH_PLAN, PlanStatus.BACKSTOP_WITH_PLAN, PlanStatus.LIMIT_WITH_PLAN}
)
MAX_FAILURES_SHOWN = 20


class RunSummary(BaseModel):
    """What one weekly run produced and where to find it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: date
    status: str
    stopped_by_limit: bool
    objective: float | None
    gap: float | None
    currency: str
    purchase_lines: int
    purchase_value: float
    spend: float | None = None
    budget: float | None = None
    budget_overrun: float | None = None
    binding_budgets: int | None = None
    fill_rate: float | None = None
    exceptions: int | None = None
    high_exceptions: int | None = None
    last_week_note: str | None = None  # plan against actual: what was compared, or why nothing was
    last_week_fill_rate: float | None = None  # actual fill rate of the week just ended (sales / demand)
    last_week_planned_fill_rate: float | None = None  # what the previous run projected for it
    variance_exceptions: int | None = None
    run_id: str
    plan_uri: str
    report_uri: str
    validation_report_uri: str
    latest: bool


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def _budget_figures(usage: pd.DataFrame | None) -> dict[str, Any]:
    """Spend and limit of the budgets that cover every category and supplier (the cash budget)."""
    if usage is None or usage.empty:
        return {}
    overall = usage[(usage["category"] == "all") & (usage["supplier"] == "all")]
    return {
        "spend": float(overall["spend"].sum()) if not overall.empty else None,
        "budget": float(overall["limit"].sum()) if not overall.empty else None,
        "budget_overrun": float(usage["overrun"].sum()),
        "binding_budgets": int(usage["binding"].astype(bool).sum()),
    }


def _fill_rate(metrics: pd.DataFrame | None) -> float | None:
    if metrics is None or metrics.empty:
        return None
    overall = metrics[metrics["level"] == "overall"]
    return None if overall.empty else _number(overall["fill_rate"].iloc[0])


def _exception_counts(exceptions: pd.DataFrame | None) -> dict[str, Any]:
    if exceptions is None:
        return {}
    return {"exceptions": len(exceptions), "high_exceptions": int((exceptions["severity"] == "high").sum())}


def _last_week(run: PlanRun, table: pd.DataFrame | None, exceptions: pd.DataFrame | None) -> dict[str, Any]:
    """Plan against actual: the week just ended's fill rate, actual and planned, over all points."""
    record = run.plan_vs_actual
    found: dict[str, Any] = {"last_week_note": record.note if record is not None else None}
    if exceptions is not None:
        found["variance_exceptions"] = int(exceptions["exception"].str.endswith("_variance").sum())
    if table is None or table.empty:
        return found
    demand, projected = float(table["actual_demand"].sum()), float(table["projected_demand"].sum())
    found["last_week_fill_rate"] = float(table["actual_sales"].sum()) / demand if demand > 0 else None
    found["last_week_planned_fill_rate"] = float(table["projected_sales"].sum()) / projected if projected > 0 else None
    return found


def build_summary(
    run: PlanRun,
    *,
    run_id: str,
    plan_uri: str,
    validation_report_uri: str,
    latest: bool,
    tables: Mapping[str, pd.DataFrame],
) -> RunSummary:
    """The run's summary from the plan in memory and the published tables that were read back.

    Args:
        run: The checked plan run.
        run_id: The published run id.
        plan_uri: URI of the published run folder.
        validation_report_uri: URI of the inputs' validation report (HTML).
        latest: Whether the run became the latest plan.
        tables: Published tables by name; ``metrics``, ``budget_usage``, ``exceptions`` and
            ``plan_vs_actual`` are used when present, and their figures are left empty when not.
    """
    report = run.report
    purchases = run.plan.purchases
    return RunSummary(
        as_of=run.as_of,
        status=report.status.value,
        stopped_by_limit=report.status in STOPPED_BY_LIMIT,
        objective=_number(report.objective),
        gap=_number(report.gap),
        currency=run.problem.currency,
        purchase_lines=len(purchases),
        purchase_value=float(purchases["line_value"].sum()) if len(purchases) else 0.0,
        **_budget_figures(tables.get("budget_usage")),
        fill_rate=_fill_rate(tables.get("metrics")),
        **_exception_counts(tables.get("exceptions")),
        **_last_week(run, tables.get("plan_vs_actual"), tables.get("exceptions")),
        run_id=run_id,
        plan_uri=plan_uri,
        report_uri=f"{plan_uri.rstrip('/')}/report.html",
        validation_report_uri=validation_report_uri,
        latest=latest,
    )


def _money(value: float | None, currency: str) -> str:
    return "n/a" if value is None else f"{value:,.0f} {currency}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _count(value: int | None) -> str:
    return "n/a" if value is None else str(value)


def summary_rows(summary: RunSummary) -> list[dict[str, str]]:
    """The summary as table rows: one measure each, values formatted for reading."""
    s = summary
    spend = _money(s.spend, s.currency)
    if s.budget is not None:
        spend = f"{spend} of {_money(s.budget, s.currency)}"
    exceptions = _count(s.exceptions)
    if s.high_exceptions:
        exceptions = f"{exceptions} ({s.high_exceptions} high)"
    rows = [
        ("week of", s.as_of.isoformat()),
        ("solver status", s.status + (" (best plan at the limit)" if s.stopped_by_limit else "")),
        ("gap", _share(s.gap)),
        ("objective", _money(s.objective, s.currency)),
        ("purchase lines", f"{s.purchase_lines} worth {_money(s.purchase_value, s.currency)}"),
        ("spend vs budget", spend),
        ("budget overrun", _money(s.budget_overrun, s.currency)),
        ("binding budgets", _count(s.binding_budgets)),
        ("planned fill rate", _share(s.fill_rate)),
        ("exceptions", exceptions),
        (
            "last week: fill rate actual vs planned",
            f"{_share(s.last_week_fill_rate)} vs {_share(s.last_week_planned_fill_rate)}",
        ),
        ("last week: variance exceptions", _count(s.variance_exceptions)),
        ("last week compared", s.last_week_note or "n/a"),
        ("latest plan", "yes" if s.latest else "no: a newer run for this week is the latest"),
        ("plan files", s.plan_uri),
        ("plan report", s.report_uri),
        ("validation report", s.validation_report_uri),
    ]
    return [{"measure": measure, "value": value} for measure, value in rows]


def summary_markdown(summary: RunSummary) -> str:
    """The summary as a markdown page for the flow run's artifacts."""
    s = summary
    lines = [f"# Buy plan for the week of {s.as_of.isoformat()}: {s.status}", ""]
    if s.stopped_by_limit:
        lines += [
            f"> **The solver stopped at its limit.** This is the best plan it found (gap {_share(s.gap)}), "
            "published and flagged as such; raise `solver.time_limit_s` for a tighter plan.",
            "",
        ]
    lines += ["| measure | value |", "|---|---|"]
    lines += [f"| {row['measure']} | {row['value']} |" for row in summary_rows(s)]
    return "\n".join(lines) + "\n"


def failure_rows(report: ValidationReport) -> list[dict[str, Any]]:
    """One row per broken data-contract rule, errors first."""
    return [
        {
            "severity": f.severity,
            "table": f.table,
            "column": f.column or "",
            "rule": f.rule,
            "failing_rows": f.failing_count,
            "expected": f.expected,
            "fix": f.fix,
        }
        for f in report.failures
    ]


def rejection_markdown(report: ValidationReport, report_uri: str | None) -> str:
    """Why the inputs were rejected, for the flow run's artifacts."""
    errors = report.errors
    lines = [
        f"# Inputs rejected: {len(errors)} data-contract rule(s) broken",
        "",
        report.summary_line(),
        "",
        f"Full report: {report_uri or 'not written'}",
        "",
    ]
    lines += [f"- {failure.describe()}" for failure in errors[:MAX_FAILURES_SHOWN]]
    if len(errors) > MAX_FAILURES_SHOWN:
        lines.append(f"- ... and {len(errors) - MAX_FAILURES_SHOWN} more in the report")
    return "\n".join(lines) + "\n"
