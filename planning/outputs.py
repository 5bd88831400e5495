"""A checked plan run -> every published table and file, in memory, before any write.

Building everything first keeps publishing a pure write protocol (``planning.publish``): a
table that breaks its contract (``data_contracts.outputs``) fails the run before the first
byte is written, and a retried publish writes exactly the same bytes.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

# pyarrow ships no type information.
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from data_contracts.outputs import OUTPUTS_BY_NAME, to_arrow
from planning.checks import check_outputs
from planning.erp import erp_files
from planning.errors import PlanCheckError
from planning.explain import coverage, full_capacity, reasons
from planning.forecast.spread import quantile_table
from planning.metrics import budget_usage, cash_by_week, cash_payments, plan_metrics, weeks_of_supply
from planning.plan_diff import COLUMNS as DIFF_COLUMNS
from planning.plan_diff import plan_diff
from planning.plan_exceptions import ExceptionSettings, plan_exceptions
from planning.plan_report import ReportInputs, render_report
from planning.plan_vs_actual import empty_table as empty_plan_vs_actual

if TYPE_CHECKING:
    from planning.run import PlanRun

REPORT = "report.html"


@dataclass(frozen=True, slots=True, eq=False)
class PreviousPlan:
    """The purchase plan and projected inventory of the run published before this one."""

    run_id: str
    as_of: date
    purchases: pd.DataFrame
    inventory: pd.DataFrame


# No slots: cached_property needs an instance __dict__.
@dataclass(frozen=True, eq=False)
class PlanOutputs:
    """Published tables by contract name, and the other files by key inside the run folder."""

    tables: dict[str, pd.DataFrame]
    files: dict[str, bytes] = field(default_factory=dict)

    @functools.cached_property
    def rendered(self) -> dict[str, bytes]:
        """Every object of the run folder except manifest and markers: key -> bytes.

        Rendered once: a retried publish of the same outputs writes exactly the same bytes.
        """
        parquet = {f"{name}.parquet": parquet_bytes(frame, name) for name, frame in self.tables.items()}
        return {**parquet, **self.files}


def parquet_bytes(frame: pd.DataFrame, name: str) -> bytes:
    """The frame as Parquet with the contract's exact schema."""
    buffer = io.BytesIO()
    pq.write_table(to_arrow(frame, OUTPUTS_BY_NAME[name]), buffer)
    return buffer.getvalue()


def purchase_plan(run: PlanRun, binding_budgets: set[str]) -> pd.DataFrame:
    """The published purchase lines: plan lines with arrival week, cases, coverage and reason."""
    problem, lines = run.problem, run.plan.purchases.copy()
    lines["arrival_week"] = _arrival_weeks(run)
    lines["cases"] = lines["quantity"] / lines["case_pack"]
    lines = lines.join(coverage(lines, run.plan.inventory, len(problem.week_starts)))
    lines["reason"] = reasons(lines, run.plan.inventory, problem, binding_budgets)
    return lines[list(OUTPUTS_BY_NAME["purchase_plan"].column_names)]


def _small_tables(run: PlanRun) -> dict[str, pd.DataFrame]:
    costs = pd.DataFrame({"term": list(run.plan.costs), "cost": list(run.plan.costs.values())})
    prices = pd.DataFrame(
        {"budget_id": list(run.budget_shadow_prices), "saving_per_unit": list(run.budget_shadow_prices.values())}
    )
    overruns = pd.DataFrame({"limit": list(run.plan.overruns), "overrun": list(run.plan.overruns.values())})
    coupling = pd.DataFrame(
        list(run.result.details.get("prices", [])), columns=["kind", "name", "week_start", "price"]
    ).astype({"kind": "string", "name": "string", "week_start": "string", "price": "float64"})
    accuracy_columns = list(OUTPUTS_BY_NAME["forecast_accuracy"].column_names)
    series_columns = list(OUTPUTS_BY_NAME["forecast_series"].column_names)
    forecast_run = run.forecast_run
    accuracy = forecast_run.accuracy[accuracy_columns] if forecast_run else pd.DataFrame(columns=accuracy_columns)
    series = forecast_run.series[series_columns] if forecast_run else pd.DataFrame(columns=series_columns)
    spread = run.forecast.spread
    quantile_columns = list(OUTPUTS_BY_NAME["forecast_quantiles"].column_names)
    quantiles = (
        quantile_table(run.forecast.frame, spread, spread.weeks)
        if spread is not None
        else pd.DataFrame(columns=quantile_columns)
    )
    return {
        "cost_breakdown": costs,
        "budget_shadow_prices": prices,
        "limit_overruns": overruns,
        "coupling_prices": coupling,
        "forecast_accuracy": accuracy,
        "forecast_series": series,
        "forecast_quantiles": quantiles,
    }


