"""Reading the canonical input tables and turning their cells into typed columns.

Two views of each table are kept, because data owners need to hear about a bad cell in the
words they wrote it in:
  * the *text* view: every cell as the text it was supplied as (CSV as read; Parquet values
    formatted the way a CSV would hold them), used to check that cells parse;
  * the *typed* view: contract columns parsed to numbers, dates and booleans, optional
    columns added with their defaults, cells that do not parse left empty (they are reported
    from the text view, so they are not reported twice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from data_contracts.tables import CONTRACTS, Column, TableContract
from planning.storage import LoadedTable, Storage, read_table

# Row numbers in reports count data rows from 1, as a spreadsheet user sees them below the header.
ROW_COLUMN = "_row"

INT_PATTERN = r"^\s*[+-]?\d+(?:\.0*)?\s*$"
FLOAT_PATTERN = r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$"
DATE_PATTERN = r"^\s*\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[ T]00:00(?::00(?:\.0+)?)?)?\s*$"
BOOL_TRUE = frozenset({"true", "1", "yes", "y", "t"})
BOOL_FALSE = frozenset({"false", "0", "no", "n", "f"})
BOOL_PATTERN = r"^\s*(?i:true|false|1|0|1\.0|0\.0|yes|no|y|n|t|f)\s*$"
LIST_PATTERN = r"^\s*[^;\s][^;]*(?:;\s*[^;\s][^;]*)*;?\s*$"

PATTERN_BY_KIND = {
    "int": INT_PATTERN,
    "float": FLOAT_PATTERN,
    "date": DATE_PATTERN,
    "bool": BOOL_PATTERN,
    "list": LIST_PATTERN,
}


@dataclass(frozen=True, slots=True)
class InputTable:
    """One supplied table in both views, plus where it came from."""

    contract: TableContract
    source: LoadedTable
    text: pd.DataFrame
    typed: pd.DataFrame
    unknown_columns: tuple[str, ...]
    missing_columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.contract.name

    @property
    def row_count(self) -> int:
        return len(self.typed)


def _format_cell(value: object) -> object:
    """Render a Parquet value as the text a CSV would hold (missing stays missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return pd.NA
    if isinstance(value, float) and math.isnan(value):
        return pd.NA
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


def to_text_frame(frame: pd.DataFrame, is_text: bool) -> pd.DataFrame:
    """Every cell as text (pandas string dtype), empty and missing cells as NA."""
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        series = frame[name]
        if not is_text:
            series = series.map(_format_cell)
        text = series.astype("string").str.strip()
        out[str(name)] = text.mask(text == "")
    return out


def _parse_bool(text: pd.Series) -> pd.Series:
    lowered = text.str.lower().str.replace(r"\.0$", "", regex=True)
    parsed = pd.Series(pd.NA, index=text.index, dtype="boolean")
    parsed[lowered.isin(BOOL_TRUE).fillna(False).astype(bool)] = True
    parsed[lowered.isin(BOOL_FALSE).fillna(False).astype(bool)] = False
    return parsed


def parse_column(text: pd.Series, column: Column) -> pd.Series:
    """Parse one text column by its contract kind; unparseable cells become missing."""
    if column.kind == "string":
        return text.astype("string")
    if column.kind == "list":
        return text.astype("string").str.replace(r"\s*;\s*", ";", regex=True).str.strip(";")
    if column.kind == "bool":
        return _parse_bool(text)
    if column.kind == "date":
        dates = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
        return dates.astype("datetime64[ns]")
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    if column.kind == "int":
        whole = numbers.where(np.isclose(numbers, numbers.round()))
        return whole.round().astype("Int64")
    return numbers


def calendar_flag(column: str) -> str:
    """Name of the derived column that is False where a date-shaped cell is not a real date."""
    return f"_{column}_in_calendar"


def _default_series(column: Column, index: pd.Index) -> pd.Series:
    value = column.default
    if column.kind == "date":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if column.kind in ("string", "list"):
        return pd.Series(value if value is not None else pd.NA, index=index, dtype="string")
    if column.kind == "bool":
        return pd.Series(value if value is not None else pd.NA, index=index, dtype="boolean")
    if column.kind == "int":
        return pd.Series(value if value is not None else pd.NA, index=index, dtype="Int64")
    return pd.Series(value if value is not None else np.nan, index=index, dtype="float64")


def typed_frame(text: pd.DataFrame, contract: TableContract) -> pd.DataFrame:
    """The contract's columns parsed, with defaults for absent or empty optional cells."""
    typed = pd.DataFrame(index=text.index)
    for column in contract.columns:
        if column.name in text.columns:
            parsed = parse_column(text[column.name], column)
            if column.default is not None:
                # Only empty cells take the default; an unparseable cell stays missing.
                empty = text[column.name].isna()
                parsed = parsed.mask(empty, _default_series(column, text.index))
            typed[column.name] = parsed
            if column.kind == "date":
                # The shape rule accepts 2027-02-30; the calendar does not. Flag those cells.
                shaped = text[column.name].str.match(DATE_PATTERN).fillna(False).astype(bool)
                typed[calendar_flag(column.name)] = ~(shaped & parsed.isna())
        else:
            typed[column.name] = _default_series(column, text.index)
    typed[ROW_COLUMN] = np.arange(1, len(text) + 1)
    return typed


def build_input_table(contract: TableContract, loaded: LoadedTable) -> InputTable:
    """Both views of a loaded table, and which columns differ from the contract."""
    frame = loaded.frame.reset_index(drop=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    text = to_text_frame(frame, is_text=loaded.fmt == "csv")
    known = set(contract.column_names)
    unknown = tuple(c for c in text.columns if c not in known)
    missing = tuple(c.name for c in contract.columns if c.required and c.name not in text.columns)
    return InputTable(
        contract=contract,
        source=loaded,
        text=text,
        typed=typed_frame(text, contract),
        unknown_columns=unknown,
        missing_columns=missing,
    )


def load_input_tables(storage: Storage) -> dict[str, InputTable]:
    """Read every canonical table present in ``storage``; absent tables are simply left out."""
    tables: dict[str, InputTable] = {}
    for contract in CONTRACTS:
        loaded = read_table(storage, contract.name)
        if loaded is not None:
            tables[contract.name] = build_input_table(contract, loaded)
    return tables
