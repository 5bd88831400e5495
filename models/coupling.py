"""The rows that couple SKUs, and the variables they share: declared once, for every solve mode.

Every family in ``models`` is a sum over SKUs except a few rows (and the variables only they
hold). The model is always built whole by ``build_model`` (for a single SKU, a block, or the
catalogue); the solve layer (``planning.blocks``) compiles it and reads this declaration to
emit each coupling row in one of three modes:

  hard            the row as built (the whole model; a group of SKUs in fix-and-optimize, with
                  the other SKUs' use moved to the right-hand side: "held constant")
  priced          the row leaves the block and its dual prices the block's use of it (column
                  generation's pricing problem, ``planning.colgen``)
  master          the row is a row of the Dantzig-Wolfe master over SKU plans (``planning.master``)

Coupling rows, in the orientation Pyomo stores them (``body <= upper`` or ``body >= lower``):

  budget_limit[B]          spend_B(x) - r_B                 <= M_B        r_B: budget_overrun
  supplier_capacity[s,t]   units_st(x) - u_st               <= C_s        u_st: supplier_capacity_overrun
  location_capacity[l,t]   space_lt(x) - u_lt               <= K_l        u_lt: capacity_overrun
  po_minimum[s,l,t]        V_s z_slt - value_slt(x)         <= 0          z: po_open (shared)
  lane_minimum[f,d,t]      S w_fdt - shipped_fdt(x)         <= 0          w: lane_used
  lane_link[f,d,t]         shipped_fdt(x) - X w_fdt         <= 0

``SHARED_VARIABLES`` belong to the master (one per catalogue, not per SKU). ``po_open`` is both:
in a block it is the SKU's own "orders on this PO" indicator (its ``po_link`` rows stay in the
block); in a coupling row, and in the objective's PO fixed cost, it is the shared PO.
"""

from __future__ import annotations

from collections.abc import Mapping

from planning.problem import PlanningProblem

COUPLING_ROWS = (
    "budget_limit",
    "supplier_capacity",
    "location_capacity",
    "po_minimum",
    "lane_minimum",
    "lane_link",
)
SHARED_VARIABLES = ("budget_overrun", "supplier_capacity_overrun", "capacity_overrun", "lane_used")
PO_INDICATOR = "po_open"

RowKey = tuple[str, tuple[object, ...]]  # (family, index)


def coupling_rhs(problem: PlanningProblem) -> Mapping[RowKey, float]:
    """The constant side of each coupling row as written in ``models`` (before locked units move
    part of it into a block's bound): budget caps, capacities, and 0 for PO and lane rows."""

    rhs: dict[RowKey, float] = {("budget_limit", (b,)): cap for b, cap in problem.budget_caps().items()}
    weeks = range(len(problem.week_starts))
    for supplier, terms in problem.suppliers.items():
        if terms.weekly_capacity is not None:
            rhs.update({("supplier_capacity", (supplier, t)): terms.weekly_capacity for t in weeks})
    for location, (capacity, _) in problem.locations.items():
        if capacity is not None:
            rhs.update({("location_capacity", (location, t)): capacity for t in weeks})
    return rhs


def absent_rows(problem: PlanningProblem) -> frozenset[RowKey]:
    """Rows a block's model builds that the whole model does not: the PO minimum of a PO that holds
    locked units of another block (``models.ordering`` exempts such a PO, and a block that does not
    hold them cannot see that)."""
    options = problem.options
    return frozenset(("po_minimum", (options[o].supplier, options[o].ship_to, t)) for o, t in problem.locked_units)


def row_key(family: str, index: object) -> RowKey:
    """A coupling row's key from its Pyomo family name and index."""
    return (family, index if isinstance(index, tuple) else (index,))
