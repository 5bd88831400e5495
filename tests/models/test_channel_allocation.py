"""Channel allocation: a reservation keeps shared stock back for one channel."""

from __future__ import annotations

import pytest

from tests.models.helpers import monday, one_sku, option, options, solve, table


def _shared_pool(reservation: str | None) -> dict[str, str]:
    """WH holds 10 units and serves both web and retail; nothing can be bought in time.

    Retail wants 10 in week 0, web wants 6 in week 1.
    """
    return one_sku(
        [0, 0],
        on_hand=10,
        sourcing_options=options(option(lead=5)),  # arrives after the 2-week horizon: no order slots
        locations=table("location,type,capacity,capacity_unit,channels", ["WH,warehouse,,units,web;retail"]),
        external_forecast=table(
            "sku,location,channel,week_start,units,units_std",
            [f"A,WH,retail,{monday(0)},10,0", f"A,WH,web,{monday(1)},6,0"],
        ),
        channel_reservations=reservation,
    )


def test_without_a_reservation_the_pool_goes_to_the_first_demand() -> None:
    solved = solve(_shared_pool(None), weeks=2)
    # Serve retail's 10 now, lose web's 6 next week: 6 x 990 = 5940 (no stock held, no holding cost).
    assert solved.objective == pytest.approx(5940.0)
    assert solved.column("served") == [10.0, 0.0]


@pytest.mark.parametrize(
    "row",
    ["WH,web,,6,", "WH,web,,,1"],  # 6 units, or 1 week of web's forecast (6 in week 1; 0 after it)
    ids=["units", "weeks_of_cover"],
)
def test_a_reservation_keeps_stock_back_for_its_channel(row: str) -> None:
    reservation = table("location,channel,category,reserved_units,weeks_of_cover", [row])
    solved = solve(_shared_pool(reservation), weeks=2)
    # Week 0 must close with 6 for web (closing + web's own use >= 6): retail gets 4, loses 6:
    # 6 x 990 lost + 6 units held one week x 1 = 5946. Breaking the reserve would cost
    # 6 x 1.5 x 990 = 8910 more than that, so it holds; web is served in full in week 1.
    assert solved.objective == pytest.approx(5946.0)
    assert solved.column("served") == [4.0, 6.0]
    assert solved.cost("reservation_cost") == pytest.approx(0.0)
