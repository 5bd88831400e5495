"""The canonical input tables: the contract between buyplan and a brand's data owners.

Every table is declared once here. The same declarations drive
  * loading (which columns exist, how each is parsed, defaults for optional columns),
  * validation (the Great Expectations suites built in ``data_contracts.suites``),
  * the documentation data owners read (``data_contracts/README.md`` is generated
    from this module by ``python -m data_contracts.docs``, and a test keeps it in sync).

Column kinds:
  ``string``  free text or an identifier,
  ``int``     a whole number,
  ``float``   a decimal number,
  ``date``    an ISO date ``YYYY-MM-DD`` (a timestamp at midnight is accepted),
  ``bool``    ``true``/``false`` (also ``1``/``0``, ``yes``/``no``),
  ``list``    several identifiers separated by ``;`` (for example ``shopify;walmart``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["string", "int", "float", "date", "bool", "list"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a canonical table.

    Attributes:
        name: Column name as it must appear in the file header.
        kind: How values are parsed (see the module docstring).
        description: What the value means, in a data owner's words.
        unit: Unit of measure, if any.
        required: The column must be present in the file.
        nullable: Empty cells are allowed (they mean ``default`` or "not applicable").
        default: Value used when an optional column is absent or a nullable cell is empty;
            ``None`` keeps it empty.
        min_value: Smallest allowed value (inclusive) for numbers.
        max_value: Largest allowed value (inclusive) for numbers.
        strict_min: The minimum itself is not allowed (``> min_value``).
        allowed: The closed set of allowed values for strings.
    """

    name: str
    kind: ColumnKind
    description: str
    unit: str = ""
    required: bool = True
    nullable: bool = False
    default: str | float | int | bool | None = None
    min_value: float | None = None
    max_value: float | None = None
    strict_min: bool = False
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class TableContract:
    """One canonical input table.

    Attributes:
        name: Table name, also the file stem (``items.csv`` or ``items.parquet``).
        title: Short human title.
        description: What one row means.
        columns: The columns, in documentation order.
        key: Columns whose combination identifies a row; must be unique.
        required: The table must be supplied and must not be empty.
        example: A small CSV example, header included.
    """

    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool
    example: str
    notes: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(col.name for col in self.columns)


LOCATION_TYPES = ("warehouse", "3pl", "marketplace", "store")
ITEM_STATUSES = ("active", "discontinued", "new")
CAPACITY_UNITS = ("units", "volume")
ORIGIN_TYPES = ("supplier", "location")
BUDGET_PERIODS = ("week", "month")
SERVICE_SCOPES = ("sku", "service_class", "category", "all")
SERVICE_METRICS = ("fill_rate", "cycle_service_level")

DEMAND_HISTORY = TableContract(
    name="demand_history",
    title="Demand history",
    description=(
        "Units sold (or ordered) per day or per week, SKU, fulfilling location and sales "
        "channel. Daily and weekly grains are both accepted; weekly rows are dated by the "
        "Monday that starts the week."
    ),
    columns=(
        Column("date", "date", "Day of the sale, or Monday of the week for weekly data."),
        Column("sku", "string", "Stock-keeping unit; must exist in `items`."),
        Column("location", "string", "Location that fulfilled the demand; must exist in `locations`."),
        Column("channel", "string", "Sales channel (shopify, amazon, walmart, ...); served by `location`."),
        Column(
            "units",
            "float",
            "Units demanded. Negative values are returns: accepted with a warning.",
            unit="units",
        ),
        Column(
            "revenue",
            "float",
            "Net revenue of the units.",
            unit="currency",
            required=False,
            nullable=True,
            min_value=None,
        ),
        Column(
            "price",
            "float",
            "Average selling price that day or week.",
            unit="currency",
            required=False,
            nullable=True,
            min_value=0,
        ),
        Column(
            "in_stock",
            "bool",
            "False when the SKU could not be sold at this location that period (stockout); "
            "such periods are not treated as zero demand.",
            required=False,
            nullable=True,
        ),
    ),
    key=("date", "sku", "location", "channel"),
    required=True,
    notes=(
        "Rows may be sparse: a missing date x sku x location x channel means zero demand while in stock.",
        "Stockout periods should be sent as rows with `in_stock = false`, so they are not read as zero demand.",
        "Use one grain per file: daily dates, or weekly rows dated by their Monday.",
    ),
    example=(
        "date,sku,location,channel,units,revenue,price,in_stock\n"
        "2026-11-02,TEE-001,WH-EAST,shopify,14,392.0,28.0,true\n"
        "2026-11-02,TEE-001,FBA-US,amazon,9,270.0,30.0,true\n"
    ),
)

