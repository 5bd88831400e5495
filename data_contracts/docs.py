"""Generate ``data_contracts/README.md`` from the table declarations.

Run ``python -m data_contracts.docs`` after changing ``data_contracts/tables.py`` or
``data_contracts/outputs.py``; a test fails
when the committed page and the declarations disagree, so the page data owners read is never stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from data_contracts.outputs import ERP_LAYOUTS, OUTPUT_CONTRACTS, ErpLayout, OutputContract
from data_contracts.suites import KIND_EXAMPLES
from data_contracts.tables import CONTRACTS, Column, TableContract

README = Path(__file__).with_name("README.md")

INTRO = """# Input data contracts

These are the tables buyplan reads each week, the contract between the planning service and a
brand's data owners. Put each table in the input location (a local folder or
`s3://bucket/prefix`) as `<table>.csv` or `<table>.parquet` (one of the two, not both).
Every run checks them with Great Expectations before planning: a broken rule stops the run,
writes `_validation/validation_report.json` and `_validation/validation_report.html` next to the
inputs (each failing rule with its failing rows and the fix), exits with code 2 and publishes
nothing. Suspicious but usable data (returns as negative demand, SKUs without history) is
reported as a warning and the run goes on.

This page is generated from `data_contracts/tables.py` by `python -m data_contracts.docs`;
edit the declarations, not this page. How the demo data and the M5 tables are made is in
[SYNTHETIC_DATA.md](SYNTHETIC_DATA.md).

## Conventions
- Header row with the column names below (case-sensitive); extra columns are ignored with a warning.
- Column kinds: {kinds}.
- Empty cells: allowed only where a column says *optional cell*; an empty optional cell takes the
  column's default.
- Quantities are in units; money is in the currency stated (budgets in the reporting currency
  unless the row says otherwise); lead times are in weeks.
- Weeks start on Monday. The plan's as-of date is the inventory snapshot date unless configured.

## Rules that span tables
- Every SKU, supplier and location referenced exists in `items`, `suppliers` and `locations`.
- A demand row's location serves its channel (`locations.channels`).
- Every SKU with demand at a location can be supplied there: a sourcing option ships to that
  location, or transfer lanes lead there from one that does (discontinued SKUs are exempt).
- Demand history ends before the as-of date; open orders are not expected more than
  `validation.open_order_max_days_late` days (default 28) before it.
- The inventory snapshot has a single as-of date (a warning if it is more than 7 days old).
- Budgets of period `week` start on a Monday, of period `month` on the 1st; their category and
  supplier exist. Locked orders match a sourcing option. New items have a launch date.
- A channel reservation names a channel its location serves, and exactly one of a quantity or
  weeks of cover.
- Warnings only: negative demand (returns), allocated above on hand, active SKUs with no history.

## Tables
| table | required | one row per |
|---|---|---|
{index}
"""


def _column_row(column: Column) -> str:
    notes = []
    if not column.required:
        notes.append("optional column")
    if column.nullable or (not column.required and column.default is not None):
        notes.append("optional cell")
    if column.default not in (None, ""):
        notes.append(f"default `{column.default}`")
    if column.min_value is not None:
        notes.append(f"{'>' if column.strict_min else '≥'} {column.min_value:g}")
    if column.max_value is not None:
        notes.append(f"≤ {column.max_value:g}")
    if column.allowed:
        notes.append("one of " + ", ".join(f"`{v}`" for v in column.allowed))
    rules = "; ".join(notes) or "required"
    return f"| `{column.name}` | {column.kind} | {column.unit or ''} | {rules} | {column.description} |"


def table_section(contract: TableContract) -> str:
    lines = [
        f"### {contract.name}",
        f"**{contract.title}.** {contract.description}",
        "",
        f"File: `{contract.name}.csv` or `{contract.name}.parquet`. "
        f"{'Required, at least one row.' if contract.required else 'Optional.'} "
        f"Key (unique): {', '.join(f'`{k}`' for k in contract.key)}.",
        "",
        "| column | kind | unit | rules | meaning |",
        "|---|---|---|---|---|",
        *[_column_row(c) for c in contract.columns],
        "",
        "Example:",
        "```csv",
        contract.example.rstrip("\n"),
        "```",
        *[f"- {note}" for note in contract.notes],
        "",
    ]
    return "\n".join(lines)


OUTPUTS_INTRO = """# Output contracts

