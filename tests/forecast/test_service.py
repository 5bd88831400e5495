"""Safety stock and newsvendor answers against the textbook reference (../shared/reference)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.forecast.service import (
    discrete_cost,
    inverse_normal_loss,
    newsvendor_cost,
    newsvendor_discrete,
    newsvendor_normal,
    normal_loss,
    protection_sigma,
    safety_stock,
)
from tests.scenarios.textbook import REFERENCE  # vendored copy of shared/reference, checked against it

CASES = {case["id"]: case for case in json.loads(REFERENCE.read_text())["newsvendor_and_stochastic"]}


def test_newsvendor_normal_matches_reference() -> None:
    case = CASES["fosct_ex4_3"]  # Normal(50, 8), h 0.18, p 0.7
    level, cost = newsvendor_normal(50.0, 8.0, case["h"], case["p"])
    assert level == pytest.approx(case["S_opt"], abs=1e-9)
    assert cost == pytest.approx(case["cost_opt"], abs=1e-9)
    assert newsvendor_cost(40.0, 50.0, 8.0, case["h"], case["p"]) == pytest.approx(case["cost_at_S40"], abs=1e-9)
    assert newsvendor_cost(60.0, 50.0, 8.0, case["h"], case["p"]) == pytest.approx(case["cost_at_S60"], abs=1e-9)


def test_cycle_service_safety_stock_is_the_newsvendor_quantile() -> None:
    # One review week, no lead time: mean + safety stock at CSL p / (p + h) is the newsvendor level.
    case = CASES["fosct_ex4_3"]
    ratio = case["p"] / (case["p"] + case["h"])
    stock = safety_stock(50.0, 8.0, lead=0.0, target=ratio, metric="cycle_service_level")
    assert 50.0 + float(stock) == pytest.approx(case["S_opt"], abs=1e-9)


def test_newsvendor_poisson_matches_reference() -> None:
    case = CASES["fosct_ex4_7_poisson"]  # Poisson(6), h 1, p 4
    pmf = np.array([math.exp(-6) * 6**k / math.factorial(k) for k in range(60)])
    level, cost = newsvendor_discrete(pmf, case["h"], case["p"])
    assert level == case["S_opt"]
    assert cost == pytest.approx(case["cost_opt"], abs=1e-9)
    assert discrete_cost(5, pmf, case["h"], case["p"]) == pytest.approx(case["cost_at_S5"], abs=1e-9)


def test_lead_time_variability_enters_the_protection_interval() -> None:
    # d 100, sigma_d 20, L 3 +- 1, R 1: sigma = sqrt(4 * 400 + 100^2 * 1) = sqrt(11600) = 107.70.
    assert float(protection_sigma(100.0, 20.0, 3.0, 1.0, 1.0)) == pytest.approx(math.sqrt(11600))
    stock = safety_stock(100.0, 20.0, lead=3.0, lead_std=1.0, target=0.95)
    assert float(stock) == pytest.approx(1.6448536269514722 * math.sqrt(11600), rel=1e-9)


def test_normal_loss_table_values() -> None:
    # Silver, Pyke & Peterson, Table II.1: G(0) = 0.3989, G(1) = 0.0833, G(2) = 0.0085.
    assert normal_loss(np.array([0.0, 1.0, 2.0])) == pytest.approx([0.39894, 0.08332, 0.00849], abs=1e-5)


def test_fill_rate_safety_stock_meets_the_expected_shortage() -> None:
    # d 100 a week, sigma over L + R = 100 (sigma_d 50, L 3): fill rate 99 % allows 1 unit short
    # per 100-unit cycle, so sigma G(k) = 1 -> G(k) = 0.01 -> k = 1.9384 (tables: G(1.93) = 0.0102, G(1.94) = 0.0099).
    stock = float(safety_stock(100.0, 50.0, lead=3.0, target=0.99, metric="fill_rate"))
    k = stock / 100.0
    assert float(normal_loss(k)) * 100.0 == pytest.approx(1.0, rel=1e-9)
    assert k == pytest.approx(1.9384, abs=1e-3)
    # A higher fill rate needs more stock; a very low one needs none.
    assert float(safety_stock(100.0, 50.0, lead=3.0, target=0.995, metric="fill_rate")) > stock
    assert float(safety_stock(100.0, 50.0, lead=3.0, target=0.30, metric="fill_rate")) == 0.0


def test_vectorized_and_validated() -> None:
    out = safety_stock(np.array([10.0, 20.0]), np.array([2.0, 0.0]), lead=np.array([1.0, 2.0]), target=0.9)
    assert out[1] == 0.0 and out[0] > 0
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        safety_stock(10.0, 2.0, lead=1.0, target=1.0)


@given(st.floats(min_value=-3.0, max_value=5.0))
def test_inverse_normal_loss_round_trips(k: float) -> None:
    assert float(inverse_normal_loss(normal_loss(k))) == pytest.approx(k, abs=1e-6)
