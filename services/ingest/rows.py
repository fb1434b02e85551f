"""Search over an upload's rows: free text, customer, country and a date range. Pure pandas."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from services.errors import Invalid
from services.ingest.roles import require_roles

_ISO_DATE = re.compile(r"^\d{4}-?\d{2}-?\d{2}([T ]\d{2}(:?\d{2}){0,2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$")


@dataclass(frozen=True)
class TransactionFilter:
    """What to keep; empty fields filter nothing. Dates are ISO 8601; a bare date_to includes that whole day."""

    q: str | None = None
    customer: str | None = None
    country: str | None = None
    date_from: str | None = None
    date_to: str | None = None


def filter_transactions(frame: pd.DataFrame, roles: dict[str, str], wanted: TransactionFilter) -> pd.DataFrame:
    """The rows matching every given filter."""
    keep = pd.Series(True, index=frame.index)
    columns = list(frame.columns)
    if wanted.q:
        needle = wanted.q.casefold()
        hits = pd.Series(False, index=frame.index)
        for column in columns:
            if pd.api.types.is_string_dtype(frame[column]) or pd.api.types.is_object_dtype(frame[column]):
                hits |= frame[column].astype("string").str.casefold().str.contains(needle, regex=False).fillna(False)
        keep &= hits
    if wanted.customer:
        require_roles(roles, ("customer",), columns, "filtering by customer")
        keep &= (frame[roles["customer"]].astype("string") == wanted.customer.strip()).fillna(False)
    if wanted.country:
        require_roles(roles, ("country",), columns, "filtering by country")
        country = frame[roles["country"]].astype("string").str.casefold()
        keep &= (country == wanted.country.strip().casefold()).fillna(False)
    if wanted.date_from or wanted.date_to:
        require_roles(roles, ("date",), columns, "filtering by date")
        dates = frame[roles["date"]]
        if wanted.date_from:
            keep &= (dates >= _timestamp(wanted.date_from, "date_from")).fillna(False)
        if wanted.date_to:
            end = _timestamp(wanted.date_to, "date_to")
            whole_day = ":" not in wanted.date_to  # a bare date covers that whole day
            keep &= (dates < end + pd.Timedelta(days=1) if whole_day else dates <= end).fillna(False)
    return frame[keep]


def sort_rows(frame: pd.DataFrame, column: str | None, order: str) -> pd.DataFrame:
    """Rows sorted by one of the file's columns (stable, missing values last)."""
    if not column:
        return frame
    if column not in frame.columns:
        raise Invalid.field("sort", f"no column {column!r}; the file has {', '.join(map(str, frame.columns))}")
    return frame.sort_values(column, ascending=order != "desc", kind="stable", na_position="last")


def iso_timestamp(value: str, field: str) -> pd.Timestamp:
    """A naive UTC timestamp from an ISO 8601 date or date-time; anything else ("now", "", "NaT") is a 422."""
    if not _ISO_DATE.match(value):
        raise Invalid.field(field, "must be an ISO 8601 date such as 2011-12-31")
    try:
        stamp = pd.Timestamp(value)
    except ValueError as exc:
        raise Invalid.field(field, "must be an ISO 8601 date such as 2011-12-31") from exc
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def _timestamp(value: str, field: str) -> pd.Timestamp:
    return iso_timestamp(value.strip(), field)
