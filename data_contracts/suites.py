"""The data contracts as Great Expectations rules.

Rules are declared here as plain data (``Rule``: the GX expectation class name and its
arguments, a severity, what was expected and how to fix it) so that this module stays cheap
to import; ``planning.validation`` turns them into GX Core 1.x expectations and runs them.

Three groups of rules, all built from ``data_contracts.tables``:
  * cell rules on the text view: required cells present, cells parse as their kind;
  * table rules on the typed view: ranges, allowed values, unique keys, non-empty tables;
  * cross-table rules on the typed view: every reference resolves, every SKU with demand can
    be supplied, dates line up with the as-of date. They use derived columns (prefixed ``_``)
    added by ``derive_columns`` so that each rule is a single-column GX expectation and its
    failing rows can be reported.

Warnings (returns as negative demand, active SKUs with no history, stock allocated beyond
on-hand) are reported but do not stop a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import pandas as pd

from data_contracts.tables import CONTRACTS_BY_NAME, Column, TableContract
from planning.inputs import PATTERN_BY_KIND, calendar_flag

Severity = Literal["error", "warning"]
View = Literal["text", "typed"]

KIND_EXAMPLES = {
    "int": "a whole number such as 12",
    "float": "a number such as 12.5",
    "date": "an ISO date such as 2026-11-30",
    "bool": "true or false",
    "list": "values separated by ';' such as shopify;walmart",
}
DOCS = "data_contracts/README.md"
# Key in Rule.kwargs for "only rows where column == value"; becomes a GX row condition.
WHERE = "where"


@dataclass(frozen=True, slots=True)
class Rule:
    """One checkable rule of a data contract, as a GX expectation to build.

    Attributes:
        table: Table the rule runs on.
        rule_id: Stable id, e.g. ``items.case_pack.range``.
        view: ``text`` (cells as supplied) or ``typed`` (parsed, with derived columns).
        expectation: GX expectation class name in ``great_expectations.expectations``.
        kwargs: Arguments of the expectation.
        column: The data column whose values are reported, if any (for rules on a derived
            ``_`` column, the data column the data owner should look at).
        severity: ``error`` stops the run; ``warning`` is reported only.
        expected: What the rule expects, in a data owner's words.
        fix: What to change in the data.
    """

    table: str
    rule_id: str
    view: View
    expectation: str
    kwargs: Mapping[str, Any]
    column: str | None
    severity: Severity
    expected: str
    fix: str


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What cross-table rules need to know about the other tables."""

    as_of: date | None
    open_order_max_days_late: int
    frames: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    horizon_weeks: int | None = None  # the plan's weeks from the Monday of ``as_of``

    def values(self, table: str, column: str) -> list[str]:
        frame = self.frames.get(table)
        if frame is None or column not in frame.columns:
            return []
        return sorted({str(v) for v in frame[column].dropna()})


def _anchor(contract: TableContract) -> str:
    return f"{DOCS}#{contract.name}"


def cell_rules(contract: TableContract, present_columns: set[str]) -> list[Rule]:
    """Required cells are filled and every cell parses as its column's kind."""
    rules: list[Rule] = []
    for column in contract.columns:
        if column.name not in present_columns:
            continue
        if not column.nullable and column.default is None:
            rules.append(
                Rule(
                    contract.name,
                    f"{contract.name}.{column.name}.not_empty",
                    "text",
                    "ExpectColumnValuesToNotBeNull",
                    {"column": column.name},
                    column.name,
                    "error",
                    f"every row has a {column.name}",
                    f"fill in {column.name} ({column.description})",
                )
            )
        if column.kind in KIND_EXAMPLES:
            rules.append(
                Rule(
                    contract.name,
                    f"{contract.name}.{column.name}.parses",
                    "text",
                    "ExpectColumnValuesToMatchRegex",
                    {"column": column.name, "regex": PATTERN_BY_KIND[column.kind]},
                    column.name,
                    "error",
                    f"{column.name} is {KIND_EXAMPLES[column.kind]}",
                    f"correct the {column.name} values shown; see {_anchor(contract)}",
                )
            )
    return rules


def _range_rule(contract: TableContract, column: Column) -> Rule:
    kwargs: dict[str, Any] = {"column": column.name}
    bounds = []
    if column.min_value is not None:
        kwargs["min_value"] = column.min_value
        kwargs["strict_min"] = column.strict_min
        bounds.append(f"{'>' if column.strict_min else '>='} {column.min_value:g}")
    if column.max_value is not None:
        kwargs["max_value"] = column.max_value
        bounds.append(f"<= {column.max_value:g}")
    return Rule(
        contract.name,
        f"{contract.name}.{column.name}.range",
        "typed",
        "ExpectColumnValuesToBeBetween",
        kwargs,
        column.name,
        "error",
        f"{column.name} {' and '.join(bounds)}",
        f"correct the {column.name} values shown ({column.description})",
    )


