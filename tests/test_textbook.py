"""Textbook lot-sizing cases: the planner reproduces the published optimal cost and order plan.

Each case is stated through the canonical input tables (tests/scenarios/textbook.py), validated
like any brand's data, built into a PlanningProblem and solved to optimality (mip_rel_gap 0).
Objective = purchase cost + setups + holding on end-of-week stock, exactly the textbook cost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyomo.environ as pyo
import pytest

from models import build_model
from planning.solve import PlanStatus, load_values, solve_model
from tests.scenarios.textbook import REFERENCE, SHARED_REFERENCE, load_case, load_cases

CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_textbook_case_reproduces_published_optimum(tmp_path: Path, case: dict[str, Any]) -> None:
    problem, config = load_case(tmp_path / "inputs", case)
    model = build_model(problem)
    result = solve_model(model, config.solver)
    assert result.report.status is PlanStatus.OPTIMAL
    assert result.report.objective == pytest.approx(case["optimal_cost"], abs=1e-6)
    load_values(model, result)
    ordered = [0.0] * len(case["demand"])
    for option_id, week in model.ORDER_SLOTS:
        ordered[week] += pyo.value(model.order_units[option_id, week])
    assert ordered == pytest.approx([float(q) for q in case["order_quantities"]], abs=1e-6)
    # Demand is met in full, as the textbook requires.
    assert sum(pyo.value(v) for v in model.unmet.values()) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.skipif(not SHARED_REFERENCE.exists(), reason="../shared/reference is not next to this checkout")
def test_vendored_reference_matches_shared_original() -> None:
    assert REFERENCE.read_text() == SHARED_REFERENCE.read_text()


def test_all_published_cases_are_exercised() -> None:
    # 3 uncapacitated cases + 1 with starting stock + 1 capacitated.
    assert len(CASES) == 5
