"""Backtest-only settings, kept apart from ``RunConfig`` (whose schema the weekly run owns).

A backtest config file is a run configuration (``planning.config.RunConfig`` keys) plus one
``backtest:`` section with these settings; ``load_backtest_config`` splits the two, so the
planner inside the replay runs on exactly the settings a weekly run would read.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from planning.config import RunConfig, parse_config, read_yaml
from planning.errors import ConfigError

PolicyName = Literal["planner", "reorder_point", "weeks_of_cover", "clairvoyant"]
CLAIRVOYANT: PolicyName = "clairvoyant"
# The clairvoyant (``planning.backtest.clairvoyant``) is asked for by name: one long solve.
POLICY_NAMES: tuple[PolicyName, ...] = ("planner", "reorder_point", "weeks_of_cover")


class BaselineSettings(BaseModel):
    """Parameters of the two rule-based policies (the service parameter is tuned unless fixed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reorder_point_z: float = Field(
        1.65, description="Safety factor z of the reorder point s = D(L+R) + z sigma sqrt(L+R)."
    )
    cover_weeks: Annotated[float, Field(gt=0.0)] = Field(
        4.0, description="Weeks-of-cover policy: order up to N weeks of forecast beyond the lead time."
    )
    trigger_share: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.5, description="Weeks-of-cover policy: reorder when cover beyond the lead time falls below M = share x N."
    )
    review_weeks: Annotated[float, Field(gt=0.0)] = Field(1.0, description="Review period R (a weekly review).")
    count_commitments: bool = Field(
        True,
        description="The budget check counts what open purchase orders still owe (an ERP's open commitments); "
        "false: only the week's new lines, as the planner's model does.",
    )


class SupplySettings(BaseModel):
    """The generated supply side of a bundled data set (M5, demo, Online Retail), so that other
    brands can be simulated on the same demand (``planning.backtest.datasets.with_supply``).
    Each setting left unset keeps the data set's own generated value; the order-line cost is the
    run configuration's ``costs.order_line_cost``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lead_time_weeks: tuple[Annotated[float, Field(ge=0.0)], Annotated[float, Field(ge=0.0)]] | None = Field(
        None, description="Each supplier's lead time drawn uniformly from [low, high] weeks (whole weeks)."
    )
    moq_weeks_of_demand: Annotated[float, Field(ge=0.0)] | None = Field(
        None,
        description="Each sourcing option's MOQ = this many weeks of its stock point's average demand before "
        "the window, rounded up to whole order multiples (0: no MOQ).",
    )
    po_fixed_cost: tuple[Annotated[float, Field(ge=0.0)], Annotated[float, Field(ge=0.0)]] | None = Field(
        None, description="Each supplier's fixed cost per purchase order drawn uniformly from [low, high]."
    )
    budget_tightness: Annotated[float, Field(gt=0.0)] | None = Field(
        None,
        description="Every weekly cash limit = this share of the average weekly purchase need (units sold x unit "
        "cost over the 8 weeks before the window): 1.0 buys what sells, below 1 the budget binds.",
    )
    seed: int = Field(0, ge=0, description="Seed of the draws above.")

    @model_validator(mode="after")
    def _ranges_ordered(self) -> SupplySettings:
        for name in ("lead_time_weeks", "po_fixed_cost"):
            low_high = getattr(self, name)
            if low_high is not None and low_high[0] > low_high[1]:
                raise ValueError(f"{name}: low {low_high[0]} is above high {low_high[1]}")
        return self


class TuningSettings(BaseModel):
    """Bisection of each baseline's service parameter to the planner's fill rate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    grid_points: int = Field(
        5, ge=2, le=30, description="Evenly spaced parameters tried first (the cost-service curve)."
    )
    iterations: int = Field(6, ge=0, le=30, description="Bisection steps per baseline after the grid.")
    z_range: tuple[float, float] = Field((-1.0, 5.0), description="Search interval of z (reorder point).")
    cover_range: tuple[float, float] = Field((0.5, 20.0), description="Search interval of N weeks (weeks of cover).")


class BacktestSettings(BaseModel):
    """Which weeks are replayed, which policies are compared and how the simulation behaves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: date | None = Field(None, description="Monday of the first replayed week; default = the inventory snapshot.")
    weeks: int = Field(52, ge=1, le=260, description="Weeks replayed.")
    warmup_weeks: int = Field(
        0, ge=0, description="First weeks replayed but not measured (every policy starts from the same position)."
    )
    policies: tuple[PolicyName, ...] = Field(POLICY_NAMES, min_length=1)
    lead_time_noise: bool = Field(
        False, description="Draw each order's lead time from its option's spread (lead_time_std_weeks)."
    )
    seed: int = Field(0, ge=0, description="Seed of the lead-time noise (numpy Generator).")
    warm_start: bool = Field(
        True,
        description="The planner starts each week from the previous week's plan and coupling prices, as a "
        "weekly run starts from the previous published run (planning.warm_start).",
    )
    service_levels: tuple[Annotated[float, Field(gt=0.0, le=1.0)], ...] = Field(
        (),
        description="The planner is replayed again with each of these as every SKU's service target (every "
        "service_targets row and service.default_fill_rate): its points on the service-cost frontier.",
    )
    clairvoyant_time_limit_s: Annotated[float, Field(gt=0.0)] = Field(
        600.0,
        description="Time limit of the clairvoyant's one solve over the whole window (policy 'clairvoyant').",
    )
    supply: SupplySettings = Field(default_factory=SupplySettings)
    baselines: BaselineSettings = Field(default_factory=BaselineSettings)
    tuning: TuningSettings = Field(default_factory=TuningSettings)

    @model_validator(mode="after")
    def _warmup_inside_window(self) -> BacktestSettings:
        if self.warmup_weeks >= self.weeks:
            raise ValueError(f"warmup_weeks ({self.warmup_weeks}) must be below weeks ({self.weeks})")
        return self


def parse_backtest_config(data: object, source: str = "backtest configuration") -> tuple[RunConfig, BacktestSettings]:
    """Split parsed YAML into the run configuration and the ``backtest:`` section."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of settings at the top level")
    body: dict[str, Any] = dict(data)
    section = body.pop("backtest", None) or {}
    config = parse_config(body, source)
    try:
        settings = BacktestSettings.model_validate(section)
    except ValidationError as error:
        lines = [f"{source}: invalid backtest section"]
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"]) or "(top level)"
            lines.append(f"  - 'backtest.{where}': {item['msg']} (got {item.get('input')!r})")
        raise ConfigError("\n".join(lines)) from None
    return config, settings


def load_backtest_config(path: Path | str | None) -> tuple[RunConfig, BacktestSettings]:
    """Read a backtest YAML file (``configs/backtest_*.yaml``); ``None`` gives the defaults."""
    if path is None:
        return RunConfig(), BacktestSettings()
    return parse_backtest_config(read_yaml(path), str(path))
