"""Purchase-order import files for ERPs, derived from the published ``purchase_plan`` table.

Three layouts, documented column by column in ``data_contracts/outputs.py`` (and the
generated README): the canonical CSV (the table as it is), a NetSuite-style file (one row per
line, grouped by ``External ID``) and an Odoo-style file (order fields on the first row of each
order only). All are UTF-8 with ``\\n`` line ends and a header row, so the same plan always
gives the same bytes.
"""

from __future__ import annotations

import pandas as pd

from data_contracts.outputs import CANONICAL_PO_CSV, NETSUITE_PO_CSV, ODOO_PO_CSV, ErpLayout


def _csv(frame: pd.DataFrame) -> bytes:
    # Shortest round-trip float text (no exponent cut-off like "%g"), rounded to solver precision.
    return frame.round(6).to_csv(index=False, lineterminator="\n").encode("utf-8")


def _dates(series: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(series).dt.strftime(fmt)


def canonical_csv(purchases: pd.DataFrame) -> bytes:
    """The purchase plan as plain CSV: ISO dates, ``true``/``false`` flags."""
    frame = purchases.copy()
    for column in ("order_date", "arrival_date"):
        frame[column] = _dates(frame[column], "%Y-%m-%d")
    for column in ("firm", "locked"):
        frame[column] = frame[column].map({True: "true", False: "false"})
    return _csv(frame)


def netsuite_csv(purchases: pd.DataFrame, run_id: str) -> bytes:
    """NetSuite-style import: one row per line; rows sharing ``External ID`` form one PO."""
    frame = pd.DataFrame(
        {
            "External ID": purchases["po_id"],
            "Vendor": purchases["supplier"],
            "Date": _dates(purchases["order_date"], "%m/%d/%Y"),
            "Expected Receipt Date": _dates(purchases["arrival_date"], "%m/%d/%Y"),
            "Location": purchases["ship_to"],
            "Currency": purchases["currency"],
            "Memo": [f"buyplan run {run_id}; {'firm' if firm else 'planned'}" for firm in purchases["firm"]],
            "Line": purchases["line"],
            "Item": purchases["sku"],
            "Quantity": purchases["quantity"],
            "Rate": purchases["unit_cost"],
            "Amount": purchases["line_value"].round(2),
            "Line Memo": purchases["mode"] + ": " + purchases["reason"],
        }
    )
    _check_layout(frame, NETSUITE_PO_CSV)
    return _csv(frame)


def odoo_csv(purchases: pd.DataFrame, run_id: str) -> bytes:
    """Odoo-style import: order fields on the first row of each order, line fields on every row."""
    first = ~purchases["po_id"].duplicated()
    planned = _dates(purchases.groupby("po_id")["arrival_date"].transform("min"), "%Y-%m-%d 00:00:00")

    def header(values: pd.Series) -> pd.Series:
        return values.where(first, "")

    frame = pd.DataFrame(
        {
            "id": header(purchases["po_id"]),
            "partner_id": header(purchases["supplier"]),
            "date_order": header(_dates(purchases["order_date"], "%Y-%m-%d 00:00:00")),
            "date_planned": header(planned),
            "picking_type_id": header(purchases["ship_to"]),
            "currency_id": header(purchases["currency"]),
            "origin": header(pd.Series(f"buyplan {run_id}", index=purchases.index)),
            "order_line/product_id": purchases["sku"],
            "order_line/name": purchases["sku"] + " (" + purchases["mode"] + "): " + purchases["reason"],
            "order_line/product_qty": purchases["quantity"],
            "order_line/price_unit": purchases["unit_cost"],
            "order_line/date_planned": _dates(purchases["arrival_date"], "%Y-%m-%d 00:00:00"),
        }
    )
    _check_layout(frame, ODOO_PO_CSV)
    return _csv(frame)


def _check_layout(frame: pd.DataFrame, layout: ErpLayout) -> None:
    expected = [name for name, _ in layout.columns]
    if list(frame.columns) != expected:  # the documented layout and the file must never drift apart
        raise ValueError(f"{layout.name} export columns {list(frame.columns)} differ from the contract {expected}")


def erp_files(purchases: pd.DataFrame, run_id: str) -> dict[str, bytes]:
    """Every ERP file by its key inside the run folder (``erp/...``)."""
    ordered = purchases.sort_values(["po_id", "line"], kind="stable").reset_index(drop=True)
    return {
        CANONICAL_PO_CSV.file: canonical_csv(ordered),
        NETSUITE_PO_CSV.file: netsuite_csv(ordered, run_id),
        ODOO_PO_CSV.file: odoo_csv(ordered, run_id),
    }
