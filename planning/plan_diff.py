"""What changed per PO line against the previous published run, and why.

Lines are matched per sourcing option (sku, supplier, ship-to, mode): first by order date
(same date: ``unchanged`` or ``quantity_changed``), then the remaining old and new lines of
the option pair up in date order (``date_moved``); what is left is ``added`` or ``removed``.
Previous lines ordered before this run's as-of date are history and are left out. Both line
tables must carry ``covers_from_week``, ``covers_to_week`` and ``reason`` (published plans do).

The "why" names the drivers a planner can check: the forecast over the weeks the new line
covers (or the old one covered) in both runs, the starting stock of the SKU there, and the
constraints binding now (the new line's reason).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pandas as pd

from planning.problem import rows_of

OPTION = ["sku", "supplier", "ship_to", "mode"]
COLUMNS = (
    "change",
    "sku",
    "supplier",
    "ship_to",
    "mode",
    "old_po_id",
    "new_po_id",
    "old_order_date",
    "new_order_date",
    "old_quantity",
    "new_quantity",
    "quantity_change",
    "why",
)
# Units below this are the same quantity.
SAME = 1e-6


def _pairs(old: pd.DataFrame, new: pd.DataFrame) -> list[tuple[Any, Any]]:
    """(old row or None, new row or None) pairs of one sourcing option."""
    old_rows = sorted(rows_of(old), key=lambda r: r.order_date)
    new_rows = sorted(rows_of(new), key=lambda r: r.order_date)
    by_date = {r.order_date: r for r in old_rows}
    pairs: list[tuple[Any, Any]] = []
    unmatched_new = []
    for row in new_rows:
        match = by_date.pop(row.order_date, None)
        if match is None:
            unmatched_new.append(row)
        else:
            pairs.append((match, row))
    unmatched_old = sorted(by_date.values(), key=lambda r: r.order_date)
    for before, after in zip(unmatched_old, unmatched_new, strict=False):
        pairs.append((before, after))
    pairs.extend((before, None) for before in unmatched_old[len(unmatched_new) :])
    pairs.extend((None, after) for after in unmatched_new[len(unmatched_old) :])
    return pairs


# (sku, location) -> its weeks as (week start, week, forecast demand, opening stock)
StockIndex = dict[tuple[str, str], list[tuple[date, int, float, float]]]


def stock_index(inventory: pd.DataFrame) -> StockIndex:
    """Projected inventory by SKU x location, built once so each line's lookup is cheap."""
    index: StockIndex = defaultdict(list)
    frame = inventory[["sku", "location", "week", "demand", "opening"]].assign(
        day=pd.to_datetime(inventory["week_start"]).dt.date
    )
    for sku, location, week, demand, opening, day in rows_of(frame):
        index[(str(sku), str(location))].append((day, int(week), float(demand), float(opening)))
    return index


def _why(old: Any, new: Any, old_stock: StockIndex, new_stock: StockIndex) -> str:
    line = new if new is not None else old
    point = (str(line.sku), str(line.ship_to))
    start = pd.Timestamp(line.arrival_date).date()
    end = start + timedelta(weeks=max(0, int(line.covers_to_week) - int(line.covers_from_week)))
    before, after = (sum(d for day, _, d, _ in s.get(point, []) if start <= day <= end) for s in (old_stock, new_stock))
    parts = []
    if abs(after - before) > 0.5:
        change = f" ({(after - before) / before:+.0%})" if before > 0 else ""
        parts.append(f"forecast {start:%Y-%m-%d}..{end:%Y-%m-%d} {before:,.0f} → {after:,.0f} units{change}")
    opening = [sum(o for _, week, _, o in s.get(point, []) if week == 0) for s in (old_stock, new_stock)]
    if abs(opening[1] - opening[0]) > 0.5:
        parts.append(f"stock at {point[1]} at the run's start {opening[0]:,.0f} → {opening[1]:,.0f}")
    if new is not None:
        parts.append(f"now: {new.reason}")
    else:
        parts.append("no longer needed at the plan's costs and limits")
    return "; ".join(parts)


def _change(old: Any, new: Any) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    if old.order_date != new.order_date:
        return "date_moved"
    return "quantity_changed" if abs(new.quantity - old.quantity) > SAME else "unchanged"


def plan_diff(
    old_purchases: pd.DataFrame,
    new_purchases: pd.DataFrame,
    old_inventory: pd.DataFrame,
    new_inventory: pd.DataFrame,
    as_of: date,
) -> pd.DataFrame:
    """The ``plan_diff`` table: one row per old or new PO line, unchanged lines included."""
    old = old_purchases[pd.to_datetime(old_purchases["order_date"]).dt.date >= as_of]
    keys = sorted(
        set(map(tuple, old[OPTION].to_numpy().tolist())) | set(map(tuple, new_purchases[OPTION].to_numpy().tolist()))
    )
    old_groups, new_groups = old.groupby(OPTION), new_purchases.groupby(OPTION)
    old_stock, new_stock = stock_index(old_inventory), stock_index(new_inventory)
    rows = []
    for key in keys:
        before = old_groups.get_group(key) if key in old_groups.groups else old.iloc[0:0]
        after = new_groups.get_group(key) if key in new_groups.groups else new_purchases.iloc[0:0]
        for o, n in _pairs(before, after):
            old_q = float(o.quantity) if o is not None else 0.0
            new_q = float(n.quantity) if n is not None else 0.0
            rows.append(
                {
                    "change": _change(o, n),
                    **dict(zip(OPTION, key, strict=True)),
                    "old_po_id": o.po_id if o is not None else None,
                    "new_po_id": n.po_id if n is not None else None,
                    "old_order_date": o.order_date if o is not None else None,
                    "new_order_date": n.order_date if n is not None else None,
                    "old_quantity": old_q,
                    "new_quantity": new_q,
                    "quantity_change": new_q - old_q,
                    "why": ""
                    if o is not None and n is not None and _change(o, n) == "unchanged"
                    else _why(o, n, old_stock, new_stock),
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))
