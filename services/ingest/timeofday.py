"""A time of day kept in its own column ("date" + "time", as POS exports write them) is folded into the date role."""
from __future__ import annotations

import datetime as dt
import logging

import pandas as pd

from services.ingest.roles import normalise_name

logger = logging.getLogger(__name__)
TIME_NAMES = frozenset({"time", "timeofday", "ordertime", "transactiontime", "invoicetime", "saletime", "hour",
                        "heure", "jam", "waktu", "hora", "uhrzeit", "zeit", "เวลา"})
_TIME_TEXT = r"\s*\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(\s?[AaPp][Mm])?\s*"
MIN_SHARE = 0.95


def fold_time_of_day(frame: pd.DataFrame, roles: dict[str, str]) -> tuple[pd.DataFrame, str | None]:
    """When the date role holds dates without times and another column holds times of day, add them to the
    date column; returns the frame and a warning that says so (None when nothing was folded)."""
    date_column = roles.get("date")
    if date_column is None or not pd.api.types.is_datetime64_any_dtype(frame[date_column]):
        return frame, None
    dates = frame[date_column]
    if (dates.dropna() != dates.dropna().dt.normalize()).any():
        return frame, None  # the dates already carry their time
    used = set(roles.values())
    for column in frame.columns:
        if column in used:
            continue
        offsets = _time_offsets(frame[column], named=normalise_name(column) in TIME_NAMES)
        if offsets is not None:
            folded = frame.assign(**{date_column: dates + offsets.fillna(pd.Timedelta(0))})
            return folded, f"{date_column}: the time of day in {column} was added to it"
    return frame, None


def _time_offsets(values: pd.Series, named: bool) -> pd.Series | None:
    """The values as time since midnight when (nearly) all of them are times of day, else None."""
    present = values.dropna()
    if present.empty:
        return None
    if pd.api.types.is_timedelta64_dtype(values):
        return values if named else None
    if pd.api.types.is_object_dtype(values) and all(isinstance(v, dt.time) for v in present):
        text = values.map(lambda v: v.isoformat() if isinstance(v, dt.time) else None)
    elif pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values):
        text = values.astype("string")
    else:
        return None
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype="string")
    if float(distinct.str.fullmatch(_TIME_TEXT).mean()) < MIN_SHARE:
        return None
    parsed = pd.to_datetime("2000-01-01 " + distinct.str.strip(), errors="coerce", format="mixed")
    offsets = (parsed - pd.Timestamp("2000-01-01")).to_numpy()
    result = pd.Series(offsets[codes], index=values.index)
    result[codes < 0] = pd.NaT
    if result.notna().sum() < MIN_SHARE * len(present):
        return None
    return result
