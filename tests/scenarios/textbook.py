"""Textbook lot-sizing cases (../shared/reference) stated through the canonical input tables.

One SKU at one location, zero lead time, a fixed cost per order line (the setup cost), a
holding cost per unit per week, demand that must be met in full (a selling price far above
cost makes every lost sale dearer than any order), no safety stock, no end-of-horizon credit.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from planning.config import RunConfig, parse_config
from planning.forecast import Forecast, external_forecast
from planning.inputs import InputTable, load_input_tables
from planning.problem import PlanningProblem, build_problem
from planning.storage import LocalStorage
from planning.validation import require_valid, validate_inputs

# A copy of ../shared/reference/textbook_cases.json, so the exactness tests run on any checkout;
# tests/test_textbook.py checks the copy still matches the shared original when it is present.
REFERENCE = Path(__file__).with_name("textbook_cases.json")
SHARED_REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "textbook_cases.json"
AS_OF = date(2027, 1, 4)  # a Monday


def load_cases() -> list[dict[str, Any]]:
    data = json.loads(REFERENCE.read_text())
    cases = list(data["uncapacitated_lot_sizing"]) + list(data["capacitated_lot_sizing"])
    for case in list(cases):
        if "with_initial_inventory_30" in case:
            variant = {**case, **case["with_initial_inventory_30"], "id": case["id"] + "_I30", "initial_inventory": 30}
            cases.append(variant)
    return cases


def case_tables(case: dict[str, Any]) -> dict[str, str]:
    """The canonical input tables (CSV text) that state one textbook case."""
    unit_cost = float(case.get("unit_cost", 0.0))
    capacity = case.get("capacity", "")
    week_rows = "".join(
        f"LOT,DC,retail,{AS_OF + timedelta(weeks=t)},{units},0\n" for t, units in enumerate(case["demand"])
    )
    return {
        "items": (
            "sku,category,unit_cost,selling_price,case_pack,status,holding_cost_per_unit_week,order_line_cost\n"
            f"LOT,Textbook,{unit_cost},100000,1,active,{case['holding_cost']},{case['setup_cost']}\n"
        ),
        "locations": "location,type,channels\nDC,warehouse,retail\n",
        "suppliers": f"supplier,currency,weekly_capacity_units,deposit_share\nFACTORY,USD,{capacity},1\n",
        "sourcing_options": (
            f"sku,supplier,ship_to,unit_cost,moq,order_multiple,lead_time_weeks\nLOT,FACTORY,DC,{unit_cost},0,1,0\n"
        ),
        "inventory": f"sku,location,on_hand,as_of_date\nLOT,DC,{case.get('initial_inventory', 0)},{AS_OF}\n",
        "demand_history": f"date,sku,location,channel,units\n{AS_OF - timedelta(weeks=1)},LOT,DC,retail,10\n",
        "external_forecast": "sku,location,channel,week_start,units,units_std\n" + week_rows,
    }


def textbook_config(weeks: int) -> RunConfig:
    return parse_config(
        {
            "horizon": {"weeks": weeks},
            "costs": {"closing_stock_valuation": "share", "end_of_horizon_value_share": 0.0},
            "solver": {"time_limit_s": 30, "mip_rel_gap": 0.0, "threads": 1, "random_seed": 0},
        }
    )


def load_case(folder: Path, case: dict[str, Any]) -> tuple[PlanningProblem, RunConfig]:
    """Write the case's tables, validate them like any input, and build the planning problem."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in case_tables(case).items():
        (folder / f"{name}.csv").write_text(text)
    storage = LocalStorage(folder)
    tables: dict[str, InputTable] = load_input_tables(storage)
    require_valid(validate_inputs(tables, inputs_uri=storage.uri))
    config = textbook_config(len(case["demand"]))
    typed = {name: table.typed for name, table in tables.items()}
    forecast: Forecast = external_forecast(typed["external_forecast"], AS_OF, config.horizon.weeks)
    return build_problem(typed, forecast, config, AS_OF), config
