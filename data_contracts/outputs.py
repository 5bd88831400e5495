"""The published output tables: the contract between buyplan and whoever reads a plan.

Each table is declared once, with an explicit pyarrow schema (stable names, types and
nullability), its unit per column and its key. ``planning.publish`` writes every table through
:func:`to_arrow`, so a column that drifts in name or type fails the run instead of the ERP
import; the same declarations generate the output half of ``data_contracts/README.md``.

Week numbers (``week``, ``order_week`` ...) count from 0 = the week starting on the run's
as-of Monday; every table that has one also carries the calendar date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# pyarrow ships no type information.
import pyarrow as pa  # type: ignore[import-untyped]

STRING = pa.string()
INT = pa.int64()
FLOAT = pa.float64()
BOOL = pa.bool_()
DATE = pa.date32()


@dataclass(frozen=True, slots=True)
class OutputColumn:
    """One column of a published table; ``nullable`` columns may hold nulls (never NaN)."""

    name: str
    type: pa.DataType
    description: str
    unit: str = ""
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class OutputContract:
    """One published table: Parquet file ``<name>.parquet`` in the run folder."""

    name: str
    title: str
    description: str
    columns: tuple[OutputColumn, ...]
    key: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns],
            metadata={"buyplan.table": self.name},
        )

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


class OutputContractError(ValueError):
    """A table about to be published breaks its output contract (a defect of buyplan)."""


def _c(name: str, kind: pa.DataType, description: str, unit: str = "", nullable: bool = False) -> OutputColumn:
    return OutputColumn(name, kind, description, unit, nullable)


PURCHASE_PLAN = OutputContract(
    name="purchase_plan",
    title="Purchase plan lines",
    description="One row per purchase-order line: what to order, from whom, for where and when.",
    key=("po_id", "line"),
    columns=(
        _c(
            "po_id",
            STRING,
            "Deterministic PO id `PO-<order date>-<supplier>-<ship-to>`: one PO per supplier, "
            "ship-to and order week; the same plan always gives the same ids.",
        ),
        _c("line", INT, "Line number within the PO, from 1, ordered by sku and mode."),
        _c("sku", STRING, "Stock-keeping unit."),
        _c("supplier", STRING, "Supplier."),
        _c("ship_to", STRING, "Location receiving the goods."),
        _c("mode", STRING, "Shipping mode of the sourcing option (ocean, air, truck ...)."),
        _c("order_week", INT, "Week the order is placed.", "week"),
        _c("order_date", DATE, "Monday of the order week."),
        _c("arrival_week", INT, "Week the goods are sellable at the ship-to location.", "week"),
        _c("arrival_date", DATE, "Expected arrival: order date plus the lead time in whole weeks."),
        _c("quantity", FLOAT, "Units ordered.", "units"),
        _c(
            "pack_size",
            INT,
            "Ordering step: quantities are whole multiples of it (the least common multiple of "
            "order_multiple and case_pack).",
            "units",
        ),
        _c("case_pack", INT, "Units per case of the item (`items.case_pack`).", "units/case"),
        _c("order_multiple", INT, "The sourcing option's order multiple (`sourcing_options`).", "units"),
        _c("cases", FLOAT, "Cases ordered (quantity / case_pack); whole except for locked orders.", "cases"),
        _c("unit_cost", FLOAT, "Cost per unit in the reporting currency.", "currency/unit"),
        _c("line_value", FLOAT, "quantity x unit_cost.", "currency"),
        _c("currency", STRING, "Reporting currency (ISO 4217)."),
        _c("firm", BOOL, "Inside the frozen window (`horizon.frozen_weeks`): release it now."),
        _c("locked", BOOL, "Kept as given in `locked_orders` (already approved)."),
        _c("covers_from_week", INT, "First week this line's stock serves demand (its arrival).", "week"),
        _c(
            "covers_to_week",
            INT,
            "Last week before the next planned arrival of the SKU there, or before the stock runs out.",
            "week",
        ),
        _c(
            "reason",
            STRING,
            "Why the line is as it is, from the constraints that bind: "
            "`covers weeks 5–9; MOQ binding; budget binding in week 3`.",
        ),
    ),
)

TRANSFER_PLAN = OutputContract(
    name="transfer_plan",
    title="Transfer plan",
    description="One row per SKU on a transfer between two locations.",
    key=("transfer_id", "sku"),
    columns=(
        _c("transfer_id", STRING, "Deterministic id `TR-<ship date>-<from>-<to>`: one shipment per lane and week."),
        _c("sku", STRING, "Stock-keeping unit."),
        _c("from_location", STRING, "Shipping location."),
        _c("to_location", STRING, "Receiving location."),
        _c("ship_week", INT, "Week the shipment leaves.", "week"),
        _c("ship_date", DATE, "Monday of the ship week."),
        _c("arrival_date", DATE, "Ship date plus the lane's lead time in whole weeks."),
        _c("quantity", FLOAT, "Units moved.", "units"),
    ),
)

PROJECTED_INVENTORY = OutputContract(
    name="projected_inventory",
    title="Projected inventory",
    description="One row per SKU x location x week: the stock the plan leads to.",
    key=("sku", "location", "week"),
    columns=(
        _c("sku", STRING, "Stock-keeping unit."),
        _c("location", STRING, "Location."),
        _c("week", INT, "Week.", "week"),
        _c("week_start", DATE, "Monday of the week."),
        _c("opening", FLOAT, "Usable stock at the start of the week.", "units"),
        _c("receipts", FLOAT, "Open orders, planned purchases and transfers arriving.", "units"),
        _c("transfers_out", FLOAT, "Units shipped to other locations.", "units"),
        _c("demand", FLOAT, "Forecast demand, all channels.", "units"),
        _c("served", FLOAT, "Demand served (with backorders, late units included).", "units"),
        _c("unmet", FLOAT, "Demand not served: lost, or with backorders owed at the week's end.", "units"),
        _c("closing", FLOAT, "Stock at the end of the week.", "units"),
        _c("safety_stock", FLOAT, "Safety-stock target at the end of the week.", "units"),
        _c(
            "weeks_of_supply",
            FLOAT,
            "closing / average weekly forecast demand of this SKU here over the horizon; null without demand.",
            "weeks",
            nullable=True,
        ),
    ),
)

METRICS = OutputContract(
    name="metrics",
    title="Plan metrics",
    description="Planned performance over the horizon per SKU, location, category and overall.",
    key=("level", "scope"),
    columns=(
        _c("level", STRING, "`overall`, `category`, `location` or `sku`."),
        _c("scope", STRING, "The category, location or SKU; `all` for overall."),
        _c("demand_units", FLOAT, "Forecast demand.", "units"),
        _c("served_units", FLOAT, "Demand served.", "units"),
        _c("fill_rate", FLOAT, "served / demand; null without demand.", "share", nullable=True),
        _c("stockout_weeks", INT, "SKU x location x weeks with unmet demand.", "weeks"),
        _c("average_inventory_units", FLOAT, "Sum of closing stock / horizon weeks.", "units"),
        _c("average_inventory_value", FLOAT, "Sum of closing stock x unit cost / horizon weeks.", "currency"),
        _c("cost_of_goods_sold", FLOAT, "served x unit cost.", "currency"),
        _c(
            "inventory_turnover",
            FLOAT,
            "cost_of_goods_sold / average_inventory_value over the horizon; null without stock.",
            "turns",
            nullable=True,
        ),
        _c("annual_turnover", FLOAT, "inventory_turnover x 52 / horizon weeks.", "turns/year", nullable=True),
        _c("sell_through", FLOAT, "served / (served + stock left at the end of the horizon).", "share", nullable=True),
        _c(
            "weeks_of_supply",
            FLOAT,
            "average_inventory_units / average weekly demand; null without demand.",
            "weeks",
            nullable=True,
        ),
    ),
)

CASH_BY_WEEK = OutputContract(
    name="cash_by_week",
    title="Cash paid per week",
    description=(
        "Purchase cash per week: deposits when ordering, balances when goods arrive, and what open "
        "purchase orders still owe when they arrive."
    ),
    key=("week",),
    columns=(
        _c("week", INT, "Week.", "week"),
        _c("week_start", DATE, "Monday of the week."),
        _c("deposits", FLOAT, "Deposit share of lines ordered this week.", "currency"),
        _c("balances", FLOAT, "Remaining share of planned lines arriving this week.", "currency"),
        _c(
            "committed",
            FLOAT,
            "Balances open purchase orders (`open_orders`) still owe, due in their expected arrival "
            "week (valued at their sourcing option's unit cost less its deposit share).",
            "currency",
        ),
        _c("cash_paid", FLOAT, "deposits + balances + committed.", "currency"),
        _c(
            "weekly_budget",
            FLOAT,
            "Limit of the week's all-purchases weekly budget row, if any.",
            "currency",
            nullable=True,
        ),
        _c(
            "shadow_price",
            FLOAT,
            "Cost saved per extra unit of that budget (0 when it does not bind).",
            "currency/currency",
            nullable=True,
        ),
    ),
)

BUDGET_USAGE = OutputContract(
    name="budget_usage",
    title="Spend against budget",
    description="One row per budget row in the horizon: spend, limit and what more budget is worth.",
    key=("budget_id",),
    columns=(
        _c("budget_id", STRING, "Budget row id `B<row>:<period start>:<category>:<supplier>`."),
        _c("category", STRING, "Category the limit applies to; `all` for every category."),
        _c("supplier", STRING, "Supplier the limit applies to; `all` for every supplier."),
        _c("first_week", INT, "First week of the budget period in the horizon.", "week"),
        _c("last_week", INT, "Last week of the budget period in the horizon.", "week"),
        _c("period_start", DATE, "Monday of first_week."),
        _c("limit", FLOAT, "Cash limit (with carry-forward: this row's own limit).", "currency"),
        _c(
            "spend",
            FLOAT,
            "Cash paid in scope over the period: new lines' deposits and balances, and what open "
            "purchase orders still owe (`committed`).",
            "currency",
        ),
        _c("committed", FLOAT, "Part of spend that open purchase orders already owe.", "currency"),
        _c("headroom", FLOAT, "limit - spend (negative when over).", "currency"),
        _c("overrun", FLOAT, "Priced slack used above the limit.", "currency"),
        _c("shadow_price", FLOAT, "Cost saved by one more unit of this budget.", "currency/currency"),
        _c("binding", BOOL, "The limit holds the plan back (shadow price > 0, overrun, or no headroom)."),
        _c("note", STRING, "In words: another 1,000 of budget lowers cost by ..."),
    ),
)

EXCEPTIONS = OutputContract(
    name="exceptions",
    title="Exceptions",
    description="What a planner should look at first, most severe first.",
    key=("exception", "sku", "location"),
    columns=(
        _c(
            "exception",
            STRING,
            "`stockout_risk`, `service_target_missed`, `overstock`, `excess_stock` "
            "(stock beyond the horizon's demand), `discontinued_in_stock`, or a large plan-against-actual "
            "variance of last week: `demand_variance`, `receipt_variance`, `stock_variance`, "
            "`fill_rate_variance` (see `plan_vs_actual`).",
        ),
        _c("severity", STRING, "`high`, `medium` or `low`."),
        _c("sku", STRING, "Stock-keeping unit."),
        _c("location", STRING, "Location; `all` for SKU-wide exceptions."),
        _c("category", STRING, "The SKU's category."),
        _c("first_week", INT, "First week affected (-1: the week just ended).", "week", nullable=True),
        _c(
            "value",
            FLOAT,
            "The measure: unmet units, fill rate, weeks of supply, excess units or the variance (actual - plan).",
        ),
        _c("threshold", FLOAT, "The threshold or target compared against.", nullable=True),
        _c(
            "cause",
            STRING,
            "For service misses: `budget`, `capacity`, `lead_time`, `discontinued`, `cost`; `censored` for a "
            "demand variance in a week with stockouts (its demand is estimated); else empty.",
        ),
        _c("detail", STRING, "In words, with the suggested action."),
    ),
)

PLAN_DIFF = OutputContract(
    name="plan_diff",
    title="Plan diff",
    description="What changed per PO line against the previous published run, and why.",
    key=("sku", "supplier", "ship_to", "mode", "new_order_date", "old_order_date"),
    columns=(
        _c("change", STRING, "`added`, `removed`, `quantity_changed`, `date_moved` or `unchanged`."),
        _c("sku", STRING, "Stock-keeping unit."),
        _c("supplier", STRING, "Supplier."),
        _c("ship_to", STRING, "Ship-to location."),
        _c("mode", STRING, "Shipping mode."),
        _c("old_po_id", STRING, "PO id in the previous run.", nullable=True),
        _c("new_po_id", STRING, "PO id in this run.", nullable=True),
        _c("old_order_date", DATE, "Order date in the previous run.", nullable=True),
        _c("new_order_date", DATE, "Order date in this run.", nullable=True),
        _c("old_quantity", FLOAT, "Units in the previous run (0 when added).", "units"),
        _c("new_quantity", FLOAT, "Units in this run (0 when removed).", "units"),
        _c("quantity_change", FLOAT, "new_quantity - old_quantity.", "units"),
        _c(
            "why",
            STRING,
            "The drivers: forecast change over the weeks the line covers, starting stock, "
            "and the constraints that bind now.",
        ),
    ),
    notes=("Previous-run lines ordered before this run's as-of date are history, not changes, and are left out.",),
)

COST_BREAKDOWN = OutputContract(
    name="cost_breakdown",
    title="Cost breakdown",
    description="The objective's named cost terms.",
    key=("term",),
    columns=(
        _c(
            "term",
            STRING,
            "Cost term (models/objective.py): purchase, ordering (line and PO fixed costs), holding, "
            "transfer, shortage, safety-stock, fill-rate and reservation shortfalls, capacity and budget "
            "overruns, plan_change_cost (lines added to or dropped from last week's plan x "
            "costs.plan_change_penalty), and the end-of-horizon credit (negative: what the closing stock is worth, "
            "costs.closing_stock_valuation, models/closing_stock.py).",
        ),
        _c("cost", FLOAT, "Value.", "currency"),
    ),
)

BUDGET_SHADOW_PRICES = OutputContract(
    name="budget_shadow_prices",
    title="Budget shadow prices",
    description="Cost saved by one more unit of each budget (LP with the plan's lines fixed).",
    key=("budget_id",),
    columns=(_c("budget_id", STRING, "Budget row id."), _c("saving_per_unit", FLOAT, "Saving.", "currency")),
)

LIMIT_OVERRUNS = OutputContract(
    name="limit_overruns",
    title="Limit overruns",
    description="Priced slack the plan uses: `budget:<id>`, `supplier:<s>:<week>`, `location:<l>:<week>` ...",
    key=("limit",),
    columns=(_c("limit", STRING, "The limit."), _c("overrun", FLOAT, "Amount above it.")),
)

COUPLING_PRICES = OutputContract(
    name="coupling_prices",
    title="Coupling prices",
    description="Dual prices of the budgets and capacities in the column-generation master (block method).",
    key=("kind", "name", "week_start"),
    columns=(
        _c("kind", STRING, "Row kind."),
        _c("name", STRING, "Row name."),
        _c("week_start", STRING, "Week start (ISO date)."),
        _c("price", FLOAT, "Price."),
    ),
)

FORECAST_ACCURACY = OutputContract(
    name="forecast_accuracy",
    title="Forecast accuracy",
    description=(
        "Rolling-origin holdout of this run's forecast, per demand class: the methods chosen per series "
        "(`selected`) against the `seasonal_naive` and `moving_average` baselines on the same points "
        "(see data_contracts/FORECASTING.md)."
    ),
    key=("demand_class", "method"),
    columns=(
        _c("demand_class", STRING, "`smooth`, `erratic`, `intermittent`, `lumpy`, or `all`."),
        _c("method", STRING, "`selected`, `seasonal_naive` or `moving_average`."),
        _c("series", INT, "Series scored."),
        _c("points", INT, "Forecast points scored (series x origins x horizons)."),
        _c("wape", FLOAT, "Weighted absolute percentage error: sum |error| / sum actual.", nullable=True),
        _c("mase", FLOAT, "Mean absolute scaled error (scale: in-sample one-step naive).", nullable=True),
        _c("bias", FLOAT, "sum(forecast - actual) / sum actual.", nullable=True),
    ),
)

FORECAST_SERIES = OutputContract(
    name="forecast_series",
    title="Forecast series",
    description=(
        "One row per SKU x location x channel: its demand class, the method chosen and the stockout weeks corrected."
    ),
    key=("sku", "location", "channel"),
    columns=(
        _c("sku", STRING, "Stock-keeping unit."),
        _c("location", STRING, "Location."),
        _c("channel", STRING, "Channel."),
        _c("demand_class", STRING, "ADI / CV² class (Syntetos-Boylan), or the lifecycle case."),
        _c("adi", FLOAT, "Average demand interval (weeks).", nullable=True),
        _c("cv2", FLOAT, "Squared coefficient of variation of non-zero demand.", nullable=True),
        _c("method", STRING, "Method forecasting the series."),
        _c("censored_weeks", INT, "History weeks corrected for stockouts."),
        _c("history_weeks", INT, "Weeks of history since the first sale."),
    ),
)

FORECAST_QUANTILES = OutputContract(
    name="forecast_quantiles",
    title="Forecast quantiles",
    description=(
        "One row per SKU x location x channel and k weeks ahead: the forecast total of the next k weeks (week 0 "
        "to k - 1) and its quantiles, from the backtest's own k-week errors pooled by demand class "
        "(data_contracts/FORECASTING.md, 'Demand over k weeks'). Empty for an external or baseline forecast."
    ),
    key=("sku", "location", "channel", "weeks_ahead"),
    columns=(
        _c("sku", STRING, "Stock-keeping unit."),
        _c("location", STRING, "Location."),
        _c("channel", STRING, "Channel."),
        _c("weeks_ahead", INT, "k: the total covers weeks 0 to k - 1 of the plan.", unit="weeks"),
        _c("demand_class", STRING, "Demand class whose pooled errors shape the quantiles."),
        _c("units", FLOAT, "Forecast total of the k weeks.", unit="units"),
        _c("q50", FLOAT, "Median of the k-week total.", unit="units"),
        _c("q80", FLOAT, "80 % quantile: the total exceeds it one time in five.", unit="units"),
        _c("q90", FLOAT, "90 % quantile.", unit="units"),
        _c("q95", FLOAT, "95 % quantile.", unit="units"),
        _c("q99", FLOAT, "99 % quantile.", unit="units"),
    ),
)

PLAN_VS_ACTUAL = OutputContract(
    name="plan_vs_actual",
    title="Plan against actual",
    description=(
        "The previous published run's projection of the week that just ended (the week before this run's "
        "as-of Monday) against what happened, per SKU x location. Variances are actual - projected."
    ),
    key=("sku", "location"),
    columns=(
        _c("sku", STRING, "Stock-keeping unit."),
        _c("location", STRING, "Location."),
        _c("week_start", DATE, "Monday of the week compared (week -1 of this run)."),
        _c("plan_week", INT, "The week's number in the previous run (0 when it ran a week before this one).", "week"),
        _c("previous_run_id", STRING, "Run whose projection is compared."),
        _c("projected_demand", FLOAT, "Forecast demand, all channels (projected_inventory.demand).", "units"),
        _c(
            "actual_demand",
            FLOAT,
            "Sales; in out-of-stock weeks the sales plus the in-stock days' daily rate times the "
            "out-of-stock days, or the larger of sales and projection when out of stock all week.",
            "units",
        ),
        _c("demand_variance", FLOAT, "actual_demand - projected_demand.", "units"),
        _c(
            "demand_relative_variance",
            FLOAT,
            "demand_variance / projected_demand; null when nothing was projected.",
            "share",
            nullable=True,
        ),
        _c("projected_sales", FLOAT, "Demand the plan expected to serve (projected_inventory.served).", "units"),
        _c("actual_sales", FLOAT, "Units sold that week (demand_history, all channels, returns netted).", "units"),
        _c("sales_variance", FLOAT, "actual_sales - projected_sales.", "units"),
        _c("projected_net_receipts", FLOAT, "Projected receipts - transfers_out.", "units"),
        _c(
            "actual_net_receipts",
            FLOAT,
            "Inferred from the stock balance: actual_closing - opening + actual_sales (receipts net of "
            "transfers out and adjustments); null unless plan_week = 0 (the opening was never observed).",
            "units",
            nullable=True,
        ),
        _c("receipts_variance", FLOAT, "actual_net_receipts - projected_net_receipts.", "units", nullable=True),
        _c("projected_closing", FLOAT, "Projected stock at the end of the week.", "units"),
        _c("actual_closing", FLOAT, "This run's snapshot: on hand - allocated (at least 0).", "units"),
        _c("stock_variance", FLOAT, "actual_closing - projected_closing.", "units"),
        _c(
            "stock_relative_variance",
            FLOAT,
            "stock_variance / projected_closing; null when no stock was projected.",
            "share",
            nullable=True,
        ),
        _c("projected_fill_rate", FLOAT, "projected_sales / projected_demand.", "share", nullable=True),
        _c("actual_fill_rate", FLOAT, "actual_sales / actual_demand, within [0, 1].", "share", nullable=True),
        _c("fill_rate_variance", FLOAT, "actual_fill_rate - projected_fill_rate.", "share", nullable=True),
        _c(
            "out_of_stock_days",
            FLOAT,
            "Days any channel row said in_stock = false; null for weekly rows.",
            "days",
            nullable=True,
        ),
        _c("censored", BOOL, "Out of stock some of the week: actual_demand is an estimate, not an observation."),
    ),
    notes=(
        "Empty when no run was published for an earlier week, or the latest one does not project the week "
        "just ended; the manifest's `plan_vs_actual.note` says which.",
        "A SKU x location the previous plan did not hold counts as projected 0.",
        "The same runs' week-0 forecast errors on uncensored weeks feed the next safety stock "
        "(planning/forecast/feedback.py).",
    ),
)

OUTPUT_CONTRACTS: tuple[OutputContract, ...] = (
    PURCHASE_PLAN,
    TRANSFER_PLAN,
    PROJECTED_INVENTORY,
    METRICS,
    CASH_BY_WEEK,
    BUDGET_USAGE,
    EXCEPTIONS,
    PLAN_DIFF,
    COST_BREAKDOWN,
    BUDGET_SHADOW_PRICES,
    LIMIT_OVERRUNS,
    COUPLING_PRICES,
    FORECAST_ACCURACY,
    FORECAST_SERIES,
    FORECAST_QUANTILES,
    PLAN_VS_ACTUAL,
)
OUTPUTS_BY_NAME = {c.name: c for c in OUTPUT_CONTRACTS}


def to_arrow(frame: pd.DataFrame, contract: OutputContract) -> pa.Table:
    """The frame as an Arrow table with exactly the contract's schema.

    Raises:
        OutputContractError: A column is missing or extra, a value does not cast, a
            non-nullable column holds nulls, or the key is not unique.
    """
    names = contract.column_names
    missing, extra = set(names) - set(frame.columns), set(frame.columns) - set(names)
    if missing or extra:
        raise OutputContractError(
            f"{contract.name}: columns differ from the contract (missing {sorted(missing)}, extra {sorted(extra)})"
        )
    if len(frame) and frame.duplicated(list(contract.key)).any():
        raise OutputContractError(f"{contract.name}: key {contract.key} is not unique")
    arrays = []
    for column in contract.columns:
        values = frame[column.name]
        if column.type == DATE:
            values = pd.to_datetime(values).dt.date
        try:
            array = pa.array(values.astype(object).where(values.notna(), None).tolist(), type=column.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as error:
            raise OutputContractError(f"{contract.name}.{column.name}: values are not {column.type}: {error}") from None
        if not column.nullable and array.null_count:
            raise OutputContractError(f"{contract.name}.{column.name}: {array.null_count} null value(s)")
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=contract.schema)


# --------------------------------------------------------------------------------------------------
# ERP import layouts (CSV), derived from purchase_plan
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErpLayout:
    """One CSV layout an ERP imports: file name, what it is for, and its columns with their source."""

    name: str
    file: str
    title: str
    description: str
    columns: tuple[tuple[str, str], ...]  # (header, meaning / source column)


CANONICAL_PO_CSV = ErpLayout(
    name="canonical",
    file="erp/purchase_orders.csv",
    title="Canonical purchase-order lines",
    description="The purchase plan as plain CSV, one row per line, same column names as `purchase_plan` "
    "(dates ISO `YYYY-MM-DD`, booleans `true`/`false`, decimal point `.`).",
    columns=tuple((c.name, c.description) for c in PURCHASE_PLAN.columns),
)

NETSUITE_PO_CSV = ErpLayout(
    name="netsuite",
    file="erp/netsuite_purchase_orders.csv",
    title="NetSuite-style CSV import",
    description="One row per line; rows of one order share `External ID`, so the CSV Import Assistant "
    "groups them into one purchase order. Dates `MM/DD/YYYY`.",
    columns=(
        ("External ID", "po_id"),
        ("Vendor", "supplier"),
        ("Date", "order_date, MM/DD/YYYY"),
        ("Expected Receipt Date", "arrival_date, MM/DD/YYYY"),
        ("Location", "ship_to"),
        ("Currency", "currency"),
        ("Memo", "`buyplan run <run id>; firm` or `...; planned`"),
        ("Line", "line"),
        ("Item", "sku"),
        ("Quantity", "quantity (units)"),
        ("Rate", "unit_cost"),
        ("Amount", "line_value"),
        ("Line Memo", "mode and reason"),
    ),
)

ODOO_PO_CSV = ErpLayout(
    name="odoo",
    file="erp/odoo_purchase_orders.csv",
    title="Odoo-style CSV import",
    description="Header fields only on the first row of each order, line fields on every row (Odoo's "
    "import of one-to-many lines). Dates `YYYY-MM-DD HH:MM:SS`.",
    columns=(
        ("id", "po_id (external id), first row of the order only"),
        ("partner_id", "supplier, first row only"),
        ("date_order", "order_date 00:00:00, first row only"),
        ("date_planned", "arrival_date 00:00:00, first row only (earliest line)"),
        ("picking_type_id", "ship_to, first row only"),
        ("currency_id", "currency, first row only"),
        ("origin", "`buyplan <run id>`, first row only"),
        ("order_line/product_id", "sku"),
        ("order_line/name", "sku, mode and reason"),
        ("order_line/product_qty", "quantity (units)"),
        ("order_line/price_unit", "unit_cost"),
        ("order_line/date_planned", "arrival_date 00:00:00"),
    ),
)

ERP_LAYOUTS: tuple[ErpLayout, ...] = (CANONICAL_PO_CSV, NETSUITE_PO_CSV, ODOO_PO_CSV)
