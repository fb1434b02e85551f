"""How the statistical analysis writes its numbers: money in cents, statistics, shares, quantities, labels."""
from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd

from services.analysis.money import half_up

SHARE_DECIMALS = 4


def month_label(months_since_1970: int) -> str:
    """"YYYY-MM" of a month counted from 1970-01."""
    year, month = divmod(months_since_1970, 12)
    return f"{1970 + year:04d}-{month + 1:02d}"


def ratio(numerator: float | None, denominator: int | None) -> float | None:
    """numerator / denominator; None when either is missing or the denominator is 0."""
    return None if numerator is None or not denominator else numerator / denominator


def finite(value: object) -> bool:
    """A present, finite number."""
    return value is not None and not pd.isna(value) and math.isfinite(float(value))


def money(value: float | None) -> float | None:
    """Cents, half away from zero; None for a missing or infinite value."""
    return half_up(value) if finite(value) else None


def number(value: object) -> float | None:
    """A statistic at full float precision; None for a missing or infinite value."""
    return float(value) + 0.0 if finite(value) else None


def share(value: float) -> float | None:
    """A share with 4 decimals; None for a missing or infinite value."""
    return round(float(value), SHARE_DECIMALS) if finite(value) else None


def quantity(value: float | None) -> int | float | None:
    """Whole totals as int, fractional ones (weights) with 4 decimals."""
    if not finite(value):
        return None
    value = round(float(value), 4) + 0.0
    return int(value) if value.is_integer() else value


def edge_text(value: float) -> str:
    """A bin edge without exponent or trailing zeros: 25.0 -> "25", 1e-07 -> "0.0000001"."""
    text = format(Decimal(str(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
