"""The statistical analysis: KPIs, describe, correlation, time buckets, top lists, histograms and cohort retention
of cleaned order lines, as plain JSON-safe values shaped for charts.

Conventions of every section:
- Revenue is the sum of `amount` (returns, if the cleaning kept them, count negatively). Money and averages are
  rounded half away from zero to cents; statistics (describe, correlation) keep full float precision; shares
  (cohort retention) have 4 decimals.
- An order is a distinct non-null invoice; without an invoice column every line is its own order.
- Missing values (and infinities) in numeric columns are left out of sums and statistics; a line without a date,
  customer, country or product is left out of the sections keyed by it.
- A section whose column is missing is empty (`[]`, `{}`) or `None`; only a missing `amount` is an error.
- Every aggregation is a numpy/pandas vectorised pass; Python only loops over the (few) entries it returns.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

import numpy as np
import pandas as pd

from services.analysis.frame import is_measure, need
from services.errors import Invalid
from services.ingest.roles import ROLES

logger = logging.getLogger(__name__)

NUMERIC_COLUMNS = ("quantity", "unit_price", "amount")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TOP_N_RANGE = (1, 100)
BINS_RANGE = (2, 100)
SHARE_DECIMALS = 4
# np.round and the Decimal half-up rounding of the output can disagree by one cent at an exact half cent;
# top-list candidates are taken this far below the cut so the final ordering is always on the output values.
_CANDIDATE_MARGIN = 0.02


@dataclass(frozen=True)
class StatsParams:
    """Parameters of the statistical analysis: entries per top list (1..100) and histogram bins (2..100)."""

    top_n: int = 10
    bins: int = 20

    def __post_init__(self) -> None:
        _check_whole("top_n", self.top_n, *TOP_N_RANGE)
        _check_whole("bins", self.bins, *BINS_RANGE)


def statistical_summary(view: pd.DataFrame, params: StatsParams) -> dict:
    """Every section of the statistical analysis of a canonical view, as JSON-safe values shaped for charts.

    Sections: `kpis` (see kpis()), `describe`, `correlation`, `by_month` (every month from the first to the last,
    gaps as zeros), `by_weekday` (all 7 days, Monday first), `by_hour` (all 24 hours 00..23 with zeros for hours
    without sales; empty when no line has a time of day, i.e. every date is at midnight), `top_products`,
    `top_customers`, `top_countries` (ties broken by label), `histograms` and `cohorts`.
    """
    lines = _Lines(view)
    summary = {
        "kpis": _kpis(lines),
        "describe": _describe(lines),
        "correlation": _correlation(lines),
        "by_month": _by_month(lines),
        "by_weekday": _by_weekday(lines),
        "by_hour": _by_hour(lines),
        "top_products": _top_products(lines, params.top_n),
        "top_customers": _top_customers(lines, params.top_n),
        "top_countries": _top_countries(lines, params.top_n),
        "histograms": {
            "order_value": _histogram(lines.order_totals, params.bins),
            "quantity": [] if lines.quantity is None else _histogram(_present(lines.quantity), params.bins),
        },
        "cohorts": _cohorts(lines),
    }
    logger.debug("statistical summary of %d lines, %s orders", lines.rows, summary["kpis"]["total_orders"])
    return summary


def kpis(view: pd.DataFrame) -> dict:
    """Headline numbers of a canonical view: revenue, orders, customers, averages, quantity, rows and date range."""
    return _kpis(_Lines(view))


class _Lines:
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
        return _floats(self.view["amount"])

    @cached_property
    def quantity(self) -> np.ndarray | None:
        return _floats(self.view["quantity"]) if "quantity" in self.view else None

    @cached_property
    def unit_price(self) -> np.ndarray | None:
        return _floats(self.view["unit_price"]) if "unit_price" in self.view else None

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
        codes, uniques = _factorize(self.view["invoice"])
        return codes, len(uniques)

    @cached_property
    def customers(self) -> tuple[np.ndarray, pd.Index] | None:
        return _factorize(self.view["customer"]) if "customer" in self.view else None

    @cached_property
    def countries(self) -> tuple[np.ndarray, pd.Index] | None:
        return _factorize(self.view["country"]) if "country" in self.view else None

    @cached_property
    def products(self) -> tuple[np.ndarray, pd.Index] | None:
        """Products are keyed by item code when there is one (a code can carry several descriptions)."""
        for role in ("item", "description"):
            if role in self.view:
                return _factorize(self.view[role])
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
        return _distinct_per(groups, size, codes, count)


# kpis --------------------------------------------------------------------------------------------------------
def _kpis(lines: _Lines) -> dict:
    revenue = float(lines.revenue_weights.sum())
    orders = lines.orders[1]
    unique_customers = customer_revenue = None
    if lines.customers is not None:
        codes, uniques = lines.customers
        unique_customers = len(uniques)
        customer_revenue = float(lines.revenue_weights[codes >= 0].sum())
    total_quantity = None if lines.quantity_weights is None else float(lines.quantity_weights.sum())
    first_date = last_date = None
    if lines.dates is not None and lines.dated.any():
        first_date, last_date = lines.dates.min().isoformat(), lines.dates.max().isoformat()
    return {
        "total_revenue": _money(revenue),
        "total_orders": orders,
        "unique_customers": unique_customers,
        "avg_order_value": _money(_ratio(revenue, orders)),
        "items_per_order": _money(_ratio(total_quantity, orders)),
        "revenue_per_customer": _money(_ratio(customer_revenue, unique_customers)),
        "total_quantity": _quantity(total_quantity),
        "rows": lines.rows,
        "first_date": first_date,
        "last_date": last_date,
    }


# describe and correlation ----------------------------------------------------------------------------------
def _measures(lines: _Lines) -> dict[str, np.ndarray]:
    """Every numeric column: the numeric roles, then the file's other numeric columns (see frame.canonical)."""
    measures = {role: lines.numbers(role) for role in NUMERIC_COLUMNS if lines.numbers(role) is not None}
    for column, values in lines.view.items():
        if column not in ROLES and is_measure(values):
            measures[str(column)] = _floats(values)
    return measures


