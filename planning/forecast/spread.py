"""The distribution of demand over k weeks ahead, from the backtest's own cumulative errors.

A weekly spread sigma_1 scaled by sqrt(k) assumes that forecast errors of consecutive weeks are
independent. They are not: a forecast that is low this week is usually low next week too, so
the spread of a k-week total grows faster than sqrt(k) (on the M5 subset a 4-week total's spread
is about twice what sqrt(4) gives). So the spread over a protection interval is measured, not
assumed:

  C_k(s, o) = sum_{h=1..k} (y[o + h] - F_h(s, o))      the k-week total's error from origin o
  Z_k(s, o) = C_k(s, o) / sigma_1(s)                     standardised by the series' one-week spread

for every series s and every rolling origin o of the backtest (``planning.forecast.backtest``)
whose k target weeks were all in stock, with the method the series is forecast by. The Z_k are
pooled by demand class (a series rarely has enough origins of its own for a 99 % quantile; its
scale sigma_1 is its own). A class with fewer than ``MIN_POOLED`` values at some k takes the
pool of all classes; with too few there as well, the normal with independent weeks (Z_k ~ N(0,
k)). Beyond the longest measured k = K the spread grows as sqrt(k / K) from K, shape kept.

Quantiles of the k-week total (published as ``forecast_quantiles``):

  Q_k(p) = max(0, F_1..k + sigma_1 q_k(p))       q_k(p) the p-quantile of the class's Z_k

Z_k keeps its sign and mean, so a forecast that runs low (intermittent items) gets quantiles
that say so. Safety stock over a protection interval of k weeks with lead-time spread s_L
(``spread_safety_stock``): the standardised shape U_k = Z_k / r_k, r_k = RMS(Z_k), is
scaled to the interval's whole spread

  sigma = sqrt((sigma_1 r_k)^2 + d^2 s_L^2)

and SS = sigma u_k(p) for a cycle-service level p (u_k the quantile of U_k), or SS = sigma t for
a fill rate b, t solving  sigma E[(U_k - t)^+] = (1 - b) d R  (the loss function of the same
empirical distribution; R = 1, a weekly review). Without lead-time spread the cycle-service
stock is exactly sigma_1 q_k(p).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import ndtri  # type: ignore[import-untyped]  # scipy ships no stubs

from planning.forecast.service import inverse_normal_loss

FloatMatrix = npt.NDArray[np.float64]
SeriesKey = tuple[str, str, str]  # sku, location, channel
MIN_POOLED = 40  # standardised errors needed at a horizon before a pool's own quantiles are trusted
ALL_CLASSES = "all"
INDEPENDENT = "independent"  # series whose spread was not measured here (an external forecast's): normal weeks
QUANTILE_LEVELS = (0.5, 0.8, 0.9, 0.95, 0.99)  # published as forecast_quantiles (QUANTILE_COLUMNS)


def cumulative_errors(errors_by_horizon: FloatMatrix) -> list[FloatMatrix]:
    """C_1..C_K from the signed errors y - F per horizon (horizon x series x target week).

    ``errors_by_horizon[h - 1, s, j]`` is the error of target week j forecast h weeks earlier;
    C_k[s, a] sums the errors of the k weeks after origin a (a NaN week makes the total NaN).
    """
    horizons, _, width = errors_by_horizon.shape
    totals = [errors_by_horizon[0]]
    for k in range(2, min(horizons, width) + 1):
        totals.append(totals[-1][:, : width - k + 1] + errors_by_horizon[k - 1, :, k - 1 :])
    return totals


@dataclass(frozen=True, slots=True)
class DemandSpread:
    """Standardised k-week errors Z_k pooled by demand class (module docstring).

    ``pools[cls][k - 1]``: the sorted finite Z_k of the class; ``classes``: each series' class.
    """

    pools: Mapping[str, tuple[npt.NDArray[np.float64], ...]]
    classes: Mapping[SeriesKey, str] = field(default_factory=dict)

    @property
    def weeks(self) -> int:
        """K, the longest horizon measured."""
        return max((len(p) for p in self.pools.values()), default=0)

    @classmethod
    def from_errors(
        cls, cumulative: list[FloatMatrix], sigma_1: npt.NDArray[np.float64], labels: npt.NDArray[np.str_]
    ) -> DemandSpread:
        """Pools from the cumulative errors C_k (series x origin) of series with spread ``sigma_1``."""
        usable = sigma_1 > 0
        pools: dict[str, list[npt.NDArray[np.float64]]] = {}
        for name in [*sorted(set(labels[usable].tolist())), ALL_CLASSES]:
            rows = usable & ((labels == name) if name != ALL_CLASSES else True)
            pools[name] = []
            for total in cumulative:
                z = total[rows] / sigma_1[rows, None]
                pools[name].append(np.sort(z[np.isfinite(z)]))
        return cls({name: tuple(values) for name, values in pools.items()})

    def with_classes(self, classes: Mapping[SeriesKey, str]) -> DemandSpread:
        return DemandSpread(self.pools, dict(classes))

    def _pool(self, demand_class: str, k: int) -> tuple[npt.NDArray[np.float64], float]:
        """The standardised values for a k-week total and the factor their spread is scaled by
        (sqrt(k / K) past the measured horizons); an empty array: the normal fallback."""
        kk = min(k, self.weeks)
        stretch = float(np.sqrt(k / kk)) if kk else 1.0
        if demand_class == INDEPENDENT:
            return np.empty(0), 1.0
        for name in (demand_class, ALL_CLASSES):
            pool = self.pools.get(name, ())
            if kk and len(pool) >= kk and len(pool[kk - 1]) >= MIN_POOLED:
                return pool[kk - 1], stretch
        return np.empty(0), 1.0

    def quantile(self, demand_class: str, k: int, p: float) -> float:
        """q_k(p): the p-quantile of the class's standardised k-week error (normal sqrt(k) fallback)."""
        values, stretch = self._pool(demand_class, k)
        if values.size == 0:
            return float(ndtri(p)) * float(np.sqrt(k))
        return float(np.quantile(values, p)) * stretch

    def rms(self, demand_class: str, k: int) -> float:
        """r_k: the root mean square of the class's standardised k-week error."""
        values, stretch = self._pool(demand_class, k)
        if values.size == 0:
            return float(np.sqrt(k))
        return float(np.sqrt(np.mean(values**2))) * stretch

    def shape(self, demand_class: str, k: int) -> npt.NDArray[np.float64]:
        """U_k = Z_k / r_k (sorted); empty for the normal fallback."""
        values, _ = self._pool(demand_class, k)
        if values.size == 0:
            return values
        return values / float(np.sqrt(np.mean(values**2)))