What a run publishes, under `plans/as_of=YYYY-MM-DD/run=<run id>/` in the output location. The run
id is derived from the input checksums and the config hash, so the same inputs and configuration
always publish into the same folder, and a rerun completes an interrupted one instead of adding
another.

**Read a run only when it has `_SUCCESS`.** Everything else in the folder is written first, then
`manifest.json` (every output with its rows and SHA-256, every input with its rows and checksum,
solver status, objective, bound, gap, timings and library versions), then `_SUCCESS`. A folder
with `_FAILED` (the error inside) or without a marker is an interrupted run: ignore it. To find
the current plan, read the highest-numbered file in `plans/_latest/all/` (overall) or
`plans/_latest/weeks/as_of=YYYY-MM-DD/` (one week): each holds `run_id`, `as_of` and the run's
`prefix`. These pointer files are created once each, with conditional writes, after `_SUCCESS`,
so they only ever name complete runs; two runs for the same week cannot both become latest.

Tables are Parquet with exactly the schema below (types are Arrow types; nullable columns hold
nulls, never NaN). Week numbers count from 0 = the week starting on the as-of Monday. Money is in
the reporting currency (`costs.currency`). Besides the tables, the folder holds `report.html`
(one self-contained page: charts, exceptions, solver status and gap) and the ERP files below.

| table | what | key |
|---|---|---|
{index}
"""


def output_section(contract: OutputContract) -> str:
    rows = [
        f"| `{c.name}` | {c.type} | {c.unit} | {'nullable' if c.nullable else 'required'} | {c.description} |"
        for c in contract.columns
    ]
    return "\n".join(
        [
            f"### {contract.name}",
            f"**{contract.title}.** {contract.description} File: `{contract.name}.parquet`. "
            f"Key: {', '.join(f'`{k}`' for k in contract.key)}.",
            "",
            "| column | type | unit | nulls | meaning |",
            "|---|---|---|---|---|",
            *rows,
            *[f"- {note}" for note in contract.notes],
            "",
        ]
    )


def erp_section(layout: ErpLayout) -> str:
    return "\n".join(
        [
            f"### {layout.title} (`{layout.file}`)",
            layout.description,
            "",
            "| column | from / meaning |",
            "|---|---|",
            *[f"| `{name}` | {meaning} |" for name, meaning in layout.columns],
            "",
        ]
    )


def render_outputs() -> str:
    index = "\n".join(f"| [{c.name}](#{c.name}) | {c.title.lower()} | {' x '.join(c.key)} |" for c in OUTPUT_CONTRACTS)
    erp_intro = (
        "## ERP import files\n"
        "Derived from `purchase_plan`, in the run folder under `erp/`: UTF-8, a header row, `\\n` line ends, "
        "decimal point `.`. Lines with `firm = true` are inside the frozen window: release them now; the others "
        "are planned and will be replanned next week.\n"
    )
    return (
        OUTPUTS_INTRO.format(index=index)
        + "\n"
        + "\n".join(output_section(c) for c in OUTPUT_CONTRACTS)
        + "\n"
        + erp_intro
        + "\n"
        + "\n".join(erp_section(layout) for layout in ERP_LAYOUTS)
    )


def render() -> str:
    kinds = "; ".join(f"`{kind}` = {text}" for kind, text in {"string": "text", **KIND_EXAMPLES}.items())
    index = "\n".join(
        f"| [{c.name}](#{c.name}) | {'yes' if c.required else 'no'} | {' x '.join(c.key)} |" for c in CONTRACTS
    )
    inputs = INTRO.format(kinds=kinds, index=index) + "\n" + "\n".join(table_section(c) for c in CONTRACTS)
    return inputs + "\n" + render_outputs()


def main() -> int:
    README.write_text(render())
    print(f"wrote {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
