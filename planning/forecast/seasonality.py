"""Yearly seasonal profiles and event uplifts: the calendar factor C of the calendar variants.

Seasonal index. Per SKU (its locations and channels pooled, since one product shares one
season), each week's demand is divided by its centred 52-week mean; the ratios are averaged per
week of the year, smoothed over neighbouring weeks, shrunk towards 1 by the share of its
variance that is signal rather than noise, and normalised to mean 1. SKUs with fewer than
``min_seasonal_weeks`` of history keep a flat profile.

Event uplift. For each event and SKU, what sold in the past event weeks against what the
neighbouring weeks (two either side, seasonally adjusted) predict, as a credibility-weighted
ratio (Buhlmann): uplift = (sum actual + K) / (sum expected + K), K = ``event_prior_units`` x the
SKU's variance-to-mean ratio. Poisson noise on a ratio shrinks as the expected units grow, so
an event seen on a fast seller counts almost fully, while a slow or lumpy seller's lucky sale in
a holiday week barely moves its forecast.

Both are estimated only from weeks before ``cutoff``, so the backtest does not see its future.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatMatrix = npt.NDArray[np.float64]
SEASON = 52
NEIGHBOURS = (-2, -1, 1, 2)
INDEX_FLOOR = 0.1


def week_of_year(week_starts: pd.DatetimeIndex) -> npt.NDArray[np.int64]:
    """Slot 0..51 of each Monday; the rare 53rd week shares slot 51."""
    return np.minimum((week_starts.day_of_year.to_numpy() - 1) // 7, SEASON - 1).astype(np.int64)


def _pool(values: FloatMatrix, groups: npt.NDArray[np.int64], n_groups: int) -> FloatMatrix:
    pooled = np.zeros((n_groups, values.shape[1]))
    np.add.at(pooled, groups, np.nan_to_num(values))
    return pooled


def seasonal_index(
    demand: FloatMatrix,
    sku_codes: npt.NDArray[np.int64],
    slots: npt.NDArray[np.int64],
    cutoff: int,
    min_weeks: int,
    event_mask: npt.NDArray[np.bool_] | None = None,
) -> FloatMatrix:
    """Multiplicative index per series x week-of-year slot (rows of one SKU share it).

    Event weeks (``event_mask``, series x history week) are left out, so a moving holiday's
    spike is carried by its event uplift instead of smearing over the weeks it has fallen in.
    """
    n_sku = int(sku_codes.max()) + 1 if len(sku_codes) else 0
    pooled = _pool(demand[:, :cutoff], sku_codes, n_sku)
    started = _pool(np.isfinite(demand[:, :cutoff]).astype(float), sku_codes, n_sku) > 0
    if event_mask is not None:
        started &= _pool(event_mask[:, :cutoff].astype(float), sku_codes, n_sku) == 0
    history = started.sum(axis=1)
    pooled = np.where(started, pooled, np.nan)
    frame = pd.DataFrame(pooled.T)
    # A few event weeks may be missing from a window. Within half a year of either end of the
    # history the nearest full year's mean stands in for the centred one: with two years of
    # history the backtest's calendar sees little more than one, and a full year's mean is still
    # free of the season (a half-window mean is not).
    centred = frame.rolling(SEASON, center=True, min_periods=SEASON - 8).mean().bfill().ffill().to_numpy().T
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(centred > 0, pooled / np.where(centred > 0, centred, 1.0), np.nan)
    sums = np.zeros((n_sku, SEASON))
    counts = np.zeros((n_sku, SEASON))
    finite = np.isfinite(ratio)
    np.add.at(sums.T, slots[:cutoff], np.where(finite, ratio, 0.0).T)
    np.add.at(counts.T, slots[:cutoff], finite.T.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(counts > 0, sums / np.maximum(counts, 1), 1.0)
    # Circular [1, 2, 1] smoothing: one week's noise must not become next year's forecast.
    smooth = (np.roll(raw, 1, axis=1) + 2 * raw + np.roll(raw, -1, axis=1)) / 4
    index = 1 + (smooth - 1) * _signal_share(raw)
    # A floor keeps deseasonalised demand finite in weeks that never sold.
    index = np.maximum(index, INDEX_FLOOR)
    index = index / index.mean(axis=1, keepdims=True)
    index[history < min_weeks] = 1.0
    return index[sku_codes]


def _signal_share(raw: FloatMatrix) -> FloatMatrix:
    """Share of the profile's variance that is season rather than noise (a James-Stein weight).

    A true yearly season changes slowly from week to week, so half the mean squared change
    between neighbouring weeks estimates the noise variance left in the averaged ratios.
    """
    total = raw.var(axis=1, keepdims=True)
    noise = 0.5 * np.mean((raw - np.roll(raw, 1, axis=1)) ** 2, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, np.clip(total - noise, 0.0, None) / total, 0.0)
    return np.asarray(share, dtype=float)


def event_uplift(
    demand: FloatMatrix,
    occurrences: pd.DataFrame,
    sku_codes: npt.NDArray[np.int64],
    skus: pd.Series,
    season: FloatMatrix,
    cutoff: int,
    n_weeks_total: int,
    prior_units: float,
) -> FloatMatrix:
    """Multiplicative uplift per series x week (past and future grid), 1 where no event falls.

    Args:
        demand: Corrected demand, series x history week.
        occurrences: Event weeks: columns event, sku (NA = all SKUs), week (may exceed history).
        sku_codes: SKU code of each series row.
        skus: SKU id of each series row.
        season: Calendar index per series x week (history and horizon).
        cutoff: Only weeks before it inform the estimate.
        n_weeks_total: History plus horizon weeks.
        prior_units: Credibility constant K per unit of dispersion (see the module docstring).
    """
    uplift = np.ones((len(demand), n_weeks_total))
    if occurrences.empty or len(demand) == 0:
        return uplift
    rows = pd.DataFrame({"row": np.arange(len(demand)), "sku": skus.to_numpy(), "code": sku_codes})
    scoped = occurrences[occurrences["sku"].notna()].merge(rows, on="sku")
    general = occurrences[occurrences["sku"].isna()].drop(columns="sku").merge(rows, how="cross")
    hits = pd.concat([scoped, general], ignore_index=True)
    r, w = hits["row"].to_numpy(), hits["week"].to_numpy()
    actual, expected = _actual_and_expected(demand, season, r, w, cutoff)
    hits = hits.assign(actual=actual, expected=expected)
    usable = hits[np.isfinite(actual) & np.isfinite(expected)]
    stats = usable.groupby(["event", "code"], as_index=False).agg(
        actual=("actual", "sum"), expected=("expected", "sum")
    )
    prior = prior_units * _dispersion(demand[:, :cutoff], sku_codes)[stats["code"].to_numpy()]
    stats["uplift"] = (stats["actual"] + prior) / (stats["expected"] + prior)
    hits = hits.merge(stats[["event", "code", "uplift"]], on=["event", "code"], how="left")
    factor = np.maximum(hits["uplift"].fillna(1.0).to_numpy(), INDEX_FLOOR)
    np.multiply.at(uplift, (hits["row"].to_numpy(), hits["week"].to_numpy()), factor)
    return uplift


def _dispersion(demand: FloatMatrix, sku_codes: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Variance-to-mean ratio of each SKU's pooled weekly demand, at least 1 (Poisson)."""
    n_sku = int(sku_codes.max()) + 1
    pooled = _pool(demand, sku_codes, n_sku)
    seen = _pool(np.isfinite(demand).astype(float), sku_codes, n_sku) > 0
    count = np.maximum(seen.sum(axis=1), 1)
    mean = np.where(seen, pooled, 0.0).sum(axis=1) / count
    var = np.where(seen, (pooled - mean[:, None]) ** 2, 0.0).sum(axis=1) / count
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(mean > 0, var / np.where(mean > 0, mean, 1.0), 1.0)
    return np.asarray(np.maximum(ratio, 1.0), dtype=float)


