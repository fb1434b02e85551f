"""Header checks and column typing: ids stay text, money and counts become numbers, dates become timestamps."""
from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np
import pandas as pd

from services.errors import Invalid
from services.ingest.roles import ID_ROLES, NUMERIC_ROLES, looks_like_dates, normalise_name

DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d",
    "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y", "%m/%d/%y %H:%M", "%m/%d/%y",
    "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y", "%d/%m/%y %H:%M", "%d/%m/%y",
    "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y", "%d-%m-%Y %H:%M", "%d-%m-%Y",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p",
)
DAY_FIRST_FORMATS = tuple(sorted(DATE_FORMATS, key=lambda fmt: not fmt.startswith("%d")))
_INTEGRAL_FLOAT_TEXT = re.compile(r"^-?\d+\.0+$")
# Values that stand for "nothing" in exports; in id and item columns they are missing, never an item "NONE".
PLACEHOLDERS = frozenset({"none", "n/a", "na", "#n/a", "null", "nan", "-", "--", "?", "(blank)", "(none)"})
# Numeric columns named like these are codes (postal codes, row ids), shown as text without Excel's ".0".
_CODE_NAME = re.compile(r".*(id|code|no|nr|num|number|zip|zipcode|postal|postcode|plz|phone|tel)")
_DAY_MONTH = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}\b"
# A separator followed by other than exactly three digits, or after dotted/commaed thousands, is a decimal mark.
_COMMA_DECIMAL = r"[-+]?\d+,(\d{1,2}|\d{4,})|[-+]?\d{1,3}(\.\d{3})+,\d+"
_DOT_DECIMAL = r"[-+]?\d+\.(\d{1,2}|\d{4,})|[-+]?\d{1,3}(,\d{3})+\.\d+"


def check_headers(names: list) -> list[str]:
    """Header names as text; blank or duplicate names are a 422 that names them."""
    cleaned = ["" if name is None else str(name).strip() for name in names]
    blanks = [i + 1 for i, name in enumerate(cleaned) if name == "" or name.lower().startswith("unnamed:")]
    if blanks:
        raise Invalid(f"the header row has blank column names at position(s) {', '.join(map(str, blanks))}",
                      errors=[{"field": f"column {i}", "message": "blank header"} for i in blanks])
    duplicates = sorted(name for name, count in Counter(cleaned).items() if count > 1)
    if duplicates:
        raise Invalid(f"the header row repeats column name(s): {', '.join(duplicates)}",
                      errors=[{"field": name, "message": "duplicate header"} for name in duplicates])
    return cleaned


def type_columns(frame: pd.DataFrame, roles: dict[str, str], decimal: str = ".",
                 dayfirst: bool | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Give each column its type (roles first, then numbers, codes and dates by content); returns warnings."""
    warnings: list[str] = []
    typed = {}
    for column in frame.columns:
        values = frame[column]
        role = next((r for r, c in roles.items() if c == column and r != "description"), None)
        if role in ID_ROLES:
            typed[column] = as_id_text(values)
        elif role in NUMERIC_ROLES:
            typed[column], failed = as_number(values, decimal)
            if failed:
                warnings.append(f"{column}: {failed:,} value(s) are not numbers and were left empty")
        elif role == "date" or role is None and _is_text(values) and looks_like_dates(values.head(2000)):
            typed[column], failed = as_datetime(values, dayfirst)
            if failed:
                warnings.append(f"{column}: {failed:,} value(s) are not dates and were left empty")
            if dayfirst is None and ambiguous_day_month(values):
                warnings.append(f"{column}: every day and month is 12 or less, so a date such as 03/04 could be "
                                "3 April or 4 March; read month first. Upload again with dayfirst=true for day first")
        elif role is None and _CODE_NAME.fullmatch(normalise_name(column)) and \
                (_is_numeric(values) or pd.api.types.is_object_dtype(values)):
            typed[column] = as_id_text(values)  # Excel's 42420.0 (or a mix of numbers and text) as 42420
        elif role is None and _is_numeric(values):
            typed[column] = _whole_numbers_as_int(pd.to_numeric(values).astype("float64"))
        elif role == "status" or "description" in roles and roles["description"] == column:
            typed[column] = _text_without_placeholders(_tidy_text(values))
        else:
            typed[column] = _tidy_text(values)
    return pd.DataFrame(typed, index=frame.index), warnings


def without_placeholders(text: pd.Series) -> pd.Series:
    """Trimmed text with placeholders (NONE, N/A, -, ?, blank...) as missing values."""
    return text.mask(text.str.casefold().isin(PLACEHOLDERS) | (text == ""))


def _text_without_placeholders(values: pd.Series) -> pd.Series:
    """Text as it is (spaces kept, they tell labels apart), placeholders missing; worked on the distinct values."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype="string")
    placeholder = without_placeholders(distinct.str.strip()).isna().to_numpy()
    return values.astype("string").mask(np.isin(codes, np.flatnonzero(placeholder)))


def ambiguous_day_month(values: pd.Series) -> bool:
    """True when dates are written d/m or m/d and no value shows which (both parts are 12 or less everywhere)."""
    if not _is_text(values):
        return False
    distinct = pd.Series(values.dropna().unique()).astype("string")
    parts = distinct.str.extract(_DAY_MONTH)
    if distinct.empty or parts[0].isna().any():
        return False
    first, second = parts[0].astype(int), parts[1].astype(int)
    return bool(first.max() <= 12 and second.max() <= 12 and (first != second).any())


def as_id_text(values: pd.Series) -> pd.Series:
    """Ids as trimmed text; Excel-style floats (17850.0) lose the '.0', leading zeros are kept."""
    # Ids repeat a lot: clean the distinct values once, then spread them back with one take.
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = pd.Series(uniques)
    if pd.api.types.is_string_dtype(distinct):
        text = without_placeholders(distinct.astype("string").str.strip())
    else:  # Excel cells mixing numbers and text
        text = without_placeholders(pd.Series([_id_text(value) for value in distinct], dtype="string"))
    text = pd.concat([text, pd.Series([pd.NA], dtype="string")], ignore_index=True)
    present = text.dropna()
    if len(present) and present.str.fullmatch(_INTEGRAL_FLOAT_TEXT).all():
        text = text.str.replace(r"\.0+$", "", regex=True)
    spread = text.take(np.where(codes < 0, len(text) - 1, codes))
    spread.index = values.index
    return spread


def _id_text(value) -> str | None:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


def as_number(values: pd.Series, decimal: str = ".") -> tuple[pd.Series, int]:
    """Numbers from numbers or text (currency signs, spaces, thousands separators, (negatives)); count failures."""
    if pd.api.types.is_bool_dtype(values):
        values = values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):
        return _whole_numbers_as_int(values), 0
    text = values.astype("string").str.strip()
    text = text.mask(text == "")
    cleaned = text.str.replace(r"[\s$€£¥₹฿%'\u00a0]", "", regex=True).str.replace(r"^\((.*)\)$", r"-\1", regex=True)
    decimal = _column_decimal_mark(cleaned, decimal)
    if decimal == ",":
        cleaned = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        cleaned = cleaned.str.replace(",", "", regex=False)
    numbers = pd.to_numeric(cleaned, errors="coerce")
    failed = int((numbers.isna() & text.notna()).sum())
    return _whole_numbers_as_int(numbers.astype("float64")), failed


