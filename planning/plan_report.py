"""One self-contained HTML page a planner opens: charts, exceptions, solver status and gap.

Charts are drawn with matplotlib (its object API, no pyplot global state) as inline SVG, so the
file needs no network, no JavaScript and no other file; ids are salted with a constant and the
date left out, so the same plan gives the same bytes.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

TOP_SKUS = 6
EXCEPTION_ROWS = 60
STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1100px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left}
th{background:#f4f4f4}.num{text-align:right}.kpis{display:flex;flex-wrap:wrap;gap:.5rem 2rem}
.kpis b{display:block;font-size:1.3rem}.high{color:#b00020}.medium{color:#a15c00}.low{color:#555}
"""


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """What the report shows; every frame is a published table."""

    run_id: str
    as_of: str
    currency: str
    solve: Mapping[str, Any]
    purchases: pd.DataFrame
    inventory: pd.DataFrame
    metrics: pd.DataFrame
    cash: pd.DataFrame
    budgets: pd.DataFrame
    exceptions: pd.DataFrame
    fill_rate_targets: Mapping[str, float]
    categories: Mapping[str, str]
    unit_costs: Mapping[str, float]
    plan_vs_actual: pd.DataFrame | None = None  # last week's projection against what happened
    plan_vs_actual_note: str = ""


def svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": "buyplan", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: the page inlines it


def top_skus(inventory: pd.DataFrame, unit_costs: Mapping[str, float], count: int = TOP_SKUS) -> list[str]:
    """The SKUs with the most forecast demand by value."""
    value = inventory.groupby("sku")["demand"].sum() * pd.Series(unit_costs)
    return [str(s) for s in value.dropna().sort_values(ascending=False, kind="stable").index[:count]]


