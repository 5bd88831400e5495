"""A tiny brand for backtest tests: two SKUs at one warehouse, one domestic supplier, weekly history.

SKU A: unit cost 2, price 5, case pack 10, MOQ 20, lead time 1 week.
SKU B: unit cost 3, price 4, case pack 6, no MOQ, lead time 2 weeks.
History: weekly rows (dated Mondays) for ``history_weeks`` before ``START`` and ``window`` weeks
after it (the actuals the replay simulates against).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pandas as pd

from planning.backtest.replay import typed_tables
from planning.config import RunConfig

START = date(2026, 3, 2)  # a Monday


def demand_a(k: int) -> float:
    """Units of A in week k (k < 0: history before START)."""
    return 10.0 + (k % 3)


def demand_b(k: int) -> float:
    return 0.0 if k % 4 == 0 else 5.0


def raw_tables(
    *,
    history_weeks: int = 40,
    window: int = 6,
    on_hand: tuple[float, float] = (25.0, 12.0),
    budget: float = 10_000.0,
    demand: Callable[[str, int], float] | None = None,
) -> dict[str, pd.DataFrame]:
    """The tiny brand's tables (raw, before typing)."""
    weeks = range(-history_weeks, window)

    def units(sku: str, k: int) -> float:
        if demand is not None:
            return demand(sku, k)
        return demand_a(k) if sku == "A" else demand_b(k)

    history = pd.DataFrame(
        [
            {
                "date": pd.Timestamp(START + timedelta(weeks=k)),
                "sku": sku,
                "location": "WH",
                "channel": "shop",
                "units": units(sku, k),
                "price": 5.0 if sku == "A" else 4.0,
                "in_stock": True,
            }
            for k in weeks
            for sku in ("A", "B")
        ]
    )
    return {
        "demand_history": history,
        "items": pd.DataFrame(
            {
                "sku": ["A", "B"],
                "category": ["Cat", "Cat"],
                "unit_cost": [2.0, 3.0],
                "selling_price": [5.0, 4.0],
                "case_pack": [10, 6],
                "status": ["active", "active"],
                "holding_cost_per_unit_week": [0.3, 0.3],
            }
        ),
        "locations": pd.DataFrame({"location": ["WH"], "type": ["warehouse"], "channels": ["shop"]}),
        "suppliers": pd.DataFrame(
            {"supplier": ["SUP"], "currency": ["USD"], "fixed_cost_per_po": [5.0], "deposit_share": [1.0]}
        ),
        "sourcing_options": pd.DataFrame(
            {
                "sku": ["A", "B"],
                "supplier": ["SUP", "SUP"],
                "ship_to": ["WH", "WH"],
                "mode": ["truck", "truck"],
                "unit_cost": [2.0, 3.0],
                "moq": [20.0, 0.0],
                "order_multiple": [10, 6],
                "lead_time_weeks": [1.0, 2.0],
                "lead_time_std_weeks": [0.5, 0.5],
            }
        ),
        "inventory": pd.DataFrame(
            {
                "sku": ["A", "B"],
                "location": ["WH", "WH"],
                "on_hand": list(on_hand),
                "allocated": [0.0, 0.0],
                "as_of_date": [pd.Timestamp(START)] * 2,
            }
        ),
        "budgets": pd.DataFrame(
            {
                "period_start": [pd.Timestamp(START + timedelta(weeks=k)) for k in range(window + 30)],
                "period": "week",
                "cash_limit": budget,
                "currency": "USD",
                "category": "",
                "supplier": "",
            }
        ),
    }


def tiny_tables(**kwargs: object) -> dict[str, pd.DataFrame]:
    """The tiny brand's tables, typed by their contracts."""
    return typed_tables(raw_tables(**kwargs))  # type: ignore[arg-type]


def tiny_config(weeks: int = 6, **costs: object) -> RunConfig:
    """A short horizon and a small time limit: a planner week solves in well under a second."""
    return RunConfig.model_validate(
        {
            "horizon": {"weeks": weeks, "frozen_weeks": 1},
            "solver": {"time_limit_s": 5, "backstop_s": 2, "threads": 1, "random_seed": 0},
            "costs": {"order_line_cost": 15.0, **costs},
            "forecast": {"selection_weeks": 8, "evaluation_weeks": 4, "error_window_weeks": 8},
        }
    )


def rng_demand(seed: int) -> Callable[[str, int], float]:
    """Poisson demand (A around 10 a week, B around 4), fixed by ``seed``."""
    cache: dict[tuple[str, int], float] = {}
    rng = np.random.default_rng(seed)

    def units(sku: str, k: int) -> float:
        if (sku, k) not in cache:
            cache[(sku, k)] = float(rng.poisson(10 if sku == "A" else 4))
        return cache[(sku, k)]

    return units
