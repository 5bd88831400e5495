"""Settings of the forecasting engine (``RunConfig.forecast``).

Every field has a default that works on weekly ecommerce demand with one to five years of
history; the defaults are the ones ``bench/bench_forecast.py`` measured on the M5 subset.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

PositiveInt = Annotated[int, Field(ge=1)]
Smoothing = Annotated[float, Field(gt=0.0, le=1.0)]


class ForecastSettings(BaseModel):
    """How demand history becomes weekly forecasts, error estimates and an accuracy table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    selection_weeks: PositiveInt = Field(
        26, description="Weeks of rolling origins on which each series' method is chosen (most recent history)."
    )
    evaluation_weeks: PositiveInt = Field(
        13,
        description="Weeks of rolling origins in the published accuracy table; methods are chosen on the "
        "selection_weeks before them, so the table measures the choice out of sample.",
    )
    backtest_horizon: PositiveInt = Field(4, description="Forecast steps (weeks ahead) scored at every origin.")
    spread_weeks: PositiveInt = Field(
        13,
        description="Longest k-week demand total whose error distribution is measured from the backtest's cumulative "
        "errors (the quantiles published and the safety stock's protection interval; longer intervals scale by "
        "sqrt(k / K)): planning/forecast/spread.py.",
    )
    moving_average_weeks: PositiveInt = Field(8, description="Window of the moving-average baseline and candidate.")
    error_window_weeks: PositiveInt = Field(
        26, description="Recent weeks whose one-step errors give units_std (the safety-stock error spread)."
    )
    min_history_weeks: PositiveInt = Field(
        8, description="Series with fewer weeks since their first sale are forecast as new items (analogues)."
    )
    min_seasonal_weeks: PositiveInt = Field(
        56, description="Weeks of history (per SKU) needed before a yearly seasonal profile is estimated."
    )
    alpha: Smoothing = Field(0.1, description="Smoothing constant of SES, Croston/SBA and TSB (slow variant).")
    alpha_fast: Smoothing = Field(0.3, description="Smoothing constant of the fast SES variant.")
    trend_beta: Smoothing = Field(0.05, description="Trend smoothing of the damped-trend (Holt) candidate.")
    trend_damping: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.9, description="Damping factor phi of the damped trend (1 = undamped linear trend)."
    )
    tsb_beta: Smoothing = Field(0.1, description="Smoothing of the demand probability in TSB.")
    adi_threshold: Annotated[float, Field(gt=1.0)] = Field(
        1.32, description="Average demand interval above which a series is intermittent or lumpy (Syntetos-Boylan)."
    )
    cv2_threshold: Annotated[float, Field(gt=0.0)] = Field(
        0.49, description="Squared CV of non-zero demand sizes above which a series is erratic or lumpy."
    )
    detect_stockouts: bool = Field(
        True,
        description="Where in_stock is not given, read zero runs after steady sales as stockouts (censored weeks).",
    )
    stockout_min_run_weeks: PositiveInt = Field(2, description="Shortest zero run read as a stockout.")
    stockout_p_value: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        0.01, description="A zero run is a stockout if Poisson demand at the prior level makes it this unlikely."
    )
    holiday_calendar: Literal["us", "none"] = Field(
        "us", description="Built-in moving holidays (Easter, Memorial Day, Thanksgiving ...) treated as events."
    )
    event_prior_units: Annotated[float, Field(gt=0.0)] = Field(
        10.0,
        description="Credibility of event uplifts: past event weeks must have expected well over this many "
        "units (times the SKU's variance-to-mean ratio) before their uplift counts fully.",
    )
    new_item_ramp_weeks: int = Field(
        4, ge=0, description="Launch curve: a new item reaches its category analogue level linearly over these weeks."
    )
    new_item_cv: Annotated[float, Field(ge=0.0)] = Field(
        0.6, description="Error spread of new-item forecasts as a share of the forecast (no own history yet)."
    )
    external_cv: Annotated[float, Field(ge=0.0)] = Field(
        0.3, description="Error spread of external-forecast rows without units_std, as a share of their units."
    )
    active_weeks: PositiveInt = Field(52, description="Series without a sale in these last weeks are not forecast.")
    realised_error_weeks: int = Field(
        13,
        ge=0,
        description="Published weekly runs whose week-0 forecast errors (against what sold) are blended into "
        "the safety-stock error spread; 0 turns the feedback off (planning/forecast/feedback.py).",
    )
    realised_error_prior_weeks: Annotated[float, Field(gt=0.0)] = Field(
        8.0,
        description="Realised weeks worth as much as the backtest spread: n realised weeks weigh n / (n + this).",
    )