def build_outputs(
    run: PlanRun,
    run_id: str,
    previous: PreviousPlan | None = None,
    exception_settings: ExceptionSettings | None = None,
    solve_summary: dict[str, object] | None = None,
) -> PlanOutputs:
    """Every published table and file of ``run``, checked among themselves; nothing is written.

    Args:
        run: The checked plan run.
        run_id: The run's id (printed in the ERP files and the report).
        previous: The previous published plan to diff against; None gives an empty diff.
        exception_settings: Thresholds of the exception list.
        solve_summary: Solver status, objective, bound and gap for the report.

    Raises:
        PlanCheckError: The tables disagree among themselves (``checks.check_outputs``).
    """
    problem = run.problem
    inventory = run.plan.inventory.assign(weeks_of_supply=weeks_of_supply(run.plan.inventory))
    payments = cash_payments(run.plan.purchases.assign(arrival_week=_arrival_weeks(run)), problem)
    budgets = budget_usage(payments, problem, run.budget_shadow_prices, run.plan.overruns)
    binding = set(budgets.loc[budgets["binding"], "budget_id"])
    purchases = purchase_plan(run, binding)
    metrics = plan_metrics(inventory, problem)
    full = full_capacity(run.plan.inventory, run.plan.purchases, problem)
    variances = run.plan_vs_actual.table if run.plan_vs_actual is not None else empty_plan_vs_actual()
    tables = {
        "purchase_plan": purchases,
        "transfer_plan": run.plan.transfers,
        "projected_inventory": inventory,
        "metrics": metrics,
        "cash_by_week": cash_by_week(payments, problem, run.budget_shadow_prices),
        "budget_usage": budgets,
        "exceptions": plan_exceptions(inventory, problem, binding, full, exception_settings, variances),
        "plan_diff": (
            plan_diff(previous.purchases, purchases, previous.inventory, inventory, run.as_of)
            if previous is not None
            else pd.DataFrame(columns=list(DIFF_COLUMNS))
        ),
        "plan_vs_actual": variances,
        **_small_tables(run),
    }
    violations = check_outputs(tables)
    if violations:  # a defect between the plan and its files: nothing may be written
        raise PlanCheckError(violations)
    report = ReportInputs(
        run_id=run_id,
        as_of=run.as_of.isoformat(),
        currency=problem.currency,
        solve=solve_summary or {},
        purchases=purchases,
        inventory=inventory,
        metrics=metrics,
        cash=tables["cash_by_week"],
        budgets=budgets,
        exceptions=tables["exceptions"],
        fill_rate_targets=dict(problem.fill_rate_target),
        categories={s: i.category for s, i in problem.items.items()},
        unit_costs={s: i.unit_cost for s, i in problem.items.items()},
        plan_vs_actual=variances,
        plan_vs_actual_note=(
            run.plan_vs_actual.note
            if run.plan_vs_actual is not None
            else "Not compared: the run was planned without the previous runs' projections."
        ),
    )
    return PlanOutputs(tables=tables, files={**erp_files(purchases, run_id), REPORT: render_report(report)})


def _arrival_weeks(run: PlanRun) -> pd.Series:
    lines = run.plan.purchases
    lead = [run.problem.options[f"{r.sku}|{r.supplier}|{r.ship_to}|{r.mode}"].lead_weeks for r in lines.itertuples()]
    return lines["order_week"] + pd.Series(lead, index=lines.index, dtype="int64")
