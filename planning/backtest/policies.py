"""Ordering policies compared by the backtest: the planner and two rules brands use today.

Every policy sees one ``WeekView``: the input tables as known at the week's Monday, the
forecast made from them, and the planning problem built from both (the planner's own view of
options, pack sizes, MOQs, lead times, budgets and closures). It returns the purchase lines
and transfers to firm THIS week; later weeks of any plan are not executed.

Planner (``PlannerPolicy``): ``planning.run`` on the view (optimize, extract, check), keeping
the lines of the plan's first week (order week 0) and its week-0 transfers.

Rules (per stock point p = SKU x location, forecast f_k for week k, one-week error sigma,
position P = on hand + on order, review period R, lead time L of the point's route):
  reorder point / min-max  s = F(L + R) + z * sqrt((L + R) sigma^2 + f^2 sigma_L^2)
                           S = s + max(EOQ, MOQ, f R),  EOQ = sqrt(2 f * line cost / h)
                           order S - P when P <= s                 (ERP reorder rules)
  weeks of cover           order F(L + N) - P when P < F(L + M), M = share x N
                                                                 (Shopify planning apps)
where F(x) is the forecast summed over the next x weeks (fractions pro rata, beyond the
horizon at the mean of its last four weeks). Both buy from the cheapest sourcing option open
this week (closures respected), round up to whole packs and at least the MOQ
(``planning.problem.packs_for``: the model's own rounding) and replenish points without a
direct option by a transfer from the upstream point with the shortest lane, capped by its
stock above its own demand until the shipment lands plus a review week; an upstream point adds
its downstream points' forecasts to its own when it orders.

Budget (the planner's rows, its cash rule): a line pays its deposit share of the value in week
0 and the balance in its arrival week L, against the rows covering those weeks, after the
balances open purchase orders still owe in those weeks (an ERP budget check counts open
commitments; so does the planner's model, ``models.budget``). Lines
are taken in priority order - fewest weeks of cover (P / f) first, then the larger margin -
each cut to the packs that still fit every budget row in scope, and
deferred to next week when not even the MOQ fits. Purchase orders below the supplier's PO
minimum are topped up a pack at a time on their most urgent line while the budget allows,
else deferred whole. Supplier and location capacities and lane minimum shipments are soft
or lane-level limits the rules do not model (the planner prices them).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Protocol

import numpy as np
import pandas as pd

from planning.backtest.simulate import Decisions, PurchaseRelease, TransferRelease
from planning.config import RunConfig
from planning.forecast import ForecastRun
from planning.forecast.service import protection_sigma
from planning.problem import Budget, Option, PlanningProblem, packs_for, rows_of
from planning.run import PlanRun, finish_run, optimize_problem
from planning.solve import NoPlanFoundError

StockPoint = tuple[str, str]
TAIL_WEEKS = 4


@dataclass(frozen=True, slots=True)
class WeekView:
    """What is known at the Monday of one replayed week."""

    week_start: date
    tables: Mapping[str, pd.DataFrame]
    forecast: ForecastRun
    problem: PlanningProblem
    config: RunConfig


class Policy(Protocol):
    """An ordering policy: the week's firm purchase lines and transfers from what is known."""

    name: str

    def decide(self, view: WeekView) -> Decisions: ...


# ---------------------------------------------------------------------------------------------
# The planner
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class PlannerPolicy:
    """The buy plan of ``planning.run`` on the week's view; its first week is firmed.

    Coupling prices of the block method, and with ``warm_start`` the previous week's plan, are
    carried from week to week (the warm start a weekly run gets from the previous published run).
    """

    name: str = "planner"
    runs: list[PlanRun] = field(default_factory=list)
    keep_runs: bool = False
    solve_seconds: list[float] = field(default_factory=list)
    warm_start: bool = True
    last_plan: tuple[pd.DataFrame, pd.DataFrame] | None = None
    last_week: date | None = None  # the last plan's last week

    def decide(self, view: WeekView) -> Decisions:
        previous = self.last_plan if self.warm_start else None
        result = optimize_problem(view.problem, view.config, previous)
        if not result.report.has_plan:
            raise NoPlanFoundError(
                f"backtest week {view.week_start}: no plan within the time limit: {result.report.summary_line()}",
                result.report,
            )
        run = finish_run(view.problem.as_of, view.problem, result, view.forecast, view.config)
        changes = None
        if self.last_plan is not None and self.last_week is not None:
            changes = lines_changed(self.last_plan[0], run.plan.purchases, view.problem.as_of, self.last_week)
        self.last_plan = (run.plan.purchases, run.plan.transfers)
        self.last_week = view.problem.week_starts[-1]
        self.solve_seconds.append(sum(result.stage_seconds.values()))
        if self.keep_runs:
            self.runs.append(run)
        return replace(first_week_decisions(run, view.problem), plan_changes=changes)


