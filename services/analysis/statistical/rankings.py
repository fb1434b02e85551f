"""The statistical analysis' top lists: products, customers and countries by revenue, ties broken by label."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from services.analysis.statistical import formatting as fmt
from services.analysis.statistical.lines import Lines, distinct_per

# np.round and the Decimal half-up rounding of the output can disagree by one cent at an exact half cent;
# top-list candidates are taken this far below the cut so the final ordering is always on the output values.
_CANDIDATE_MARGIN = 0.02


def _top(lines: Lines, groups: tuple[np.ndarray, pd.Index], top_n: int,
         labels_of: Callable[[np.ndarray], dict[int, str]]) -> tuple[list[int], list[float], list[str], np.ndarray]:
    """The top_n group codes by revenue, ties broken by label then key; their revenue, labels and sub-codes.

    Sub-codes renumber the winners 0..k-1 on every line (-1 elsewhere) so their extra columns cost one pass.
    """
    codes, uniques = groups
    revenue = lines.revenue_by(codes, len(uniques))
    candidates = _candidates(revenue, top_n)
    labels = labels_of(candidates)
    values = {int(code): fmt.money(revenue[code]) for code in candidates}
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


def top_products(lines: Lines, top_n: int) -> list[dict]:
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
             "quantity": None if quantity is None else fmt.quantity(quantity[rank]), "orders": int(orders[rank])}
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


def top_customers(lines: Lines, top_n: int) -> list[dict]:
    if lines.customers is None:
        return []
    winners, values, labels, sub = _top(lines, lines.customers, top_n, _key_labels(lines.customers[1]))
    quantity, orders = lines.quantity_by(sub, len(winners)), lines.orders_by(sub, len(winners))
    return [{"label": labels[rank], "value": values[rank], "orders": int(orders[rank]),
             "quantity": None if quantity is None else fmt.quantity(quantity[rank])}
            for rank in range(len(winners))]


def top_countries(lines: Lines, top_n: int) -> list[dict]:
    if lines.countries is None:
        return []
    winners, values, labels, sub = _top(lines, lines.countries, top_n, _key_labels(lines.countries[1]))
    orders = lines.orders_by(sub, len(winners))
    customers = None
    if lines.customers is not None:
        customer_codes, customer_uniques = lines.customers
        customers = distinct_per(sub, len(winners), customer_codes, len(customer_uniques))
    return [{"label": labels[rank], "value": values[rank], "orders": int(orders[rank]),
             "customers": None if customers is None else int(customers[rank])}
            for rank in range(len(winners))]
