"""JSON uploads: an array of records, an object holding one such array, or JSON lines."""
from __future__ import annotations

import json

import pandas as pd

from services.errors import Invalid


def read_json_records(text: str) -> pd.DataFrame:
    """The records as a table; nested values are kept as JSON text."""
    stripped = text.strip()
    try:
        records = _records(json.loads(stripped))
    except json.JSONDecodeError as exc:
        records = _json_lines(stripped, first_error=exc)
    if not records:
        raise Invalid("the JSON holds no records")
    bad = next((i for i, record in enumerate(records) if not isinstance(record, dict)), None)
    if bad is not None:
        raise Invalid(f"record {bad + 1} is not an object: every record must be {{\"column\": value, ...}}")
    return pd.DataFrame.from_records(records)


def _records(document) -> list:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        arrays = [value for value in document.values() if isinstance(value, list)]
        if len(arrays) == 1:
            return arrays[0]
        return [document]
    raise Invalid("the JSON must be an array of records or JSON lines")


def _json_lines(text: str, first_error: json.JSONDecodeError) -> list:
    records = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            where = f"line {line_number}" if line_number > 1 else f"line {first_error.lineno}"
            raise Invalid(f"the file is not valid JSON or JSON lines: {exc.msg} at {where}") from exc
    return records
