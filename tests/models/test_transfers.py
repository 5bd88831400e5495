"""Transfers along lanes: lead time, minimum shipment, lane cost against buying direct.

SKU A is bought at WH (lead 0 unless stated) and sold at the marketplace MKT, reached over the
lane WH -> MKT. Defaults (tests/models/helpers.py): cost 10, holding 1 per unit-week at every
location, a lost sale 990 unless the price is lowered.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from planning.checks import check_plan
from tests.models.helpers import inventory, item, items, lanes, monday, one_sku, option, options, solve


def test_transfer_arrives_lane_lead_time_later() -> None:
    tables = one_sku(
        {"MKT": [0, 5, 10]},
        items=items(item(price=30)),  # a lost sale costs 30 - 10 = 20
        sourcing_options=options(option(lead=1)),
        transfer_lanes=lanes(("WH", "MKT", 1, 0.5, 0)),
    )
    solved = solve(tables, weeks=3)
    # Ordered in week 0, at WH in week 1, shipped at once, sellable at MKT in week 2. Week 1 at
    # MKT is out of reach: 5 lost x 20 + 10 x 10 + 10 moved x 0.5 = 205, nothing held.
    assert solved.orders() == {0: 10.0}
    transfers = solved.plan.transfers
    assert transfers[["ship_week", "arrival_date", "quantity"]].to_dict("records") == [
        {"ship_week": 1, "arrival_date": monday(2), "quantity": 10.0}
    ]
    assert solved.closing("A", "WH") == [0.0, 0.0, 0.0]
    assert solved.cost("transfer_cost") == pytest.approx(5.0)
    assert solved.objective == pytest.approx(205.0)


@pytest.mark.parametrize(
    ("minimum", "expected_shipments", "expected_cost"),
    [
        # No minimum: ship each week's need: 20 x 10 + 20 moved x 0.5 = 210, nothing held.
        (0, {0: 10.0, 1: 10.0}, 210.0),
        # Minimum 20: two shipments of 10 are not allowed; one of 20 in week 0 leaves 10 at MKT
        # for a week: 210 + 10 x 1 = 220.
        (20, {0: 20.0}, 220.0),
    ],
)
def test_lane_minimum_shipment(minimum: float, expected_shipments: dict[int, float], expected_cost: float) -> None:
    tables = one_sku({"MKT": [0, 10, 10]}, transfer_lanes=lanes(("WH", "MKT", 1, 0.5, minimum)))
    solved = solve(tables, weeks=3)
    shipped = solved.plan.transfers.groupby("ship_week")["quantity"].sum().to_dict()
    assert shipped == expected_shipments
    assert solved.objective == pytest.approx(expected_cost)


def test_lane_minimum_above_the_demand_served_ships_the_minimum() -> None:
    tables = one_sku({"MKT": [0, 10]}, transfer_lanes=lanes(("WH", "MKT", 1, 0.5, 25)))
    solved = solve(tables, weeks=2)
    # Ship the minimum 25 in week 0: 25 x 10 + 25 x 0.5 + 15 left at MKT x 1 week x 1 = 277.5
    # (losing the 10 sales costs 10 x 990 = 9900).
    assert solved.plan.transfers["quantity"].tolist() == [25.0]
    assert solved.objective == pytest.approx(277.5)


@pytest.mark.parametrize(
    ("lane_cost", "expected_ship_to", "expected_cost"),
    [
        (0.5, "WH", 105.0),  # via WH: 10 x (10 + 0.5) = 105 < direct 10 x 11
        (2.0, "MKT", 110.0),  # direct: 10 x 11 = 110 < via WH 10 x (10 + 2)
    ],
)
def test_transfer_cost_against_a_direct_option(lane_cost: float, expected_ship_to: str, expected_cost: float) -> None:
    tables = one_sku(
        {"MKT": [10]},
        sourcing_options=options(option(ship_to="WH", cost=10), option(ship_to="MKT", cost=11)),
        transfer_lanes=lanes(("WH", "MKT", 0, lane_cost, 0)),
    )
    solved = solve(tables, weeks=1)
    assert solved.orders("ship_to") == {expected_ship_to: 10.0}
    assert solved.plan.transfers["quantity"].sum() == (10.0 if expected_ship_to == "WH" else 0.0)
    assert solved.objective == pytest.approx(expected_cost)


def test_transfers_move_whole_units() -> None:
    tables = one_sku(
        {"MKT": [2.5]},
        inventory=inventory({("A", "WH"): 10, ("A", "MKT"): 0}),
        transfer_lanes=lanes(("WH", "MKT", 0, 0.5, 0)),
    )
    solved = solve(tables, weeks=1)
    # Fractions of a unit would ship 2.5: 2.5 x 0.5 + 7.5 held at WH = 8.75. Whole units ship 3:
    # 3 x 0.5 + 7 held at WH + 0.5 left at MKT = 9.0 (2 would lose half a sale at 990).
    assert solved.plan.transfers["quantity"].tolist() == [3.0]
    assert solved.objective == pytest.approx(9.0)
    # The plan check refuses a fraction of a unit on a transfer line.
    fractional = solved.plan.transfers.assign(quantity=2.5)
    rules = {v.rule for v in check_plan(replace(solved.plan, transfers=fractional), solved.problem)}
    assert "whole_units" in rules