LINE_KEY = ("sku", "supplier", "ship_to", "mode", "order_date")


def lines_changed(previous: pd.DataFrame, current: pd.DataFrame, first: date, last: date) -> int:
    """Purchase lines (option and order date) in one plan but not the other, ordered from ``first``
    (the current plan's first week) to ``last`` (the earlier plan's last week), the dates both
    cover. A moved line counts twice (dropped and added), as ``models.objective``'s
    plan_change_cost charges it."""

    def keys(plan: pd.DataFrame) -> set[tuple[str, ...]]:
        dates = pd.to_datetime(plan["order_date"]).dt.date
        inside = (plan["quantity"] > 0) & (dates >= first) & (dates <= last)
        part = plan[inside]
        return set(zip(*(part[c].astype(str) for c in LINE_KEY[:-1]), dates[inside].astype(str), strict=True))

    return len(keys(previous) ^ keys(current))


def first_week_decisions(run: PlanRun, problem: PlanningProblem) -> Decisions:
    """The plan's week-0 purchase lines and transfers, as releases to the simulation."""
    return week_decisions(run, problem, 0)


def week_decisions(run: PlanRun, problem: PlanningProblem, week: int) -> Decisions:
    """The plan's purchase lines ordered and transfers shipped in ``week`` (0 = the plan's first)."""
    purchases = run.plan.purchases
    firm = purchases[purchases["order_week"] == week]
    charged: set[tuple[str, str]] = set()  # the PO's fixed cost goes on its first line
    releases = []
    for row in rows_of(firm):
        option = problem.options[f"{row.sku}|{row.supplier}|{row.ship_to}|{row.mode}"]
        po_key = (str(row.supplier), str(row.ship_to))
        releases.append(_purchase(problem, option, float(row.quantity), str(row.po_id), po_key not in charged))
        charged.add(po_key)
    transfers = run.plan.transfers
    moves = tuple(
        TransferRelease(
            transfer_id=str(r.transfer_id),
            sku=str(r.sku),
            origin=str(r.from_location),
            destination=str(r.to_location),
            units=float(r.quantity),
            lead_weeks=problem.lanes[(str(r.from_location), str(r.to_location))].lead_weeks,
            cost_per_unit=problem.lanes[(str(r.from_location), str(r.to_location))].cost_per_unit,
        )
        for r in rows_of(transfers[transfers["ship_week"] == week])
    )
    return Decisions(tuple(releases), moves)


def _purchase(problem: PlanningProblem, option: Option, units: float, po_id: str, first_of_po: bool) -> PurchaseRelease:
    supplier = problem.suppliers[option.supplier]
    return PurchaseRelease(
        order_id=f"{po_id}-{option.mode}",  # a SKU may be on one PO by two modes: the key stays unique
        sku=option.sku,
        supplier=option.supplier,
        ship_to=option.ship_to,
        mode=option.mode,
        units=units,
        unit_cost=option.unit_cost,
        lead_weeks=option.lead_weeks,
        lead_std_weeks=option.lead_std_weeks,
        deposit_share=option.deposit_share,
        line_cost=problem.items[option.sku].line_cost,
        po_fixed_cost=supplier.po_fixed_cost if first_of_po else 0.0,
    )


# ---------------------------------------------------------------------------------------------
# Shared machinery of the rule-based policies
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PointState:
    """A stock point as a rule sees it this week."""

    point: StockPoint
    forecast: np.ndarray  # weekly units over the horizon, downstream points' demand included
    sigma: float  # one-week forecast error, downstream included (root of summed variances)
    position: float  # usable on hand + everything on order to the point
    on_hand: float
    own_forecast: np.ndarray | None = None  # the point's own demand only (None: same as forecast)


@dataclass(frozen=True, slots=True)
class Route:
    """How a rule replenishes a point: a sourcing option (purchase) or a lane from ``origin`` (transfer)."""

    lead_weeks: int
    lead_std_weeks: float
    option: Option | None = None
    origin: str = ""


def cumulative_forecast(weekly: np.ndarray, weeks: float) -> float:
    """F(x): forecast over the next ``weeks`` weeks, a fractional last week pro rata; weeks past
    the horizon at the mean of its last four weeks."""
    if weeks <= 0:
        return 0.0
    horizon = len(weekly)
    tail = float(weekly[-TAIL_WEEKS:].mean()) if horizon else 0.0
    whole = math.floor(weeks)
    total = float(weekly[: min(whole, horizon)].sum()) + max(0, whole - horizon) * tail
    fraction = weeks - whole
    if fraction > 0:
        total += fraction * (float(weekly[whole]) if whole < horizon else tail)
    return total