INVENTORY = TableContract(
    name="inventory",
    title="Inventory snapshot",
    description="Stock per SKU and location at the snapshot time, which is the plan's as-of date.",
    columns=(
        Column("sku", "string", "Stock-keeping unit; must exist in `items`."),
        Column("location", "string", "Location holding the stock; must exist in `locations`."),
        Column("on_hand", "float", "Physical units on hand and sellable.", unit="units", min_value=0),
        Column(
            "allocated",
            "float",
            "Units already committed to open customer orders; the plan uses on_hand - allocated.",
            unit="units",
            min_value=0,
            required=False,
            default=0.0,
        ),
        Column("as_of_date", "date", "Date the snapshot was taken."),
    ),
    key=("sku", "location"),
    required=True,
    example=("sku,location,on_hand,allocated,as_of_date\nTEE-001,WH-EAST,420,35,2026-11-30\n"),
)

OPEN_ORDERS = TableContract(
    name="open_orders",
    title="Open purchase orders and in-transit transfers",
    description=(
        "Inbound stock already on its way: purchase-order lines not yet received "
        "(origin_type = supplier) and transfers between own locations in transit "
        "(origin_type = location)."
    ),
    columns=(
        Column("order_id", "string", "Purchase order or transfer id."),
        Column("sku", "string", "Stock-keeping unit; must exist in `items`."),
        Column("origin", "string", "Supplier (for purchase orders) or sending location (for transfers)."),
        Column(
            "origin_type",
            "string",
            "`supplier` or `location`.",
            allowed=ORIGIN_TYPES,
            required=False,
            default="supplier",
        ),
        Column("destination", "string", "Receiving location; must exist in `locations`."),
        Column("quantity", "float", "Units still to be received.", unit="units", min_value=0, strict_min=True),
        Column("expected_arrival", "date", "Date the units are expected to be received and sellable."),
    ),
    key=("order_id", "sku", "destination"),
    required=False,
    example=(
        "order_id,sku,origin,origin_type,destination,quantity,expected_arrival\n"
        "PO-10422,TEE-001,SHENZHEN-TEX,supplier,WH-EAST,1200,2026-12-21\n"
        "TR-881,TEE-001,WH-EAST,location,FBA-US,240,2026-12-07\n"
    ),
)

