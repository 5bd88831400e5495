"""Publishing settings, in a module that imports nothing of buyplan so ``planning.config`` can embed it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ExceptionSettings(BaseModel):
    """Thresholds of the exception list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    overstock_weeks_of_supply: float = Field(
        16.0,
        gt=0,
        description="Weeks of supply (closing of week 0 / average weekly demand) above which "
        "a SKU x location is overstocked.",
    )
    excess_share: float = Field(
        1.0, gt=0, description="Opening stock above this multiple of the horizon's demand is excess stock."
    )
    service_tolerance: float = Field(
        0.001, ge=0, description="A fill rate this close below its target is not reported as missed."
    )
    variance_share: float = Field(
        0.5,
        gt=0,
        description="Plan against actual: a demand, receipt or stock variance above this share of the "
        "projection (and above variance_min_units) is an exception.",
    )
    variance_min_units: float = Field(
        10.0, ge=0, description="Plan against actual: variances of at most this many units are never exceptions."
    )
    fill_rate_drop: float = Field(
        0.1,
        gt=0,
        description="Plan against actual: an actual fill rate more than this below the projected one is an exception.",
    )


class PublishSettings(BaseModel):
    """How a plan is published: exception thresholds and pointer retries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exceptions: ExceptionSettings = Field(default_factory=ExceptionSettings)
    latest_attempts: int = Field(
        20, ge=1, description="Tries to append to the overall latest log when runs of other weeks race."
    )
