"""Index maps pre-joined from the planning problem, so constraint rules only look things up.

Pyomo rules that filter (``if ...: return Constraint.Skip``) walk every combination and are
slow at scale; here every sparse set and every "which slots feed this row" list is built once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from planning.problem import OrderSlot, PlanningProblem, TransferSlot

PointWeek = tuple[str, str, int]  # (sku, location, week)


@dataclass(frozen=True, slots=True)
class ModelIndex:
    """Which variables feed each row of the model."""

    point_weeks: tuple[PointWeek, ...]
    arrivals: dict[PointWeek, list[OrderSlot]]  # orders received at (sku, loc) in week t
    transfers_in: dict[PointWeek, list[TransferSlot]]
    transfers_out: dict[PointWeek, list[TransferSlot]]
    demand_at: dict[PointWeek, list[tuple[str, str, str, int]]]
    slots_by_po: dict[tuple[str, str, int], list[OrderSlot]]
    slots_by_supplier_week: dict[tuple[str, int], list[OrderSlot]]
    transfers_by_lane_week: dict[tuple[str, str, int], list[TransferSlot]]
    points_by_location: dict[str, list[tuple[str, str]]]
    demand_by_sku: dict[str, list[tuple[str, str, str, int]]]
    lane_weeks: tuple[tuple[str, str, int], ...]  # lane-weeks with a minimum shipment
    capacity_weeks: tuple[tuple[str, int], ...]  # location-weeks with a capacity
    supplier_weeks: tuple[tuple[str, int], ...]  # supplier-weeks with a capacity and order slots


def index_problem(problem: PlanningProblem) -> ModelIndex:
    """Pre-join the problem's sparse sets into the lookups the model families use."""
    horizon = len(problem.week_starts)
    arrivals: dict[PointWeek, list[OrderSlot]] = defaultdict(list)
    slots_by_po: dict[tuple[str, str, int], list[OrderSlot]] = defaultdict(list)
    slots_by_supplier_week: dict[tuple[str, int], list[OrderSlot]] = defaultdict(list)
    for option_id, t in problem.order_slots:
        option = problem.options[option_id]
        arrival = t + option.lead_weeks
        if arrival < horizon:
            arrivals[(option.sku, option.ship_to, arrival)].append((option_id, t))
        slots_by_po[(option.supplier, option.ship_to, t)].append((option_id, t))
        slots_by_supplier_week[(option.supplier, t)].append((option_id, t))
    transfers_in: dict[PointWeek, list[TransferSlot]] = defaultdict(list)
    transfers_out: dict[PointWeek, list[TransferSlot]] = defaultdict(list)
    by_lane_week: dict[tuple[str, str, int], list[TransferSlot]] = defaultdict(list)
    for slot in problem.transfer_slots:
        sku, origin, destination, t = slot
        lane = problem.lanes[(origin, destination)]
        transfers_out[(sku, origin, t)].append(slot)
        transfers_in[(sku, destination, t + lane.lead_weeks)].append(slot)
        by_lane_week[(origin, destination, t)].append(slot)
    demand_at: dict[PointWeek, list[tuple[str, str, str, int]]] = defaultdict(list)
    demand_by_sku: dict[str, list[tuple[str, str, str, int]]] = defaultdict(list)
    for key in problem.demand:
        demand_at[(key[0], key[1], key[3])].append(key)
        demand_by_sku[key[0]].append(key)
    points_by_location: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for point in problem.stock_points:
        points_by_location[point[1]].append(point)
    return ModelIndex(
        point_weeks=tuple((sku, loc, t) for sku, loc in problem.stock_points for t in range(horizon)),
        arrivals=arrivals,
        transfers_in=transfers_in,
        transfers_out=transfers_out,
        demand_at=demand_at,
        slots_by_po=slots_by_po,
        slots_by_supplier_week=slots_by_supplier_week,
        transfers_by_lane_week=by_lane_week,
        points_by_location=points_by_location,
        demand_by_sku=demand_by_sku,
        lane_weeks=tuple(k for k in sorted(by_lane_week) if problem.lanes[(k[0], k[1])].min_shipment > 0),
        capacity_weeks=tuple(
            (loc, t)
            for loc, (capacity, _) in sorted(problem.locations.items())
            if capacity is not None and points_by_location.get(loc)
            for t in range(horizon)
        ),
        supplier_weeks=tuple(
            k for k in sorted(slots_by_supplier_week) if problem.suppliers[k[0]].weekly_capacity is not None
        ),
    )
