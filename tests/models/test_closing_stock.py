"""Closing stock: the sell-through valuation buys the economic order past the horizon; a flat share does not.

Defaults (tests/models/helpers.py): unit cost 10, holding 1 per unit-week, one option S -> WH
with lead 0 at cost 10. Here the line costs 45 and the horizon is one week of 10 units.
"""

from __future__ import annotations

import pytest

from tests.models.helpers import item, items, one_sku, solve

SELL_THROUGH = {"closing_stock_valuation": "sell_through", "closing_stock_cover_weeks": 4}


def test_sell_through_tiers_follow_the_economic_order() -> None:
    solved = solve(one_sku([10], items=items(item(line_cost=45))), weeks=1, costs=SELL_THROUGH)
    # rate r = 10 a week, a = sqrt(2 F h / r) = sqrt(2 x 45 x 1 / 10) = 3: tiers of 10, 10 and 20 units
    # worth 13, 12 and 13 - 1 x (2 + 0.5) = 10.5 (weeks 1, 2 and 3-4 after the horizon).
    tiers = solved.problem.closing_value[("A", "WH")]
    assert [width for width, _ in tiers] == pytest.approx([10, 10, 20])
    assert [value for _, value in tiers] == pytest.approx([13.0, 12.0, 10.5])
    # A closing unit costs 10 + 1 week of holding = 11: the 13 and 12 tiers pay, the 10.5 one does not.
    # Buy 30 = the economic order sqrt(2 F r / h) = sqrt(900); 300 + line 45 + holding 20 - (130 + 120) = 115.
    assert solved.orders() == {0: 30.0}
    assert solved.cost("end_of_horizon_credit") == pytest.approx(-250.0)
    assert solved.objective == pytest.approx(115.0)


def test_a_flat_share_cuts_the_order_at_the_horizon() -> None:
    shared = {"closing_stock_valuation": "share", "end_of_horizon_value_share": 0.5}
    solved = solve(one_sku([10], items=items(item(line_cost=45))), weeks=1, costs=shared)
    # Each closing unit costs 11 and earns 5: buy only the week's 10; 100 + 45 = 145.
    assert solved.orders() == {0: 10.0}
    assert solved.objective == pytest.approx(145.0)


def test_stock_past_the_cover_weeks_is_worth_nothing() -> None:
    solved = solve(one_sku([10], on_hand=100, items=items(item(line_cost=45))), weeks=1, costs=SELL_THROUGH)
    # 90 units close the week; only 40 (4 weeks of sales) carry value: 130 + 120 + 20 x 10.5 = 460.
    # Holding 90 x 1 = 90, nothing bought: 90 - 460 = -370.
    assert solved.orders() == {}
    assert solved.cost("end_of_horizon_credit") == pytest.approx(-460.0)
    assert solved.objective == pytest.approx(-370.0)
    assert solved.problem.closing_worth(("A", "WH"), 90) == pytest.approx(460.0)
