"""The array cache of the statistical analysis: a view's columns as numpy arrays and integer codes, each
prepared once and only when a section needs it."""
from __future__ import annotations

import logging
from functools import cached_property

import numpy as np
import pandas as pd

from services.analysis.frame import need

logger = logging.getLogger(__name__)


class Lines:
    """The view's columns as numpy arrays and integer codes, each prepared once and only when a section needs it."""

    def __init__(self, view: pd.DataFrame) -> None:
        need(view, ("amount",), "The statistical analysis", [str(column) for column in view.columns])
        self.view = view
        self.rows = len(view)

    # numbers ------------------------------------------------------------------------------------------------
    def numbers(self, role: str) -> np.ndarray | None:
        """The role's values as float64, NaN where missing or infinite; None without the column."""
        return getattr(self, role)

    @cached_property
    def amount(self) -> np.ndarray:
        return floats(self.view["amount"])

    @cached_property
    def quantity(self) -> np.ndarray | None:
        return floats(self.view["quantity"]) if "quantity" in self.view else None

    @cached_property
    def unit_price(self) -> np.ndarray | None:
        return floats(self.view["unit_price"]) if "unit_price" in self.view else None

    @cached_property
    def revenue_weights(self) -> np.ndarray:
        """Amounts with missing ones as 0, ready for sums."""
        return np.nan_to_num(self.amount, nan=0.0)

    @cached_property
    def quantity_weights(self) -> np.ndarray | None:
        return None if self.quantity is None else np.nan_to_num(self.quantity, nan=0.0)

    # keys ---------------------------------------------------------------------------------------------------
    @cached_property
    def orders(self) -> tuple[np.ndarray, int]:
        """Each line's order code (-1 without an invoice) and the number of orders."""
        if "invoice" not in self.view:
            return np.arange(self.rows, dtype=np.int64), self.rows
        codes, uniques = factorize(self.view["invoice"])
        return codes, len(uniques)

    @cached_property
    def customers(self) -> tuple[np.ndarray, pd.Index] | None:
        return factorize(self.view["customer"]) if "customer" in self.view else None

    @cached_property
    def countries(self) -> tuple[np.ndarray, pd.Index] | None:
        return factorize(self.view["country"]) if "country" in self.view else None

    @cached_property
    def products(self) -> tuple[np.ndarray, pd.Index] | None:
        """Products are keyed by item code when there is one (a code can carry several descriptions)."""
        for role in ("item", "description"):
            if role in self.view:
                return factorize(self.view[role])
        return None

    # dates --------------------------------------------------------------------------------------------------
    @cached_property
    def dates(self) -> pd.Series | None:
        """The date column when it holds datetimes; anything else is ignored (the cleaning step types dates)."""
        if "date" not in self.view:
            return None
        dates = self.view["date"]
        if not pd.api.types.is_datetime64_any_dtype(dates):
            logger.warning("date column of dtype %s is not datetime64; time sections skipped", dates.dtype)
            return None
        return dates

    @cached_property
    def wall_clock(self) -> np.ndarray | None:
        """Dates as naive local datetime64 (time zone dropped, wall time kept); None without dates."""
        if self.dates is None:
            return None
        dates = self.dates.dt.tz_localize(None) if self.dates.dt.tz is not None else self.dates
        return dates.to_numpy()

    @cached_property
    def dated(self) -> np.ndarray:
        """Lines with a date (all False without a date column)."""
        return np.zeros(self.rows, bool) if self.wall_clock is None else ~np.isnat(self.wall_clock)

    @cached_property
    def month(self) -> np.ndarray:
        """Months since 1970-01 (valid where dated)."""
        return self.wall_clock.astype("datetime64[M]").astype(np.int64)

    @cached_property
    def day(self) -> np.ndarray:
        return self.wall_clock.astype("datetime64[D]")

    # derived ------------------------------------------------------------------------------------------------
    @cached_property
    def order_totals(self) -> np.ndarray:
        """The total of every order with at least one known amount."""
        codes, count = self.orders
        priced = (codes >= 0) & ~np.isnan(self.amount)
        totals = np.bincount(codes[priced], weights=self.amount[priced], minlength=count)
        return totals[np.bincount(codes[priced], minlength=count) > 0]

    def revenue_by(self, groups: np.ndarray, size: int) -> np.ndarray:
        """Revenue per group code (-1 = no group)."""
        keep = groups >= 0
        return np.bincount(groups[keep], weights=self.revenue_weights[keep], minlength=size)

    def quantity_by(self, groups: np.ndarray, size: int) -> np.ndarray | None:
        """Quantity per group code; None without a quantity column."""
        if self.quantity_weights is None:
            return None
        keep = groups >= 0
        return np.bincount(groups[keep], weights=self.quantity_weights[keep], minlength=size)

    def orders_by(self, groups: np.ndarray, size: int) -> np.ndarray:
        """Distinct orders per group code."""
        codes, count = self.orders
        return distinct_per(groups, size, codes, count)



def floats(values: pd.Series) -> np.ndarray:
    """float64 with NaN for missing, unparseable or infinite values."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        values = pd.to_numeric(values, errors="coerce")
    floats = values.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(floats)
    return np.where(infinite, np.nan, floats) if infinite.any() else floats


def present(values: np.ndarray) -> np.ndarray:
    return values[~np.isnan(values)]


def factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 for missing) and the distinct values, in order of appearance."""
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64, copy=False), pd.Index(uniques)


def distinct_per(groups: np.ndarray, size: int, members: np.ndarray, member_count: int) -> np.ndarray:
    """How many distinct members (codes, -1 = none) each group (codes, -1 = none) has."""
    keep = (groups >= 0) & (members >= 0)
    stride = max(member_count, 1)
    pairs = pd.unique(groups[keep] * stride + members[keep])
    return np.bincount(pairs // stride, minlength=size)