def _column_decimal_mark(cleaned: pd.Series, file_mark: str) -> str:
    """The column's own decimal mark when its values say so ("2,50" is never 250), else the file's."""
    comma = int(cleaned.str.fullmatch(_COMMA_DECIMAL).sum())
    dot = int(cleaned.str.fullmatch(_DOT_DECIMAL).sum())
    if comma != dot:
        return "," if comma > dot else "."
    return file_mark


def _whole_numbers_as_int(values: pd.Series) -> pd.Series:
    """Spreadsheets store counts as floats; complete columns of whole numbers become int64 again."""
    if pd.api.types.is_float_dtype(values) and len(values) and values.notna().all():
        whole = np.floor(values) == values
        if whole.all() and values.abs().max() < 2**53:
            return values.astype("int64")
    return values


def as_datetime(values: pd.Series, dayfirst: bool | None = None) -> tuple[pd.Series, int]:
    """Timestamps, trying the usual formats on the distinct values and keeping the one that parses most
    (month first where both would do, unless `dayfirst`)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return _naive(values), 0
    if pd.api.types.is_integer_dtype(values):  # 19970101: yyyymmdd written as a number
        parsed = pd.to_datetime(values.astype("string"), format="%Y%m%d", errors="coerce")
        return _naive(parsed), int((parsed.isna() & values.notna()).sum())
    if pd.api.types.is_numeric_dtype(values):
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]"), int(values.notna().sum())
    codes, uniques = pd.factorize(values.astype("string").str.strip(), use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype="string")
    parsed = _best_parse(distinct, DAY_FIRST_FORMATS if dayfirst else DATE_FORMATS)
    result = pd.Series(parsed.to_numpy()[codes], index=values.index)
    result[codes < 0] = pd.NaT
    failed = int((result.isna() & (codes >= 0) & (values.astype("string").str.strip() != "")).sum())
    return _naive(result), failed


def _best_parse(distinct: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    best, best_ok = None, -1
    probe = distinct.head(500)
    for fmt in formats:
        ok = int(pd.to_datetime(probe, format=fmt, errors="coerce").notna().sum())
        if ok > best_ok:
            best, best_ok = fmt, ok
        if ok == len(probe):
            break
    if best_ok <= 0:
        return pd.to_datetime(distinct, format="ISO8601", errors="coerce", utc=True)
    parsed = pd.to_datetime(distinct, format=best, errors="coerce")
    # Exports often drop the time at midnight ("12/1/2010" among "12/1/2010 8:26"): same date order, other times.
    date_order = best.split(" ")[0]
    for fmt in formats:
        missing = parsed.isna() & distinct.notna()
        if not missing.any():
            break
        if fmt != best and fmt.split(" ")[0] == date_order:
            parsed[missing] = pd.to_datetime(distinct[missing], format=fmt, errors="coerce")
    return parsed


def _naive(values: pd.Series) -> pd.Series:
    """Timezone-aware values become naive UTC, so every file compares alike."""
    values = pd.to_datetime(values, errors="coerce")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype("datetime64[us]")


def _is_numeric(values: pd.Series) -> bool:
    """Numbers, or an object column (an .xls read cell by cell) holding only numbers."""
    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_numeric_dtype(values):
        return True
    return pd.api.types.is_object_dtype(values) and values.notna().any() and \
        pd.api.types.infer_dtype(values, skipna=True) in ("integer", "floating", "mixed-integer-float")


def _is_text(values: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)


def _tidy_text(values: pd.Series) -> pd.Series:
    """Object columns mixing numbers, text and nested JSON become text, so Parquet can store them."""
    if pd.api.types.is_object_dtype(values):
        return values.map(_text_or_none).astype("string")
    return values


def _text_or_none(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