def inventory_chart(inventory: pd.DataFrame, skus: list[str]) -> str:
    """Projected closing stock against safety stock, all locations summed, one panel per SKU."""
    columns = 3
    rows = max(1, -(-len(skus) // columns))
    figure = Figure(figsize=(11, 2.6 * rows), layout="constrained")
    for index, sku in enumerate(skus):
        axes = figure.add_subplot(rows, columns, index + 1)
        weekly = inventory[inventory["sku"] == sku].groupby("week")[["closing", "safety_stock", "demand"]].sum()
        axes.bar(weekly.index, weekly["demand"], color="#d9e4f0", label="forecast demand")
        axes.plot(weekly.index, weekly["closing"], color="#1f5fa8", label="closing stock")
        axes.plot(weekly.index, weekly["safety_stock"], color="#b00020", linestyle="--", label="safety stock")
        axes.set_title(sku, fontsize=9)
        axes.tick_params(labelsize=7)
        if index == 0:
            axes.legend(fontsize=7, loc="upper right")
    figure.supxlabel("week", fontsize=8)
    figure.supylabel("units", fontsize=8)
    return svg(figure)


def cash_chart(cash: pd.DataFrame, currency: str) -> str:
    """Cash paid per week against the week's all-purchases budget."""
    figure = Figure(figsize=(11, 3))
    axes = figure.add_subplot(1, 1, 1)
    axes.bar(cash["week"], cash["deposits"], color="#1f5fa8", label="deposits")
    axes.bar(cash["week"], cash["balances"], bottom=cash["deposits"], color="#7fa7d6", label="balances")
    budget = cash.dropna(subset=["weekly_budget"])
    if not budget.empty:
        axes.step(budget["week"], budget["weekly_budget"], where="mid", color="#b00020", label="weekly budget")
    axes.set_xlabel("week", fontsize=8)
    axes.set_ylabel(currency, fontsize=8)
    axes.legend(fontsize=7)
    return svg(figure)


def fill_rate_chart(metrics: pd.DataFrame, targets: Mapping[str, float], categories: Mapping[str, str]) -> str:
    """Planned fill rate per category, with the demand-weighted target of its SKUs."""
    by_category = metrics[metrics["level"] == "category"].set_index("scope")
    skus = metrics[metrics["level"] == "sku"].set_index("scope")
    weights = skus["demand_units"] * pd.Series({s: targets.get(s, 0.0) for s in skus.index})
    grouped = pd.Series({s: categories.get(s, "") for s in skus.index})
    target = weights.groupby(grouped).sum() / skus["demand_units"].groupby(grouped).sum()
    figure = Figure(figsize=(11, 0.5 + 0.45 * max(1, len(by_category))))
    axes = figure.add_subplot(1, 1, 1)
    names = list(by_category.index)
    rates = by_category["fill_rate"].fillna(0)
    axes.barh(names, rates, color="#1f5fa8", label="planned fill rate")
    for name, rate in zip(names, rates, strict=True):
        axes.text(rate / 2, name, f"{rate:.1%}", color="white", va="center", ha="center", fontsize=8)
    axes.scatter(target.reindex(names), names, color="#b00020", marker="|", s=300, label="target", zorder=3)
    axes.set_xlim(0, 1.02)
    axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    axes.tick_params(labelsize=8)
    return svg(figure)


def html_table(frame: pd.DataFrame, numbers: Mapping[str, str] | None = None) -> str:
    numbers = numbers or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            if column in numbers and pd.notna(value):
                cells.append(f'<td class="num">{format(value, numbers[column])}</td>')
            else:
                text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
                css = f' class="{text}"' if column == "severity" else ""
                cells.append(f"<td{css}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _kpis(data: ReportInputs) -> str:
    solve, overall = data.solve, data.metrics[data.metrics["level"] == "overall"].iloc[0]
    gap = solve.get("gap")
    values = {
        "solver status": str(solve.get("status")),
        "gap": "n/a" if gap is None else f"{gap:.2%}",
        "objective": f"{solve.get('objective') or 0:,.0f}",
        "best bound": "n/a" if solve.get("best_bound") is None else f"{solve['best_bound']:,.0f}",
        "purchase lines": f"{len(data.purchases):,}",
        "spend": f"{data.purchases['line_value'].sum():,.0f} {data.currency}",
        "planned fill rate": "n/a" if pd.isna(overall["fill_rate"]) else f"{overall['fill_rate']:.1%}",
        "exceptions": f"{len(data.exceptions):,}",
    }
    cells = "".join(f"<span>{html.escape(k)}<b>{html.escape(v)}</b></span>" for k, v in values.items())
    return f'<div class="kpis">{cells}</div>'


def _last_week(data: ReportInputs) -> list[str]:
    """Plan against actual: totals and the largest demand and stock variances of the week just ended."""
    table = data.plan_vs_actual
    sections = ["<h2>Last week against plan</h2>", f"<p>{html.escape(data.plan_vs_actual_note)}</p>"]
    if table is None or table.empty:
        return sections
    totals = pd.DataFrame(
        {
            "measure": ["demand", "sales", "net receipts", "closing stock"],
            "projected": [table[f"projected_{c}"].sum() for c in ("demand", "sales", "net_receipts", "closing")],
            "actual": [table[f"actual_{c}"].sum() for c in ("demand", "sales", "net_receipts", "closing")],
        }
    )
    size = table["demand_variance"].abs() + table["stock_variance"].abs()
    top = table.loc[size.sort_values(ascending=False, kind="stable").index[:EXCEPTION_ROWS]]
    columns = ["sku", "location", "projected_demand", "actual_demand", "projected_closing", "actual_closing"]
    numbers = dict.fromkeys(columns[2:], ",.0f")
    return [
        *sections,
        html_table(totals, {"projected": ",.0f", "actual": ",.0f"}),
        f"<p>Largest variances ({len(top)} of {len(table):,} SKU x locations):</p>",
        html_table(top[columns], numbers),
    ]


def render_report(data: ReportInputs) -> bytes:
    """The report page as UTF-8 bytes."""
    skus = top_skus(data.inventory, data.unit_costs)
    exceptions = data.exceptions.drop(columns=["category"], errors="ignore").head(EXCEPTION_ROWS)
    budgets = data.budgets[["budget_id", "limit", "spend", "overrun", "shadow_price", "binding", "note"]]
    sections = [
        f"<h1>Buy plan for the week of {html.escape(data.as_of)}</h1>",
        f"<p>Run <code>{html.escape(data.run_id)}</code></p>",
        _kpis(data),
        f"<h2>Projected inventory against safety stock: top {len(skus)} SKUs by demand value</h2>",
        inventory_chart(data.inventory, skus) if skus else "<p>No demand in the horizon.</p>",
        "<h2>Cash against budget by week</h2>",
        cash_chart(data.cash, data.currency),
        html_table(budgets, {"limit": ",.0f", "spend": ",.0f", "overrun": ",.0f", "shadow_price": ",.2f"}),
        "<h2>Fill rate by category</h2>",
        fill_rate_chart(data.metrics, data.fill_rate_targets, data.categories),
        f"<h2>Exceptions ({len(data.exceptions):,}; the first {min(len(exceptions), EXCEPTION_ROWS)} shown)</h2>",
        html_table(exceptions, {"value": ",.2f", "threshold": ",.2f"}) if len(exceptions) else "<p>None.</p>",
        *_last_week(data),
    ]
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Buy plan {html.escape(data.as_of)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )
    return page.encode("utf-8")