def table_rules(contract: TableContract, present_columns: set[str]) -> list[Rule]:
    """Ranges, allowed values, unique keys and, for required tables, at least one row."""
    rules: list[Rule] = []
    if contract.required:
        rules.append(
            Rule(
                contract.name,
                f"{contract.name}.not_empty",
                "typed",
                "ExpectTableRowCountToBeBetween",
                {"min_value": 1},
                None,
                "error",
                f"{contract.name} has at least one row",
                f"export the {contract.title.lower()} with its rows; the file has only a header or nothing",
            )
        )
    for column in contract.columns:
        if column.name not in present_columns:
            continue
        if column.min_value is not None or column.max_value is not None:
            rules.append(_range_rule(contract, column))
        if column.allowed is not None:
            rules.append(
                Rule(
                    contract.name,
                    f"{contract.name}.{column.name}.allowed",
                    "typed",
                    "ExpectColumnValuesToBeInSet",
                    {"column": column.name, "value_set": list(column.allowed)},
                    column.name,
                    "error",
                    f"{column.name} is one of {', '.join(column.allowed)}",
                    f"use one of the allowed {column.name} values",
                )
            )
    key = list(contract.key)
    if all(k in present_columns or contract.column(k).default is not None for k in key):
        rules.append(
            Rule(
                contract.name,
                f"{contract.name}.key.unique",
                "typed",
                "ExpectCompoundColumnsToBeUnique" if len(key) > 1 else "ExpectColumnValuesToBeUnique",
                {"column_list": key} if len(key) > 1 else {"column": key[0]},
                key[0] if len(key) == 1 else None,
                "error",
                f"one row per {' x '.join(key)}",
                "remove or merge the duplicated rows shown",
            )
        )
    return rules


def _ref(
    table: str, column: str, target: str, values: list[str], fix: str, *, where: tuple[str, str] | None = None
) -> Rule:
    """``column`` takes values from ``target``; ``where=(col, value)`` limits the rule to matching rows."""
    kwargs: dict[str, Any] = {"column": column, "value_set": values}
    if where:
        kwargs[WHERE] = where
    return Rule(
        table,
        f"{table}.{column}.references_{target.replace('.', '_')}",
        "typed",
        "ExpectColumnValuesToBeInSet",
        kwargs,
        column,
        "error",
        f"{column} exists in {target}",
        fix,
    )


def _flag(table: str, rule_id: str, flag: str, severity: Severity, expected: str, fix: str, *, report: str) -> Rule:
    """A rule on a derived boolean column ``flag``: rows where it is False fail.

    ``report`` is the data column whose value the report shows for each failing row.
    """
    return Rule(
        table,
        rule_id,
        "typed",
        "ExpectColumnValuesToBeInSet",
        {"column": flag, "value_set": [True]},
        report,
        severity,
        expected,
        fix,
    )


