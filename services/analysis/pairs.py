"""How often item pairs are bought together: used to explain an empty rule set and suggest a support."""
from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
from scipy import sparse

from services.errors import Invalid

SUGGESTION_TRIES = 5  # pair counts tried, from the most frequent down, before giving up on a suggestion


def explain_no_rules(basket_codes: np.ndarray, item_codes: np.ndarray, item_names: list[str], n_baskets: int,
                     min_support: float, rules_at: Callable[[float], int]) -> dict:
    """Why a run found no rule: the most frequent pair, and the highest round min_support at which `rules_at`
    (the miner with only the support changed) finds rules."""
    first, second, together = pair_counts(basket_codes, item_codes, n_baskets, len(item_names))
    answer = {"top_pair": None, "suggested_min_support": None,
              "reason": "no two items are ever in the same basket, so no rule can exist"}
    if len(together) == 0:
        return answer
    top = int(together[0])
    answer["top_pair"] = {"items": [item_names[first[0]], item_names[second[0]]], "count": top,
                          "support": round(top / n_baskets, 6)}
    if top >= math.ceil(Fraction(str(min_support)) * n_baskets):
        answer["reason"] = "frequent pairs exist, but none reaches min_confidence and min_lift"
    else:
        answer["reason"] = (f"the most frequent pair is in {top / n_baskets:.4%} of the baskets, "
                            f"below min_support {min_support:g}")
    for count in np.unique(together)[::-1][:SUGGESTION_TRIES]:
        support = support_below(int(count), n_baskets)
        if support >= min_support:
            continue  # pairs this frequent were allowed; confidence or lift ruled them out
        try:
            found = rules_at(support)
        except Invalid:  # too many itemsets that low: stop suggesting
            break
        if found:
            answer["suggested_min_support"] = support
            break
    return answer


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
