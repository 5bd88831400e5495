"""Backtest: the planner replayed week by week on history against the reorder rules brands use today."""
