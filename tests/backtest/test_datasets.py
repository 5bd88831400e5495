"""Backtest inputs from the bundled data sets: budgets cover the window, the demo's starting stock rule."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from planning.backtest.datasets import repeat_budgets, starting_position, with_supply
from planning.backtest.settings import SupplySettings
from tests.backtest.helpers import START as HELPER_START
from tests.backtest.helpers import raw_tables

START = date(2026, 3, 2)


def test_repeat_budgets_covers_every_week_in_order() -> None:
    budgets = pd.DataFrame(
        {
            "period_start": [pd.Timestamp(START + timedelta(weeks=k)) for k in range(3)],
            "period": "week",
            "cash_limit": [100.0, 200.0, 300.0],
            "currency": "USD",
            "category": "",
            "supplier": "",
        }
    )
    repeated = repeat_budgets(budgets, START, 7)
    assert repeated["cash_limit"].tolist() == [100, 200, 300, 100, 200, 300, 100]
    assert repeated["period_start"].tolist() == [pd.Timestamp(START + timedelta(weeks=k)) for k in range(7)]


def test_starting_stock_is_lead_time_plus_two_weeks_of_recent_demand() -> None:
    history = pd.DataFrame(
        {
            "date": [pd.Timestamp(START - timedelta(weeks=k)) for k in range(1, 9)] * 2,
            "sku": ["A"] * 8 + ["A"] * 8,
            "location": ["WH"] * 8 + ["FBA"] * 8,
            "units": [10.0] * 8 + [3.0] * 8,
        }
    )
    tables = {
        "demand_history": history,
        "sourcing_options": pd.DataFrame({"sku": ["A"], "ship_to": ["WH"], "lead_time_weeks": [2.5]}),
        "transfer_lanes": pd.DataFrame({"from_location": ["WH"], "to_location": ["FBA"], "lead_time_weeks": [1.0]}),
        "items": pd.DataFrame({"sku": ["A"], "status": ["active"]}),
    }
    stock = starting_position(tables, START).set_index("location")["on_hand"]
    # WH: 10 a week x (lead 3 weeks (2.5 rounded up) + 2) = 50.  FBA: 3 a week x (3 + 1 + 2) = 18.
    assert stock.to_dict() == {"FBA": 18.0, "WH": 50.0}


def test_supply_settings_replace_the_generated_supply_side() -> None:
    raw = raw_tables()
    supply = SupplySettings(
        lead_time_weeks=(3, 3), moq_weeks_of_demand=2.0, po_fixed_cost=(7.0, 7.0), budget_tightness=0.5
    )
    out = with_supply(raw, supply, HELPER_START, weeks=10)
    options = out["sourcing_options"].set_index("sku")
    # Lead 3 for both; each spread keeps its share of the mean: A 0.5 / 1 x 3, B 0.5 / 2 x 3.
    assert options["lead_time_weeks"].tolist() == [3.0, 3.0]
    assert options["lead_time_std_weeks"].tolist() == [1.5, 0.75]
    # The 8 weeks before the start sell A 11,12,10,11,12,10,11,12 = 89 (11.125 a week) and
    # B 0,5,5,5,0,5,5,5 = 30 (3.75): MOQ = 2 weeks in whole packs, A ceil(22.25 / 10) x 10 = 30,
    # B ceil(7.5 / 6) x 6 = 12.
    assert options.loc["A", "moq"] == 30.0 and options.loc["B", "moq"] == 12.0
    assert out["suppliers"]["fixed_cost_per_po"].tolist() == [7.0]
    # Need = 11.125 x 2 + 3.75 x 3 = 33.5 a week; at 0.5 every weekly limit is 16.75.
    assert out["budgets"]["cash_limit"].tolist() == [16.75] * len(raw["budgets"])
    assert raw["sourcing_options"]["moq"].tolist() == [20.0, 0.0]  # the input is not changed


def test_unset_supply_settings_change_nothing() -> None:
    raw = raw_tables()
    out = with_supply(raw, SupplySettings(), HELPER_START, weeks=10)
    for name, frame in raw.items():
        pd.testing.assert_frame_equal(out[name], frame)


def test_budget_tightness_adds_overall_weekly_rows_where_there_were_none() -> None:
    raw = raw_tables()
    raw.pop("budgets")
    out = with_supply(raw, SupplySettings(budget_tightness=1.0), HELPER_START, weeks=4)
    assert out["budgets"]["cash_limit"].tolist() == [33.5] * 4
    assert out["budgets"]["period_start"].tolist() == [
        pd.Timestamp(HELPER_START + timedelta(weeks=k)) for k in range(4)
    ]
