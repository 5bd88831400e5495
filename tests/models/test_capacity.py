"""Warehouse capacity on closing stock, in units or in litres, with priced overrun slack.

Defaults (tests/models/helpers.py): SKU A costs 10, holding 1 per unit-week; a capacity overrun
costs 100 per unit (or litre) per week (costs.capacity_overrun_penalty).
"""

from __future__ import annotations

import pytest

from tests.models.helpers import item, items, location, locations, one_sku, solve


@pytest.mark.parametrize(
    ("capacity", "unit", "volume", "expected_orders", "expected_cost"),
    [
        # No limit: one order of 25: 25 x 10 + 1 line x 25 + holding (15 + 5) x 1 = 295.
        ("", "units", 0.0, {0: 25.0}, 295.0),
        # 12 units: week 0 may close with at most 12, so two lines (10, then 15):
        # 250 + 2 x 25 + holding 5 (week 1) = 305; 12 + 13 would hold 2 + 5 (307), 20 + 5 hold 10 (310).
        (12, "units", 0.0, {0: 10.0, 1: 15.0}, 305.0),
        # 24 litres of a 2-litre unit is the same 12 units.
        (24, "volume", 2.0, {0: 10.0, 1: 15.0}, 305.0),
    ],
)
def test_capacity_limits_stock_built_ahead(
    capacity: float | str, unit: str, volume: float, expected_orders: dict[int, float], expected_cost: float
) -> None:
    tables = one_sku(
        [10, 10, 5],
        items=items(item(line_cost=25, volume=volume)),
        locations=locations(location("WH", capacity=capacity, unit=unit)),
    )
    solved = solve(tables, weeks=3)
    assert solved.orders() == expected_orders
    assert solved.plan.overruns == {}
    assert solved.objective == pytest.approx(expected_cost)


@pytest.mark.parametrize(
    ("capacity", "unit", "volume", "overrun", "expected_cost"),
    [
        # 50 on hand in 30 units of space: week 0 closes with 40, 10 over: 10 x 5 + holding (40 + 30) x 1 = 120.
        (30, "units", 0.0, 10.0, 120.0),
        # In litres: 40 units x 2 l = 80 l in 60 l, 20 l over: 20 x 5 + 70 = 170.
        (60, "volume", 2.0, 20.0, 170.0),
    ],
)
def test_overrun_is_used_and_priced_when_opening_stock_exceeds_capacity(
    capacity: float, unit: str, volume: float, overrun: float, expected_cost: float
) -> None:
    tables = one_sku(
        [10, 10],
        on_hand=50,
        items=items(item(volume=volume)),
        locations=locations(location("WH", capacity=capacity, unit=unit)),
    )
    solved = solve(tables, weeks=2)
    assert solved.orders() == {}
    assert solved.closing() == [40.0, 30.0]
    assert solved.plan.overruns == {"location:WH:0": pytest.approx(overrun)}
    assert solved.cost("capacity_overrun_cost") == pytest.approx(5 * overrun)  # 5 per unit-week (or litre-week)
    assert solved.objective == pytest.approx(expected_cost)
