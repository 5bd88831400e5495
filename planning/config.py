"""Typed run configuration, loaded from YAML in ``configs/``.

Every model forbids unknown keys, so a typo such as ``time_limt_s`` is an error that names
the key instead of a setting silently ignored. Secrets never live here: S3 credentials come
from the standard AWS chain (environment, profile, instance role).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from planning.errors import ConfigError
from planning.forecast.settings import ForecastSettings
from planning.publish_settings import PublishSettings

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HorizonConfig(_Strict):
    """Planning horizon: how far ahead and in what periods."""

    weeks: int = Field(26, ge=1, le=104, description="Number of weekly periods planned.")
    period: Literal["week"] = Field("week", description="Planning period; weekly is the only grain today.")
    frozen_weeks: int = Field(
        2, ge=0, description="Orders in the first weeks are firm: the ERP should release them now."
    )


class CostConfig(_Strict):
    """Cost rates used where the input tables carry no SKU-specific value."""

    currency: str = Field("USD", min_length=3, max_length=3, description="Reporting and budget currency.")
    holding_rate_per_week: NonNegative = Field(
        0.005, description="Holding cost per unit per week as a share of unit cost (0.005 ~ 26%/year)."
    )
    order_line_cost: NonNegative = Field(15.0, description="Fixed cost of one purchase-order line.")
    lost_sale_margin_multiplier: NonNegative = Field(
        1.0,
        description="A lost sale costs the revenue it loses: unit cost + multiplier x (selling price - unit cost) "
        "(the model pays for every unit it buys, so a sale lost saves its purchase and loses its price), at least "
        "the floor. With backorders, a unit-week of backlog costs multiplier x margin.",
    )
    lost_sale_basis: Literal["revenue", "margin"] = Field(
        "revenue",
        description="revenue: the lost sale's penalty includes the unit cost (above); margin: only multiplier x "
        "margin, the rule before 2026-12 (a unit whose margin is below its cost was then cheaper to lose than to "
        "buy, beyond the service targets).",
    )
    lost_sale_penalty_floor: NonNegative = Field(1.0, description="Smallest lost-sale penalty per unit.")
    backorders: bool = Field(False, description="Unmet demand is backordered instead of lost.")
    safety_stock_shortfall_penalty: NonNegative | Literal["from_target"] = Field(
        "from_target",
        description="Penalty per unit-week below safety stock. from_target: the stockout cost that makes the "
        "SKU's service target the economic one, holding x target / (1 - target) (19 weeks of holding at 95 %, "
        "49 at 98 %); a number: that share of unit cost.",
    )
    reservation_shortfall_penalty: NonNegative = Field(
        1.5,
        description="Penalty per unit-week of a channel reservation not kept, as a multiple of the SKU's "
        "lost-sale penalty: other channels lose a sale before they take reserved stock.",
    )
    budget_overrun_penalty: NonNegative = Field(
        1000.0, description="Penalty per currency unit spent above budget; far above every other cost."
    )
    capacity_overrun_penalty: NonNegative = Field(
        5.0,
        description="Penalty per unit-week (or litre-week) of stock above a location's capacity: "
        "the price of overflow storage, far above normal holding.",
    )
    supplier_capacity_overrun_penalty: NonNegative = Field(
        100.0, description="Penalty per unit ordered above a supplier's weekly capacity."
    )
    carry_budget_forward: bool = Field(False, description="Unused budget of a week rolls into the next weeks.")
    plan_change_penalty: NonNegative = Field(
        15.0,
        description="Cost charged per order line that a re-plan adds to or drops from last week's plan "
        "within plan_change_window_weeks (a moved line counts twice); 0 = re-plan freely. The default is "
        "one line cost: re-working a line costs a buyer about as much as placing one.",
    )
    plan_change_window_weeks: int = Field(
        4, ge=0, description="Weeks from this plan's first in which changes to last week's lines are charged."
    )
    closing_stock_valuation: Literal["sell_through", "share"] = Field(
        "share",
        description="sell_through: closing stock is worth its cost less the holding until it sells at the "
        "forecast rate, up to closing_stock_cover_weeks of sales; share: every unit is worth "
        "end_of_horizon_value_share of its cost (models/closing_stock.py).",
    )
    closing_stock_cover_weeks: int = Field(
        26, ge=0, description="sell_through: closing stock beyond this many weeks of forecast sales is worth nothing."
    )
    end_of_horizon_value_share: Fraction = Field(
        0.5, description="share: closing stock is credited at this share of unit cost so the plan does not run dry."
    )
    fx_rates: dict[str, float] = Field(
        default_factory=dict,
        description="Units of the reporting currency per unit of each other currency, e.g. {EUR: 1.08}.",
    )

    @field_validator("fx_rates")
    @classmethod
    def _positive_rates(cls, rates: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in rates.items() if v <= 0}
        if bad:
            raise ValueError(f"fx rates must be positive, got {bad}")
        return rates


class ServiceConfig(_Strict):
    """Service defaults for SKUs that no row of ``service_targets`` covers."""

    default_fill_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 0.95
    fill_rate_shortfall_penalty: NonNegative = Field(
        2.0, description="Penalty per unit of demand below the fill-rate target, as a share of unit cost."
    )


class SolverConfig(_Strict):
    """HiGHS settings. The time limit is always set; a hard backstop sits on top of it."""

    time_limit_s: Annotated[float, Field(gt=0.0)] = 120.0
    backstop_s: Annotated[float, Field(gt=0.0)] = Field(
        30.0, description="Seconds kept inside the time limit for HiGHS overshooting its own limit."
    )
    mip_rel_gap: Annotated[float, Field(ge=0.0, le=1.0)] = 0.005
    threads: int = Field(1, ge=1)
    random_seed: int = Field(0, ge=0)
    mip_heuristic_effort: Fraction = 0.25


class DecompositionConfig(_Strict):
    """When and how to plan by column generation over SKU blocks (``planning.colgen``).

    Every limit that decides the plan is a work limit (rounds, nodes), so the same inputs give the
    same plan on an idle or a loaded machine, on threads or on Dask; ``solver.time_limit_s`` is
    only the safety net, and the report says when it fired.
    """

    method: Literal["auto", "whole", "blocks"] = Field(
        "auto", description="auto: the whole model up to whole_model_max_skus SKUs, column generation above."
    )
    whole_model_max_skus: int = Field(40, ge=0, description="Largest catalogue solved whole under 'auto'.")
    block_skus: int = Field(1, ge=1, description="SKUs per block.")
    max_rounds: int = Field(
        5, ge=1, description="Column-generation rounds (master LP + pricing of every block), at most."
    )
    round_gap: Fraction = Field(
        0.001, description="Stop generating columns when the master LP is within this share of the Lagrangian bound."
    )
    smoothing: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.5, description="Dual smoothing (Wentges): share of the best-bound duals in the duals blocks are priced at."
    )
    block_rel_gap: Fraction = Field(0.0001, description="Relative gap each pricing MIP is solved to.")
    block_max_nodes: int = Field(
        100, ge=1, description="Branch-and-bound nodes per pricing MIP: a limit that does not depend on machine load."
    )
    block_time_limit_s: Annotated[float, Field(gt=0.0)] = Field(
        20.0, description="Safety net per block solve; the node limit is what normally stops a block."
    )
    master_max_nodes: int = Field(
        1000, ge=1, description="Branch-and-bound nodes of the final master MIP over the generated columns."
    )
    polish_rounds: int = Field(
        400,
        ge=0,
        description="Fix-and-optimize rounds after the master MIP, at most (each re-plans polish_skus SKUs); "
        "they stop earlier after a whole sweep over the catalogue improves nothing.",
    )
    group_max_nodes: int = Field(100, ge=1, description="Branch-and-bound nodes of one fix-and-optimize round.")
    polish_skus: int = Field(4, ge=1, description="SKUs re-planned together in one fix-and-optimize round.")
    workers: int = Field(2, ge=1, description="Worker threads solving blocks (one HiGHS thread each).")
    dask_address: str | None = Field(None, description="Dask scheduler (tcp://host:8786); empty = threads.")


class ValidationConfig(_Strict):
    """Thresholds of the cross-table data rules."""

    open_order_max_days_late: int = Field(
        28, ge=0, description="Open orders expected more than this many days before as-of are an error."
    )
    report_folder: str = Field("_validation", description="Folder next to the inputs for the report.")


class StorageConfig(_Strict):
    """Where inputs are read and outputs written: a local path or ``s3://bucket/prefix``."""

    inputs: str = "demo_run/inputs"
    outputs: str = "demo_run/outputs"
    endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint (MinIO, moto); empty = AWS. Credentials: AWS chain."
    )
    region: str | None = None


