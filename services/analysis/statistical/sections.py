"""The statistical analysis' sections of plain numbers: KPIs, describe, correlation and the time buckets."""
from __future__ import annotations

import numpy as np
import pandas as pd

from services.analysis.frame import is_measure
from services.analysis.statistical import formatting as fmt
from services.analysis.statistical.lines import Lines, floats
from services.ingest.roles import ROLES

NUMERIC_COLUMNS = ("quantity", "unit_price", "amount")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def kpis(lines: Lines) -> dict:
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
        "total_revenue": fmt.money(revenue),
        "total_orders": orders,
        "unique_customers": unique_customers,
        "avg_order_value": fmt.money(fmt.ratio(revenue, orders)),
        "items_per_order": fmt.money(fmt.ratio(total_quantity, orders)),
        "revenue_per_customer": fmt.money(fmt.ratio(customer_revenue, unique_customers)),
        "total_quantity": fmt.quantity(total_quantity),
        "rows": lines.rows,
        "first_date": first_date,
        "last_date": last_date,
    }


# describe and correlation ----------------------------------------------------------------------------------
def numeric_measures(lines: Lines) -> dict[str, np.ndarray]:
    """Every numeric column: the numeric roles, then the file's other numeric columns (see frame.canonical)."""
    measures = {role: lines.numbers(role) for role in NUMERIC_COLUMNS if lines.numbers(role) is not None}
    for column, values in lines.view.items():
        if column not in ROLES and is_measure(values):
            measures[str(column)] = floats(values)
    return measures


def describe(lines: Lines) -> dict:
    described = {}
    for role, values in numeric_measures(lines).items():
        series = pd.Series(values)
        count = int(series.count())
        q1, median, q3 = series.quantile([0.25, 0.5, 0.75]).tolist() if count else (None, None, None)
        described[role] = {
            "count": count, "mean": fmt.number(series.mean()), "std": fmt.number(series.std()),
            "min": fmt.number(series.min()), "q1": fmt.number(q1), "median": fmt.number(median), "q3": fmt.number(q3),
            "max": fmt.number(series.max()), "skew": fmt.number(series.skew()), "kurtosis": fmt.number(series.kurt()),
            "missing": lines.rows - count,
        }
    return described


def correlation(lines: Lines) -> dict:
    measures = numeric_measures(lines)
    columns = list(measures)
    matrix = pd.DataFrame(measures).corr(method="pearson").to_numpy()
    return {"columns": columns, "matrix": [[fmt.number(value) for value in row] for row in matrix]}


# time buckets ------------------------------------------------------------------------------------------------
def _time_buckets(lines: Lines, keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Revenue and orders per time bucket (keys valid where dated)."""
    groups = np.where(lines.dated, keys, -1)
    return lines.revenue_by(groups, size), lines.orders_by(groups, size)


def by_month(lines: Lines) -> list[dict]:
    if not lines.dated.any():
        return []
    months = lines.month[lines.dated]
    first = int(months.min())
    size = int(months.max()) - first + 1
    revenue, orders = _time_buckets(lines, lines.month - first, size)
    return [{"label": fmt.month_label(first + offset), "value": fmt.money(revenue[offset]),
             "orders": int(orders[offset])} for offset in range(size)]


def by_weekday(lines: Lines) -> list[dict]:
    if not lines.dated.any():
        return []
    weekday = (lines.day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    revenue, orders = _time_buckets(lines, weekday, 7)
    return [{"label": name, "weekday": index, "value": fmt.money(revenue[index]), "orders": int(orders[index])}
            for index, name in enumerate(WEEKDAYS)]


def by_hour(lines: Lines) -> list[dict]:
    if not lines.dated.any():
        return []
    since_midnight = (lines.wall_clock - lines.day)[lines.dated]
    if not since_midnight.astype(np.int64).any():
        return []  # dates without a time of day would all pile up at 00
    hour = np.full(lines.rows, -1, dtype=np.int64)
    hour[lines.dated] = since_midnight // np.timedelta64(1, "h")
    revenue, orders = _time_buckets(lines, hour, 24)
    return [{"label": f"{h:02d}", "hour": h, "value": fmt.money(revenue[h]), "orders": int(orders[h])}
            for h in range(24)]