def event_mask(occurrences: pd.DataFrame, skus: pd.Series, n_weeks: int) -> npt.NDArray[np.bool_]:
    """True where an event falls, per series x history week."""
    mask = np.zeros((len(skus), n_weeks), dtype=bool)
    if occurrences.empty:
        return mask
    past = occurrences[occurrences["week"] < n_weeks]
    general = past.loc[past["sku"].isna(), "week"].to_numpy(dtype=np.int64)
    mask[:, general] = True
    scoped = past[past["sku"].notna()]
    rows = pd.DataFrame({"row": np.arange(len(skus)), "sku": skus.to_numpy()}).merge(scoped, on="sku")
    mask[rows["row"].to_numpy(dtype=np.int64), rows["week"].to_numpy(dtype=np.int64)] = True
    return mask


def _actual_and_expected(
    demand: FloatMatrix, season: FloatMatrix, r: npt.NDArray[np.int64], w: npt.NDArray[np.int64], cutoff: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Demand in each past event week and the seasonally adjusted mean of its neighbours."""
    inside = (w >= 2) & (w + 2 < cutoff)
    wc = np.clip(w, 0, cutoff - 1)
    actual = np.where(inside, demand[r, wc], np.nan)
    base = np.zeros(len(r))
    n = np.zeros(len(r))
    for step in NEIGHBOURS:
        wn = np.clip(w + step, 0, cutoff - 1)
        value = demand[r, wn] / season[r, wn]
        ok = inside & np.isfinite(value)
        base += np.where(ok, value, 0.0)
        n += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(n > 0, base / np.maximum(n, 1) * season[r, wc], np.nan)
    return actual, expected