def empirical_loss(shape: npt.NDArray[np.float64], t: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """E[(U - t)^+] over the sorted values ``shape`` (vectorized over t), by suffix sums."""
    points = np.asarray(t, dtype=float)
    n = len(shape)
    suffix = np.concatenate([np.cumsum(shape[::-1])[::-1], [0.0]])  # suffix[i] = sum of shape[i:]
    first_above = np.searchsorted(shape, points, side="right")
    return np.asarray((suffix[first_above] - (n - first_above) * points) / n, dtype=float)


def inverse_empirical_loss(shape: npt.NDArray[np.float64], g: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The t with E[(U - t)^+] = g for sorted ``shape`` (vectorized over g).

    The loss is piecewise linear, falling from mean(U) - t below the smallest value to 0 at the
    largest: exact by interpolation between the values (its kinks); below the smallest value
    t = mean(U) - g; g <= 0 asks for no shortage at all, t = the largest value.
    """
    wanted = np.asarray(g, dtype=float)
    at_values = empirical_loss(shape, shape)  # falling along the sorted values
    below = float(shape.mean()) - wanted
    inside = np.interp(wanted, at_values[::-1], shape[::-1])
    return np.asarray(np.where(wanted >= at_values[0], below, inside), dtype=float)


def spread_safety_stock(
    spread: DemandSpread,
    demand_class: str,
    protection_weeks: int,
    demand: npt.ArrayLike,
    sigma_1: npt.ArrayLike,
    target: npt.ArrayLike,
    metric: str,
    lead_std: npt.ArrayLike = 0.0,
    review: float = 1.0,
) -> npt.NDArray[np.float64]:
    """Safety stock in units over ``protection_weeks`` (L + R) for points of one demand class
    (vectorized over the points): the module docstring's cycle-service and fill-rate rules."""
    d, s1, p, s_lead = (np.asarray(x, dtype=float) for x in (demand, sigma_1, target, lead_std))
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("service targets must lie strictly between 0 and 1 (0.95 = 95 %)")
    k = max(1, int(protection_weeks))
    sigma = np.sqrt((s1 * spread.rms(demand_class, k)) ** 2 + (d * s_lead) ** 2)
    shape = spread.shape(demand_class, k)
    if metric == "cycle_service_level":
        u = np.quantile(shape, p) if shape.size else ndtri(p)
        return np.asarray(np.maximum(sigma * u, 0.0), dtype=float)
    if metric != "fill_rate":
        raise ValueError(f"unknown service metric {metric!r}: use 'cycle_service_level' or 'fill_rate'")
    allowed = (1 - p) * d * review
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(sigma > 0, allowed / np.where(sigma > 0, sigma, 1.0), np.inf)
    if shape.size:
        t = inverse_empirical_loss(shape, np.where(np.isfinite(g), g, 0.0))
    else:
        t = inverse_normal_loss(np.minimum(g, 1e6))
    # No expected demand, nothing to fill; no spread, no stock.
    t = np.where((allowed > 0) & (sigma > 0), t, 0.0)
    return np.asarray(np.maximum(sigma * t, 0.0), dtype=float)


QUANTILE_COLUMNS = ("q50", "q80", "q90", "q95", "q99")


def quantile_table(frame: pd.DataFrame, spread: DemandSpread, weeks: int) -> pd.DataFrame:
    """Per series and k = 1..``weeks``: the forecast total of weeks 0..k-1 and its quantiles
    Q_k(p) = max(0, total + sigma_1 q_k(p)) (module docstring); sigma_1 = the series' units_std."""
    columns = ["sku", "location", "channel", "weeks_ahead", "demand_class", "units", *QUANTILE_COLUMNS]
    rows = frame[frame["week"] < weeks].sort_values(["sku", "location", "channel", "week"], kind="stable")
    if rows.empty:
        return pd.DataFrame(columns=columns)
    keys = ["sku", "location", "channel"]
    out = rows[keys].assign(
        weeks_ahead=rows["week"].astype(int) + 1,
        units=rows.groupby(keys, sort=False)["units"].cumsum().astype(float),
        sigma=rows.groupby(keys, sort=False)["units_std"].transform("first").astype(float),
    )
    out["demand_class"] = [
        spread.classes.get((str(s), str(loc), str(c)), "")
        for s, loc, c in zip(out["sku"], out["location"], out["channel"], strict=True)
    ]
    pairs = out[["demand_class", "weeks_ahead"]].drop_duplicates()
    factors = pairs.assign(
        **{
            f"_{name}": [spread.quantile(cls, int(k), level) for cls, k in pairs.itertuples(index=False)]
            for name, level in zip(QUANTILE_COLUMNS, QUANTILE_LEVELS, strict=True)
        }
    )
    out = out.merge(factors, on=["demand_class", "weeks_ahead"], how="left", validate="many_to_one")
    for name in QUANTILE_COLUMNS:
        out[name] = np.maximum(out["units"] + out["sigma"] * out[f"_{name}"], 0.0)
    return out[columns].reset_index(drop=True)
