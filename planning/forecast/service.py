"""Safety stock from forecast error, lead time and a service target.

Symbols (per series, all in weeks and units):
  d        mean weekly demand (the forecast)
  sigma_d  standard deviation of the one-week-ahead forecast error
  L, s_L   mean and standard deviation of the lead time
  R        review period (1: the plan is rerun weekly)
  sigma    spread of demand over the protection interval L + R, with lead-time variability:
           sigma = sqrt((L + R) sigma_d^2 + d^2 s_L^2)

Cycle service level (probability of no stockout in a cycle):  SS = z sigma, z = Phi^-1(CSL).
Fill rate beta (share of demand served from stock): the expected shortage per cycle,
sigma G(k) with the standard normal loss G(k) = phi(k) - k (1 - Phi(k)), may be at most
(1 - beta) d R, the demand of one cycle; SS = k sigma for the k that meets it (Silver, Pyke &
Peterson, ch. 7). A negative safety stock (a very low target) is reported as zero.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr, ndtri  # type: ignore[import-untyped]  # scipy ships no stubs

ArrayLike = float | npt.NDArray[np.float64]
ServiceMetric = Literal["cycle_service_level", "fill_rate"]
_K_LOW, _K_HIGH = -6.0, 8.0  # the loss function is flat to double precision beyond these


def normal_loss(k: ArrayLike) -> npt.NDArray[np.float64]:
    """Standard normal loss G(k) = E[(Z - k)^+]."""
    k = np.asarray(k, dtype=float)
    pdf = np.exp(-0.5 * k * k) / np.sqrt(2 * np.pi)
    return np.asarray(pdf - k * (1.0 - ndtr(k)), dtype=float)


def inverse_normal_loss(g: ArrayLike) -> npt.NDArray[np.float64]:
    """The k with G(k) = g, by bisection (G is strictly decreasing); vectorized."""
    target = np.asarray(g, dtype=float)
    low = np.full(target.shape, _K_LOW)
    high = np.full(target.shape, _K_HIGH)
    for _ in range(64):  # 14 / 2^64: far below float precision
        mid = (low + high) / 2
        too_low = normal_loss(mid) > target
        low, high = np.where(too_low, mid, low), np.where(too_low, high, mid)
    return (low + high) / 2


def protection_sigma(
    demand: ArrayLike, sigma_d: ArrayLike, lead: ArrayLike, lead_std: ArrayLike = 0.0, review: ArrayLike = 1.0
) -> npt.NDArray[np.float64]:
    """Spread of demand over lead time plus review: sqrt((L + R) sigma_d^2 + d^2 s_L^2)."""
    d, s, lt, lt_std, r = (np.asarray(x, dtype=float) for x in (demand, sigma_d, lead, lead_std, review))
    return np.asarray(np.sqrt((lt + r) * s * s + d * d * lt_std * lt_std), dtype=float)


def safety_stock(
    demand: ArrayLike,
    sigma_d: ArrayLike,
    lead: ArrayLike,
    target: ArrayLike,
    metric: ServiceMetric = "cycle_service_level",
    lead_std: ArrayLike = 0.0,
    review: ArrayLike = 1.0,
) -> npt.NDArray[np.float64]:
    """Safety stock in units for a cycle service level or a fill-rate target.

    Args:
        demand: Mean weekly demand d (the forecast).
        sigma_d: One-week-ahead forecast error standard deviation.
        lead: Mean lead time L in weeks.
        target: Target in (0, 1): the cycle service level or the fill rate.
        metric: ``cycle_service_level`` or ``fill_rate``.
        lead_std: Lead-time standard deviation in weeks.
        review: Review period R in weeks (1 for a weekly plan).

    Returns:
        Safety stock per series (never negative).
    """
    p = np.asarray(target, dtype=float)
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("service targets must lie strictly between 0 and 1 (0.95 = 95 %)")
    sigma = protection_sigma(demand, sigma_d, lead, lead_std, review)
    if metric == "cycle_service_level":
        k = ndtri(p)
    elif metric == "fill_rate":
        cycle_demand = np.asarray(demand, dtype=float) * np.asarray(review, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            g = np.where(sigma > 0, (1 - p) * cycle_demand / np.where(sigma > 0, sigma, 1.0), np.inf)
        k = inverse_normal_loss(np.minimum(g, normal_loss(_K_LOW)))
        # No expected demand, nothing to fill: a fill-rate target needs no stock (G = 0 would ask for k = 8).
        k = np.where(cycle_demand > 0, k, 0.0)
    else:
        raise ValueError(f"unknown service metric {metric!r}: use 'cycle_service_level' or 'fill_rate'")
    return np.asarray(np.maximum(k * sigma, 0.0), dtype=float)


def newsvendor_normal(mean: float, std: float, holding: float, penalty: float) -> tuple[float, float]:
    """Optimal order-up-to level and expected cost for normal demand (critical ratio p / (p + h)).

    The expected cost of level S is h (S - mu) + (h + p) sigma G((S - mu) / sigma).
    """
    level = mean + std * float(ndtri(penalty / (penalty + holding)))
    return level, newsvendor_cost(level, mean, std, holding, penalty)


def newsvendor_cost(level: float, mean: float, std: float, holding: float, penalty: float) -> float:
    """Expected overage plus underage cost of order-up-to ``level`` under Normal(mean, std) demand."""
    k = (level - mean) / std
    return float(holding * (level - mean) + (holding + penalty) * std * normal_loss(k))


def newsvendor_discrete(pmf: npt.NDArray[np.float64], holding: float, penalty: float) -> tuple[int, float]:
    """Optimal order-up-to level and expected cost for demand on 0, 1, 2, ... with ``pmf``.

    The level is the smallest S with P(D <= S) >= p / (p + h); ``pmf`` must carry (nearly) all
    the probability mass.
    """
    probs = np.asarray(pmf, dtype=float)
    level = int(np.searchsorted(np.cumsum(probs), penalty / (penalty + holding) - 1e-12))
    return level, discrete_cost(level, probs, holding, penalty)


def discrete_cost(level: int, pmf: npt.NDArray[np.float64], holding: float, penalty: float) -> float:
    """Expected h (S - D)^+ + p (D - S)^+ for discrete demand with probabilities ``pmf``."""
    d = np.arange(len(pmf))
    return float(np.sum(pmf * (holding * np.maximum(level - d, 0) + penalty * np.maximum(d - level, 0))))
