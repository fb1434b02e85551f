"""Client `params` for an analysis, checked field by field into the dataclasses the pure modules take."""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass

import pandas as pd

from services.analysis.basket import BasketParams
from services.analysis.cleaning import CleaningParams
from services.analysis.rfm import RfmParams
from services.analysis.statistical import StatsParams
from services.errors import Invalid
from services.ingest.rows import iso_timestamp

ANALYSIS_TYPES = ("cleaning", "rfm", "basket", "statistical")
SPECIFIC = {"rfm": RfmParams, "basket": BasketParams, "statistical": StatsParams}
# Guests' baskets are still baskets and their revenue is still revenue: only customer analyses drop them.
# Outliers are reported by the cleaning analysis; the others only remove them when asked.
DEFAULT_RULES = {"rfm": {"outliers": "off"}, "basket": {"missing_customer": False, "outliers": "off"},
                 "statistical": {"missing_customer": False, "outliers": "off"}}


@dataclass(frozen=True)
class AnalysisRequest:
    """Everything one run needs besides the data."""

    analysis_type: str
    columns: dict
    clean: bool
    cleaning: CleaningParams
    specific: object | None


def parse_request(analysis_type: str, params: dict) -> AnalysisRequest:
    """Validate `params` for `analysis_type`; unknown or mistyped fields are a 422 naming them."""
    if analysis_type not in ANALYSIS_TYPES:
        raise Invalid.field("type", f"must be one of {', '.join(ANALYSIS_TYPES)}")
    if not isinstance(params, dict):
        raise Invalid.field("params", "must be an object")
    raw = dict(params)
    columns = raw.pop("columns", None)
    columns = {} if columns is None else columns
    if not isinstance(columns, dict) or not all(isinstance(v, str | None) for v in columns.values()):
        raise Invalid.field("params.columns", "must be an object {role: column name or null}")
    clean = raw.pop("clean", True)
    if not isinstance(clean, bool):
        raise Invalid.field("params.clean", "must be true or false")
    if analysis_type == "cleaning":
        rules, specific_raw = raw, {}
    else:
        rules = raw.pop("cleaning", None)
        rules = {} if rules is None else rules
        if not isinstance(rules, dict):
            raise Invalid.field("params.cleaning", "must be an object of rule switches")
        specific_raw = raw
    cleaning = build(CleaningParams, {**DEFAULT_RULES.get(analysis_type, {}), **rules},
                     "params" if analysis_type == "cleaning" else "params.cleaning")
    specific = build(SPECIFIC[analysis_type], specific_raw, "params") if analysis_type in SPECIFIC else None
    return AnalysisRequest(analysis_type, columns, clean, cleaning, specific)


def build(cls: type, raw: dict, prefix: str):
    """An instance of dataclass `cls` from `raw`, with every value checked against the field's type."""
    fields = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise Invalid(f"unknown parameter(s) {', '.join(unknown)}; {prefix} takes {', '.join(fields)}",
                      errors=[{"field": f"{prefix}.{name}", "message": "unknown parameter"} for name in unknown])
    hints = typing.get_type_hints(cls)
    values = {name: _coerce(value, hints[name], f"{prefix}.{name}") for name, value in raw.items()}
    try:
        return cls(**values)
    except Invalid as exc:
        exc.errors = [{**e, "field": f"{prefix}.{e['field']}"} for e in exc.errors or []]
        raise


def _coerce(value, hint, field: str):
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union \
        else (hint,)
    if value is None and type(None) in options:
        return None
    for option in options:
        if option is bool and isinstance(value, bool):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option is float and isinstance(value, int | float) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:
                raise Invalid.field(field, "is too large") from None
            if math.isfinite(number):
                return number
        if option is str and isinstance(value, str):
            return value
        if option is pd.Timestamp and isinstance(value, str):
            return iso_timestamp(value, field)
        if typing.get_origin(option) is tuple and isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
    names = [getattr(o, "__name__", str(o)) for o in options if o is not type(None)]
    raise Invalid.field(field, f"must be {' or '.join(_readable(n) for n in names)}")


def _readable(type_name: str) -> str:
    return {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "text",
            "Timestamp": "an ISO 8601 date", "tuple": "a list of texts"}.get(type_name, type_name)
