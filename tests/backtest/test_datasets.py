"""Backtest inputs from the bundled data sets: budgets cover the window, the demo's starting stock rule."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from planning.backtest.datasets import repeat_budgets, starting_position

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