def reference_rules(ctx: RuleContext) -> list[Rule]:
    """Every SKU, supplier, location, lane and channel referenced exists where it should."""
    skus = ctx.values("items", "sku")
    locations = ctx.values("locations", "location")
    suppliers = ctx.values("suppliers", "supplier")
    add_sku = "add the SKU to items, or remove the rows"
    add_loc = "add the location to locations, or correct the location id"
    add_sup = "add the supplier to suppliers, or correct the supplier id"
    rules = [
        _ref("demand_history", "sku", "items.sku", skus, add_sku),
        _ref("demand_history", "location", "locations.location", locations, add_loc),
        _ref("inventory", "sku", "items.sku", skus, add_sku),
        _ref("inventory", "location", "locations.location", locations, add_loc),
        _ref("open_orders", "sku", "items.sku", skus, add_sku),
        _ref("open_orders", "destination", "locations.location", locations, add_loc),
        _ref(
            "open_orders",
            "origin",
            "suppliers.supplier",
            suppliers,
            add_sup,
            where=("origin_type", "supplier"),
        ),
        _ref(
            "open_orders",
            "origin",
            "locations.location",
            locations,
            add_loc,
            where=("origin_type", "location"),
        ),
        _ref("sourcing_options", "sku", "items.sku", skus, add_sku),
        _ref("sourcing_options", "supplier", "suppliers.supplier", suppliers, add_sup),
        _ref("sourcing_options", "ship_to", "locations.location", locations, add_loc),
        _ref("supplier_closures", "supplier", "suppliers.supplier", suppliers, add_sup),
        _ref("transfer_lanes", "from_location", "locations.location", locations, add_loc),
        _ref("transfer_lanes", "to_location", "locations.location", locations, add_loc),
        _ref("budgets", "supplier", "suppliers.supplier", [*suppliers, ""], add_sup),
        _ref(
            "budgets",
            "category",
            "items.category",
            [*ctx.values("items", "category"), ""],
            "use a category that appears in items, or leave it empty for all",
        ),
        _ref("external_forecast", "sku", "items.sku", skus, add_sku),
        _ref("external_forecast", "location", "locations.location", locations, add_loc),
        _ref("channel_reservations", "location", "locations.location", locations, add_loc),
        _ref(
            "channel_reservations",
            "category",
            "items.category",
            [*ctx.values("items", "category"), ""],
            "use a category that appears in items, or leave it empty for all",
        ),
        _ref("locked_orders", "sku", "items.sku", skus, add_sku),
        _ref("events", "sku", "items.sku", [*skus, ""], add_sku + ", or leave it empty for every SKU"),
        _ref("locked_orders", "supplier", "suppliers.supplier", suppliers, add_sup),
        _ref("locked_orders", "ship_to", "locations.location", locations, add_loc),
    ]
    for scope, table, column in (
        ("sku", "items", "sku"),
        ("service_class", "items", "service_class"),
        ("category", "items", "category"),
    ):
        rules.append(
            _ref(
                "service_targets",
                "scope_value",
                f"{table}.{column}",
                ctx.values(table, column),
                f"use a {scope} that appears in items.{column}",
                where=("scope", scope),
            )
        )
    return rules


def _pairs(frame: pd.DataFrame, left: str, right: str) -> pd.Series:
    return frame[left].astype("string") + "|" + frame[right].astype("string")


def _served_pairs(locations: pd.DataFrame | None) -> set[str]:
    if locations is None:
        return set()
    served: set[str] = set()
    for location, channels in zip(locations["location"], locations["channels"], strict=True):
        if pd.isna(location) or pd.isna(channels):
            continue
        served.update(f"{location}|{channel}" for channel in str(channels).split(";") if channel)
    return served


def supplied_pairs(frames: Mapping[str, pd.DataFrame]) -> set[str]:
    """``sku|location`` pairs that a sourcing option reaches directly or through transfer lanes."""
    options = frames.get("sourcing_options")
    if options is None:
        return set()
    reached = set(_pairs(options, "sku", "ship_to").dropna())
    lanes = frames.get("transfer_lanes")
    if lanes is None or lanes.empty:
        return reached
    next_hops: dict[str, set[str]] = {}
    for origin, destination in zip(lanes["from_location"], lanes["to_location"], strict=True):
        if not pd.isna(origin) and not pd.isna(destination):
            next_hops.setdefault(str(origin), set()).add(str(destination))
    frontier = set(reached)
    while frontier:  # breadth-first over lanes: stock can hop several lanes
        new: set[str] = set()
        for pair in frontier:
            sku, location = pair.split("|", 1)
            new.update(f"{sku}|{d}" for d in next_hops.get(location, ()) if f"{sku}|{d}" not in reached)
        reached |= new
        frontier = new
    return reached


