"""The external forecast overrides the built-in rows it covers; its spread from the table or settings."""

from __future__ import annotations

import pandas as pd

from planning.forecast import Forecast, ForecastSettings, overlay_external
from tests.forecast.helpers import AS_OF


def built_in() -> Forecast:
    rows = [(sku, "WH", "web", w, 10.0, 2.0) for sku in ("A", "B") for w in range(3)]
    frame = pd.DataFrame(rows, columns=["sku", "location", "channel", "week", "units", "units_std"])
    return Forecast(frame=frame, method="engine")


def external() -> pd.DataFrame:
    monday = pd.Timestamp(AS_OF)
    return pd.DataFrame(
        {
            "sku": ["A", "A", "A", "C"],
            "location": "WH",
            "channel": "web",
            "week_start": [monday, monday + pd.Timedelta(weeks=1), monday + pd.Timedelta(weeks=5), monday],
            "units": [40.0, 50.0, 60.0, 8.0],
            "units_std": [9.0, None, 1.0, None],
        }
    )


def test_external_rows_replace_the_covered_rows_only() -> None:
    out = overlay_external(built_in(), external(), AS_OF, 3, ForecastSettings(external_cv=0.2))
    assert out.method == "engine+external"
    got = {(r.sku, r.week): (r.units, r.units_std) for r in out.frame.itertuples()}
    assert got == {
        ("A", 0): (40.0, 9.0),  # recorded error kept
        ("A", 1): (50.0, 10.0),  # no recorded error: 0.2 x 50 from settings
        ("A", 2): (10.0, 2.0),  # not covered: built-in
        ("B", 0): (10.0, 2.0),
        ("B", 1): (10.0, 2.0),
        ("B", 2): (10.0, 2.0),
        ("C", 0): (8.0, 1.6),  # a series only the external forecast knows
    }  # week 5 of A lies beyond the 3-week horizon and is ignored


def test_no_external_table_leaves_the_forecast_alone() -> None:
    base = built_in()
    assert overlay_external(base, None, AS_OF, 3, ForecastSettings()) is base
    assert overlay_external(base, external().iloc[:0], AS_OF, 3, ForecastSettings()) is base
