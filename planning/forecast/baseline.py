"""A plain trailing-average forecast: the placeholder the optimization core plans against.

For each SKU x location x channel series, the forecast for every future week is the mean of
the last ``window`` in-stock weeks of history; its error spread is the standard deviation of
those weeks. Weeks with any out-of-stock day are left out rather than counted as low demand
(stockout-censored weeks understate demand). Returns count as negative demand in their week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from planning.forecast.spread import DemandSpread

FORECAST_COLUMNS = ("sku", "location", "channel", "week", "units", "units_std")


@dataclass(frozen=True, slots=True)
class Forecast:
    """Weekly forecast rows: sku, location, channel, week (0 = the as-of week), units, units_std.

    ``spread``: the measured distribution of k-week totals (``planning.forecast.spread``); None
    where the forecast comes with a weekly spread only (then k weeks are taken as independent).
    """

    frame: pd.DataFrame
    method: str
    spread: DemandSpread | None = None

    def __post_init__(self) -> None:
        missing = set(FORECAST_COLUMNS) - set(self.frame.columns)
        if missing:
            raise ValueError(f"forecast frame lacks columns {sorted(missing)}")


def weekly_history(demand: pd.DataFrame) -> pd.DataFrame:
    """Daily or weekly demand rows -> one row per series and Monday week.

    Columns: sku, location, channel, week_start, units, in_stock (False if any day was out).
    """
    frame = demand.assign(
        week_start=demand["date"] - pd.to_timedelta(demand["date"].dt.day_of_week, unit="D"),
        in_stock=demand["in_stock"].fillna(True).astype(bool) if "in_stock" in demand else True,
    )
    keys = ["sku", "location", "channel", "week_start"]
    return frame.groupby(keys, as_index=False, observed=True).agg(units=("units", "sum"), in_stock=("in_stock", "min"))


def trailing_average_forecast(demand: pd.DataFrame, as_of: date, weeks: int, window: int = 8) -> Forecast:
    """Forecast every series seen in the last year at its trailing in-stock weekly mean.

    Args:
        demand: Typed demand history (columns date, sku, location, channel, units, in_stock).
        as_of: Monday the horizon starts; history before it is used.
        weeks: Horizon length in weeks.
        window: Number of most recent in-stock weeks averaged.
    """
    start = pd.Timestamp(as_of)
    history = weekly_history(demand[demand["date"] < start])
    history = history[history["week_start"] >= start - timedelta(weeks=52)]
    series_keys = ["sku", "location", "channel"]
    # Fill weeks with no rows as zero demand (sparse history: a missing day is a zero-demand day).
    first_week = start - timedelta(weeks=window)
    grid_weeks = pd.date_range(first_week, start - timedelta(weeks=1), freq="7D")
    series = history[series_keys].drop_duplicates()
    grid = series.merge(pd.DataFrame({"week_start": grid_weeks}), how="cross")
    recent = grid.merge(history, on=[*series_keys, "week_start"], how="left")
    recent["units"] = recent["units"].fillna(0.0)
    recent["in_stock"] = recent["in_stock"].fillna(True).astype(bool)
    stats = (
        recent[recent["in_stock"]]
        .groupby(series_keys, as_index=False)
        .agg(units=("units", "mean"), units_std=("units", "std"))
    )
    stats["units"] = stats["units"].clip(lower=0.0)
    stats["units_std"] = stats["units_std"].fillna(0.0)
    rows = stats.merge(pd.DataFrame({"week": np.arange(weeks)}), how="cross")
    return Forecast(frame=rows[list(FORECAST_COLUMNS)], method=f"trailing_mean_{window}w")


def external_forecast(frame: pd.DataFrame, as_of: date, weeks: int) -> Forecast:
    """A forecast from the ``external_forecast`` input table (week_start -> week index).

    Rows outside the horizon are dropped; a missing ``units_std`` counts as no known error.
    """
    start = pd.Timestamp(as_of)
    week = ((frame["week_start"] - start).dt.days // 7).astype(int)
    rows = frame.assign(week=week, units_std=frame["units_std"].fillna(0.0))
    rows = rows[(rows["week"] >= 0) & (rows["week"] < weeks)]
    return Forecast(frame=rows[list(FORECAST_COLUMNS)].reset_index(drop=True), method="external")