def derive_columns(frames: Mapping[str, pd.DataFrame], ctx: RuleContext) -> dict[str, pd.DataFrame]:
    """Copies of the typed frames with the ``_`` columns the cross-table rules check."""
    out = {name: frame.copy() for name, frame in frames.items()}
    served = _served_pairs(frames.get("locations"))
    items = frames.get("items")
    discontinued = set() if items is None else set(items.loc[items["status"] == "discontinued", "sku"].dropna())
    as_of = pd.Timestamp(ctx.as_of) if ctx.as_of else None

    if (demand := out.get("demand_history")) is not None:
        demand["_location_serves_channel"] = _pairs(demand, "location", "channel").isin(served)
        supplied = supplied_pairs(frames) | {f"{s}|{loc}" for s in discontinued for loc in demand["location"].unique()}
        demand["_can_be_supplied"] = _pairs(demand, "sku", "location").isin(supplied)
        demand["_not_a_return"] = ~(demand["units"] < 0)
        demand["_before_as_of"] = True if as_of is None else ~(demand["date"] >= as_of)
    if (inventory := out.get("inventory")) is not None:
        inventory["_allocation_covered"] = ~(inventory["allocated"] > inventory["on_hand"])
        recent = True if as_of is None else ~(inventory["as_of_date"] < as_of - timedelta(days=7))
        inventory["_snapshot_recent"] = recent
    if (orders := out.get("open_orders")) is not None:
        late = as_of - timedelta(days=ctx.open_order_max_days_late) if as_of is not None else None
        orders["_arrival_not_stale"] = True if late is None else ~(orders["expected_arrival"] < late)
    if (closures := out.get("supplier_closures")) is not None:
        closures["_end_on_or_after_start"] = ~(closures["end_date"] < closures["start_date"])
    if (lanes := out.get("transfer_lanes")) is not None:
        lanes["_distinct_ends"] = lanes["from_location"] != lanes["to_location"]
    if (budgets := out.get("budgets")) is not None:
        start = budgets["period_start"]
        aligned = ((budgets["period"] == "week") & (start.dt.day_of_week == 0)) | (
            (budgets["period"] == "month") & (start.dt.day == 1)
        )
        budgets["_period_start_aligned"] = aligned.fillna(True)
    if (forecast := out.get("external_forecast")) is not None:
        forecast["_location_serves_channel"] = _pairs(forecast, "location", "channel").isin(served)
        forecast["_week_start_monday"] = ~(forecast["week_start"].dt.day_of_week != 0)
    if (locked := out.get("locked_orders")) is not None and (options := frames.get("sourcing_options")) is not None:
        option_keys = set(options["sku"] + "|" + options["supplier"] + "|" + options["ship_to"] + "|" + options["mode"])
        locked_keys = locked["sku"] + "|" + locked["supplier"] + "|" + locked["ship_to"] + "|" + locked["mode"]
        locked["_matches_sourcing_option"] = locked_keys.isin(option_keys)
    if (locked := out.get("locked_orders")) is not None:
        locked["_order_date_in_horizon"] = True
        if as_of is not None and ctx.horizon_weeks is not None:
            first = as_of - timedelta(days=as_of.day_of_week)  # the plan's week 0 starts on this Monday
            end = first + timedelta(weeks=ctx.horizon_weeks)
            outside = (locked["order_date"] < first) | (locked["order_date"] >= end)
            locked["_order_date_in_horizon"] = ~outside.fillna(False)
    if (reservations := out.get("channel_reservations")) is not None:
        reservations["_location_serves_channel"] = _pairs(reservations, "location", "channel").isin(served)
        reservations["_one_reservation_kind"] = (
            reservations["reserved_units"].notna() != reservations["weeks_of_cover"].notna()
        )
    if (targets := out.get("service_targets")) is not None:
        targets["_scope_value_given"] = (targets["scope"] == "all") == (targets["scope_value"].fillna("") == "")
    if items is not None:
        items_out = out["items"]
        items_out["_launch_date_given"] = ~((items_out["status"] == "new") & items_out["launch_date"].isna())
        sold = set() if demand is None else set(demand["sku"].dropna())
        items_out["_has_history"] = items_out["sku"].isin(sold) | (items_out["status"] != "active")
    return out


