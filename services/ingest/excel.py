"""Spreadsheets: .xlsx through fastexcel (calamine, straight to Arrow), .xls through xlrd; header row found."""
from __future__ import annotations

from pathlib import Path

import fastexcel
import pandas as pd
import xlrd

from services.errors import Invalid
from services.ingest.columns import check_headers

HEADER_SEARCH_ROWS = 30


def sheet_names(path: Path, kind: str) -> list[str]:
    """The workbook's sheet names, in order."""
    try:
        if kind == "xlsx":
            return [str(name) for name in fastexcel.read_excel(str(path)).sheet_names]
        return [str(name) for name in xlrd.open_workbook(str(path), on_demand=True).sheet_names()]
    except Exception as exc:  # noqa: BLE001 - each engine raises its own types for damaged files
        raise Invalid(f"the workbook could not be opened: {_reason(exc)}") from exc


def choose_sheet(names: list[str], requested: str | None) -> str:
    """The requested sheet (by name, or by position counting from 1), else the first one."""
    if not names:
        raise Invalid("the workbook has no sheets")
    if requested is None or requested == "":
        return names[0]
    if requested in names:
        return requested
    if requested.isdigit() and 1 <= int(requested) <= len(names):
        return names[int(requested) - 1]
    raise Invalid.field("sheet", f"no sheet {requested!r}; the workbook has {', '.join(names)}")


def read_sheet(path: Path, kind: str, sheet: str) -> pd.DataFrame:
    """The sheet as a typed table whose columns come from its header row (title rows above it are skipped)."""
    try:
        frame = _read_xlsx(path, sheet) if kind == "xlsx" else _read_xls(path, sheet)
    except Invalid:
        raise
    except Exception as exc:  # noqa: BLE001 - engines raise assorted errors for damaged files
        raise Invalid(f"sheet {sheet!r} could not be read: {_reason(exc)}") from exc
    frame = frame.dropna(how="all")
    if frame.empty:
        raise Invalid(f"sheet {sheet!r} has a header but no data rows")
    return frame.reset_index(drop=True)


def read_sheet_or_none(path: Path, kind: str, sheet: str) -> pd.DataFrame | None:
    """The sheet as read_sheet reads it, or None when it holds no table (empty, or no header row)."""
    try:
        return read_sheet(path, kind, sheet)
    except Invalid:
        return None


def _read_xlsx(path: Path, sheet: str) -> pd.DataFrame:
    reader = fastexcel.read_excel(str(path))
    # Most sheets start with their header: one full parse. A title above it costs a second one.
    # eager: calamine straight into one Arrow batch; the schema is read from every row so a late text value
    # in a numeric-looking column makes the column text instead of being dropped.
    frame = reader.load_sheet(sheet, header_row=0, schema_sample_rows=None, eager=True).to_pandas()
    raw_names = [None if str(name).startswith("__UNNAMED__") else name for name in frame.columns]
    header_row = _header_row([raw_names, *frame.head(HEADER_SEARCH_ROWS).itertuples(index=False)], sheet)
    if header_row > 0:
        raw_names = list(frame.iloc[header_row - 1])
        frame = reader.load_sheet(sheet, header_row=header_row, schema_sample_rows=None, eager=True).to_pandas()
    return _named(frame, raw_names)


def _read_xls(path: Path, sheet: str) -> pd.DataFrame:
    book = xlrd.open_workbook(str(path), on_demand=True)
    cells = book.sheet_by_name(sheet)
    grid = pd.DataFrame([[_xls_value(cell, book.datemode) for cell in cells.row(r)] for r in range(cells.nrows)])
    grid = grid.dropna(how="all")
    if grid.empty:
        raise Invalid(f"sheet {sheet!r} is empty")
    header_row = _header_row(list(grid.head(HEADER_SEARCH_ROWS).itertuples(index=False)), sheet)
    # Cell by cell the header row makes every column object; the body alone gives numbers their dtype back.
    return _named(grid.iloc[header_row + 1:].infer_objects(), list(grid.iloc[header_row]))


def _xls_value(cell: xlrd.sheet.Cell, datemode: int):
    """An .xls cell as a Python value: dates as datetimes, blanks and error cells as None."""
    if cell.ctype == xlrd.XL_CELL_DATE:
        return xlrd.xldate.xldate_as_datetime(cell.value, datemode)
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return None
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    return cell.value


def _named(frame: pd.DataFrame, raw_names: list) -> pd.DataFrame:
    """Drop unnamed empty columns, then apply the checked header names."""
    texts = [_header_text(name) for name in raw_names]
    keep = [i for i, name in enumerate(texts) if name or frame.iloc[:, i].notna().any()]
    frame = frame.iloc[:, keep]
    frame.columns = check_headers([texts[i] for i in keep])
    return frame


def _header_row(rows: list, sheet: str) -> int:
    """Index of the first row that is at least half filled and mostly text."""
    width = max((sum(1 for value in row if _filled(value)) for row in rows), default=0)
    for position, row in enumerate(rows):
        filled = sum(1 for value in row if _filled(value))
        texts = sum(1 for value in row if isinstance(value, str) and value.strip())
        if filled >= max(1, (width + 1) // 2) and texts >= max(1, (filled + 1) // 2):
            return position
    raise Invalid(f"no header row found in the first {HEADER_SEARCH_ROWS} rows of sheet {sheet!r}")


def _filled(value) -> bool:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return False
    return not (isinstance(value, str) and not value.strip())


def _header_text(value) -> str:
    if not _filled(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else exc.__class__.__name__
