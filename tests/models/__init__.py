"""Model-family tests: tiny instances stated through the canonical input tables, solved exactly."""
