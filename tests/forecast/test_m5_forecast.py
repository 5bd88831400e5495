"""The engine on real demand: the M5 subset at weekly grain beats seasonal naive on WAPE.

Skipped when the shared M5 subset is not next to the checkout (it is not shipped with the project).
"""

from __future__ import annotations

from datetime import date

import pytest

from planning.forecast import ForecastSettings, forecast_demand
from planning.m5 import load_m5_tables
from tests.test_m5 import M5_DIR

pytestmark = pytest.mark.skipif(
    not M5_DIR.is_dir(), reason=f"M5 subset not found at {M5_DIR} (shared data set, not shipped with the project)"
)
AS_OF = date(2016, 4, 25)


@pytest.fixture(scope="module")
def run():
    return forecast_demand(load_m5_tables(M5_DIR), AS_OF, 26, ForecastSettings())


def test_selected_methods_beat_seasonal_naive_overall_and_per_class(run) -> None:
    wape = run.accuracy.pivot(index="demand_class", columns="method", values="wape")
    assert set(wape.index) == {"all", "smooth", "erratic", "intermittent", "lumpy"}
    assert (wape["selected"] < wape["seasonal_naive"]).all(), wape


def test_every_series_forecast_with_a_spread(run) -> None:
    frame = run.forecast.frame
    assert frame.groupby(["sku", "location", "channel"]).ngroups == len(run.series) == 280
    assert (frame["units"] >= 0).all() and (frame["units_std"] >= 0).all()
    assert frame["units"].notna().all() and frame["units_std"].notna().all()
    assert set(frame["week"]) == set(range(26))