# Rules on derived flags: (table, rule id, flag column, reported column, severity, expected, fix).
FLAG_RULES: tuple[tuple[str, str, str, str, Severity, str, str], ...] = (
    ("demand_history", "channel.served_by_location", "_location_serves_channel", "channel", "error",
     "the location serves the channel (see locations.channels)",
     "add the channel to the location's channels, or correct the location or channel"),
    ("demand_history", "sku.can_be_supplied", "_can_be_supplied", "sku", "error",
     "every SKU with demand at a location has a sourcing option to it or an inbound transfer lane",
     "add a sourcing option (sku, supplier, ship_to) or a transfer lane into the location, "
     "or mark the SKU discontinued"),
    ("demand_history", "date.before_as_of", "_before_as_of", "date", "error",
     "history ends before the as-of date", "drop rows dated on or after the as-of date, or move as_of"),
    ("demand_history", "units.returns", "_not_a_return", "units", "warning",
     "units >= 0 (negative units are read as returns)", "nothing if these are returns; otherwise correct the sign"),
    ("inventory", "allocated.within_on_hand", "_allocation_covered", "allocated", "warning",
     "allocated <= on_hand", "check the allocation; the plan treats the excess as demand already owed"),
    ("inventory", "as_of_date.recent", "_snapshot_recent", "as_of_date", "warning",
     "the snapshot is at most 7 days older than the as-of date", "export a fresh inventory snapshot"),
    ("open_orders", "expected_arrival.not_stale", "_arrival_not_stale", "expected_arrival", "error",
     "expected arrival no more than validation.open_order_max_days_late days before the as-of date",
     "update the expected arrival date, or close the order in the ERP if it will not arrive"),
    ("supplier_closures", "end_date.after_start", "_end_on_or_after_start", "end_date", "error",
     "end_date on or after start_date", "swap or correct the dates"),
    ("transfer_lanes", "to_location.differs", "_distinct_ends", "to_location", "error",
     "from_location and to_location differ", "remove the lane from a location to itself"),
    ("budgets", "period_start.aligned", "_period_start_aligned", "period_start", "error",
     "weekly budgets start on a Monday, monthly budgets on the 1st",
     "move period_start to the Monday of the week or the first of the month"),
    ("external_forecast", "channel.served_by_location", "_location_serves_channel", "channel", "error",
     "the location serves the channel", "correct the location or channel"),
    ("external_forecast", "week_start.monday", "_week_start_monday", "week_start", "error",
     "week_start is a Monday", "date each forecast week by its Monday"),
    ("locked_orders", "sourcing_option.exists", "_matches_sourcing_option", "sku", "error",
     "sku x supplier x ship_to x mode is a sourcing option", "add the sourcing option, or correct the locked order"),
    ("locked_orders", "order_date.in_horizon", "_order_date_in_horizon", "order_date", "warning",
     "order_date inside the plan's weeks (from the Monday of the as-of date, horizon.weeks long); the "
     "line is left out of the plan",
     "a locked order dated before the plan starts has been placed: list it in open_orders; one dated "
     "after the horizon is planned by a later week's run"),
    ("service_targets", "scope_value.given", "_scope_value_given", "scope_value", "error",
     "scope_value is empty exactly when scope is all",
     "fill scope_value with the SKU, class or category, or use scope all"),
    ("channel_reservations", "channel.served_by_location", "_location_serves_channel", "channel", "error",
     "the location serves the channel", "add the channel to the location's channels, or correct the row"),
    ("channel_reservations", "reserved_units.one_of", "_one_reservation_kind", "reserved_units", "error",
     "exactly one of reserved_units and weeks_of_cover", "fill one of the two columns and leave the other empty"),
    ("items", "launch_date.given_for_new", "_launch_date_given", "launch_date", "error",
     "new items have a launch_date", "add the launch date of each new item"),
    ("items", "sku.has_history", "_has_history", "sku", "warning", "active SKUs have demand history",
     "nothing if the SKU is genuinely new (then mark it new with a launch date); otherwise check the export"),
)  # fmt: skip


def calendar_rules() -> list[Rule]:
    """Date cells shaped like dates must also be real calendar dates (no 2027-02-30)."""
    return [
        _flag(contract.name, f"{contract.name}.{column.name}.in_calendar", calendar_flag(column.name), "error",
              f"{column.name} is a real calendar date", f"correct the {column.name} values shown",
              report=column.name)
        for contract in CONTRACTS_BY_NAME.values()
        for column in contract.columns
        if column.kind == "date"
    ]  # fmt: skip


def cross_rules(ctx: RuleContext) -> list[Rule]:
    """Rules that look across tables or at the as-of date (on columns from ``derive_columns``)."""
    flags = [
        _flag(table, f"{table}.{rule_id}", flag, severity, expected, fix, report=report)
        for table, rule_id, flag, report, severity, expected, fix in FLAG_RULES
    ]
    single_snapshot = Rule(
        "inventory",
        "inventory.as_of_date.single",
        "typed",
        "ExpectColumnUniqueValueCountToBeBetween",
        {"column": "as_of_date", "max_value": 1},
        "as_of_date",
        "error",
        "one snapshot date for the whole table",
        "export all locations' stock at the same moment",
    )
    return [*reference_rules(ctx), *flags, single_snapshot]


def build_rules(present_columns: Mapping[str, set[str]], ctx: RuleContext) -> dict[str, list[Rule]]:
    """Every rule of each supplied table, in report order: cells, table, cross-table.

    Cross-table rules are left out for a table that lacks a required column: its derived
    columns would fail on every row and bury the one failure that matters.
    """
    by_table: dict[str, list[Rule]] = {}
    cross = cross_rules(ctx)
    for name, columns in present_columns.items():
        contract = CONTRACTS_BY_NAME[name]
        rules = cell_rules(contract, columns)
        rules += [r for r in calendar_rules() if r.table == name and r.column in columns]
        rules += table_rules(contract, columns)
        if all(c.name in columns for c in contract.columns if c.required):
            rules += [r for r in cross if r.table == name]
        by_table[name] = rules
    return by_table
