"""Downloads that are safe to open in a spreadsheet: CSV with formula-looking text neutralised (OWASP)."""
from __future__ import annotations

import pandas as pd

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
