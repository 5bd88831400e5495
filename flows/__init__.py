"""Prefect flows of buyplan: ``flows.weekly.weekly_plan`` is the weekly job.

Nothing here imports Prefect, so ``flows.env.apply_prefect_defaults`` can set Prefect's
environment before the first import (``python -m flows`` does).
"""