class RunConfig(_Strict):
    """Everything a run needs besides the input tables."""

    as_of: date | None = Field(None, description="Monday the plan starts; default = the inventory snapshot date.")
    horizon: HorizonConfig = Field(default_factory=HorizonConfig)
    costs: CostConfig = Field(default_factory=CostConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    forecast: ForecastSettings = Field(default_factory=ForecastSettings)
    solver: SolverConfig = Field(default_factory=SolverConfig)
    decomposition: DecompositionConfig = Field(default_factory=DecompositionConfig)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)

    def config_hash(self) -> str:
        """Stable hash of the effective configuration, recorded with every run."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"  - unknown key '{where}': remove it or check its spelling (see configs/demo.yaml)")
        else:
            lines.append(f"  - '{where}': {item['msg']} (got {item.get('input')!r})")
    return "\n".join(lines)


def parse_config(data: object, source: str = "configuration") -> RunConfig:
    """Build a RunConfig from already-parsed YAML; errors name each bad key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of settings at the top level")
    try:
        return RunConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, source)) from None


def load_config(path: Path | str | None) -> RunConfig:
    """Read a YAML config file; ``None`` gives the built-in defaults."""
    if path is None:
        return RunConfig()
    return parse_config(read_yaml(path), str(path))


def read_yaml(path: Path | str) -> object:
    """A config file's parsed YAML, or a ConfigError naming the file."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
