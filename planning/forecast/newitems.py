"""New items: category analogues and a launch curve, blended with what little history exists.

The analogue level of a (category, location, channel) is the median weekly forecast of its
established series. A new item without history sells at that level from its launch week on,
ramping up linearly over ``new_item_ramp_weeks`` (nothing before the launch date), wherever its
category sells. A young series (fewer than ``min_history_weeks`` weeks since its first sale)
blends its own mean with the analogue, weighting its own history by weeks seen / minimum.
The error spread is ``new_item_cv`` x the forecast: there is no own error history to measure.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from planning.forecast.history import SERIES_KEYS, Panel
from planning.forecast.settings import ForecastSettings

ANALOGUE_KEYS = ["category", "location", "channel"]


def _ramp(weeks_since_launch: np.ndarray, ramp_weeks: int) -> np.ndarray:
    """Share of the mature level sold in each week after launch (0 before the launch week)."""
    share = np.minimum((weeks_since_launch + 1) / (ramp_weeks + 1), 1.0)
    return np.where(weeks_since_launch >= 0, share, 0.0)


def _analogues(established: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    level = established.groupby(SERIES_KEYS, as_index=False)["units"].mean()
    level = level.merge(items[["sku", "category"]], on="sku", how="left")
    return level.groupby(ANALOGUE_KEYS, as_index=False)["units"].median().rename(columns={"units": "analogue"})


def new_item_forecast(
    young: Panel, established: pd.DataFrame, items: pd.DataFrame, as_of: date, weeks: int, s: ForecastSettings
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast rows and series metadata for young series and new items without history.

    Args:
        young: Panel of series with some but too little history.
        established: Forecast rows of the established series (the analogues).
        items: sku, category, status, launch_date.
        as_of: Monday of week 0.
        weeks: Horizon in weeks.
        s: Settings (ramp, minimum history, error spread).
    """
    analogue = _analogues(established, items)
    history = young.started.sum(axis=1)
    finite = np.isfinite(young.demand)
    own = np.where(finite, young.demand, 0.0).sum(axis=1) / np.maximum(history, 1)
    known = young.keys.assign(history_weeks=history, own=own)
    unseen = _unseen_new_items(items, young.keys, established, as_of)
    series = pd.concat([known, unseen], ignore_index=True)
    series = series.merge(items[["sku", "category"]], on="sku", how="left").merge(
        analogue, on=ANALOGUE_KEYS, how="left"
    )
    weight = (series["history_weeks"] / s.min_history_weeks).clip(upper=1.0).to_numpy()
    own_level = series["own"].fillna(0.0).to_numpy()
    analogue_level = series["analogue"].fillna(0.0).to_numpy()
    level = np.where(series["analogue"].notna(), weight * own_level + (1 - weight) * analogue_level, own_level)
    since = series["history_weeks"].to_numpy()[:, None] - series["launch_offset"].fillna(0).to_numpy()[:, None]
    units = level[:, None] * _ramp(since + np.arange(weeks)[None, :], s.new_item_ramp_weeks)
    rows = series[SERIES_KEYS].loc[np.repeat(series.index.to_numpy(), weeks)].reset_index(drop=True)
    frame = rows.assign(
        week=np.tile(np.arange(weeks), len(series)), units=units.ravel(), units_std=s.new_item_cv * units.ravel()
    )
    meta = series[SERIES_KEYS].assign(
        demand_class="new",
        method=np.where(series["history_weeks"] > 0, "analogue_blend", "analogue_launch"),
        censored_weeks=np.concatenate([young.censored.sum(axis=1), np.zeros(len(unseen), dtype=np.int64)]),
        history_weeks=series["history_weeks"].to_numpy(dtype=np.int64),
    )
    return frame, meta


def _unseen_new_items(items: pd.DataFrame, seen: pd.DataFrame, established: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """New SKUs with no history, placed wherever their category sells.

    ``launch_offset`` is the launch week relative to week 0 (0 if no launch date is given), so
    ``history_weeks - launch_offset`` counts weeks since launch.
    """
    new = items[(items["status"] == "new") & ~items["sku"].isin(seen["sku"]) & ~items["sku"].isin(established["sku"])]
    if new.empty:
        return pd.DataFrame({**{k: [] for k in SERIES_KEYS}, "history_weeks": [], "own": [], "launch_offset": []})
    launch = pd.to_datetime(new["launch_date"])
    monday = launch - pd.to_timedelta(launch.dt.day_of_week, unit="D")
    offset = ((monday - pd.Timestamp(as_of)).dt.days // 7).fillna(0).clip(lower=0)
    places = established[["sku", "location", "channel"]].drop_duplicates()
    places = places.merge(items[["sku", "category"]], on="sku")[["category", "location", "channel"]].drop_duplicates()
    spread = new[["sku", "category"]].assign(launch_offset=offset.to_numpy()).merge(places, on="category")
    return spread[[*SERIES_KEYS, "launch_offset"]].assign(history_weeks=0, own=np.nan)
