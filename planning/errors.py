"""Errors that stop a run. Each message says what is wrong and what to do about it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planning.checks import Violation
    from planning.validation import ValidationReport


class PlanningError(Exception):
    """Base class for every error buyplan raises on purpose."""


class ConfigError(PlanningError, ValueError):
    """The run configuration is invalid (unknown key, wrong type, out of range)."""


class StorageError(PlanningError):
    """A read or write against the configured storage failed."""


class InputContractError(PlanningError, ValueError):
    """The input tables break their data contracts; carries the full report."""

    def __init__(self, report: ValidationReport, report_location: str | None = None) -> None:
        self.report = report
        self.report_location = report_location
        where = f" Full report: {report_location}." if report_location else ""
        super().__init__(f"{report.summary_line()}{where}")


class NoPlanError(PlanningError):
    """The solver returned no plan at all (not even a time-limited incumbent)."""


class PublishError(PlanningError):
    """Outputs could not be published; nothing was marked as the latest plan."""


class PlanCheckError(PlanningError):
    """The plan tables break an invariant: a defect of ours, so nothing is published."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        shown = "; ".join(f"{v.rule}: {v.detail}" for v in violations[:10])
        super().__init__(
            f"the plan breaks {len(violations)} invariant(s) and was not published ({shown}). "
            "This is a bug in buyplan, not in your data: please report it with the run's inputs."
        )
