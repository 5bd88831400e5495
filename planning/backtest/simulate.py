"""A weekly inventory simulator per SKU x location: what really happens to the firmed orders.

State: usable stock on hand per stock point, the backlog (backorders only) and the pipeline of
purchase-order lines and transfers in transit (each with the arrival the ERP expects and the
arrival that really happens).

One week ``t`` (Monday ``w_t``), in this order:
  1. receipts: every pipeline line whose actual arrival date is before ``w_t + 7`` is received
     at the START of week t and is sellable all week. This is the planner's convention (an
     order placed in week t with lead time L is sellable from week t + L; a late line counts
     in the first week), so a plan executes as it was planned when lead times hold;
  2. the week's decisions are placed: purchase lines enter the pipeline with actual lead time
     L' = L, or with lead-time noise L' = max(0, L + round(e)), e ~ N(0, sigma_L) from the
     option's ``lead_time_std_weeks``; L' = 0 is received at once. The draw comes from a numpy
     Generator seeded by (seed, SKU, ship-to, mode, order week), so two policies placing the
     same order in the same week meet the same delay (common random numbers);
     transfers ship min(planned, stock at the origin) and arrive after the lane lead time;
  3. demand: need = D (+ backlog B with backorders); served = min(stock, need);
     lost = need - served (lost sales), or B' = need - served (backorders);
  4. closing stock = stock after serving.

Cash: a purchase line pays its supplier's deposit share when it is placed and the rest on its
actual arrival, as the budget rows of the model count it. Demand below zero (returns) counts
as zero demand; returns are not restocked.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

StockPoint = tuple[str, str]  # (sku, location)
TOLERANCE = 1e-9

SIMULATION_COLUMNS = (
    "week_start",
    "sku",
    "location",
    "opening",
    "receipts",
    "transfers_out",
    "demand",
    "served",
    "lost",
    "backlog",
    "closing",
)
PURCHASE_LOG_COLUMNS = (
    "order_id",
    "sku",
    "supplier",
    "ship_to",
    "mode",
    "order_date",
    "expected_arrival",
    "actual_arrival",
    "quantity",
    "unit_cost",
    "line_value",
    "line_cost",
    "po_fixed_cost",
    "deposit_share",
)
TRANSFER_LOG_COLUMNS = (
    "transfer_id",
    "sku",
    "from_location",
    "to_location",
    "ship_date",
    "arrival_date",
    "planned",
    "quantity",
    "freight",
)


@dataclass(frozen=True, slots=True)
class PurchaseRelease:
    """A purchase-order line firmed in the simulated week (costs in the reporting currency)."""

    order_id: str
    sku: str
    supplier: str
    ship_to: str
    mode: str
    units: float
    unit_cost: float
    lead_weeks: int
    lead_std_weeks: float = 0.0
    deposit_share: float = 1.0
    line_cost: float = 0.0  # fixed cost of the order line
    po_fixed_cost: float = 0.0  # fixed cost of the purchase order (supplier x ship-to x week), once per PO


@dataclass(frozen=True, slots=True)
class TransferRelease:
    """A transfer shipped in the simulated week."""

    transfer_id: str
    sku: str
    origin: str
    destination: str
    units: float
    lead_weeks: int
    cost_per_unit: float = 0.0


@dataclass(frozen=True, slots=True)
class Decisions:
    """What a policy firms in one week."""

    purchases: tuple[PurchaseRelease, ...] = ()
    transfers: tuple[TransferRelease, ...] = ()
    # Lines the policy's plan added or dropped against its previous plan over the weeks both
    # cover (nervousness); None for a policy that plans no further than this week.
    plan_changes: int | None = None


@dataclass(slots=True)
class InTransit:
    """A pipeline line: a purchase-order line (origin_type supplier) or a transfer (location)."""

    order_id: str
    sku: str
    origin: str
    origin_type: str
    destination: str
    units: float
    expected_arrival: date
    actual_arrival: date
    unit_cost: float = 0.0
    balance_share: float = 0.0  # share of the value paid on arrival


@dataclass(frozen=True, slots=True)
class WeekOutcome:
    """What happened in one simulated week."""

    stock: pd.DataFrame  # SIMULATION_COLUMNS, one row per stock point
    purchases: pd.DataFrame  # PURCHASE_LOG_COLUMNS
    transfers: pd.DataFrame  # TRANSFER_LOG_COLUMNS
    cash_paid: float  # deposits of this week's lines + balances of lines received this week


@dataclass(slots=True)
class Simulator:
    """Stock, backlog and pipeline carried from week to week (see the module docstring)."""

    on_hand: dict[StockPoint, float]
    pipeline: list[InTransit] = field(default_factory=list)
    backorders: bool = False
    noise_seed: int | None = None  # set: lead-time noise on
    backlog: dict[StockPoint, float] = field(default_factory=dict)

    @classmethod
    def from_tables(
        cls,
        inventory: pd.DataFrame,
        open_orders: pd.DataFrame | None,
        *,
        backorders: bool = False,
        noise_seed: int | None = None,
    ) -> Simulator:
        """Start from the typed ``inventory`` and ``open_orders`` tables (on hand - allocated, at least 0)."""
        on_hand: dict[StockPoint, float] = defaultdict(float)
        for sku, loc, units, allocated in inventory[["sku", "location", "on_hand", "allocated"]].itertuples(
            index=False
        ):
            on_hand[(str(sku), str(loc))] += max(0.0, float(units) - float(0.0 if pd.isna(allocated) else allocated))
        pipeline = []
        if open_orders is not None:
            rows: list[Any] = list(open_orders.itertuples(index=False))  # columns fixed by the contract
            for row in rows:
                arrival = pd.Timestamp(row.expected_arrival).date()
                pipeline.append(
                    InTransit(
                        order_id=str(row.order_id),
                        sku=str(row.sku),
                        origin=str(row.origin),
                        origin_type=str(row.origin_type),
                        destination=str(row.destination),
                        units=float(row.quantity),
                        expected_arrival=arrival,
                        actual_arrival=arrival,
                    )
                )
        return cls(on_hand=dict(on_hand), pipeline=pipeline, backorders=backorders, noise_seed=noise_seed)

    def _realised_lead(self, line: PurchaseRelease, week_start: date) -> int:
        if self.noise_seed is None or line.lead_std_weeks <= 0:
            return line.lead_weeks
        key = zlib.crc32(f"{line.sku}|{line.ship_to}|{line.mode}|{week_start.toordinal()}".encode())
        draw = np.random.default_rng([self.noise_seed, key]).normal(0.0, line.lead_std_weeks)
        return max(0, line.lead_weeks + round(float(draw)))

    def step(self, week_start: date, decisions: Decisions, demand: Mapping[StockPoint, float]) -> WeekOutcome:
        """Simulate the week starting ``week_start`` (a Monday) on its actual demand per stock point."""
        week_end = week_start + timedelta(days=7)
        opening = dict(self.on_hand)
        receipts: dict[StockPoint, float] = defaultdict(float)
        cash = 0.0
        cash += self._receive(week_end, receipts)
        purchases, deposits = self._place_purchases(week_start, decisions.purchases)
        cash += deposits
        cash += self._receive(week_end, receipts)  # lines with a (realised) lead time of zero
        transfers_out, transfers = self._ship_transfers(week_start, decisions.transfers)
        self._receive(week_end, receipts)
        rows = []
        points = sorted(set(opening) | set(receipts) | set(demand) | set(self.backlog) | set(transfers_out))
        for point in points:
            stock = self.on_hand.get(point, 0.0)
            wanted = max(0.0, float(demand.get(point, 0.0)))
            need = wanted + self.backlog.get(point, 0.0)
            served = min(stock, need)
            short = max(0.0, need - served)
            self.on_hand[point] = stock - served
            if self.backorders:
                self.backlog[point] = short
            rows.append(
                {
                    "week_start": week_start,
                    "sku": point[0],
                    "location": point[1],
                    "opening": opening.get(point, 0.0),
                    "receipts": receipts.get(point, 0.0),
                    "transfers_out": transfers_out.get(point, 0.0),
                    "demand": wanted,
                    "served": served,
                    "lost": 0.0 if self.backorders else short,
                    "backlog": short if self.backorders else 0.0,
                    "closing": stock - served,
                }
            )
        stock_frame = pd.DataFrame(rows, columns=list(SIMULATION_COLUMNS))
        return WeekOutcome(stock_frame, purchases, transfers, cash)

    def _receive(self, week_end: date, receipts: dict[StockPoint, float]) -> float:
        """Move lines arriving before ``week_end`` into stock; returns the balances paid."""
        paid, waiting = 0.0, []
        for line in self.pipeline:
            if line.actual_arrival < week_end:
                point = (line.sku, line.destination)
                self.on_hand[point] = self.on_hand.get(point, 0.0) + line.units
                receipts[point] += line.units
                paid += line.balance_share * line.unit_cost * line.units
            else:
                waiting.append(line)
        self.pipeline = waiting
        return paid

    def _place_purchases(self, week_start: date, lines: Iterable[PurchaseRelease]) -> tuple[pd.DataFrame, float]:
        rows, deposits = [], 0.0
        for line in lines:
            if line.units <= TOLERANCE:
                continue
            lead = self._realised_lead(line, week_start)
            expected = week_start + timedelta(weeks=line.lead_weeks)
            actual = week_start + timedelta(weeks=lead)
            self.pipeline.append(
                InTransit(
                    order_id=line.order_id,
                    sku=line.sku,
                    origin=line.supplier,
                    origin_type="supplier",
                    destination=line.ship_to,
                    units=line.units,
                    expected_arrival=expected,
                    actual_arrival=actual,
                    unit_cost=line.unit_cost,
                    balance_share=1.0 - line.deposit_share,
                )
            )
            deposits += line.deposit_share * line.unit_cost * line.units
            rows.append(
                {
                    "order_id": line.order_id,
                    "sku": line.sku,
                    "supplier": line.supplier,
                    "ship_to": line.ship_to,
                    "mode": line.mode,
                    "order_date": week_start,
                    "expected_arrival": expected,
                    "actual_arrival": actual,
                    "quantity": line.units,
                    "unit_cost": line.unit_cost,
                    "line_value": line.units * line.unit_cost,
                    "line_cost": line.line_cost,
                    "po_fixed_cost": line.po_fixed_cost,
                    "deposit_share": line.deposit_share,
                }
            )
        return pd.DataFrame(rows, columns=list(PURCHASE_LOG_COLUMNS)), deposits

    def _ship_transfers(
        self, week_start: date, lines: Iterable[TransferRelease]
    ) -> tuple[dict[StockPoint, float], pd.DataFrame]:
        """Ship what the origin holds, up to the planned units (the plan may count on receipts that slipped)."""
        out: dict[StockPoint, float] = defaultdict(float)
        rows = []
        for line in lines:
            origin = (line.sku, line.origin)
            units = min(line.units, max(0.0, self.on_hand.get(origin, 0.0)))
            arrival = week_start + timedelta(weeks=line.lead_weeks)
            if units > TOLERANCE:
                self.on_hand[origin] -= units
                out[origin] += units
                self.pipeline.append(
                    InTransit(
                        line.transfer_id, line.sku, line.origin, "location", line.destination, units, arrival, arrival
                    )
                )
            rows.append(
                {
                    "transfer_id": line.transfer_id,
                    "sku": line.sku,
                    "from_location": line.origin,
                    "to_location": line.destination,
                    "ship_date": week_start,
                    "arrival_date": arrival,
                    "planned": line.units,
                    "quantity": units,
                    "freight": units * line.cost_per_unit,
                }
            )
        return out, pd.DataFrame(rows, columns=list(TRANSFER_LOG_COLUMNS))

    def inventory_rows(self, as_of: date) -> pd.DataFrame:
        """The ``inventory`` input table of the simulated state (raw columns, before typing)."""
        points = sorted(self.on_hand)
        return pd.DataFrame(
            {
                "sku": [p[0] for p in points],
                "location": [p[1] for p in points],
                "on_hand": [max(0.0, round(self.on_hand[p], 6)) for p in points],
                "allocated": 0.0,
                "as_of_date": pd.Timestamp(as_of),
            }
        )

    def open_order_rows(self, as_of: date) -> pd.DataFrame:
        """The ``open_orders`` input table of the pipeline as the ERP knows it: the expected arrival
        (never before ``as_of``: a late line is still expected, from now on), not the true one."""
        return pd.DataFrame(
            {
                "order_id": [line.order_id for line in self.pipeline],
                "sku": [line.sku for line in self.pipeline],
                "origin": [line.origin for line in self.pipeline],
                "origin_type": [line.origin_type for line in self.pipeline],
                "destination": [line.destination for line in self.pipeline],
                "quantity": [line.units for line in self.pipeline],
                "expected_arrival": [pd.Timestamp(max(line.expected_arrival, as_of)) for line in self.pipeline],
            },
            columns=["order_id", "sku", "origin", "origin_type", "destination", "quantity", "expected_arrival"],
        )
