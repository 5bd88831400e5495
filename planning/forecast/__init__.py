"""Demand forecasts per SKU x location x channel x week, and their error estimates.

The planning problem consumes a ``Forecast``: whatever produces it (the trailing-average
baseline today, the forecasting issue's methods later, or a brand's external forecast)
plugs in here without touching the model.
"""

from planning.forecast.baseline import (
    FORECAST_COLUMNS,
    Forecast,
    external_forecast,
    trailing_average_forecast,
    weekly_history,
)

__all__ = ["FORECAST_COLUMNS", "Forecast", "external_forecast", "trailing_average_forecast", "weekly_history"]