def point_states(view: WeekView) -> dict[StockPoint, PointState]:
    """Forecast, error spread and position of every stock point, downstream demand folded upstream."""
    problem = view.problem
    horizon = len(problem.week_starts)
    own: dict[StockPoint, np.ndarray] = defaultdict(lambda: np.zeros(horizon))
    for (sku, loc, _channel, week), units in problem.demand.items():
        own[(sku, loc)][week] += units
    frame = view.forecast.forecast.frame
    first = frame[frame["week"] == 0]
    variance: dict[StockPoint, float] = defaultdict(float)
    for sku, loc, std in first[["sku", "location", "units_std"]].itertuples(index=False):
        variance[(str(sku), str(loc))] += float(std) ** 2
    position: dict[StockPoint, float] = defaultdict(float)
    for point, units in problem.initial_stock.items():
        position[point] += units
    for (sku, loc, _week), units in problem.open_arrivals.items():
        position[(sku, loc)] += units
    routes = routes_by_point(problem)
    forecast = {p: own[p].copy() for p in problem.stock_points}
    spread = {p: variance.get(p, 0.0) for p in problem.stock_points}
    for point, route in routes.items():
        if route.option is None and (point[0], route.origin) in forecast:
            forecast[(point[0], route.origin)] += own[point]
            spread[(point[0], route.origin)] += variance.get(point, 0.0)
    return {
        p: PointState(p, forecast[p], math.sqrt(spread[p]), position[p], problem.initial_stock.get(p, 0.0), own[p])
        for p in problem.stock_points
    }


def routes_by_point(problem: PlanningProblem) -> dict[StockPoint, Route]:
    """The preferred route of each point: its cheapest option (shorter lead on ties), else the
    shortest lane from a point that has an option."""
    best: dict[StockPoint, Option] = {}
    for option in problem.options.values():
        point = (option.sku, option.ship_to)
        current = best.get(point)
        if current is None or (option.unit_cost, option.lead_weeks) < (current.unit_cost, current.lead_weeks):
            best[point] = option
    routes = {p: Route(o.lead_weeks, o.lead_std_weeks, option=o) for p, o in best.items()}
    for sku, loc in problem.stock_points:
        if (sku, loc) in routes:
            continue
        lanes = [lane for (o, d), lane in problem.lanes.items() if d == loc and (sku, o) in best]
        if lanes:
            lane = min(lanes, key=lambda ln: (ln.lead_weeks, ln.origin))
            upstream = best[(sku, lane.origin)]
            routes[(sku, loc)] = Route(lane.lead_weeks, upstream.lead_std_weeks, origin=lane.origin)
    return routes


def open_option(problem: PlanningProblem, preferred: Option, open_slots: set[tuple[str, int]]) -> Option | None:
    """The preferred option if it can be ordered this week, else the cheapest open one for the point."""
    if (preferred.option_id, 0) in open_slots:
        return preferred
    candidates = [
        o
        for o in problem.options.values()
        if o.sku == preferred.sku and o.ship_to == preferred.ship_to and (o.option_id, 0) in open_slots
    ]
    return min(candidates, key=lambda o: (o.unit_cost, o.lead_weeks), default=None)


@dataclass(frozen=True, slots=True)
class Need:
    """Units a rule wants at a point this week, and how urgent it is."""

    point: StockPoint
    units: float
    cover_weeks: float  # position / mean weekly forecast: lower is more urgent
    margin: float


class QuantityRule(Protocol):
    def units(self, state: PointState, route: Route, problem: PlanningProblem) -> float: ...


@dataclass(frozen=True, slots=True)
class ReorderPointRule:
    """Min-max with safety stock: reorder at s, up to S = s + max(EOQ, MOQ, f R) (module docstring)."""

    z: float
    review_weeks: float = 1.0

    def levels(self, state: PointState, route: Route, problem: PlanningProblem) -> tuple[float, float]:
        """(s, S) of the point."""
        protection = route.lead_weeks + self.review_weeks
        mean = float(state.forecast.mean()) if len(state.forecast) else 0.0
        sigma = float(protection_sigma(mean, state.sigma, route.lead_weeks, route.lead_std_weeks, self.review_weeks))
        reorder = cumulative_forecast(state.forecast, protection) + self.z * sigma
        item = problem.items[state.point[0]]
        eoq = math.sqrt(2 * mean * item.line_cost / item.holding_cost) if item.holding_cost > 0 and mean > 0 else 0.0
        moq = route.option.moq if route.option is not None else 0.0
        return reorder, reorder + max(eoq, moq, mean * self.review_weeks)

    def units(self, state: PointState, route: Route, problem: PlanningProblem) -> float:
        reorder, order_up_to = self.levels(state, route, problem)
        if state.forecast.sum() <= 0 or state.position > reorder:
            return 0.0
        return max(0.0, order_up_to - state.position)


