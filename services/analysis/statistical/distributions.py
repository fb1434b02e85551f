"""The statistical analysis' distributions: histograms and monthly cohort retention."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from services.analysis.money import half_up
from services.analysis.statistical import formatting as fmt
from services.analysis.statistical.lines import Lines


def histogram(values: np.ndarray, bins: int) -> list[dict]:
    """`bins` equal-width bins from the smallest to the largest value, each [from, to) but the last [from, to];
    a single bin when every value is the same; [] without values. Edges are rounded for display only.
    """
    if values.size == 0:
        return []
    low, high = float(values.min()), float(values.max())
    if low == high:
        edge = half_up(low, 2)
        return [{"label": fmt.edge_text(edge), "from": edge, "to": edge, "value": int(values.size)}]
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    decimals = max(2, 1 - math.floor(math.log10((high - low) / bins)))
    shown = [half_up(float(edge), decimals) for edge in edges]
    return [{"label": f"{fmt.edge_text(shown[i])}–{fmt.edge_text(shown[i + 1])}", "from": shown[i], "to": shown[i + 1],
             "value": int(counts[i])} for i in range(bins)]



def cohorts(lines: Lines) -> dict:
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
        "cohorts": [fmt.month_label(first_month + int(c)) for c in cohorts],
        "periods": list(range(span)),
        "customers": [int(sizes[c]) for c in cohorts],
        "retention": [[fmt.share(active[row, p] / sizes[c]) if c + p < span else None for p in range(span)]
                      for row, c in enumerate(cohorts)],
    }
