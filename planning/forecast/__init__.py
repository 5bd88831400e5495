"""Demand forecasts per SKU x location x channel x week, and their error estimates.

The planning problem consumes a ``Forecast``: whatever produces it (the engine in
``planning.forecast.engine``, the trailing-average baseline, or a brand's external forecast)
plugs in here without touching the model. ``data_contracts/FORECASTING.md`` documents the methods.
"""

from planning.forecast.backtest import accuracy_table
from planning.forecast.baseline import (
    FORECAST_COLUMNS,
    Forecast,
    external_forecast,
    trailing_average_forecast,
    weekly_history,
)
from planning.forecast.engine import ForecastRun, classify, forecast_demand
from planning.forecast.external import overlay_external
from planning.forecast.service import normal_loss, safety_stock
from planning.forecast.settings import ForecastSettings

__all__ = [
    "FORECAST_COLUMNS",
    "Forecast",
    "ForecastRun",
    "ForecastSettings",
    "accuracy_table",
    "classify",
    "external_forecast",
    "forecast_demand",
    "normal_loss",
    "overlay_external",
    "safety_stock",
    "trailing_average_forecast",
    "weekly_history",
]
