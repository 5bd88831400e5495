"""Validated tables + forecast -> one frozen ``PlanningProblem``.

Everything the model needs is computed here, once, as plain data: weekly buckets, the sparse
index sets pre-joined from the tables (order slots, transfer slots, purchase-order groups,
demand rows), starting stock, open-order arrivals, costs converted to the reporting currency,
and the big-M values. Model rules only look values up; they never filter or compute.

Weeks: week ``t`` runs from ``as_of + 7t`` (a Monday) for 7 days, ``t = 0 .. T-1``.
Lead times are rounded up to whole weeks: an order placed in week ``t`` with lead time
``L`` is sellable from week ``t + ceil(L)``. Orders whose arrival would fall after the horizon
are not created, nor are orders in a week that overlaps a supplier closure or for a
discontinued SKU.

Big-M of an order slot (option ``o`` in week ``t``): the most that could ever be useful to
receive then, i.e. the forecast demand at the option's ship-to location and every location
reachable from it by lanes, from the arrival week to the end of the horizon (from week 0
with backorders), plus the largest safety-stock target from the arrival on, plus the closing
stock that still carries value (``models.closing_stock``); never below the
MOQ or the units that alone reach the supplier's PO minimum; rounded up to whole packs.
Transfers are bounded the same way, and never below the lane's minimum shipment. Larger
quantities only add holding cost, so the bounds cut no optimal plan off while keeping the LP
relaxation tight.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from planning.config import CostConfig, RunConfig
from planning.forecast import Forecast
from planning.forecast.service import safety_stock
from planning.forecast.spread import DemandSpread, spread_safety_stock

StockPoint = tuple[str, str]  # (sku, location)
DemandKey = tuple[str, str, str, int]  # (sku, location, channel, week)
OrderSlot = tuple[str, int]  # (option id, week)
TransferSlot = tuple[str, str, str, int]  # (sku, from, to, week)
PoSlot = tuple[str, str, int]  # (supplier, ship_to, week)


@dataclass(frozen=True, slots=True)
class Item:
    sku: str
    category: str
    status: str
    unit_cost: float
    selling_price: float
    unit_volume: float
    holding_cost: float  # per unit per week, reporting currency
    line_cost: float  # fixed cost per purchase-order line
    lost_sale_penalty: float  # per unit of demand not served
    service_class: str = ""


@dataclass(frozen=True, slots=True)
class Option:
    """A sourcing option; quantities are ordered in whole packs of ``pack_size`` units (the least
    common multiple of its ``order_multiple`` and the item's ``case_pack``)."""

    option_id: str
    sku: str
    supplier: str
    ship_to: str
    mode: str
    unit_cost: float  # reporting currency
    moq: float
    pack_size: int
    lead_weeks: int
    lead_std_weeks: float
    deposit_share: float
    order_multiple: int = 1
    case_pack: int = 1


@dataclass(frozen=True, slots=True)
class Supplier:
    supplier: str
    currency: str
    po_minimum_value: float  # reporting currency
    po_fixed_cost: float  # reporting currency
    weekly_capacity: float | None
    deposit_share: float


@dataclass(frozen=True, slots=True)
class Lane:
    origin: str
    destination: str
    lead_weeks: int
    cost_per_unit: float
    min_shipment: float


@dataclass(frozen=True, slots=True)
class Budget:
    """A cash limit over a set of weeks, for all purchases or one category or supplier."""

    budget_id: str
    weeks: tuple[int, ...]
    limit: float  # reporting currency
    category: str = ""
    supplier: str = ""


@dataclass(frozen=True, slots=True)
class Penalties:
    safety_stock_shortfall: dict[str, float]  # per sku, per unit-week below target
    reservation_shortfall: dict[str, float]  # per sku, per unit-week of a channel reservation not kept
    fill_rate_shortfall: dict[str, float]  # per sku, per unit of demand below target
    budget_overrun: float  # per currency unit
    capacity_overrun: float  # per unit-week (or litre-week) above a location's capacity
    supplier_capacity_overrun: float  # per unit ordered above a supplier's weekly capacity
    plan_change: float = 0.0  # per order line added to or dropped from last week's plan
    plan_change_window: int = 0  # weeks (from week 0) in which such changes are charged


@dataclass(frozen=True, slots=True)
class PlanningProblem:
    """Everything the buy-plan model needs, as plain immutable data."""

    as_of: date
    week_starts: tuple[date, ...]
    currency: str
    backorders: bool
    items: Mapping[str, Item]
    locations: Mapping[str, tuple[float | None, str]]  # location -> (capacity, unit)
    stock_points: tuple[StockPoint, ...]
    initial_stock: Mapping[StockPoint, float]
    open_arrivals: Mapping[tuple[str, str, int], float]  # (sku, location, week) -> units
    demand: Mapping[DemandKey, float]
    safety_stock: Mapping[tuple[str, str, int], float]
    fill_rate_target: Mapping[str, float]
    options: Mapping[str, Option]
    suppliers: Mapping[str, Supplier]
    order_slots: tuple[OrderSlot, ...]
    order_pack_bound: Mapping[OrderSlot, int]
    locked_units: Mapping[OrderSlot, float]  # approved orders kept as given (units)
    lanes: Mapping[tuple[str, str], Lane]
    transfer_slots: tuple[TransferSlot, ...]
    transfer_bound: Mapping[TransferSlot, float]
    lane_week_bound: Mapping[tuple[str, str, int], float]
    po_slots: tuple[PoSlot, ...]
    budgets: tuple[Budget, ...]
    carry_budget_forward: bool
    penalties: Penalties
    reservations: Mapping[DemandKey, float] = field(default_factory=dict)  # (sku, loc, channel, week) -> units
    # Cash open purchase orders still owe, by the week it falls due: (week, category, supplier) -> cash.
    # Catalogue-wide like the budgets it draws on: ``restrict`` keeps all of it.
    open_balances: Mapping[tuple[int, str, str], float] = field(default_factory=dict)
    # Stock point -> tiers (width in units or None for unbounded, value per unit), highest value
    # first: what closing stock is worth (``models.closing_stock``). A point without tiers: nothing.
    closing_value: Mapping[StockPoint, tuple[tuple[float | None, float], ...]] = field(default_factory=dict)
    # Order slots where last week's plan had a line (``planning.warm_start.with_prior_lines``);
    # None: no earlier plan, so no change is charged.
    prior_lines: frozenset[OrderSlot] | None = None
    forecast_method: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def weeks(self) -> range:
        return range(len(self.week_starts))

    def committed(self, budget: Budget) -> float:
        """Cash open purchase orders still owe inside the budget row's weeks and scope."""
        return sum(
            cash
            for (week, category, supplier), cash in self.open_balances.items()
            if week in budget.weeks
            and (not budget.category or category == budget.category)
            and (not budget.supplier or supplier == budget.supplier)
        )

    def budget_caps(self) -> dict[str, float]:
        """Cash each budget row leaves for new lines (``models.budget``'s M_B - K_B): its limit less
        what open purchase orders still owe in it, or with carry-forward the same summed over the
        rows of its scope so far; never below 0 (commitments over a limit leave nothing for new
        lines, and the overspend they bring is not the plan's)."""
        caps = {b.budget_id: b.limit - self.committed(b) for b in self.budgets}
        if self.carry_budget_forward:
            so_far: dict[tuple[str, str], float] = defaultdict(float)
            for budget in sorted(self.budgets, key=lambda b: b.weeks[0]):
                so_far[(budget.category, budget.supplier)] += caps[budget.budget_id]
                caps[budget.budget_id] = so_far[(budget.category, budget.supplier)]
        return {budget_id: max(0.0, cap) for budget_id, cap in caps.items()}

    def closing_worth(self, point: StockPoint, units: float) -> float:
        """What ``units`` of closing stock at ``point`` are worth to the plan: its tiers filled in order."""
        worth, left = 0.0, units
        for width, value in self.closing_value.get(point, ()):
            taken = left if width is None else min(left, width)
            worth, left = worth + taken * value, left - taken
            if left <= 0:
                break
        return worth

    @property
    def skus(self) -> tuple[str, ...]:
        return tuple(sorted({sku for sku, _ in self.stock_points}))

    def restrict(self, skus: set[str] | frozenset[str]) -> PlanningProblem:
        """The same problem for a subset of SKUs (budgets and capacities left whole)."""
        keep_options = {k: o for k, o in self.options.items() if o.sku in skus}
        order_slots = tuple(s for s in self.order_slots if s[0] in keep_options)
        transfer_slots = tuple(s for s in self.transfer_slots if s[0] in skus)
        po_keys = {(keep_options[o].supplier, keep_options[o].ship_to, t) for o, t in order_slots}
        return replace(
            self,
            items={k: v for k, v in self.items.items() if k in skus},
            stock_points=tuple(p for p in self.stock_points if p[0] in skus),
            initial_stock={k: v for k, v in self.initial_stock.items() if k[0] in skus},
            open_arrivals={k: v for k, v in self.open_arrivals.items() if k[0] in skus},
            demand={k: v for k, v in self.demand.items() if k[0] in skus},
            safety_stock={k: v for k, v in self.safety_stock.items() if k[0] in skus},
            reservations={k: v for k, v in self.reservations.items() if k[0] in skus},
            fill_rate_target={k: v for k, v in self.fill_rate_target.items() if k in skus},
            closing_value={k: v for k, v in self.closing_value.items() if k[0] in skus},
            options=keep_options,
            order_slots=order_slots,
            order_pack_bound={s: self.order_pack_bound[s] for s in order_slots},
            locked_units={s: v for s, v in self.locked_units.items() if s[0] in keep_options},
            transfer_slots=transfer_slots,
            transfer_bound={s: self.transfer_bound[s] for s in transfer_slots},
            po_slots=tuple(p for p in self.po_slots if p in po_keys),
        )

    def split(self, blocks: Sequence[Collection[str]]) -> list[PlanningProblem]:
        """``restrict`` for each block of SKUs, in one pass over the data (blocks must not overlap)."""
        block_of = {sku: k for k, block in enumerate(blocks) for sku in block}

        def by_block(mapping: Mapping[Any, Any], sku_of: Any) -> list[dict[Any, Any]]:
            parts: list[dict[Any, Any]] = [{} for _ in blocks]
            for key, value in mapping.items():
                k = block_of.get(sku_of(key, value))
                if k is not None:
                    parts[k][key] = value
            return parts

        def first(key: Any, _: Any) -> str:
            return str(key[0])

        options = by_block(self.options, lambda _, option: option.sku)
        option_block = {o: k for k, part in enumerate(options) for o in part}
        order_slots: list[list[OrderSlot]] = [[] for _ in blocks]
        for slot in self.order_slots:
            if slot[0] in option_block:
                order_slots[option_block[slot[0]]].append(slot)
        transfer_slots: list[list[TransferSlot]] = [[] for _ in blocks]
        for tslot in self.transfer_slots:
            if tslot[0] in block_of:
                transfer_slots[block_of[tslot[0]]].append(tslot)
        points: list[list[StockPoint]] = [[] for _ in blocks]
        for point in self.stock_points:
            if point[0] in block_of:
                points[block_of[point[0]]].append(point)
        initial_stock = by_block(self.initial_stock, first)
        open_arrivals = by_block(self.open_arrivals, first)
        demand = by_block(self.demand, first)
        safety_stock = by_block(self.safety_stock, first)
        reservations = by_block(self.reservations, first)
        closing_value = by_block(self.closing_value, first)
        items = by_block(self.items, lambda sku, _: sku)
        targets = by_block(self.fill_rate_target, lambda sku, _: sku)
        out = []
        for k in range(len(blocks)):
            slots = tuple(order_slots[k])
            pos = {(options[k][o].supplier, options[k][o].ship_to, t) for o, t in slots}
            out.append(
                replace(
                    self,
                    items=items[k],
                    stock_points=tuple(points[k]),
                    fill_rate_target=targets[k],
                    options=options[k],
                    order_slots=slots,
                    order_pack_bound={s: self.order_pack_bound[s] for s in slots},
                    locked_units={s: self.locked_units[s] for s in slots if s in self.locked_units},
                    transfer_slots=tuple(transfer_slots[k]),
                    transfer_bound={s: self.transfer_bound[s] for s in transfer_slots[k]},
                    po_slots=tuple(p for p in self.po_slots if p in pos),
                    initial_stock=initial_stock[k],
                    open_arrivals=open_arrivals[k],
                    demand=demand[k],
                    safety_stock=safety_stock[k],
                    reservations=reservations[k],
                    closing_value=closing_value[k],
                )
            )
        return out


def rows_of(frame: pd.DataFrame) -> list[Any]:
    """Rows as named tuples (typed loosely: the contract, not the type checker, fixes their columns)."""
    return list(frame.itertuples(index=False))


def _text(value: object) -> str:
    """A cell as text, with empty or missing cells as ""."""
    return "" if value is None or pd.isna(value) else str(value)  # type: ignore[call-overload]


def week_of(as_of: date, day: date) -> int:
    """Index of the week containing ``day`` (negative before the horizon)."""
    return (day - as_of).days // 7


def closed_weeks(closures: pd.DataFrame | None, as_of: date, horizon: int) -> dict[str, set[int]]:
    """Weeks in which each supplier cannot take an order (any overlap with a closure)."""
    closed: dict[str, set[int]] = defaultdict(set)
    if closures is None:
        return closed
    for row in rows_of(closures):
        first = max(0, week_of(as_of, row.start_date.date()))
        last = min(horizon - 1, week_of(as_of, row.end_date.date()))
        closed[str(row.supplier)].update(range(first, last + 1))
    return closed


def reachable_locations(lanes: Mapping[tuple[str, str], Lane]) -> dict[str, set[str]]:
    """For each location, itself and every location its stock can reach over lanes."""
    graph: dict[str, set[str]] = defaultdict(set)
    for origin, destination in lanes:
        graph[origin].add(destination)
    reach: dict[str, set[str]] = {}
    for start in {*graph, *(d for ds in graph.values() for d in ds)}:
        seen, frontier = {start}, [start]
        while frontier:
            node = frontier.pop()
            for nxt in graph.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        reach[start] = seen
    return reach


def _fx(config: RunConfig, currency: str) -> float:
    if currency == config.costs.currency:
        return 1.0
    rate = config.costs.fx_rates.get(currency)
    if rate is None:
        raise ValueError(
            f"no exchange rate for {currency}: add costs.fx_rates.{currency} (units of "
            f"{config.costs.currency} per {currency}) to the run configuration"
        )
    return rate


def lead_weeks(lead_time: float) -> int:
    """Whole weeks until sellable: a 1.2-week lead time is sellable in the second week."""
    return max(0, math.ceil(lead_time - 1e-9))


def _po_minimum_units(option: Option, supplier: Supplier) -> float:
    """Units of this option alone that reach the supplier's PO minimum value."""
    if supplier.po_minimum_value <= 0 or option.unit_cost <= 0:
        return 0.0
    return supplier.po_minimum_value / option.unit_cost


def packs_for(units: float, option: Option) -> int:
    """Whole packs covering ``units``, and never fewer than the MOQ needs."""
    units = max(units, option.moq)
    return max(1, math.ceil(units / option.pack_size - 1e-9))


def _as_date(value: object) -> date:
    return pd.Timestamp(value).date()  # type: ignore[arg-type]


def _weekly_budgets(frame: pd.DataFrame | None, as_of: date, horizon: int, fx: dict[str, float]) -> tuple[Budget, ...]:
    if frame is None:
        return ()
    budgets = []
    for index, row in enumerate(rows_of(frame)):
        start = _as_date(row.period_start)
        if row.period == "week":
            end = start + timedelta(days=6)
        else:
            next_month = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
            end = next_month - timedelta(days=1)
        first, last = max(0, week_of(as_of, start)), min(horizon - 1, week_of(as_of, end))
        if first > last:
            continue  # outside the horizon
        # A month's limit applies to the weeks that start in it.
        weeks = tuple(t for t in range(first, last + 1) if start <= as_of + timedelta(weeks=t) <= end) or (first,)
        budgets.append(
            Budget(
                budget_id=f"B{index}:{start.isoformat()}:{_text(row.category) or 'all'}:{_text(row.supplier) or 'all'}",
                weeks=weeks,
                limit=float(row.cash_limit) * fx[str(row.currency)],
                category=_text(row.category),
                supplier=_text(row.supplier),
            )
        )
    return tuple(budgets)


def service_targets(items: pd.DataFrame, targets: pd.DataFrame | None, default: float) -> dict[str, tuple[str, float]]:
    """Each SKU's (metric, target): the most specific of sku, service_class, category, all.

    SKUs no row covers get (``fill_rate``, ``default``).
    """
    by_scope: dict[tuple[str, str], tuple[str, float]] = {}
    if targets is not None:
        for row in rows_of(targets):
            by_scope[(str(row.scope), _text(row.scope_value))] = (str(row.metric), float(row.target))
    result = {}
    for row in rows_of(items):
        result[str(row.sku)] = next(
            (
                by_scope[key]
                for key in (
                    ("sku", str(row.sku)),
                    ("service_class", _text(row.service_class)),
                    ("category", str(row.category)),
                    ("all", ""),
                )
                if key in by_scope
            ),
            ("fill_rate", default),
        )
    return result


def lost_sale_penalty(unit_cost: float, margin: float, costs: CostConfig) -> float:
    """What one unit of demand not served costs (``costs.lost_sale_basis``).

    The objective pays c for every unit bought, so serving a unit costs c and losing it must cost
    the revenue p = c + margin: priced at the margin alone, a unit with margin below its cost
    (a 40 % gross margin: p - c = 0.67 c) is cheaper to lose than to buy, and only the service
    penalties buy it. A backlog-week is a delay, not a loss: it costs the margin multiple.
    """
    lost_margin = costs.lost_sale_margin_multiplier * margin
    if costs.lost_sale_basis == "revenue" and not costs.backorders:
        return max(costs.lost_sale_penalty_floor, unit_cost + lost_margin)
    return max(costs.lost_sale_penalty_floor, lost_margin)


def _items(frame: pd.DataFrame, config: RunConfig) -> dict[str, Item]:
    costs = config.costs
    items = {}
    for row in rows_of(frame):
        unit_cost = float(row.unit_cost)
        margin = max(0.0, float(row.selling_price) - unit_cost)
        holding = row.holding_cost_per_unit_week
        line = row.order_line_cost
        items[str(row.sku)] = Item(
            sku=str(row.sku),
            category=str(row.category),
            status=str(row.status),
            unit_cost=unit_cost,
            selling_price=float(row.selling_price),
            unit_volume=float(row.unit_volume),
            holding_cost=float(holding) if pd.notna(holding) else unit_cost * costs.holding_rate_per_week,
            line_cost=float(line) if pd.notna(line) else costs.order_line_cost,
            lost_sale_penalty=lost_sale_penalty(unit_cost, margin, costs),
            service_class=str(row.service_class) if pd.notna(row.service_class) else "",
        )
    return items


def _options(
    frame: pd.DataFrame, items: pd.DataFrame, suppliers: Mapping[str, Supplier], fx: Mapping[str, float]
) -> dict[str, Option]:
    case_pack = dict(zip(items["sku"], items["case_pack"].astype(int), strict=True))
    options = {}
    for row in rows_of(frame):
        supplier = suppliers[str(row.supplier)]
        # Orders are whole cases and whole order multiples at once: the pack is their lcm.
        multiple, case = int(row.order_multiple), int(case_pack.get(row.sku, 1))
        pack = math.lcm(multiple, case)
        option_id = f"{row.sku}|{row.supplier}|{row.ship_to}|{row.mode}"
        options[option_id] = Option(
            option_id=option_id,
            sku=str(row.sku),
            supplier=str(row.supplier),
            ship_to=str(row.ship_to),
            mode=str(row.mode),
            unit_cost=float(row.unit_cost) * fx[supplier.currency],
            moq=float(row.moq),
            pack_size=pack,
            lead_weeks=lead_weeks(float(row.lead_time_weeks)),
            lead_std_weeks=float(row.lead_time_std_weeks),
            deposit_share=supplier.deposit_share,
            order_multiple=multiple,
            case_pack=case,
        )
    return options


def _suppliers(frame: pd.DataFrame, fx: Mapping[str, float]) -> dict[str, Supplier]:
    return {
        str(row.supplier): Supplier(
            supplier=str(row.supplier),
            currency=str(row.currency),
            po_minimum_value=float(row.po_minimum_value) * fx[str(row.currency)],
            po_fixed_cost=float(row.fixed_cost_per_po) * fx[str(row.currency)],
            weekly_capacity=float(row.weekly_capacity_units) if pd.notna(row.weekly_capacity_units) else None,
            deposit_share=float(row.deposit_share),
        )
        for row in rows_of(frame)
    }


def _lanes(frame: pd.DataFrame | None) -> dict[tuple[str, str], Lane]:
    if frame is None:
        return {}
    return {
        (str(r.from_location), str(r.to_location)): Lane(
            origin=str(r.from_location),
            destination=str(r.to_location),
            lead_weeks=lead_weeks(float(r.lead_time_weeks)),
            cost_per_unit=float(r.cost_per_unit),
            min_shipment=float(r.min_shipment),
        )
        for r in rows_of(frame)
    }


def _currencies(tables: Mapping[str, pd.DataFrame], config: RunConfig) -> dict[str, float]:
    used = set(tables["suppliers"]["currency"])
    if (budgets := tables.get("budgets")) is not None:
        used |= set(budgets["currency"])
    return {currency: _fx(config, str(currency)) for currency in used}


def _demand(
    forecast: Forecast, horizon: int, items: Mapping[str, Item], as_of: date, launch: Mapping[str, date]
) -> dict[DemandKey, float]:
    frame = forecast.frame[(forecast.frame["week"] < horizon) & (forecast.frame["units"] > 0)]
    demand: dict[DemandKey, float] = {}
    for sku, loc, channel, week, units in frame[["sku", "location", "channel", "week", "units"]].itertuples(
        index=False
    ):
        if sku not in items:
            continue
        if sku in launch and as_of + timedelta(weeks=int(week) + 1) <= launch[sku]:
            continue  # nothing sells before launch
        demand[(str(sku), str(loc), str(channel), int(week))] = float(units)
    return demand


REVIEW_WEEKS = 1  # the plan is rerun every week: protection covers the lead time plus one week


def _safety_stock(
    forecast: Forecast,
    targets: Mapping[str, tuple[str, float]],
    lead_times: Mapping[StockPoint, tuple[int, float]],
    horizon: int,
) -> dict[tuple[str, str, int], float]:
    """Weekly safety stock per SKU x location for its service target.

    The error spread is the forecast's one-week-ahead error over the channels a location serves
    (sigma_d^2 summed), protected over the fastest replenishment (lead time L and its spread)
    plus one review week. With the measured k-week error distribution of the forecast engine
    (``planning.forecast.spread``, k = L + 1) the stock is read from that distribution, of the
    demand class of the point's largest channel; without it (an external or baseline forecast)
    weeks are taken as independent, sigma = sqrt((L + 1) sigma_d^2 + d^2 sigma_L^2), and a
    cycle-service target takes z(target) sigma, a fill-rate target the k whose normal loss
    G(k) = (1 - target) d / sigma (``planning.forecast.safety_stock``).
    """
    frame = forecast.frame[forecast.frame["week"] < horizon]
    spread = frame.assign(var=frame["units_std"] ** 2)
    grouped = spread.groupby(["sku", "location", "week"], as_index=False).agg(
        units=("units", "sum"), var=("var", "sum")
    )
    grouped = grouped[(grouped["var"] > 0) & grouped["sku"].isin(list(targets))]
    if grouped.empty:
        return {}
    points = list(zip(grouped["sku"].astype(str), grouped["location"].astype(str), strict=True))
    lead = np.array([lead_times.get(p, (0, 0.0))[0] for p in points], dtype=float)
    lead_std = np.array([lead_times.get(p, (0, 0.0))[1] for p in points], dtype=float)
    units = grouped["units"].to_numpy(float)
    sigma_d = np.sqrt(grouped["var"].to_numpy(float))
    stock = np.zeros(len(points))
    measured = forecast.spread
    point_class = _point_classes(frame, measured) if measured is not None else {}
    for metric in ("cycle_service_level", "fill_rate"):
        mask = np.array([targets[p[0]][0] == metric and targets[p[0]][1] < 1 for p in points], dtype=bool)
        if not mask.any():
            continue
        target = np.array([targets[p[0]][1] if m else 0.5 for p, m in zip(points, mask, strict=True)])
        if measured is None:
            stock[mask] = safety_stock(units[mask], sigma_d[mask], lead[mask], target[mask], metric, lead_std[mask])
            continue
        groups: dict[tuple[str, int], list[int]] = {}
        for i in np.flatnonzero(mask):
            groups.setdefault((point_class.get(points[i], ""), int(lead[i]) + REVIEW_WEEKS), []).append(int(i))
        for (demand_class, protection), rows in groups.items():
            stock[rows] = spread_safety_stock(
                measured, demand_class, protection, units[rows], sigma_d[rows], target[rows], metric, lead_std[rows]
            )
    weeks = grouped["week"].astype(int).tolist()
    return {(sku, loc, week): float(v) for (sku, loc), week, v in zip(points, weeks, stock, strict=True) if v > 0}


def _point_classes(frame: pd.DataFrame, spread: DemandSpread) -> dict[StockPoint, str]:
    """Each SKU x location's demand class: that of its channel series with the most forecast units."""
    totals = frame.groupby(["sku", "location", "channel"])["units"].sum().reset_index()
    largest = totals.sort_values("units", ascending=False, kind="stable").drop_duplicates(["sku", "location"])
    return {
        (str(r.sku), str(r.location)): spread.classes.get((str(r.sku), str(r.location), str(r.channel)), "")
        for r in largest.itertuples(index=False)
    }


def _order_slots(
    options: Mapping[str, Option],
    items: Mapping[str, Item],
    closed: Mapping[str, set[int]],
    horizon: int,
) -> tuple[OrderSlot, ...]:
    return tuple(
        (option_id, t)
        for option_id, option in sorted(options.items())
        if items[option.sku].status != "discontinued"
        for t in range(horizon - option.lead_weeks)
        if t not in closed.get(option.supplier, set())
    )


def _min_lead_times(
    options: Mapping[str, Option], lanes: Mapping[tuple[str, str], Lane]
) -> dict[StockPoint, tuple[int, float]]:
    """Fastest replenishment of each stock point, by a supplier directly or through lanes.

    Returns (lead time in weeks, that option's lead-time spread in weeks); lanes add their
    lead time and no spread.
    """
    best: dict[StockPoint, tuple[int, float]] = {}
    for option in options.values():
        key = (option.sku, option.ship_to)
        if key not in best or option.lead_weeks < best[key][0]:
            best[key] = (option.lead_weeks, option.lead_std_weeks)
    changed = True
    while changed:  # relax over lanes until no shorter path appears (Bellman-Ford on a small graph)
        changed = False
        for (sku, loc), (lead, spread) in list(best.items()):
            for (origin, destination), lane in lanes.items():
                if origin == loc and lead + lane.lead_weeks < best.get((sku, destination), (10**9, 0.0))[0]:
                    best[(sku, destination)] = (lead + lane.lead_weeks, spread)
                    changed = True
    return best


def _stock_points(
    demand: Mapping[DemandKey, float],
    initial: Mapping[StockPoint, float],
    arrivals: Mapping[tuple[str, str, int], float],
    options: Mapping[str, Option],
) -> tuple[StockPoint, ...]:
    points = {(sku, loc) for sku, loc, _, _ in demand}
    points |= {p for p, units in initial.items() if units > 0}
    points |= {(sku, loc) for sku, loc, _ in arrivals}
    points |= {(o.sku, o.ship_to) for o in options.values()}
    return tuple(sorted(points))


def _transfer_slots(
    points: tuple[StockPoint, ...],
    lanes: Mapping[tuple[str, str], Lane],
    horizon: int,
    bound_at: Mapping[tuple[str, str, int], float],
) -> tuple[tuple[TransferSlot, ...], dict[TransferSlot, float]]:
    point_set = set(points)
    slots, bounds = [], {}
    for sku, origin in points:
        for (lane_from, destination), lane in lanes.items():
            if lane_from != origin or (sku, destination) not in point_set:
                continue
            for t in range(horizon - lane.lead_weeks):
                useful = bound_at.get((sku, destination, t + lane.lead_weeks), 0.0)
                if useful > 0:  # nothing to move for: no slot
                    slots.append((sku, origin, destination, t))
                    # A shipment must be able to reach the lane minimum, even if that overshoots;
                    # whole units, so the last fraction of reachable demand can still be sent.
                    bounds[(sku, origin, destination, t)] = float(math.ceil(max(useful, lane.min_shipment) - 1e-9))
    return tuple(slots), bounds


def build_problem(
    tables: Mapping[str, pd.DataFrame], forecast: Forecast, config: RunConfig, as_of: date
) -> PlanningProblem:
    """Assemble the planning problem from typed, validated tables and a forecast.

    Args:
        tables: Typed frames by table name (``InputTable.typed``), already validated.
        forecast: Weekly forecast with week 0 = the week starting ``as_of``.
        config: Run configuration (horizon, costs, service defaults).
        as_of: Monday the horizon starts.
    """
    if as_of.weekday() != 0:
        raise ValueError(f"as_of must be a Monday, got {as_of} ({as_of:%A}); set as_of to the Monday of the week")
    horizon = config.horizon.weeks
    fx = _currencies(tables, config)
    items = _items(tables["items"], config)
    suppliers = _suppliers(tables["suppliers"], fx)
    options = _options(tables["sourcing_options"], tables["items"], suppliers, fx)
    lanes = _lanes(tables.get("transfer_lanes"))
    launch = {str(r.sku): _as_date(r.launch_date) for r in rows_of(tables["items"]) if pd.notna(r.launch_date)}
    demand = _demand(forecast, horizon, items, as_of, launch)
    if config.costs.backorders:
        demand = _densify_for_backorders(demand, horizon)
    targets = service_targets(tables["items"], tables.get("service_targets"), config.service.default_fill_rate)
    lead_times = _min_lead_times(options, lanes)
    safety = _safety_stock(forecast, targets, lead_times, horizon)
    initial, arrivals = _starting_position(tables, as_of, horizon)
    points = _stock_points(demand, initial, arrivals, options)
    closed = closed_weeks(tables.get("supplier_closures"), as_of, horizon)
    locked = _locked_units(tables.get("locked_orders"), options, as_of, horizon)
    order_slots = tuple(sorted(set(_order_slots(options, items, closed, horizon)) | set(locked)))
    closing = _closing_value(items, options, points, demand, lanes, horizon, config)
    closing_cover = {point: sum(w for w, _ in tiers if w is not None) for point, tiers in closing.items()}
    bound_at = _reachable_demand(demand, safety, lanes, horizon, config.costs.backorders, closing_cover)
    pack_bound = {
        (o, t): packs_for(
            max(
                bound_at.get((options[o].sku, options[o].ship_to, t + options[o].lead_weeks), 0.0),
                _po_minimum_units(options[o], suppliers[options[o].supplier]),
            ),
            options[o],
        )
        for o, t in order_slots
    }
    transfer_slots, transfer_bound = _transfer_slots(points, lanes, horizon, bound_at)
    lane_week_bound: dict[tuple[str, str, int], float] = defaultdict(float)
    for (_sku, origin, destination, t), bound in transfer_bound.items():
        lane_week_bound[(origin, destination, t)] += bound
    budget_rows = tables.get("budgets")
    return PlanningProblem(
        as_of=as_of,
        week_starts=tuple(as_of + timedelta(weeks=t) for t in range(horizon)),
        currency=config.costs.currency,
        backorders=config.costs.backorders,
        items=items,
        locations={
            str(r.location): (float(r.capacity) if pd.notna(r.capacity) else None, str(r.capacity_unit))
            for r in rows_of(tables["locations"])
        },
        stock_points=points,
        initial_stock=initial,
        open_arrivals=arrivals,
        demand=demand,
        safety_stock=safety,
        # A cycle-service-level target is met through safety stock; only fill-rate targets get the row.
        fill_rate_target={sku: target for sku, (metric, target) in targets.items() if metric == "fill_rate"},
        options=options,
        suppliers=suppliers,
        order_slots=order_slots,
        order_pack_bound=pack_bound,
        locked_units=locked,
        lanes=lanes,
        transfer_slots=transfer_slots,
        transfer_bound=transfer_bound,
        lane_week_bound=dict(lane_week_bound),
        po_slots=tuple(sorted({(options[o].supplier, options[o].ship_to, t) for o, t in order_slots})),
        budgets=_weekly_budgets(budget_rows, as_of, horizon, fx),
        carry_budget_forward=config.costs.carry_budget_forward,
        penalties=_penalties(items, targets, config),
        closing_value=closing,
        reservations=_reservations(tables.get("channel_reservations"), items, points, demand, horizon),
        forecast_method=forecast.method,
        open_balances=_open_balances(tables.get("open_orders"), items, options, suppliers, as_of, horizon),
    )


def _starting_position(
    tables: Mapping[str, pd.DataFrame], as_of: date, horizon: int
) -> tuple[dict[StockPoint, float], dict[tuple[str, str, int], float]]:
    """Usable stock (on hand minus allocated, at least 0) and open-order arrivals per week.

    Arrivals expected before the as-of date (late, but still expected) count in week 0;
    arrivals after the horizon are left out.
    """
    inventory = tables["inventory"]
    initial = {
        (str(r.sku), str(r.location)): max(0.0, float(r.on_hand) - float(r.allocated)) for r in rows_of(inventory)
    }
    arrivals: dict[tuple[str, str, int], float] = defaultdict(float)
    orders = tables.get("open_orders")
    if orders is not None:
        for r in rows_of(orders):
            week = max(0, week_of(as_of, _as_date(r.expected_arrival)))
            if week < horizon:
                arrivals[(str(r.sku), str(r.destination), week)] += float(r.quantity)
    return initial, dict(arrivals)


def _open_balances(
    orders: pd.DataFrame | None,
    items: Mapping[str, Item],
    options: Mapping[str, Option],
    suppliers: Mapping[str, Supplier],
    as_of: date,
    horizon: int,
) -> dict[tuple[int, str, str], float]:
    """Cash still owed on open purchase-order lines, due in their expected arrival week.

    The open-orders table carries no price, so a line is valued as the model values a new one:
    its deposit was paid when it was placed and the balance, (1 - deposit share) x unit cost x
    units, falls due on arrival (``models.budget``'s cash rule). Unit cost and deposit share are
    those of the cheapest sourcing option with the line's SKU, supplier and destination, else the
    supplier's deposit share and the item's unit cost. Lines expected before the as-of date owe in
    week 0, like their units; lines due after the horizon fall in no budget row.
    """
    due: dict[tuple[int, str, str], float] = defaultdict(float)
    if orders is None or orders.empty:
        return {}
    cheapest: dict[tuple[str, str, str], Option] = {}
    for option in sorted(options.values(), key=lambda o: (-o.unit_cost, o.option_id)):
        cheapest[(option.sku, option.supplier, option.ship_to)] = option
    for r in rows_of(orders):
        sku, supplier = str(r.sku), str(r.origin)
        if getattr(r, "origin_type", "supplier") != "supplier" or sku not in items:
            continue
        week = max(0, week_of(as_of, _as_date(r.expected_arrival)))
        match = cheapest.get((sku, supplier, str(r.destination)))
        if match is not None:
            unit_cost, deposit = match.unit_cost, match.deposit_share
        else:
            unit_cost = items[sku].unit_cost
            deposit = suppliers[supplier].deposit_share if supplier in suppliers else 0.0
        if week < horizon and deposit < 1:
            due[(week, items[sku].category, supplier)] += (1 - deposit) * unit_cost * float(r.quantity)
    return dict(due)


def _locked_units(
    frame: pd.DataFrame | None, options: Mapping[str, Option], as_of: date, horizon: int
) -> dict[OrderSlot, float]:
    """Approved lines by slot; lines dated outside the plan's weeks are left out (validation warns:
    ``locked_orders.order_date.in_horizon``)."""
    locked: dict[OrderSlot, float] = defaultdict(float)
    if frame is None:
        return locked
    for r in rows_of(frame):
        option_id = f"{r.sku}|{r.supplier}|{r.ship_to}|{r.mode}"
        week = week_of(as_of, _as_date(r.order_date))
        if option_id in options and 0 <= week < horizon:
            locked[(option_id, week)] += float(r.quantity)
    return dict(locked)


def _reachable_demand(
    demand: Mapping[DemandKey, float],
    safety: Mapping[tuple[str, str, int], float],
    lanes: Mapping[tuple[str, str], Lane],
    horizon: int,
    backorders: bool,
    closing_cover: Mapping[StockPoint, float],
) -> dict[tuple[str, str, int], float]:
    """(sku, location, week) -> the most stock that can be useful to receive there that week.

    That is the demand at the location and downstream of it from that week on (from week 0
    with backorders: what is already owed can be served late), plus the largest safety-stock
    target there from that week on, plus one minimum shipment of each lane downstream (a lane
    minimum can force a shipment above the demand it serves), plus the closing stock that still
    carries value there (``closing_cover``: the widths of its closing-stock tiers). It is the
    big-M of orders and transfers arriving that week.
    """
    per_point: dict[StockPoint, list[float]] = defaultdict(lambda: [0.0] * (horizon + 1))
    for (sku, loc, _, t), units in demand.items():
        per_point[(sku, loc)][t] += units
    safety_points: dict[StockPoint, list[float]] = defaultdict(lambda: [0.0] * (horizon + 1))
    for (sku, loc, t), units in safety.items():
        safety_points[(sku, loc)][t] = units
        per_point[(sku, loc)]  # a point with only a safety target still needs a bound
    suffix: dict[StockPoint, list[float]] = {}
    for point, weekly in per_point.items():
        running, later_safety = [0.0] * (horizon + 1), [0.0] * (horizon + 1)
        targets = safety_points.get(point, [0.0] * (horizon + 1))
        for t in range(horizon - 1, -1, -1):
            running[t] = running[t + 1] + weekly[t]
            later_safety[t] = max(later_safety[t + 1], targets[t])
        suffix[point] = [(running[0] if backorders else running[t]) + later_safety[t] for t in range(horizon + 1)]
    reach = reachable_locations(lanes)
    skus = {sku for sku, _ in per_point}
    all_locations = set(reach) | {loc for _, loc in per_point}
    bound: dict[tuple[str, str, int], float] = {}
    # A lane minimum may force a shipment above the demand it serves: leave room for one.
    lane_minimum = {
        loc: sum(lane.min_shipment for (origin, _), lane in lanes.items() if origin in reach.get(loc, {loc}))
        for loc in all_locations
    }
    for sku in skus:
        for loc in all_locations:
            downstream = [suffix[(sku, d)] for d in reach.get(loc, {loc}) if (sku, d) in suffix]
            for t in range(horizon):
                total = sum(s[t] for s in downstream)
                if total > 0:
                    bound[(sku, loc, t)] = total + lane_minimum[loc] + closing_cover.get((sku, loc), 0.0)
    return bound


def _densify_for_backorders(demand: dict[DemandKey, float], horizon: int) -> dict[DemandKey, float]:
    """With backorders every series needs a row each week from its first demand on, so the
    backlog carries through weeks with no new demand."""
    first: dict[tuple[str, str, str], int] = {}
    for sku, loc, channel, t in demand:
        first[(sku, loc, channel)] = min(t, first.get((sku, loc, channel), horizon))
    dense = dict(demand)
    for (sku, loc, channel), start in first.items():
        for t in range(start, horizon):
            dense.setdefault((sku, loc, channel, t), 0.0)
    return dense


CLOSING_TIER_WEEKS = (1, 1, 2, 2, 4)  # weeks of sales per closing-stock tier; the last width repeats
CLOSING_RATE_WEEKS = 4  # the horizon's last weeks whose mean demand is the rate after it


def _closing_value(
    items: Mapping[str, Item],
    options: Mapping[str, Option],
    points: Sequence[StockPoint],
    demand: Mapping[DemandKey, float],
    lanes: Mapping[tuple[str, str], Lane],
    horizon: int,
    config: RunConfig,
) -> dict[StockPoint, tuple[tuple[float | None, float], ...]]:
    """The closing-stock tiers of every stock point (``models.closing_stock`` has the rule)."""
    costs = config.costs
    if costs.closing_stock_valuation == "share":
        share = costs.end_of_horizon_value_share
        if share <= 0:
            return {}
        return {(sku, loc): ((None, share * items[sku].unit_cost),) for sku, loc in points}
    last_weeks = range(max(0, horizon - CLOSING_RATE_WEEKS), horizon)
    weekly: dict[StockPoint, float] = defaultdict(float)
    for (sku, loc, _, t), units in demand.items():
        if t in last_weeks:
            weekly[(sku, loc)] += units / len(last_weeks)
    cheapest: dict[str, float] = {}
    bought_at: set[StockPoint] = set()
    for option in options.values():
        cheapest[option.sku] = min(option.unit_cost, cheapest.get(option.sku, option.unit_cost))
        bought_at.add((option.sku, option.ship_to))
    reach = reachable_locations(lanes)
    tiers: dict[StockPoint, tuple[tuple[float | None, float], ...]] = {}
    for sku, loc in points:
        rate = sum(weekly.get((sku, d), 0.0) for d in reach.get(loc, {loc}))
        if rate <= 0:
            continue
        item = items[sku]
        # Stock here delays the next purchase line: sqrt(2 F h / D) a unit, where ordering is possible.
        saving = math.sqrt(2 * item.line_cost * item.holding_cost / rate) if (sku, loc) in bought_at else 0.0
        value_new = cheapest.get(sku, item.unit_cost) + saving
        point_tiers: list[tuple[float | None, float]] = []
        start = 0
        while start < costs.closing_stock_cover_weeks:
            width = CLOSING_TIER_WEEKS[min(len(point_tiers), len(CLOSING_TIER_WEEKS) - 1)]
            weeks = min(width, costs.closing_stock_cover_weeks - start)
            # A unit sold in week w after the horizon stays w - 1 more weeks: (weeks - 1) / 2 on average here.
            value = value_new - item.holding_cost * (start + (weeks - 1) / 2)
            if value <= 0:
                break
            point_tiers.append((rate * weeks, value))
            start += weeks
        if point_tiers:
            tiers[(sku, loc)] = tuple(point_tiers)
    return tiers


MAX_PRICED_TARGET = 0.999  # a 100 % target is priced as 99.9 %: 999 weeks of holding a unit-week short


def _penalties(items: Mapping[str, Item], targets: Mapping[str, tuple[str, float]], config: RunConfig) -> Penalties:
    costs, service = config.costs, config.service
    if costs.safety_stock_shortfall_penalty == "from_target":
        # Newsvendor: a target a is the economic service when a unit short costs b with
        # b / (b + h) = a, i.e. b = h a / (1 - a). A fill-rate target stands in for a.
        safety_price = {}
        for sku, item in items.items():
            target = min(targets.get(sku, ("", service.default_fill_rate))[1], MAX_PRICED_TARGET)
            safety_price[sku] = item.holding_cost * target / (1 - target)
    else:
        share = costs.safety_stock_shortfall_penalty
        safety_price = {sku: item.unit_cost * share for sku, item in items.items()}
    return Penalties(
        safety_stock_shortfall=safety_price,
        reservation_shortfall={s: i.lost_sale_penalty * costs.reservation_shortfall_penalty for s, i in items.items()},
        fill_rate_shortfall={s: i.unit_cost * service.fill_rate_shortfall_penalty for s, i in items.items()},
        budget_overrun=costs.budget_overrun_penalty,
        capacity_overrun=costs.capacity_overrun_penalty,
        supplier_capacity_overrun=costs.supplier_capacity_overrun_penalty,
        plan_change=costs.plan_change_penalty,
        plan_change_window=costs.plan_change_window_weeks,
    )


def _reservations(
    frame: pd.DataFrame | None,
    items: Mapping[str, Item],
    points: tuple[StockPoint, ...],
    demand: Mapping[DemandKey, float],
    horizon: int,
) -> dict[DemandKey, float]:
    """(sku, location, channel, week) -> units kept back for the channel at the end of the week.

    Weeks of cover count forward: the channel's forecast over the following weeks (a fractional
    last week counts in part), so the reserve is what the channel will need next.
    """
    if frame is None:
        return {}
    reserved: dict[DemandKey, float] = {}
    for row in rows_of(frame):
        location, channel, category = str(row.location), str(row.channel), _text(row.category)
        for sku, loc in points:
            if loc != location or (category and items[sku].category != category):
                continue
            for t in range(horizon):
                if pd.notna(row.reserved_units):
                    units = float(row.reserved_units)
                else:
                    weeks = float(row.weeks_of_cover)
                    ahead = [demand.get((sku, loc, channel, k), 0.0) for k in range(t + 1, horizon)]
                    whole = int(weeks)
                    units = sum(ahead[:whole]) + (weeks - whole) * (ahead[whole] if whole < len(ahead) else 0.0)
                if units > 0:
                    reserved[(sku, loc, channel, t)] = max(units, reserved.get((sku, loc, channel, t), 0.0))
    return reserved