ITEMS = TableContract(
    name="items",
    title="Items",
    description="The catalogue: one row per SKU, with its economics and lifecycle status.",
    columns=(
        Column("sku", "string", "Stock-keeping unit."),
        Column("description", "string", "Product description.", required=False, nullable=True, default=""),
        Column("category", "string", "Merchandise category, used for budgets, reports and new-item analogues."),
        Column("unit_cost", "float", "Standard landed cost of one unit.", unit="currency", min_value=0),
        Column("selling_price", "float", "Regular selling price of one unit.", unit="currency", min_value=0),
        Column(
            "unit_volume",
            "float",
            "Volume of one unit, used for volume-based warehouse capacity.",
            unit="litres",
            min_value=0,
            required=False,
            default=0.0,
        ),
        Column(
            "case_pack",
            "int",
            "Units per case; orders are placed in whole cases.",
            unit="units",
            min_value=1,
            required=False,
            default=1,
        ),
        Column(
            "status",
            "string",
            "`active`, `discontinued` (never replenished) or `new` (see launch_date).",
            allowed=ITEM_STATUSES,
        ),
        Column(
            "launch_date",
            "date",
            "First day the SKU can sell; required when status is `new`.",
            required=False,
            nullable=True,
        ),
        Column(
            "service_class",
            "string",
            "Service class (for example A, B, C) that service targets can refer to.",
            required=False,
            nullable=True,
        ),
        Column(
            "holding_cost_per_unit_week",
            "float",
            "Override: cost of holding one unit for one week. Empty = unit_cost x the configured holding rate.",
            unit="currency/unit/week",
            min_value=0,
            required=False,
            nullable=True,
        ),
        Column(
            "order_line_cost",
            "float",
            "Override: fixed cost of each purchase-order line for this SKU. Empty = the configured default.",
            unit="currency/line",
            min_value=0,
            required=False,
            nullable=True,
        ),
    ),
    key=("sku",),
    required=True,
    example=(
        "sku,description,category,unit_cost,selling_price,unit_volume,case_pack,status,launch_date\n"
        "TEE-001,Organic tee black M,Apparel,7.80,28.00,0.9,24,active,\n"
        "HOOD-020,Fleece hoodie sand L,Apparel,16.40,64.00,2.6,12,new,2027-01-11\n"
    ),
)

SOURCING_OPTIONS = TableContract(
    name="sourcing_options",
    title="Sourcing options",
    description=(
        "Ways to buy a SKU: from which supplier, delivered to which location, by which mode, "
        "at what cost, minimum and lead time. A SKU may have several; the plan chooses."
    ),
    columns=(
        Column("sku", "string", "Stock-keeping unit; must exist in `items`."),
        Column("supplier", "string", "Supplier; must exist in `suppliers`."),
        Column("ship_to", "string", "Location the supplier delivers to; must exist in `locations`."),
        Column(
            "mode",
            "string",
            "Transport mode (ocean, air, truck, parcel, ...).",
            required=False,
            default="standard",
        ),
        Column(
            "unit_cost",
            "float",
            "Purchase price per unit in the supplier's currency.",
            unit="supplier currency",
            min_value=0,
        ),
        Column(
            "moq",
            "float",
            "Minimum order quantity per order line; 0 = none.",
            unit="units",
            min_value=0,
            required=False,
            default=0.0,
        ),
        Column(
            "order_multiple",
            "int",
            "Order quantities are whole multiples of this (often the case pack).",
            unit="units",
            min_value=1,
            required=False,
            default=1,
        ),
        Column(
            "lead_time_weeks",
            "float",
            "Mean lead time from order to sellable receipt.",
            unit="weeks",
            min_value=0,
        ),
        Column(
            "lead_time_std_weeks",
            "float",
            "Standard deviation of the lead time.",
            unit="weeks",
            min_value=0,
            required=False,
            default=0.0,
        ),
    ),
    key=("sku", "supplier", "ship_to", "mode"),
    required=True,
    example=(
        "sku,supplier,ship_to,mode,unit_cost,moq,order_multiple,lead_time_weeks,lead_time_std_weeks\n"
        "TEE-001,SHENZHEN-TEX,WH-EAST,ocean,6.90,600,24,10,1.5\n"
        "TEE-001,SHENZHEN-TEX,WH-EAST,air,8.10,120,24,3,0.5\n"
    ),
)

