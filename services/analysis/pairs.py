"""How often item pairs are bought together: used to explain an empty rule set and suggest a support."""
from __future__ import annotations

import math

import numpy as np
from scipy import sparse


def pair_counts(basket_codes: np.ndarray, item_codes: np.ndarray, n_baskets: int, n_items: int,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of items bought together at least once: (first item, second item, baskets), most frequent first.
    Input pairs are unique (basket, item) codes."""
    if n_items < 2:
        return (np.empty(0, np.int64),) * 3
    onehot = sparse.csr_matrix((np.ones(len(item_codes), dtype=np.int32), (basket_codes, item_codes)),
                               shape=(n_baskets, n_items))
    together = sparse.triu(onehot.T @ onehot, k=1).tocoo()
    order = np.argsort(-together.data, kind="stable")
    return (together.row[order].astype(np.int64), together.col[order].astype(np.int64),
            together.data[order].astype(np.int64))


def support_below(count: int, n_baskets: int) -> float:
    """A round support (3 significant digits, rounded down) at which `count` baskets of `n_baskets` still qualify."""
    exact = count / n_baskets
    digits = 2 - math.floor(math.log10(exact))
    return math.floor(exact * 10**digits) / 10**digits