@dataclass(frozen=True, slots=True)
class WeeksOfCoverRule:
    """Order up to N weeks of forecast beyond the lead time when cover falls below M = share x N."""

    cover_weeks: float
    trigger_share: float = 0.5

    def units(self, state: PointState, route: Route, problem: PlanningProblem) -> float:
        if state.forecast.sum() <= 0:
            return 0.0
        trigger = cumulative_forecast(state.forecast, route.lead_weeks + self.trigger_share * self.cover_weeks)
        if state.position >= trigger:
            return 0.0
        return max(0.0, cumulative_forecast(state.forecast, route.lead_weeks + self.cover_weeks) - state.position)


def _in_scope(problem: PlanningProblem, budget: Budget, option: Option) -> bool:
    if budget.supplier and option.supplier != budget.supplier:
        return False
    return not budget.category or problem.items[option.sku].category == budget.category


@dataclass(slots=True)
class _Cash:
    """The budget rows of the horizon and what is left of each for this week's new lines.

    A line pays its deposit in week 0 and its balance in its arrival week L (the model's own
    cash rule, ``models.budget``), so it draws on the rows covering week 0 and week L. What
    open purchase orders still owe (their balances, due in their expected arrival week) is
    committed already, as an ERP's budget check counts open commitments.
    """

    rows: tuple[Budget, ...]
    left: dict[str, float]

    @classmethod
    def of(cls, problem: PlanningProblem, count_commitments: bool = True) -> _Cash:
        """``count_commitments``: what open purchase orders still owe (``PlanningProblem.open_balances``,
        the model's own rule) is taken off each row's limit first."""
        return cls(
            problem.budgets,
            {b.budget_id: b.limit - (problem.committed(b) if count_commitments else 0.0) for b in problem.budgets},
        )

    def _draws(self, problem: PlanningProblem, option: Option) -> list[tuple[str, float]]:
        """(budget row, cash per unit) pairs one unit of ``option`` ordered now draws on."""
        draws = []
        for row in self.rows:
            if not _in_scope(problem, row, option):
                continue
            share = (option.deposit_share if 0 in row.weeks else 0.0) + (
                1 - option.deposit_share if option.lead_weeks in row.weeks else 0.0
            )
            if share > 0:
                draws.append((row.budget_id, share * option.unit_cost))
        return draws

    def packs_that_fit(self, problem: PlanningProblem, option: Option, packs: int) -> int:
        for budget_id, per_unit in self._draws(problem, option):
            if per_unit > 0:
                fit = math.floor(max(0.0, self.left[budget_id]) / (per_unit * option.pack_size) + 1e-9)
                packs = min(packs, fit)
        return packs

    def spend(self, problem: PlanningProblem, option: Option, units: float) -> None:
        for budget_id, per_unit in self._draws(problem, option):
            self.left[budget_id] -= per_unit * units


def _min_packs(option: Option) -> int:
    return max(1, math.ceil(option.moq / option.pack_size - 1e-9))