SUPPLIERS = TableContract(
    name="suppliers",
    title="Suppliers",
    description="Supplier terms that apply across all their SKUs.",
    columns=(
        Column("supplier", "string", "Supplier id."),
        Column("name", "string", "Supplier name.", required=False, nullable=True, default=""),
        Column("currency", "string", "ISO 4217 currency of the supplier's prices (USD, EUR, CNY, ...)."),
        Column(
            "po_minimum_value",
            "float",
            "Minimum value of one purchase order (supplier x ship-to x order week); 0 = none.",
            unit="supplier currency",
            min_value=0,
            required=False,
            default=0.0,
        ),
        Column(
            "fixed_cost_per_po",
            "float",
            "Fixed cost of placing one purchase order.",
            unit="supplier currency",
            min_value=0,
            required=False,
            default=0.0,
        ),
        Column(
            "weekly_capacity_units",
            "float",
            "Most units the supplier can ship per week across all SKUs; empty = unlimited.",
            unit="units/week",
            min_value=0,
            required=False,
            nullable=True,
        ),
        Column(
            "deposit_share",
            "float",
            "Payment terms: share of the order value paid when ordering; the rest is paid on arrival. "
            "1 = pay in full at order, 0 = pay on arrival.",
            min_value=0,
            max_value=1,
            required=False,
            default=1.0,
        ),
    ),
    key=("supplier",),
    required=True,
    example=(
        "supplier,name,currency,po_minimum_value,fixed_cost_per_po,weekly_capacity_units,deposit_share\n"
        "SHENZHEN-TEX,Shenzhen Textile Co.,USD,15000,450,20000,0.3\n"
    ),
)

SUPPLIER_CLOSURES = TableContract(
    name="supplier_closures",
    title="Supplier closures",
    description=(
        "Weeks a supplier cannot ship (factory shutdowns such as Chinese New Year). "
        "No order can be placed with the supplier in a week that overlaps a closure."
    ),
    columns=(
        Column("supplier", "string", "Supplier; must exist in `suppliers`."),
        Column("start_date", "date", "First closed day."),
        Column("end_date", "date", "Last closed day (on or after start_date)."),
        Column("reason", "string", "Why the supplier is closed.", required=False, nullable=True, default=""),
    ),
    key=("supplier", "start_date"),
    required=False,
    example="supplier,start_date,end_date,reason\nSHENZHEN-TEX,2027-02-01,2027-02-21,Chinese New Year\n",
)

LOCATIONS = TableContract(
    name="locations",
    title="Locations",
    description="Places that hold stock and the sales channels each one fulfils.",
    columns=(
        Column("location", "string", "Location id."),
        Column(
            "type",
            "string",
            "`warehouse`, `3pl`, `marketplace` (e.g. Amazon FBA) or `store`.",
            allowed=LOCATION_TYPES,
        ),
        Column(
            "capacity",
            "float",
            "Storage capacity; empty = unlimited.",
            unit="see capacity_unit",
            min_value=0,
            strict_min=True,
            required=False,
            nullable=True,
        ),
        Column(
            "capacity_unit",
            "string",
            "`units` or `volume` (litres, see items.unit_volume).",
            allowed=CAPACITY_UNITS,
            required=False,
            default="units",
        ),
        Column("channels", "list", "Channels this location fulfils, separated by `;`."),
    ),
    key=("location",),
    required=True,
    example=(
        "location,type,capacity,capacity_unit,channels\n"
        "WH-EAST,warehouse,250000,units,shopify;walmart\n"
        "FBA-US,marketplace,40000,units,amazon\n"
    ),
)

TRANSFER_LANES = TableContract(
    name="transfer_lanes",
    title="Transfer lanes",
    description="Routes along which stock can be moved between own locations.",
    columns=(
        Column("from_location", "string", "Sending location; must exist in `locations`."),
        Column(
            "to_location",
            "string",
            "Receiving location; must exist in `locations` and differ from from_location.",
        ),
        Column(
            "lead_time_weeks",
            "float",
            "Weeks from shipping to sellable at the destination.",
            unit="weeks",
            min_value=0,
        ),
        Column(
            "cost_per_unit",
            "float",
            "Freight and handling per unit moved.",
            unit="currency/unit",
            min_value=0,
            required=False,
            default=0.0,
        ),
        Column(
            "min_shipment",
            "float",
            "Smallest shipment on the lane per week; 0 = none.",
            unit="units",
            min_value=0,
            required=False,
            default=0.0,
        ),
    ),
    key=("from_location", "to_location"),
    required=False,
    example="from_location,to_location,lead_time_weeks,cost_per_unit,min_shipment\nWH-EAST,FBA-US,2,0.45,200\n",
)