def _describe(lines: _Lines) -> dict:
    described = {}
    for role, values in _measures(lines).items():
        series = pd.Series(values)
        count = int(series.count())
        q1, median, q3 = series.quantile([0.25, 0.5, 0.75]).tolist() if count else (None, None, None)
        described[role] = {
            "count": count, "mean": _number(series.mean()), "std": _number(series.std()),
            "min": _number(series.min()), "q1": _number(q1), "median": _number(median), "q3": _number(q3),
            "max": _number(series.max()), "skew": _number(series.skew()), "kurtosis": _number(series.kurt()),
            "missing": lines.rows - count,
        }
    return described


def _correlation(lines: _Lines) -> dict:
    measures = _measures(lines)
    columns = list(measures)
    matrix = pd.DataFrame(measures).corr(method="pearson").to_numpy()
    return {"columns": columns, "matrix": [[_number(value) for value in row] for row in matrix]}


# time buckets ------------------------------------------------------------------------------------------------
def _time_buckets(lines: _Lines, keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Revenue and orders per time bucket (keys valid where dated)."""
    groups = np.where(lines.dated, keys, -1)
    return lines.revenue_by(groups, size), lines.orders_by(groups, size)


def _by_month(lines: _Lines) -> list[dict]:
    if not lines.dated.any():
        return []
    months = lines.month[lines.dated]
    first = int(months.min())
    size = int(months.max()) - first + 1
    revenue, orders = _time_buckets(lines, lines.month - first, size)
    return [{"label": _month_label(first + offset), "value": _money(revenue[offset]), "orders": int(orders[offset])}
            for offset in range(size)]


def _by_weekday(lines: _Lines) -> list[dict]:
    if not lines.dated.any():
        return []
    weekday = (lines.day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    revenue, orders = _time_buckets(lines, weekday, 7)
    return [{"label": name, "weekday": index, "value": _money(revenue[index]), "orders": int(orders[index])}
            for index, name in enumerate(WEEKDAYS)]


def _by_hour(lines: _Lines) -> list[dict]:
    if not lines.dated.any():
        return []
    since_midnight = (lines.wall_clock - lines.day)[lines.dated]
    if not since_midnight.astype(np.int64).any():
        return []  # dates without a time of day would all pile up at 00
    hour = np.full(lines.rows, -1, dtype=np.int64)
    hour[lines.dated] = since_midnight // np.timedelta64(1, "h")
    revenue, orders = _time_buckets(lines, hour, 24)
    return [{"label": f"{h:02d}", "hour": h, "value": _money(revenue[h]), "orders": int(orders[h])}
            for h in range(24)]


# top lists ---------------------------------------------------------------------------------------------------
def _top(lines: _Lines, groups: tuple[np.ndarray, pd.Index], top_n: int,
         labels_of: Callable[[np.ndarray], dict[int, str]]) -> tuple[list[int], list[float], list[str], np.ndarray]:
    """The top_n group codes by revenue, ties broken by label then key; their revenue, labels and sub-codes.

    Sub-codes renumber the winners 0..k-1 on every line (-1 elsewhere) so their extra columns cost one pass.
    """
    codes, uniques = groups
    revenue = lines.revenue_by(codes, len(uniques))
    candidates = _candidates(revenue, top_n)
    labels = labels_of(candidates)
    values = {int(code): _money(revenue[code]) for code in candidates}
    winners = sorted(values, key=lambda code: (-values[code], labels[code], str(uniques[code])))[:top_n]
    renumber = np.full(len(uniques) + 1, -1, dtype=np.int64)  # the extra slot maps code -1 to -1
    renumber[winners] = np.arange(len(winners))
    return winners, [values[code] for code in winners], [labels[code] for code in winners], renumber[codes]


def _candidates(revenue: np.ndarray, top_n: int) -> np.ndarray:
    """Group codes that may reach the top_n once rounded to cents (all ties at the cut included)."""
    if len(revenue) <= top_n:
        return np.arange(len(revenue))
    cents = np.round(revenue, 2)
    cut = np.partition(cents, len(cents) - top_n)[len(cents) - top_n]
    return np.flatnonzero(cents >= cut - _CANDIDATE_MARGIN)


def _key_labels(uniques: pd.Index) -> Callable[[np.ndarray], dict[int, str]]:
    return lambda candidates: {int(code): str(uniques[code]) for code in candidates}


def _top_products(lines: _Lines, top_n: int) -> list[dict]:
    """Label: the item's most frequent description (ties: alphabetical), else the item code."""
    if lines.products is None:
        return []
    codes, uniques = lines.products
    keyed_by_item = "item" in lines.view
    labels_of = _key_labels(uniques)
    if keyed_by_item and "description" in lines.view:
        labels_of = _described(lines.view["description"], codes, uniques)
    winners, values, labels, sub = _top(lines, lines.products, top_n, labels_of)
    quantity, orders = lines.quantity_by(sub, len(winners)), lines.orders_by(sub, len(winners))
    return [{"label": labels[rank], "item": str(uniques[code]) if keyed_by_item else None, "value": values[rank],
             "quantity": None if quantity is None else _quantity(quantity[rank]), "orders": int(orders[rank])}
            for rank, code in enumerate(winners)]


def _described(descriptions: pd.Series, codes: np.ndarray, uniques: pd.Index) -> Callable[[np.ndarray], dict]:
    def labels_of(candidates: np.ndarray) -> dict[int, str]:
        wanted = np.zeros(len(uniques) + 1, bool)
        wanted[candidates] = True
        rows = wanted[codes] & descriptions.notna().to_numpy()
        pairs = pd.DataFrame({"code": codes[rows], "description": descriptions[rows].astype(str).to_numpy()})
        counted = pairs.value_counts().rename("lines").reset_index()
        commonest = counted.sort_values(["code", "lines", "description"], ascending=[True, False, True])
        labels = dict(commonest.drop_duplicates("code")[["code", "description"]].itertuples(index=False))
        return {int(code): labels.get(code, str(uniques[code])) for code in candidates}

    return labels_of


def _top_customers(lines: _Lines, top_n: int) -> list[dict]:
    if lines.customers is None:
        return []
    winners, values, labels, sub = _top(lines, lines.customers, top_n, _key_labels(lines.customers[1]))
    quantity, orders = lines.quantity_by(sub, len(winners)), lines.orders_by(sub, len(winners))
    return [{"label": labels[rank], "value": values[rank], "orders": int(orders[rank]),
             "quantity": None if quantity is None else _quantity(quantity[rank])}
            for rank in range(len(winners))]


def _top_countries(lines: _Lines, top_n: int) -> list[dict]:
    if lines.countries is None:
        return []
    winners, values, labels, sub = _top(lines, lines.countries, top_n, _key_labels(lines.countries[1]))
    orders = lines.orders_by(sub, len(winners))
    customers = None
    if lines.customers is not None:
        customer_codes, customer_uniques = lines.customers
        customers = _distinct_per(sub, len(winners), customer_codes, len(customer_uniques))
    return [{"label": labels[rank], "value": values[rank], "orders": int(orders[rank]),
             "customers": None if customers is None else int(customers[rank])}
            for rank in range(len(winners))]


# histograms --------------------------------------------------------------------------------------------------
def _histogram(values: np.ndarray, bins: int) -> list[dict]:
    """`bins` equal-width bins from the smallest to the largest value, each [from, to) but the last [from, to];
    a single bin when every value is the same; [] without values. Edges are rounded for display only.
    """
    if values.size == 0:
        return []
    low, high = float(values.min()), float(values.max())
    if low == high:
        edge = _rounded(low, 2)
        return [{"label": _edge_text(edge), "from": edge, "to": edge, "value": int(values.size)}]
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    decimals = max(2, 1 - math.floor(math.log10((high - low) / bins)))
    shown = [_rounded(float(edge), decimals) for edge in edges]
    return [{"label": f"{_edge_text(shown[i])}–{_edge_text(shown[i + 1])}", "from": shown[i], "to": shown[i + 1],
             "value": int(counts[i])} for i in range(bins)]


# cohorts -----------------------------------------------------------------------------------------------------
def _cohorts(lines: _Lines) -> dict:
    """Customers by month of first purchase; retention[c][p] = share of cohort c buying in month c + p.

    Periods run to the last month of the data; a cohort's cells past that month are None. Only months in which
    at least one customer first bought are cohorts.
    """
    if lines.customers is None or not lines.dated.any():
        return {}
    codes, uniques = lines.customers
    known = (codes >= 0) & lines.dated
    if not known.any():
        return {}
    customer, month = codes[known], lines.month[known]
    first_month, last_month = int(month.min()), int(lines.month[lines.dated].max())
    span = last_month - first_month + 1
    joined = pd.Series(month).groupby(customer).min()  # index: customer codes that bought, value: their month
    cohort_of = np.full(len(uniques), -1, dtype=np.int64)
    cohort_of[joined.index.to_numpy()] = joined.to_numpy() - first_month
    sizes = np.bincount(cohort_of[cohort_of >= 0], minlength=span)
    cohorts = np.flatnonzero(sizes)
    rank = np.cumsum(sizes > 0) - 1  # row of each cohort month in the matrix (months without one have no row)
    customer_months = pd.unique(customer.astype(np.int64) * span + (month - first_month))
    customer_of, month_of = np.divmod(customer_months, span)
    cohort = cohort_of[customer_of]
    active = np.bincount(rank[cohort] * span + (month_of - cohort), minlength=len(cohorts) * span)
    active = active.reshape(len(cohorts), span)
    return {
        "cohorts": [_month_label(first_month + int(c)) for c in cohorts],
        "periods": list(range(span)),
        "customers": [int(sizes[c]) for c in cohorts],
        "retention": [[_share(active[row, p] / sizes[c]) if c + p < span else None for p in range(span)]
                      for row, c in enumerate(cohorts)],
    }


# helpers -----------------------------------------------------------------------------------------------------
def _check_whole(field: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid.field(field, f"must be a whole number from {low} to {high}")
    if not low <= value <= high:
        raise Invalid.field(field, f"must be from {low} to {high}, not {value}")


def _floats(values: pd.Series) -> np.ndarray:
    """float64 with NaN for missing, unparseable or infinite values."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        values = pd.to_numeric(values, errors="coerce")
    floats = values.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(floats)
    return np.where(infinite, np.nan, floats) if infinite.any() else floats


def _present(values: np.ndarray) -> np.ndarray:
    return values[~np.isnan(values)]


def _factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 for missing) and the distinct values, in order of appearance."""
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64, copy=False), pd.Index(uniques)


def _distinct_per(groups: np.ndarray, size: int, members: np.ndarray, member_count: int) -> np.ndarray:
    """How many distinct members (codes, -1 = none) each group (codes, -1 = none) has."""
    keep = (groups >= 0) & (members >= 0)
    stride = max(member_count, 1)
    pairs = pd.unique(groups[keep] * stride + members[keep])
    return np.bincount(pairs // stride, minlength=size)


def _month_label(months_since_1970: int) -> str:
    year, month = divmod(months_since_1970, 12)
    return f"{1970 + year:04d}-{month + 1:02d}"


def _ratio(numerator: float | None, denominator: int | None) -> float | None:
    return None if numerator is None or not denominator else numerator / denominator


def _finite(value: object) -> bool:
    return value is not None and not pd.isna(value) and math.isfinite(float(value))


def _rounded(value: float, decimals: int) -> float:
    """Round half away from zero on the decimal text of the float (so 2.675 -> 2.68); -0.0 becomes 0.0."""
    step = Decimal(1).scaleb(-decimals)
    return float(Decimal(str(float(value))).quantize(step, rounding=ROUND_HALF_UP)) + 0.0


def _money(value: float | None) -> float | None:
    return _rounded(value, 2) if _finite(value) else None


def _number(value: object) -> float | None:
    return float(value) + 0.0 if _finite(value) else None


def _share(value: float) -> float | None:
    return round(float(value), SHARE_DECIMALS) if _finite(value) else None


def _quantity(value: float | None) -> int | float | None:
    """Whole totals as int, fractional ones (weights) with 4 decimals."""
    if not _finite(value):
        return None
    value = round(float(value), 4) + 0.0
    return int(value) if value.is_integer() else value


def _edge_text(value: float) -> str:
    """A bin edge without exponent or trailing zeros: 25.0 -> "25", 1e-07 -> "0.0000001"."""
    text = format(Decimal(str(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
