"""State tiny model-family cases through the canonical input tables, solve them exactly.

A case is a dict of CSV texts, one per input table, as a brand would supply them. Row helpers
(``item``, ``option``, ``supplier``, ...) build one row with defaults chosen so that every
cost the test does not mention is zero or irrelevant:

  * SKU ``A`` (category ``Cat``), unit cost 10, selling price 1000 (a lost sale costs 990, so
    demand is met unless a test makes it impossible), holding 1 per unit-week, no line cost;
  * supplier ``S`` in USD: no PO minimum, no PO cost, no capacity, paid in full when ordering;
  * one sourcing option ``A`` from ``S`` to ``WH``, mode ``standard``, lead time 0, no MOQ, packs of 1;
  * location ``WH`` (channel ``web``), no capacity; ``MKT`` (channel ``amazon``) when a test adds it;
  * a forecast with ``units_std`` 0, so no safety stock.

``one_sku`` assembles those defaults; any keyword naming a table replaces that table (``None``
drops it). ``solve`` builds the problem the way the pipeline does (CSV text -> load_input_tables
-> typed frames -> external_forecast -> build_problem, Great Expectations validation skipped
for speed), solves it with ``mip_rel_gap`` 0 and checks the published-plan invariants.

The run configuration turns off the two terms that would blur hand arithmetic unless a test
asks for them: the end-of-horizon credit (share 0) and the fill-rate penalty (0 per unit). A lost
sale costs its margin (``lost_sale_basis: margin``), the figure the cases' arithmetic uses; the
default basis, revenue, has its own cases in ``test_objective.py``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyomo.environ as pyo
import pytest

from models import build_model
from planning.checks import check_plan
from planning.config import RunConfig, parse_config
from planning.forecast import external_forecast
from planning.inputs import load_input_tables
from planning.plan import PlanTables, extract_plan
from planning.problem import PlanningProblem, build_problem
from planning.solve import PlanStatus, SolveReport, load_values, solve_model
from planning.storage import LocalStorage
from tests.inline_tables import write_tables

AS_OF = date(2027, 3, 1)  # a Monday; March 2027 has 5 Mondays (t = 0..4), April starts at t = 5
CHANNEL = {"WH": "web", "MKT": "amazon"}

Cell = str | float | int | date


def monday(t: int) -> date:
    """Start of planning week ``t``."""
    return AS_OF + timedelta(weeks=t)


def table(header: str, rows: Iterable[str]) -> str:
    return header + "\n" + "".join(row + "\n" for row in rows)


def _cells(*values: Cell) -> str:
    return ",".join(str(v) for v in values)


def item(
    sku: str = "A",
    *,
    category: str = "Cat",
    unit_cost: float = 10,
    price: float = 1000,
    volume: float = 0,
    case_pack: int = 1,
    holding: Cell = 1,
    line_cost: Cell = 0,
) -> str:
    """An items row; ``holding``/``line_cost`` "" fall back to the configured rates."""
    return _cells(sku, category, unit_cost, price, volume, case_pack, "active", holding, line_cost)


def items(*rows: str) -> str:
    header = (
        "sku,category,unit_cost,selling_price,unit_volume,case_pack,status,holding_cost_per_unit_week,order_line_cost"
    )
    return table(header, rows)


def option(
    sku: str = "A",
    *,
    supplier: str = "S",
    ship_to: str = "WH",
    mode: str = "standard",
    cost: float = 10,
    moq: float = 0,
    multiple: int = 1,
    lead: Cell = 0,
) -> str:
    return _cells(sku, supplier, ship_to, mode, cost, moq, multiple, lead)


def options(*rows: str) -> str:
    return table("sku,supplier,ship_to,mode,unit_cost,moq,order_multiple,lead_time_weeks", rows)


def supplier(
    name: str = "S", *, po_minimum: float = 0, po_cost: float = 0, capacity: Cell = "", deposit: float = 1
) -> str:
    """A suppliers row; ``capacity`` "" = unlimited."""
    return _cells(name, "USD", po_minimum, po_cost, capacity, deposit)


def suppliers(*rows: str) -> str:
    return table("supplier,currency,po_minimum_value,fixed_cost_per_po,weekly_capacity_units,deposit_share", rows)


def location(name: str = "WH", *, capacity: Cell = "", unit: str = "units") -> str:
    kind = "marketplace" if name == "MKT" else "warehouse"
    return _cells(name, kind, capacity, unit, CHANNEL[name])


def locations(*rows: str) -> str:
    return table("location,type,capacity,capacity_unit,channels", rows)


def inventory(stock: Mapping[tuple[str, str], float | tuple[float, float]]) -> str:
    """(sku, location) -> on hand, or (on hand, allocated)."""
    rows = []
    for (sku, loc), units in stock.items():
        on_hand, allocated = units if isinstance(units, tuple) else (units, 0)
        rows.append(_cells(sku, loc, on_hand, allocated, AS_OF))
    return table("sku,location,on_hand,allocated,as_of_date", rows)


def forecast(demand: Mapping[tuple[str, str], Sequence[float]], std: float = 0) -> str:
    """(sku, location) -> weekly units from week 0, all with error spread ``std``."""
    rows = [
        _cells(sku, loc, CHANNEL[loc], monday(t), units, std)
        for (sku, loc), weekly in demand.items()
        for t, units in enumerate(weekly)
    ]
    return table("sku,location,channel,week_start,units,units_std", rows)


def lanes(*rows: tuple[str, str, Cell, float, float]) -> str:
    """(from, to, lead weeks, cost per unit, min shipment) per lane."""
    return table("from_location,to_location,lead_time_weeks,cost_per_unit,min_shipment", (_cells(*r) for r in rows))


def budgets(*rows: tuple[date, str, float, str]) -> str:
    """(period start, week|month, cash limit, category or "") per budget row, all in USD."""
    return table(
        "period_start,period,cash_limit,currency,category,supplier",
        (_cells(start, period, limit, "USD", category, "") for start, period, limit, category in rows),
    )


def one_sku(
    demand: Sequence[float] | Mapping[str, Sequence[float]],
    *,
    on_hand: float | tuple[float, float] = 0,
    std: float = 0,
    **tables: str | None,
) -> dict[str, str]:
    """SKU ``A`` with the default item, supplier, option and locations, unless a table is given.

    ``demand`` is A's weekly forecast at ``WH``, or location -> weekly forecast (adding ``MKT``
    to the default locations when it appears).
    """
    by_location = demand if isinstance(demand, Mapping) else {"WH": demand}
    result: dict[str, str | None] = {
        "items": items(item()),
        "suppliers": suppliers(supplier()),
        "sourcing_options": options(option()),
        "locations": locations(*(location(loc) for loc in ("WH", *(k for k in by_location if k != "WH")))),
        "inventory": inventory({("A", "WH"): on_hand}),
        "external_forecast": forecast({("A", loc): weekly for loc, weekly in by_location.items()}, std),
    }
    result.update(tables)
    return {name: text for name, text in result.items() if text is not None}


def config(weeks: int, costs: Mapping[str, Any] | None = None, service: Mapping[str, Any] | None = None) -> RunConfig:
    """Exact solves; no end-of-horizon credit, no fill-rate penalty, a lost sale at its margin and a
    unit-week below safety stock at 0.2 x unit cost, unless overridden."""
    return parse_config(
        {
            "horizon": {"weeks": weeks, "frozen_weeks": 0},
            "costs": {
                "closing_stock_valuation": "share",
                "end_of_horizon_value_share": 0.0,
                "safety_stock_shortfall_penalty": 0.2,
                "lost_sale_basis": "margin",
                **(costs or {}),
            },
            "service": {"fill_rate_shortfall_penalty": 0.0, **(service or {})},
            "solver": {"time_limit_s": 30, "mip_rel_gap": 0.0, "threads": 1, "random_seed": 0},
        }
    )


def problem_of(tables: Mapping[str, str], run: RunConfig) -> PlanningProblem:
    """CSV text -> canonical typed tables -> forecast -> planning problem (no GX validation)."""
    with tempfile.TemporaryDirectory() as folder:
        loaded = load_input_tables(LocalStorage(write_tables(Path(folder), dict(tables))))
    typed = {name: t.typed for name, t in loaded.items()}
    fcst = external_forecast(typed["external_forecast"], AS_OF, run.horizon.weeks)
    return build_problem(typed, fcst, run, AS_OF)


@dataclass(frozen=True, slots=True)
class Solved:
    """An exactly solved case: its problem, model (holding the plan), report and plan tables."""

    problem: PlanningProblem
    model: pyo.ConcreteModel
    report: SolveReport
    plan: PlanTables

    @property
    def objective(self) -> float:
        assert self.report.objective is not None
        return self.report.objective

    def orders(self, *by: str) -> dict[Any, float]:
        """Units ordered keyed by purchase columns (default: order week), zero lines left out."""
        keys = list(by or ("order_week",))
        sums = self.plan.purchases.groupby(keys)["quantity"].sum()
        return {k: float(v) for k, v in sums.items() if v > 0}

    def closing(self, sku: str = "A", loc: str = "WH") -> list[float]:
        inv = self.plan.inventory
        rows = inv[(inv["sku"] == sku) & (inv["location"] == loc)]
        return [round(float(v), 6) for v in rows["closing"]]

    def column(self, name: str, sku: str = "A", loc: str = "WH") -> list[float]:
        inv = self.plan.inventory
        rows = inv[(inv["sku"] == sku) & (inv["location"] == loc)]
        return [round(float(v), 6) for v in rows[name]]

    def cost(self, term: str) -> float:
        return self.plan.costs[term]


def solve(tables: Mapping[str, str], weeks: int, **settings: Mapping[str, Any]) -> Solved:
    """Build and solve the case to proven optimality; the plan must pass every publishing check."""
    run = config(weeks, **settings)
    problem = problem_of(tables, run)
    model = build_model(problem)
    result = solve_model(model, run.solver)
    assert result.report.status is PlanStatus.OPTIMAL, result.report.summary_line()
    load_values(model, result)
    plan = extract_plan(model, problem, run.horizon.frozen_weeks)
    assert check_plan(plan, problem) == []
    # The published cost terms add up to the solver's objective.
    assert sum(plan.costs.values()) == pytest.approx(result.report.objective, abs=1e-6)
    return Solved(problem=problem, model=model, report=result.report, plan=plan)
