"""Plan against actual: last week's projections against what happened, and the realised errors.

Every weekly run compares the previous published run's projection of the week that just ended
(the week before this run's as-of Monday) with this run's inputs, per SKU x location:

* **sales and demand**: ``actual_sales`` is the week's ``demand_history`` units (all channels,
  returns netted). ``actual_demand`` is what would have sold with stock: the sales where the
  point was in stock all week; for daily rows with some out-of-stock days, the sales plus the
  in-stock days' daily rate times the out-of-stock days; where the whole week was out of stock
  (or weekly rows say ``in_stock = false``), the larger of the sales and the projected demand,
  since the week holds no evidence against the forecast. A day is out of stock when any channel
  row of the point says ``in_stock = false`` (missing rows are in-stock days without sales, as
  the input contract says); such weeks are ``censored``.
* **fill rate**: projected ``served / demand`` against actual ``sales / actual_demand``.
* **stock**: projected ``closing`` against this snapshot's usable stock (on hand - allocated,
  at least 0, the same definition the plan starts from; a point missing from the snapshot holds 0).
* **receipts**, net of transfers shipped out and stock adjustments, inferred from the stock
  balance: ``actual_net_receipts = actual_closing - opening + actual_sales`` against the
  projected ``receipts - transfers_out``. The opening is the previous run's week-0 opening (its
  own snapshot), so the receipts are known only when the week compared is that run's week 0.

Variances are ``actual - projected`` (positive: more happened than was planned); relative
variances divide by the projected value and are null where it is 0. A point the previous plan
did not hold counts as projected 0.

Realised forecast errors feed the next safety stock: for each of the last ``weeks`` published
runs (the latest run of each earlier week), the one-week-ahead error of its week 0,
``e = projected_demand - actual_demand`` per SKU x location, on uncensored weeks only (as the
forecast backtest scores them). Their mean square, count and bias go to
``planning.forecast.feedback``, which blends them into the forecast's error spread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from planning.publish_settings import ExceptionSettings

POINT = ["sku", "location"]
DAYS_PER_WEEK = 7
TOLERANCE = 1e-6

COLUMNS = (
    "sku",
    "location",
    "week_start",
    "plan_week",
    "previous_run_id",
    "projected_demand",
    "actual_demand",
    "demand_variance",
    "demand_relative_variance",
    "projected_sales",
    "actual_sales",
    "sales_variance",
    "projected_net_receipts",
    "actual_net_receipts",
    "receipts_variance",
    "projected_closing",
    "actual_closing",
    "stock_variance",
    "stock_relative_variance",
    "projected_fill_rate",
    "actual_fill_rate",
    "fill_rate_variance",
    "out_of_stock_days",
    "censored",
)
ERROR_COLUMNS = ("sku", "location", "weeks", "mean_square_error", "bias")


@dataclass(frozen=True, slots=True, eq=False)
class PublishedWeek:
    """The latest published run of an earlier week: its id, as-of Monday and projected inventory."""

    run_id: str
    as_of: date
    inventory: pd.DataFrame  # the run's projected_inventory table


@dataclass(frozen=True, slots=True, eq=False)
class PlanVsActual:
    """The week-just-ended comparison and the realised forecast errors of the published runs.

    Attributes:
        table: The ``plan_vs_actual`` table (empty when no published run covers the week).
        errors: Realised one-week-ahead errors per SKU x location (``ERROR_COLUMNS``).
        note: In words: what was compared, or why nothing was.
        previous_run_id: The run whose projection was compared; None when none was.
        week_start: Monday of the week compared.
        earlier_runs: Every published run read (comparison and realised errors), oldest first.
    """

    table: pd.DataFrame
    errors: pd.DataFrame
    note: str
    previous_run_id: str | None = None
    week_start: date | None = None
    earlier_runs: tuple[str, ...] = ()

    def manifest_entry(self) -> dict[str, object]:
        return {
            "previous_run_id": self.previous_run_id,
            "week_start": self.week_start.isoformat() if self.week_start else None,
            "points": len(self.table),
            "error_points": len(self.errors),
            "earlier_runs": list(self.earlier_runs),
            "note": self.note,
        }


def empty_table() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})


def empty_errors() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in ERROR_COLUMNS})


def not_compared(note: str) -> PlanVsActual:
    """No comparison: the table is published empty with ``note`` in the manifest."""
    return PlanVsActual(empty_table(), empty_errors(), note)


def _is_daily(demand: pd.DataFrame) -> bool:
    """Daily grain when any date is not a Monday (the contract: one grain per file)."""
    return bool(len(demand)) and bool((demand["date"].dt.day_of_week != 0).any())


def weekly_actuals(
    demand: pd.DataFrame, week_start: date, projected: pd.DataFrame | None = None, daily: bool | None = None
) -> pd.DataFrame:
    """Sales, out-of-stock days and estimated demand per SKU x location for one week.

    Args:
        demand: Typed ``demand_history`` (date, sku, location, units, optional in_stock).
        week_start: Monday of the week.
        projected: Columns sku, location, projected_demand: the demand read for fully
            out-of-stock weeks (see the module docstring); missing means 0.
        daily: The table's grain; detected from the whole table when None.

    Returns:
        Columns sku, location, actual_sales, out_of_stock_days (NaN for weekly rows),
        censored, actual_demand.
    """
    daily = _is_daily(demand) if daily is None else daily
    start = pd.Timestamp(week_start)
    rows = demand[(demand["date"] >= start) & (demand["date"] < start + pd.Timedelta(days=DAYS_PER_WEEK))]
    if "in_stock" in rows:
        out = rows["in_stock"].astype("boolean").eq(False).fillna(False).to_numpy(bool)
    else:
        out = np.zeros(len(rows), dtype=bool)
    frame = pd.DataFrame(
        {
            "sku": rows["sku"].astype(str).to_numpy(),
            "location": rows["location"].astype(str).to_numpy(),
            "day": rows["date"].dt.normalize().to_numpy(),
            "units": rows["units"].to_numpy(float),
            "out": out,
        }
    )
    # A day is out of stock at the point when any channel row says so.
    days = frame.groupby([*POINT, "day"], as_index=False).agg(units=("units", "sum"), out=("out", "max"))
    days = days.assign(in_units=days["units"].where(~days["out"], 0.0))
    points = days.groupby(POINT, as_index=False).agg(
        actual_sales=("units", "sum"), out_days=("out", "sum"), in_stock_sales=("in_units", "sum")
    )
    if projected is not None and len(projected):
        points = points.merge(projected[[*POINT, "projected_demand"]], on=POINT, how="left")
    else:
        points = points.assign(projected_demand=0.0)
    expected = points["projected_demand"].fillna(0.0).to_numpy(float)
    sales, out_days = points["actual_sales"].to_numpy(float), points["out_days"].to_numpy(float)
    if daily:
        in_days = DAYS_PER_WEEK - out_days
        rate = points["in_stock_sales"].to_numpy(float) / np.maximum(in_days, 1)
        whole_week = out_days >= DAYS_PER_WEEK
        estimate = np.where(whole_week, np.maximum(sales, expected), sales + rate * out_days)
        out_of_stock_days: object = out_days
    else:  # a weekly row says only that the week had a stockout, not for how long
        whole_week = out_days > 0
        estimate = np.where(whole_week, np.maximum(sales, expected), sales)
        out_of_stock_days = np.nan
    return pd.DataFrame(
        {
            "sku": points["sku"],
            "location": points["location"],
            "actual_sales": sales,
            "out_of_stock_days": out_of_stock_days,
            "censored": out_days > 0,
            "actual_demand": np.where(out_days > 0, estimate, sales),
        }
    )


def usable_stock(inventory: pd.DataFrame) -> pd.DataFrame:
    """Snapshot stock as the plan reads it: on hand - allocated, at least 0, per SKU x location."""
    allocated = inventory["allocated"].fillna(0.0) if "allocated" in inventory else 0.0
    usable = (inventory["on_hand"] - allocated).clip(lower=0.0)
    frame = pd.DataFrame(
        {"sku": inventory["sku"].astype(str), "location": inventory["location"].astype(str), "actual_closing": usable}
    )
    return frame.groupby(POINT, as_index=False).agg(actual_closing=("actual_closing", "sum"))


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, null where the denominator is 0."""
    return (numerator / denominator.where(denominator.abs() > TOLERANCE)).astype("Float64")


