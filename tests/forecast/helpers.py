"""Build typed demand tables from weekly or daily arrays for forecasting tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

AS_OF = date(2027, 1, 4)  # a Monday


def weekly_demand(
    series: Mapping[str, Sequence[float]], as_of: date = AS_OF, in_stock: Mapping[str, Sequence[bool]] | None = None
) -> pd.DataFrame:
    """Weekly rows (dated by Monday) ending the week before ``as_of``; sku = the mapping key."""
    frames = []
    for sku, units in series.items():
        n = len(units)
        dates = pd.date_range(pd.Timestamp(as_of) - pd.Timedelta(weeks=n), periods=n, freq="7D")
        stock = pd.array(in_stock[sku] if in_stock and sku in in_stock else [pd.NA] * n, dtype="boolean")
        frames.append(
            pd.DataFrame(
                {"date": dates, "sku": sku, "location": "WH", "channel": "web", "units": units, "in_stock": stock}
            )
        )
    return pd.concat(frames, ignore_index=True)


def daily_demand(sku: str, units: np.ndarray, in_stock: np.ndarray | None, as_of: date = AS_OF) -> pd.DataFrame:
    """Daily rows ending the day before ``as_of``; ``in_stock`` None = the column is all empty."""
    n = len(units)
    dates = pd.date_range(pd.Timestamp(as_of - timedelta(days=n)), periods=n, freq="D")
    stock = pd.array([pd.NA] * n if in_stock is None else list(in_stock), dtype="boolean")
    return pd.DataFrame(
        {"date": dates, "sku": sku, "location": "WH", "channel": "web", "units": units.astype(float), "in_stock": stock}
    )


def items(skus: Sequence[str], status: Mapping[str, str] | None = None, launch: Mapping[str, date] | None = None):
    """Items rows in one category; status ``active`` unless given."""
    status = status or {}
    launch = launch or {}
    return pd.DataFrame(
        {
            "sku": list(skus),
            "category": "Cat",
            "status": [status.get(s, "active") for s in skus],
            "launch_date": pd.to_datetime([launch.get(s) for s in skus]),
        }
    )


def tables(demand: pd.DataFrame, extra_items: Sequence[str] = (), **item_args) -> dict[str, pd.DataFrame]:
    skus = [*dict.fromkeys(demand["sku"]), *extra_items]
    return {"demand_history": demand, "items": items(skus, **item_args)}
