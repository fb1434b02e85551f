"""Money rounding shared by every analysis: half away from zero to the cent, on the decimal text of the float."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def half_up(value: float | Decimal, decimals: int = 2) -> float:
    """Round half away from zero on the decimal text of a float (so 2.675 -> 2.68), or on an exact Decimal;
    -0.0 becomes 0.0."""
    number = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return float(number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)) + 0.0
