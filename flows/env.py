"""Prefect settings every buyplan process starts with, applied before Prefect is imported.

Prefect reads its settings from the environment when it is first imported, so whatever runs a
flow (``python -m flows``, the CLI, the worker image) calls :func:`apply_prefect_defaults`
first. Values already in the environment win: an operator's ``PREFECT_API_URL`` or
``PREFECT_HOME`` is never overridden.
"""

from __future__ import annotations

import os
from pathlib import Path

# The local ephemeral server takes 15-25 s to start on a small machine; Prefect's default limit is 20 s.
EPHEMERAL_STARTUP_TIMEOUT_S = 90


def prefect_defaults(home: Path | None = None) -> dict[str, str]:
    """The environment buyplan sets for Prefect unless the operator already set it.

    Args:
        home: Prefect's state folder (profiles, local database, results); default ``.prefect``
            in the working directory, so a run never writes into the user's ``~/.prefect``.
    """
    return {
        "PREFECT_HOME": str(home or Path.cwd() / ".prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(EPHEMERAL_STARTUP_TIMEOUT_S),
        # The planning package logs each step (validation, forecast, solve, publish): show it in the run.
        "PREFECT_LOGGING_EXTRA_LOGGERS": "planning",
    }


def apply_prefect_defaults(home: Path | None = None) -> None:
    """Set :func:`prefect_defaults` in ``os.environ`` where nothing is set yet."""
    for name, value in prefect_defaults(home).items():
        os.environ.setdefault(name, value)