def compare_week(previous: PublishedWeek, tables: Mapping[str, pd.DataFrame], as_of: date) -> PlanVsActual:
    """The previous run's projection of the week before ``as_of`` against this week's inputs."""
    week_start = as_of - timedelta(days=DAYS_PER_WEEK)
    plan_week = (week_start - previous.as_of).days // DAYS_PER_WEEK
    projected = previous.inventory[previous.inventory["week"] == plan_week]
    if plan_week < 0 or projected.empty:
        return not_compared(
            f"run {previous.run_id} (week of {previous.as_of}) does not project the week of {week_start}: "
            "nothing compared; the comparison starts with the next run published a week before its successor"
        )
    plan = pd.DataFrame(
        {
            "sku": projected["sku"].astype(str),
            "location": projected["location"].astype(str),
            "projected_demand": projected["demand"].astype(float),
            "projected_sales": projected["served"].astype(float),
            "projected_net_receipts": (projected["receipts"] - projected["transfers_out"]).astype(float),
            "projected_closing": projected["closing"].astype(float),
            "opening": projected["opening"].astype(float) if plan_week == 0 else np.nan,
        }
    )
    actual = weekly_actuals(tables["demand_history"], week_start, plan)
    frame = plan.merge(actual, on=POINT, how="outer").merge(usable_stock(tables["inventory"]), on=POINT, how="left")
    # Only points the plan held or that sold: a snapshot row alone is not a week to compare.
    numbers = ["projected_demand", "projected_sales", "projected_net_receipts", "projected_closing"]
    frame[numbers] = frame[numbers].fillna(0.0)
    frame[["actual_sales", "actual_demand", "actual_closing"]] = frame[
        ["actual_sales", "actual_demand", "actual_closing"]
    ].fillna(0.0)
    frame["censored"] = frame["censored"].astype("boolean").fillna(False).astype(bool)
    if plan_week == 0:
        # Points new to the plan since its snapshot opened at 0.
        frame["opening"] = frame["opening"].fillna(0.0)
    table = frame.assign(
        week_start=week_start,
        plan_week=plan_week,
        previous_run_id=previous.run_id,
        demand_variance=frame["actual_demand"] - frame["projected_demand"],
        sales_variance=frame["actual_sales"] - frame["projected_sales"],
        actual_net_receipts=frame["actual_closing"] - frame["opening"] + frame["actual_sales"],
        stock_variance=frame["actual_closing"] - frame["projected_closing"],
        projected_fill_rate=_ratio(frame["projected_sales"], frame["projected_demand"]),
        actual_fill_rate=_ratio(frame["actual_sales"], frame["actual_demand"]).clip(lower=0.0, upper=1.0),
    )
    table = table.assign(
        demand_relative_variance=_ratio(table["demand_variance"], table["projected_demand"]),
        receipts_variance=table["actual_net_receipts"] - table["projected_net_receipts"],
        stock_relative_variance=_ratio(table["stock_variance"], table["projected_closing"]),
        fill_rate_variance=table["actual_fill_rate"] - table["projected_fill_rate"],
    )
    table = table[list(COLUMNS)].sort_values(POINT, kind="stable").reset_index(drop=True)
    note = (
        f"week of {week_start} (week {plan_week} of run {previous.run_id}, published for {previous.as_of}) "
        f"against this run's inputs: {len(table)} SKU x locations"
    )
    if plan_week > 0:
        note += "; receipts not inferred (the opening stock of that week was never observed)"
    return PlanVsActual(table, empty_errors(), note, previous.run_id, week_start)


