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

The package: lines.py (the array cache), sections.py, rankings.py and distributions.py (the sections),
formatting.py (how numbers are written).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

from services.analysis.statistical.distributions import cohorts, histogram
from services.analysis.statistical.lines import Lines, present
from services.analysis.statistical.rankings import top_countries, top_customers, top_products
from services.analysis.statistical.sections import by_hour, by_month, by_weekday, correlation, describe, kpis
from services.errors import Invalid

logger = logging.getLogger(__name__)

TOP_N_RANGE = (1, 100)
BINS_RANGE = (2, 100)


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

    Sections: `kpis`, `describe`, `correlation`, `by_month` (every month from the first to the last,
    gaps as zeros), `by_weekday` (all 7 days, Monday first), `by_hour` (all 24 hours 00..23 with zeros for hours
    without sales; empty when no line has a time of day, i.e. every date is at midnight), `top_products`,
    `top_customers`, `top_countries` (ties broken by label), `histograms` and `cohorts`.
    """
    lines = Lines(view)
    summary = {
        "kpis": kpis(lines),
        "describe": describe(lines),
        "correlation": correlation(lines),
        "by_month": by_month(lines),
        "by_weekday": by_weekday(lines),
        "by_hour": by_hour(lines),
        "top_products": top_products(lines, params.top_n),
        "top_customers": top_customers(lines, params.top_n),
        "top_countries": top_countries(lines, params.top_n),
        "histograms": {
            "order_value": histogram(lines.order_totals, params.bins),
            "quantity": [] if lines.quantity is None else histogram(present(lines.quantity), params.bins),
        },
        "cohorts": cohorts(lines),
    }
    logger.debug("statistical summary of %d lines, %s orders", lines.rows, summary["kpis"]["total_orders"])
    return summary


def _check_whole(field: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid.field(field, f"must be a whole number from {low} to {high}")
    if not low <= value <= high:
        raise Invalid.field(field, f"must be from {low} to {high}, not {value}")
