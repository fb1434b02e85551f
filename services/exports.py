"""Downloads that are safe to open in a spreadsheet: CSV with formula-looking text neutralised (OWASP), XLSX
with text cells only."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a single quote; numbers stay numbers."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            text = values.astype("string")
            risky = text.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
            if risky.any():
                safe[column] = text.where(~risky, "'" + text)
    return safe


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of the frame, formula-safe, dates in ISO 8601."""
    return neutralise_formulas(frame).to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").encode("utf-8")


def xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An XLSX workbook, one sheet per frame, where every text cell is stored as text: no cell is ever a formula."""
    workbook = Workbook(write_only=True)
    for name, frame in sheets.items():
        sheet = workbook.create_sheet(title=_sheet_title(name))
        sheet.append([str(column) for column in frame.columns])
        for row in frame.itertuples(index=False):
            sheet.append([_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet, value) -> WriteOnlyCell | object:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (list, tuple, dict)):
        value = str(value)
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # openpyxl would store "=..." as a formula otherwise
        return cell
    return value


def _sheet_title(name: str) -> str:
    return "".join(ch for ch in name if ch not in "[]:*?/\\")[:31] or "sheet"
