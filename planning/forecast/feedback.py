"""Realised forecast errors of published plans -> the error spread safety stock is computed from.

The engine's ``units_std`` is the RMS of one-week-ahead backtest errors on history. The plans
actually published also have a track record: for the last weeks, their week-0 forecast per
SKU x location against what sold (``planning.plan_vs_actual.realised_errors``: n weeks, mean
square error MSE_r, uncensored weeks only). The two are blended per SKU x location, with a
credibility weight growing with the realised weeks:

    w        = n / (n + n0)                     n0 = ``realised_error_prior_weeks``
    V_model  = sum over the point's channels of units_std^2   (what ``problem._safety_stock`` sums)
    V        = w MSE_r + (1 - w) V_model

and every channel series of the point is rescaled by sqrt(V / V_model), so the point's variance
becomes V and its channel mix is kept; where V_model = 0 (no spread modelled), V is shared equally
by the point's channel series. MSE_r includes the forecast's bias, which a biased forecast's safety
stock must also cover. Points without realised errors keep their spread; errors of points this
forecast does not hold are ignored.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from planning.forecast.baseline import Forecast

POINT = ["sku", "location"]


def blend_realised_errors(forecast: Forecast, errors: pd.DataFrame | None, prior_weeks: float) -> Forecast:
    """The forecast with ``units_std`` blended with the realised errors (module docstring).

    Args:
        forecast: Weekly forecast rows with units_std per series.
        errors: Columns sku, location, weeks, mean_square_error; None or empty changes nothing.
        prior_weeks: n0, the realised weeks worth as much as the model's spread.
    """
    if errors is None or errors.empty:
        return forecast
    frame = forecast.frame
    # units_std is one number per series (the engine's is the same every week): the first row's.
    series = frame.drop_duplicates(["sku", "location", "channel"])[["sku", "location", "channel", "units_std"]]
    model = (
        series.assign(var=series["units_std"].astype(float) ** 2)
        .groupby(POINT, as_index=False)
        .agg(model_var=("var", "sum"), channels=("channel", "size"))
    )
    realised = errors.assign(sku=errors["sku"].astype(str), location=errors["location"].astype(str))
    points = model.assign(sku=model["sku"].astype(str), location=model["location"].astype(str)).merge(
        realised[[*POINT, "weeks", "mean_square_error"]], on=POINT, how="inner"
    )
    points = points[points["weeks"] > 0]
    if points.empty:
        return forecast
    weight = points["weeks"] / (points["weeks"] + prior_weeks)
    blended = weight * points["mean_square_error"] + (1 - weight) * points["model_var"]
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.sqrt((blended / points["model_var"].where(points["model_var"] > 0)).to_numpy(float))
    share = np.sqrt((blended / points["channels"]).to_numpy(float))  # per channel, where nothing was modelled
    adjust = points[POINT].assign(_scale=scale, _share=share)
    keyed = frame.assign(_sku=frame["sku"].astype(str), _location=frame["location"].astype(str))
    merged = keyed.merge(
        adjust.rename(columns={"sku": "_sku", "location": "_location"}), on=["_sku", "_location"], how="left"
    )
    std = merged["units_std"].astype(float)
    new_std = np.where(
        merged["_scale"].notna(), std * merged["_scale"], np.where(merged["_share"].notna(), merged["_share"], std)
    )
    out = frame.assign(units_std=np.asarray(new_std, dtype=float))
    return dataclasses.replace(forecast, frame=out.reset_index(drop=True))