def realised_errors(published: Sequence[PublishedWeek], demand: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One-week-ahead errors of each published run's week 0, per SKU x location (module docstring).

    Only weeks that ended before ``as_of`` and were in stock all week count.
    """
    daily = _is_daily(demand)
    frames = []
    for run in published:
        if run.as_of + timedelta(days=DAYS_PER_WEEK) > as_of:
            continue  # the week has not ended: its actuals are not known yet
        week0 = run.inventory[run.inventory["week"] == 0]
        plan = pd.DataFrame(
            {
                "sku": week0["sku"].astype(str),
                "location": week0["location"].astype(str),
                "projected_demand": week0["demand"].astype(float),
            }
        )
        actual = weekly_actuals(demand, run.as_of, plan, daily)
        both = plan.merge(actual, on=POINT, how="outer")
        both["censored"] = both["censored"].astype("boolean").fillna(False).astype(bool)
        both = both[~both["censored"]]
        frames.append(
            pd.DataFrame(
                {
                    "sku": both["sku"],
                    "location": both["location"],
                    "error": both["projected_demand"].fillna(0.0) - both["actual_demand"].fillna(0.0),
                }
            )
        )
    if not frames:
        return empty_errors()
    errors = pd.concat(frames, ignore_index=True)
    grouped = errors.assign(square=errors["error"] ** 2).groupby(POINT, as_index=False, sort=True)
    return grouped.agg(weeks=("error", "size"), mean_square_error=("square", "mean"), bias=("error", "mean"))[
        list(ERROR_COLUMNS)
    ]


def plan_vs_actual(published: Sequence[PublishedWeek], tables: Mapping[str, pd.DataFrame], as_of: date) -> PlanVsActual:
    """Compare the most recent published run with this week's inputs, and collect realised errors.

    Args:
        published: The latest run of each earlier week, any order (``planning.publish.published_weeks``).
        tables: This run's typed input tables (``demand_history``, ``inventory``).
        as_of: This run's as-of Monday.
    """
    earlier = sorted((p for p in published if p.as_of < as_of), key=lambda p: p.as_of)
    if not earlier:
        return not_compared("no run published for an earlier week: nothing to compare yet")
    compared = compare_week(earlier[-1], tables, as_of)
    errors = realised_errors(earlier, tables["demand_history"], as_of)
    sources = tuple(p.run_id for p in earlier)
    return PlanVsActual(compared.table, errors, compared.note, compared.previous_run_id, compared.week_start, sources)


def _big(variance: float, projected: float, share: float, min_units: float) -> bool:
    """A variance is large when above both the unit floor and the share of the projection."""
    return abs(variance) > min_units and abs(variance) > share * abs(projected)


def variance_exceptions(
    table: pd.DataFrame, category: Mapping[str, str], settings: ExceptionSettings
) -> list[dict[str, object]]:
    """Large plan-against-actual variances as rows of the ``exceptions`` table.

    ``demand_variance``, ``receipt_variance`` and ``stock_variance`` fire when the variance
    exceeds both ``variance_min_units`` and ``variance_share`` x the projection;
    ``fill_rate_variance`` when the actual fill rate is more than ``fill_rate_drop`` below the
    projected one. ``first_week`` is -1: the week before this plan's week 0.
    """
    found: list[dict[str, object]] = []
    share, floor = settings.variance_share, settings.variance_min_units
    rows: list[Any] = list(table.itertuples(index=False))  # typed loosely: the contract fixes the columns
    for row in rows:
        base = {"sku": row.sku, "location": row.location, "category": category.get(row.sku, ""), "first_week": -1}
        if _big(row.demand_variance, row.projected_demand, share, floor):
            found.append(
                {
                    **base,
                    "exception": "demand_variance",
                    "severity": "medium",
                    "value": float(row.demand_variance),
                    "threshold": max(floor, share * abs(row.projected_demand)),
                    "cause": "censored" if row.censored else "",
                    "detail": f"demand {row.actual_demand:,.0f} against {row.projected_demand:,.0f} forecast "
                    f"in the week of {row.week_start}: check for a promotion, listing or data change; "
                    "next week's safety stock includes this error",
                }
            )
        receipts = row.receipts_variance
        if not pd.isna(receipts) and _big(float(receipts), row.projected_net_receipts, share, floor):
            found.append(
                {
                    **base,
                    "exception": "receipt_variance",
                    "severity": "high" if receipts < 0 else "medium",
                    "value": float(receipts),
                    "threshold": max(floor, share * abs(row.projected_net_receipts)),
                    "cause": "",
                    "detail": f"net receipts {row.actual_net_receipts:,.0f} against {row.projected_net_receipts:,.0f} "
                    f"planned in the week of {row.week_start}: "
                    + ("chase the late order or transfer" if receipts < 0 else "check receiving and transfers"),
                }
            )
        if _big(row.stock_variance, row.projected_closing, share, floor):
            found.append(
                {
                    **base,
                    "exception": "stock_variance",
                    "severity": "medium",
                    "value": float(row.stock_variance),
                    "threshold": max(floor, share * abs(row.projected_closing)),
                    "cause": "",
                    "detail": f"stock {row.actual_closing:,.0f} against {row.projected_closing:,.0f} projected "
                    f"at the end of the week of {row.week_start}: check counts, shrinkage and receiving",
                }
            )
        drop = row.fill_rate_variance
        if not pd.isna(drop) and float(drop) < -settings.fill_rate_drop:
            found.append(
                {
                    **base,
                    "exception": "fill_rate_variance",
                    "severity": "high",
                    "value": float(row.actual_fill_rate),
                    "threshold": float(row.projected_fill_rate) - settings.fill_rate_drop,
                    "cause": "",
                    "detail": f"fill rate {row.actual_fill_rate:.1%} against {row.projected_fill_rate:.1%} planned "
                    f"in the week of {row.week_start}: find the cause (late receipt, demand spike) before it repeats",
                }
            )
    return found
