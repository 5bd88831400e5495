"""The external forecast overlay: a brand's own forecast replaces the built-in rows it covers.

Rows of the ``external_forecast`` table inside the horizon replace the built-in forecast for the
same sku, location, channel and week; the built-in forecast stays everywhere else. Its error
spread is the table's ``units_std`` where given, else ``external_cv`` x units from the settings
(a planner's stated uncertainty about a forecast with no recorded error).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from planning.forecast.baseline import FORECAST_COLUMNS, Forecast, external_forecast
from planning.forecast.settings import ForecastSettings
from planning.forecast.spread import INDEPENDENT

KEYS = ["sku", "location", "channel", "week"]


def overlay_external(
    built_in: Forecast, external: pd.DataFrame | None, as_of: date, weeks: int, settings: ForecastSettings
) -> Forecast:
    """The built-in forecast with the external table's rows in place of the ones they cover.

    Args:
        built_in: Forecast from ``forecast_demand`` (or any other source).
        external: Typed ``external_forecast`` table (sku, location, channel, week_start, units,
            units_std nullable), or None.
        as_of: Monday of week 0.
        weeks: Horizon in weeks; external rows outside it are ignored.
        settings: ``external_cv`` for rows without units_std.

    Returns:
        The combined forecast; its method reads ``<built-in>+external`` when any row was replaced.
    """
    if external is None or external.empty:
        return built_in
    std = external["units_std"] if "units_std" in external else pd.Series(float("nan"), index=external.index)
    filled = external.assign(units_std=std.fillna(settings.external_cv * external["units"]))
    given = external_forecast(filled, as_of, weeks).frame
    if given.empty:
        return built_in
    kept = built_in.frame.merge(given[KEYS], on=KEYS, how="left", indicator=True)
    kept = kept[kept["_merge"] == "left_only"][list(FORECAST_COLUMNS)]
    frame = pd.concat([kept, given], ignore_index=True).sort_values(KEYS, ignore_index=True)
    spread = built_in.spread
    if spread is not None:  # the external rows' spread was not measured here: their weeks count as independent
        replaced = set(zip(*(given[k].astype(str) for k in KEYS[:3]), strict=True))
        spread = spread.with_classes({**spread.classes, **dict.fromkeys(replaced, INDEPENDENT)})
    return Forecast(frame=frame, method=f"{built_in.method}+external", spread=spread)