BUDGETS = TableContract(
    name="budgets",
    title="Purchase budgets",
    description=(
        "Cash available for purchases per week or per month, overall or for one category or "
        "supplier. Spend is recognised when it is paid (see suppliers.deposit_share). What open "
        "purchase orders (`open_orders`) still owe counts first: each line's balance, (1 - deposit "
        "share) x the unit cost of its sourcing option (the cheapest with its SKU, supplier and "
        "destination; else the item's unit cost), falls due in its expected arrival week, as an "
        "ERP's budget check counts open commitments."
    ),
    columns=(
        Column("period_start", "date", "Monday of the week, or first day of the month."),
        Column("period", "string", "`week` or `month`.", allowed=BUDGET_PERIODS, required=False, default="week"),
        Column(
            "cash_limit",
            "float",
            "Most cash that may be paid for purchases in the period.",
            unit="currency",
            min_value=0,
        ),
        Column(
            "currency",
            "string",
            "Currency of cash_limit; other currencies are converted with configured rates.",
            required=False,
            default="USD",
        ),
        Column(
            "category",
            "string",
            "Limit applies to this category only; empty = all categories.",
            required=False,
            nullable=True,
            default="",
        ),
        Column(
            "supplier",
            "string",
            "Limit applies to this supplier only; empty = all suppliers.",
            required=False,
            nullable=True,
            default="",
        ),
    ),
    key=("period_start", "category", "supplier"),
    required=False,
    example="period_start,period,cash_limit,currency,category,supplier\n2026-11-30,week,60000,USD,,\n2026-12-01,month,90000,USD,Apparel,\n",
)

SERVICE_TARGETS = TableContract(
    name="service_targets",
    title="Service targets",
    description=(
        "Target fill rate (share of demand served from stock) or cycle service level "
        "(probability of no stockout in a replenishment cycle). The most specific scope wins: "
        "sku, then service_class, then category, then all."
    ),
    columns=(
        Column("scope", "string", "`sku`, `service_class`, `category` or `all`.", allowed=SERVICE_SCOPES),
        Column(
            "scope_value",
            "string",
            "The SKU, class or category the target applies to; empty for `all`.",
            required=False,
            nullable=True,
            default="",
        ),
        Column("metric", "string", "`fill_rate` or `cycle_service_level`.", allowed=SERVICE_METRICS),
        Column(
            "target",
            "float",
            "Target between 0 and 1 (0.95 = 95%).",
            min_value=0,
            max_value=1,
            strict_min=True,
        ),
    ),
    key=("scope", "scope_value"),
    required=False,
    example="scope,scope_value,metric,target\nall,,fill_rate,0.95\nservice_class,A,fill_rate,0.98\n",
)

EXTERNAL_FORECAST = TableContract(
    name="external_forecast",
    title="External forecast (optional)",
    description="A forecast made elsewhere; it overrides the built-in forecast for the rows it covers.",
    columns=(
        Column("sku", "string", "Stock-keeping unit; must exist in `items`."),
        Column("location", "string", "Location; must exist in `locations`."),
        Column("channel", "string", "Sales channel."),
        Column("week_start", "date", "Monday of the forecast week."),
        Column("units", "float", "Forecast units.", unit="units", min_value=0),
        Column(
            "units_std",
            "float",
            "Standard deviation of the forecast error, if known.",
            unit="units",
            min_value=0,
            required=False,
            nullable=True,
        ),
    ),
    key=("sku", "location", "channel", "week_start"),
    required=False,
    example="sku,location,channel,week_start,units,units_std\nTEE-001,WH-EAST,shopify,2026-12-07,40,9\n",
)

