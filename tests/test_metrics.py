"""Metrics, cash against budget and line reasons, checked by hand on a tiny plan."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from planning.explain import coverage, reasons
from planning.metrics import (
    budget_usage,
    cash_by_week,
    cash_payments,
    plan_metrics,
    priced_where_binding,
    weeks_of_supply,
)
from planning.plan_exceptions import ExceptionSettings, plan_exceptions
from planning.problem import PlanningProblem
from planning.run import PlanRun
from tests.publish_helpers import small_run

INVENTORY_COLUMNS = ["sku", "location", "week", "opening", "receipts", "transfers_out", "demand", "served", "unmet"]
# Two weeks. TEE-001 (unit cost 7.80) at WH-EAST and FBA-US, HOOD-020 (16.40) at WH-EAST with no demand.
ROWS = [
    ("TEE-001", "WH-EAST", 0, 10, 0, 0, 6, 6, 0),
    ("TEE-001", "WH-EAST", 1, 4, 20, 0, 8, 8, 0),
    ("TEE-001", "FBA-US", 0, 0, 0, 0, 5, 0, 5),
    ("TEE-001", "FBA-US", 1, 0, 10, 0, 5, 5, 0),
    ("HOOD-020", "WH-EAST", 0, 3, 0, 0, 0, 0, 0),
    ("HOOD-020", "WH-EAST", 1, 3, 0, 0, 0, 0, 0),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> PlanRun:
    return small_run(tmp_path_factory.mktemp("inputs"))[0]


@pytest.fixture(scope="module")
def problem(run: PlanRun) -> PlanningProblem:
    assert (run.problem.items["TEE-001"].unit_cost, run.problem.items["HOOD-020"].unit_cost) == (7.8, 16.4)
    return replace(run.problem, week_starts=run.problem.week_starts[:2])


def _inventory(problem: PlanningProblem) -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=INVENTORY_COLUMNS).astype(dict.fromkeys(INVENTORY_COLUMNS[3:], "float64"))
    frame["closing"] = frame["opening"] + frame["receipts"] - frame["transfers_out"] - frame["served"]
    frame["week_start"] = [problem.week_starts[w] for w in frame["week"]]
    frame["safety_stock"] = 2.0
    return frame


def _row(metrics: pd.DataFrame, level: str, scope: str) -> dict[str, Any]:
    return metrics[(metrics["level"] == level) & (metrics["scope"] == scope)].iloc[0].to_dict()


def test_metrics_by_hand(problem: PlanningProblem) -> None:
    metrics = plan_metrics(_inventory(problem), problem)
    # TEE-001: demand 6+8+5+5 = 24, served 6+8+0+5 = 19; closing 4+16+0+5 = 25 over 2 weeks = 12.5 units,
    # x 7.80 = 97.5 average value; COGS 19 x 7.80 = 148.2; turnover 148.2 / 97.5 = 1.52 (x 52/2 = 39.52 a year);
    # stock left in week 1: 16 + 5 = 21, sell-through 19 / (19 + 21) = 0.475; weeks of supply 25 / 24.
    tee = _row(metrics, "sku", "TEE-001")
    assert tee["demand_units"] == 24 and tee["served_units"] == 19 and tee["stockout_weeks"] == 1
    assert tee["fill_rate"] == pytest.approx(19 / 24)
    assert tee["average_inventory_units"] == pytest.approx(12.5)
    assert tee["average_inventory_value"] == pytest.approx(97.5)
    assert tee["inventory_turnover"] == pytest.approx(1.52)
    assert tee["annual_turnover"] == pytest.approx(39.52)
    assert tee["sell_through"] == pytest.approx(0.475)
    assert tee["weeks_of_supply"] == pytest.approx(25 / 24)
    # HOOD-020: no demand, 3 units both weeks: value 3 x 16.40 = 49.2, nothing sold.
    hood = _row(metrics, "sku", "HOOD-020")
    assert pd.isna(hood["fill_rate"]) and pd.isna(hood["weeks_of_supply"])
    assert hood["average_inventory_value"] == pytest.approx(49.2) and hood["inventory_turnover"] == 0
    assert hood["sell_through"] == 0
    # Overall (= category Apparel): value 97.5 + 49.2 = 146.7, turnover 148.2 / 146.7; sell-through 19 / (19 + 24).
    overall = _row(metrics, "overall", "all")
    assert overall == {**_row(metrics, "category", "Apparel"), "level": "overall", "scope": "all"}
    assert overall["inventory_turnover"] == pytest.approx(148.2 / 146.7)
    assert overall["sell_through"] == pytest.approx(19 / 43) and overall["weeks_of_supply"] == pytest.approx(31 / 24)
    # WH-EAST: demand 14 all served; closing 4+16+3+3 = 26 -> 13 units; value (20 x 7.8 + 6 x 16.4) / 2 = 127.2.
    east = _row(metrics, "location", "WH-EAST")
    assert east["fill_rate"] == 1 and east["average_inventory_value"] == pytest.approx(127.2)
    assert east["sell_through"] == pytest.approx(14 / 33) and east["weeks_of_supply"] == pytest.approx(26 / 14)


def test_weeks_of_supply_per_row_divides_by_the_points_average_demand(problem: PlanningProblem) -> None:
    inventory = _inventory(problem)
    # TEE-001 at WH-EAST averages (6 + 8) / 2 = 7 a week: 4 / 7 and 16 / 7; HOOD-020 has no demand.
    expected = [4 / 7, 16 / 7, 0 / 5, 5 / 5, None, None]
    got = weeks_of_supply(inventory).tolist()
    assert got[:4] == pytest.approx(expected[:4]) and all(pd.isna(v) for v in got[4:])


def _purchases(problem: PlanningProblem, quantity: float = 600.0, week: int = 0) -> pd.DataFrame:
    order = problem.as_of + timedelta(weeks=week)
    return pd.DataFrame(
        {
            "po_id": ["PO-1"],
            "sku": ["TEE-001"],
            "supplier": ["SHENZHEN-TEX"],
            "ship_to": ["WH-EAST"],
            "mode": ["ocean"],
            "order_week": [week],
            "arrival_week": [week + 10],
            "order_date": [order],
            "arrival_date": [order + timedelta(weeks=10)],
            "quantity": [quantity],
            "unit_cost": [6.9],
            "line_value": [quantity * 6.9],
            "locked": [False],
        }
    )


def test_cash_follows_payment_terms_and_budget_usage_prices_more_budget(run: PlanRun) -> None:
    problem = run.problem
    payments = cash_payments(_purchases(problem), problem)
    # 600 x 6.90 = 4,140: 30% deposit (1,242) in week 0, the balance (2,898) on arrival in week 10.
    # The open PO of 1,200 TEE-001 arriving in week 3 still owes its balance: 0.7 x 6.90 x 1,200 = 5,796.
    assert payments[["week", "kind", "cash"]].to_dict("records") == [
        {"week": 0, "kind": "deposit", "cash": pytest.approx(1242.0)},
        {"week": 3, "kind": "committed", "cash": pytest.approx(5796.0)},
        {"week": 10, "kind": "balance", "cash": pytest.approx(2898.0)},
    ]
    week0 = problem.budgets[0].budget_id  # 60,000 for all purchases in week 0
    usage = budget_usage(payments, problem, {week0: 0.25}, {}).set_index("budget_id")
    assert usage.at[week0, "spend"] == pytest.approx(1242.0) and usage.at[week0, "headroom"] == pytest.approx(58758.0)
    assert usage.at[week0, "binding"]  # a positive shadow price binds, whatever the headroom says
    assert usage.at[week0, "note"] == "another 1,000 USD of budget in week 0 lowers cost by 250 USD"
    cash = cash_by_week(payments, problem, {week0: 0.25})
    assert cash.loc[0, ["cash_paid", "weekly_budget", "shadow_price"]].tolist() == [1242.0, 60000.0, 0.25]
    assert cash.loc[10, "cash_paid"] == pytest.approx(2898.0) and pd.isna(cash.loc[10, "weekly_budget"])


def test_reasons_name_coverage_moq_and_binding_budget(run: PlanRun) -> None:
    problem, inventory = run.problem, run.plan.inventory
    lines = pd.concat([_purchases(problem, 600.0, 0), _purchases(problem, 1200.0, 4)], ignore_index=True)
    lines["po_id"] = ["PO-1", "PO-2"]
    lines = lines.join(coverage(lines, inventory, len(problem.week_starts)))
    # The first arrives in week 10 and covers until the second arrives in week 14.
    assert lines[["covers_from_week", "covers_to_week"]].values.tolist()[0] == [10, 13]
    week0 = problem.budgets[0].budget_id
    texts = reasons(lines, inventory, problem, {week0}).tolist()
    assert texts[0] == "covers weeks 10–13; MOQ binding; budget binding in week 0"  # MOQ of the ocean option is 600
    assert texts[1].startswith("covers weeks 14–") and "MOQ" not in texts[1] and "budget" not in texts[1]


def test_exceptions_flag_stockouts_misses_and_excess(problem: PlanningProblem) -> None:
    inventory = _inventory(problem)
    exceptions = plan_exceptions(inventory, problem, set(), set(), ExceptionSettings(overstock_weeks_of_supply=1.5))
    kinds = {(e, s, loc) for e, s, loc in exceptions[["exception", "sku", "location"]].itertuples(index=False)}
    # FBA-US loses 5 units in week 0 (high); TEE-001 serves 19/24 = 79% against its 98% target; HOOD-020
    # has 3 units and no demand (excess 3); TEE-001 at WH-EAST ends week 0 with 4 units = 4/7 weeks (fine).
    assert ("stockout_risk", "TEE-001", "FBA-US") in kinds
    assert ("service_target_missed", "TEE-001", "all") in kinds
    assert ("excess_stock", "HOOD-020", "WH-EAST") in kinds
    assert ("overstock", "TEE-001", "WH-EAST") not in kinds
    assert exceptions["severity"].iloc[0] == "high"
    miss = exceptions[exceptions["exception"] == "service_target_missed"].iloc[0]
    assert miss["threshold"] == pytest.approx(0.98) and miss["cause"] == "lead_time"  # ocean/air take 3+ weeks


def test_a_budget_price_is_kept_only_where_the_plan_fills_the_budget() -> None:
    # Caps of 1,000: a row binds with at most 0.5 % x 1,000 = 5 of headroom. "full" (headroom 4)
    # keeps its LP price; "partly" (headroom 6: whole packs left cash unspent) is priced 0, as is
    # "loose" whatever its dual; a negative dual (noise on a binding row) reads 0.
    caps = {"full": 1000.0, "partly": 1000.0, "loose": 1000.0, "noise": 1000.0}
    headroom = {"full": 4.0, "partly": 6.0, "loose": 400.0, "noise": 0.0}
    prices = {"full": 12.5, "partly": 3.0, "loose": 0.0, "noise": -1e-7}
    assert priced_where_binding(prices, headroom, caps) == {"full": 12.5, "partly": 0.0, "loose": 0.0, "noise": 0.0}