@dataclass(slots=True)
class RulePolicy:
    """A rule-based policy: a quantity rule per point, rounding, routes and the budget (module docstring)."""

    name: str
    rule: QuantityRule
    count_commitments: bool = True  # open orders' balances are committed budget (False: only new lines count)

    def decide(self, view: WeekView) -> Decisions:
        problem = view.problem
        states = point_states(view)
        routes = routes_by_point(problem)
        open_slots = {slot for slot in problem.order_slots if slot[1] == 0}
        needs = []
        for point, state in states.items():
            route = routes.get(point)
            if route is None:
                continue
            units = self.rule.units(state, route, problem)
            if units > 1e-9:
                mean = max(float(state.forecast.mean()), 1e-9)
                item = problem.items[point[0]]
                needs.append(Need(point, units, state.position / mean, item.selling_price - item.unit_cost))
        needs.sort(key=lambda n: (n.cover_weeks, -n.margin, n.point))
        purchases = self._purchases(view, [n for n in needs if routes[n.point].option is not None], routes, open_slots)
        transfers = self._transfers(view, [n for n in needs if routes[n.point].option is None], routes, states)
        return Decisions(purchases, transfers)

    def _purchases(
        self,
        view: WeekView,
        needs: Sequence[Need],
        routes: Mapping[StockPoint, Route],
        open_slots: set[tuple[str, int]],
    ) -> tuple[PurchaseRelease, ...]:
        problem = view.problem
        cash = _Cash.of(problem, self.count_commitments)
        packs: dict[str, int] = {}
        order: list[Option] = []
        for need in needs:
            preferred = routes[need.point].option
            assert preferred is not None
            option = open_option(problem, preferred, open_slots)
            if option is None:
                continue  # closed this week: deferred
            wanted = packs_for(need.units, option)
            fits = cash.packs_that_fit(problem, option, wanted)
            if fits < _min_packs(option):
                continue  # not even the MOQ fits the budget: deferred
            packs[option.option_id] = fits
            order.append(option)
            cash.spend(problem, option, fits * option.pack_size)
        self._po_minimums(problem, order, packs, cash)
        week = view.week_start
        releases, charged = [], set()
        for option in order:
            if packs.get(option.option_id, 0) <= 0:
                continue
            po = (option.supplier, option.ship_to)
            po_id = f"{self.name.upper()}-{week:%Y%m%d}-{option.supplier}-{option.ship_to}"
            units = float(packs[option.option_id] * option.pack_size)
            releases.append(_purchase(problem, option, units, po_id, po not in charged))
            charged.add(po)
        return tuple(releases)

    @staticmethod
    def _po_minimums(problem: PlanningProblem, order: Sequence[Option], packs: dict[str, int], cash: _Cash) -> None:
        """Top a PO below its supplier's minimum up on its most urgent line, or defer it whole."""
        by_po: dict[tuple[str, str], list[Option]] = defaultdict(list)
        for option in order:
            by_po[(option.supplier, option.ship_to)].append(option)
        for (supplier, _ship_to), lines in by_po.items():
            minimum = problem.suppliers[supplier].po_minimum_value
            value = sum(packs[o.option_id] * o.pack_size * o.unit_cost for o in lines)
            first = lines[0]
            pack_value = first.pack_size * first.unit_cost
            while value < minimum - 1e-6 and pack_value > 0 and cash.packs_that_fit(problem, first, 1) >= 1:
                packs[first.option_id] += 1
                cash.spend(problem, first, first.pack_size)
                value += pack_value
            if value < minimum - 1e-6:
                for option in lines:
                    cash.spend(problem, option, -packs[option.option_id] * option.pack_size)
                    packs[option.option_id] = 0

    def _transfers(
        self,
        view: WeekView,
        needs: Sequence[Need],
        routes: Mapping[StockPoint, Route],
        states: Mapping[StockPoint, PointState],
    ) -> tuple[TransferRelease, ...]:
        problem = view.problem
        left = {p: s.on_hand for p, s in states.items()}
        moves = []
        for need in needs:
            origin = routes[need.point].origin
            source = (need.point[0], origin)
            lane = problem.lanes[(origin, need.point[1])]
            # The origin keeps its own demand until the shipment lands plus a review week.
            own = states[source].own_forecast if source in states else None
            keep = cumulative_forecast(own, lane.lead_weeks + 1.0) if own is not None else 0.0
            units = min(need.units, max(0.0, left.get(source, 0.0) - keep))
            if units <= 1e-9:
                continue
            left[source] -= units
            moves.append(
                TransferRelease(
                    transfer_id=f"{self.name.upper()}-TR-{view.week_start:%Y%m%d}-{origin}-{need.point[1]}",
                    sku=need.point[0],
                    origin=origin,
                    destination=need.point[1],
                    units=float(math.floor(units)),
                    lead_weeks=lane.lead_weeks,
                    cost_per_unit=lane.cost_per_unit,
                )
            )
        return tuple(m for m in moves if m.units > 0)


def reorder_point_policy(z: float, review_weeks: float = 1.0, count_commitments: bool = True) -> RulePolicy:
    """The ERP reorder-point (min-max) policy with safety factor ``z``."""
    return RulePolicy("reorder_point", ReorderPointRule(z, review_weeks), count_commitments)


def weeks_of_cover_policy(cover_weeks: float, trigger_share: float = 0.5, count_commitments: bool = True) -> RulePolicy:
    """The weeks-of-cover policy: up to ``cover_weeks`` (N) beyond the lead time, below M = share x N."""
    return RulePolicy("weeks_of_cover", WeeksOfCoverRule(cover_weeks, trigger_share), count_commitments)