LOCKED_ORDERS = TableContract(
    name="locked_orders",
    title="Locked orders (optional)",
    description="Approved purchase-order lines the plan must keep exactly as given.",
    columns=(
        Column("order_id", "string", "Id of the approved order."),
        Column("sku", "string", "Stock-keeping unit; must exist in `items`."),
        Column("supplier", "string", "Supplier; must exist in `suppliers`."),
        Column("ship_to", "string", "Receiving location; must exist in `locations`."),
        Column("mode", "string", "Transport mode of the sourcing option.", required=False, default="standard"),
        Column("order_date", "date", "Date the order will be placed."),
        Column("quantity", "float", "Units ordered.", unit="units", min_value=0, strict_min=True),
    ),
    key=("order_id", "sku", "ship_to"),
    required=False,
    example="order_id,sku,supplier,ship_to,mode,order_date,quantity\nAPPROVED-77,TEE-001,SHENZHEN-TEX,WH-EAST,ocean,2026-12-07,1200\n",
)

CHANNEL_RESERVATIONS = TableContract(
    name="channel_reservations",
    title="Channel reservations (optional)",
    description=(
        "Stock a shared location keeps back for one channel (for example cover kept for DTC at a "
        "warehouse that also serves Walmart): other channels and outbound transfers may not use it. "
        "Give a fixed quantity per SKU or weeks of that channel's forecast, for all SKUs or one category."
    ),
    columns=(
        Column("location", "string", "Location holding the stock; must exist in `locations`."),
        Column("channel", "string", "Channel the stock is kept for; the location must serve it."),
        Column(
            "category",
            "string",
            "Only SKUs of this category; empty = all SKUs.",
            required=False,
            nullable=True,
            default="",
        ),
        Column(
            "reserved_units", "float", "Units kept per SKU.", unit="units", min_value=0, required=False, nullable=True
        ),
        Column(
            "weeks_of_cover",
            "float",
            "Weeks of the channel's forecast kept per SKU.",
            unit="weeks",
            min_value=0,
            required=False,
            nullable=True,
        ),
    ),
    key=("location", "channel", "category"),
    required=False,
    notes=("Give exactly one of `reserved_units` and `weeks_of_cover` per row.",),
    example="location,channel,category,reserved_units,weeks_of_cover\nWH-EAST,shopify,,,2\n",
)

EVENTS = TableContract(
    name="events",
    title="Promotions and events (optional)",
    description=(
        "Known promotions, marketplace sale days and holidays, past and planned. The forecast learns "
        "each event's uplift from its past days in the demand history and applies it to its future "
        "days; moving US holidays (Easter, Thanksgiving, Cyber Monday ...) are built in."
    ),
    columns=(
        Column("date", "date", "A day the event runs (one row per day, or just its first day)."),
        Column("event", "string", "Event name; the same name links past and future occurrences."),
        Column(
            "sku",
            "string",
            "The SKU on promotion; empty = every SKU.",
            required=False,
            nullable=True,
            default="",
        ),
    ),
    key=("date", "event", "sku"),
    required=False,
    example="date,event,sku\n2025-11-28,black_friday_sale,\n2026-11-27,black_friday_sale,\n2026-06-10,spring_promo,SKU-001\n",
)

CONTRACTS: tuple[TableContract, ...] = (
    DEMAND_HISTORY,
    INVENTORY,
    OPEN_ORDERS,
    ITEMS,
    SOURCING_OPTIONS,
    SUPPLIERS,
    SUPPLIER_CLOSURES,
    LOCATIONS,
    TRANSFER_LANES,
    BUDGETS,
    SERVICE_TARGETS,
    EXTERNAL_FORECAST,
    LOCKED_ORDERS,
    CHANNEL_RESERVATIONS,
    EVENTS,
)
CONTRACTS_BY_NAME: dict[str, TableContract] = {c.name: c for c in CONTRACTS}
