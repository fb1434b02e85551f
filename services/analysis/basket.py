"""Market basket analysis: frequent itemsets by Eclat on packed bitsets, and one-consequent association rules.

Thresholds are compared exactly, on integer counts and rational parameters (never on floats), so a rule whose
confidence is exactly the minimum is kept, as R's arules keeps it. Rules have one item on the right-hand side and
a non-empty left-hand side; `max_len` counts the items of the whole rule, like arules' maxlen.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
import pandas as pd

from services.analysis.pairs import explain_no_rules
from services.errors import Invalid

logger = logging.getLogger(__name__)

ITEM_LABELS = ("description", "code")
ITEMSET_COLUMNS = ["items", "size", "count", "support"]
RULE_COLUMNS = ["antecedents", "consequents", "count", "support", "confidence", "lift", "leverage", "conviction"]
MAX_LEN_CAP = 100  # the depth-first search recurses once per item of an itemset
MAX_RULES_CAP = 100_000  # rules kept and stored per analysis
MAX_ITEMSETS_CAP = 1_000_000
MAX_CANDIDATE_RULES = 2_000_000  # one-consequent rules to evaluate; beyond this the parameters are refused
_INT64_SAFE = 2**62


@dataclass(frozen=True)
class BasketParams:
    """Thresholds and limits of one basket analysis; every value is checked when the object is made."""

    min_support: float = 0.01
    min_confidence: float = 0.2
    min_lift: float = 1.0
    max_len: int = 10
    item: str = "description"
    max_rules: int = 10_000
    country: str | None = None
    max_itemsets: int = 100_000

    def __post_init__(self) -> None:
        if not _is_number(self.min_support) or not 0 < self.min_support <= 1:
            raise Invalid.field("min_support", "must be a number greater than 0 and at most 1 (a share of baskets)")
        if not _is_number(self.min_confidence) or not 0 <= self.min_confidence <= 1:
            raise Invalid.field("min_confidence", "must be a number from 0 to 1")
        if not _is_number(self.min_lift) or self.min_lift < 0:
            raise Invalid.field("min_lift", "must be a number of at least 0")
        if not _is_int(self.max_len) or not 2 <= self.max_len <= MAX_LEN_CAP:
            raise Invalid.field("max_len", f"must be a whole number from 2 to {MAX_LEN_CAP} (items in a rule)")
        if self.item not in ITEM_LABELS:
            raise Invalid.field("item", 'must be "description" or "code"')
        if not _is_int(self.max_rules) or not 1 <= self.max_rules <= MAX_RULES_CAP:
            raise Invalid.field("max_rules", f"must be a whole number from 1 to {MAX_RULES_CAP:,}")
        if self.country is not None and (not isinstance(self.country, str) or not self.country.strip()):
            raise Invalid.field("country", "must be a country name")
        if not _is_int(self.max_itemsets) or not 1 <= self.max_itemsets <= MAX_ITEMSETS_CAP:
            raise Invalid.field("max_itemsets", f"must be a whole number from 1 to {MAX_ITEMSETS_CAP:,}")


@dataclass
class BasketResult:
    """Frequent itemsets and rules, with the counts and thresholds they were found with."""

    transactions: int
    items: int
    itemsets: pd.DataFrame
    rules: pd.DataFrame
    rules_total: int
    truncated: bool
    min_count: int
    no_rules: dict | None = None  # why no rule was found, and a min_support that finds some


def basket_analysis(view: pd.DataFrame, params: BasketParams) -> BasketResult:
    """Group a canonical view's lines into baskets (invoices, else customer and day) and mine them."""
    if params.country is not None:
        if "country" not in view.columns:
            raise Invalid.field("country", "this file has no country column to filter on")
        wanted = params.country.strip().casefold()
        view = view[view["country"].astype("string").str.strip().str.casefold().eq(wanted).fillna(False)]
    keys = _basket_keys(view)
    labels = _item_labels(view, params.item)
    usable = keys.notna().to_numpy() & labels.notna().to_numpy()
    keys, labels = keys[usable], labels[usable]
    basket_codes, baskets = pd.factorize(keys, sort=False)
    item_codes, item_names = pd.factorize(labels, sort=False)
    return mine_codes(basket_codes, item_codes, [str(name) for name in item_names], len(baskets), params)


def recommendations(rules: pd.DataFrame, item: str, limit: int = 10) -> list[dict]:
    """Items bought with `item`: consequents of the rules whose antecedents hold it, best lift first, one each."""
    if not _is_int(limit) or limit < 1:
        raise Invalid.field("limit", "must be a whole number of at least 1")
    if rules.empty:
        return []
    holding = rules[rules["antecedents"].map(lambda antecedents: item in antecedents)]
    if holding.empty:
        return []
    ranked = holding.assign(item=holding["consequents"].map(lambda consequents: consequents[0])).sort_values(
        ["lift", "confidence", "count", "item"], ascending=[False, False, False, True], kind="mergesort")
    best = ranked.drop_duplicates("item").head(limit)
    return [{"item": row["item"], "lift": float(row["lift"]), "confidence": float(row["confidence"]),
             "support": float(row["support"]), "count": int(row["count"]), "antecedents": list(row["antecedents"])}
            for row in best.to_dict("records")]


def mine_codes(basket_codes: np.ndarray, item_codes: np.ndarray, item_names: list[str], n_baskets: int,
               params: BasketParams, explain: bool = True) -> BasketResult:
    """The engine: unique (basket, item) pairs in, frequent itemsets and rules out."""
    started = time.perf_counter()
    basket_codes = np.asarray(basket_codes, dtype=np.int64)
    item_codes = np.asarray(item_codes, dtype=np.int64)
    n_items = len(item_names)
    min_count = math.ceil(Fraction(str(params.min_support)) * n_baskets)
    if n_baskets == 0 or n_items == 0:
        return BasketResult(n_baskets, n_items, _empty(ITEMSET_COLUMNS), _empty(RULE_COLUMNS), 0, False, min_count)
    pairs = np.sort(basket_codes * n_items + item_codes)
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]  # an item counts once per basket
    basket_codes, item_codes = pairs // n_items, pairs % n_items

    item_counts = np.bincount(item_codes, minlength=n_items)
    frequent = np.flatnonzero(item_counts >= min_count)
    # Depth-first over items in ascending support keeps the intersected tid-lists short.
    order = sorted(frequent.tolist(), key=lambda code: (item_counts[code], item_names[code]))
    if len(order) > params.max_itemsets:
        raise _too_many(params)
    position = np.full(n_items, -1, dtype=np.int64)
    position[order] = np.arange(len(order))
    labels = [item_names[code] for code in order]
    counts = item_counts[order].astype(np.int64)

    keep = position[item_codes] >= 0
    bits = _bitsets(position[item_codes[keep]], basket_codes[keep], len(order), n_baskets)
    found = _eclat(bits, counts, min_count, params)
    candidates = sum(len(itemset) for itemset in found if len(itemset) > 1)
    if candidates > MAX_CANDIDATE_RULES:
        raise Invalid.field("min_support", f"these parameters give {candidates:,} candidate rules (more than "
                                           f"{MAX_CANDIDATE_RULES:,}): raise min_support or lower max_len")
    itemsets = _itemset_frame(found, labels, n_baskets)
    rules = _rules(found, counts, n_baskets, labels, params)
    rules_total = len(rules)
    no_rules = None
    if rules_total == 0 and explain:
        def rules_at(support: float) -> int:
            return mine_codes(basket_codes, item_codes, item_names, n_baskets, replace(params, min_support=support),
                         explain=False).rules_total
        no_rules = explain_no_rules(basket_codes, item_codes, item_names, n_baskets, params.min_support, rules_at)
    truncated = rules_total > params.max_rules
    rules = rules.head(params.max_rules).reset_index(drop=True)
    logger.info("basket mining: %d baskets, %d items (%d frequent at count >= %d), %d itemsets, %d rules%s in %.3fs",
                n_baskets, n_items, len(order), min_count, len(itemsets), rules_total,
                f" (kept {params.max_rules})" if truncated else "", time.perf_counter() - started)
    return BasketResult(n_baskets, n_items, itemsets, rules, rules_total, truncated, min_count, no_rules)


def _bitsets(items: np.ndarray, baskets: np.ndarray, n_rows: int, n_baskets: int) -> np.ndarray:
    """One row of uint64 words per item; bit b of the row is set when basket b holds the item."""
    words = (n_baskets + 63) // 64
    bits = np.zeros((n_rows, words), dtype=np.uint64)
    flat = items * words + baskets // 64
    np.bitwise_or.at(bits.reshape(-1), flat, np.left_shift(np.uint64(1), (baskets % 64).astype(np.uint64)))
    return bits


def _eclat(bits: np.ndarray, counts: np.ndarray, min_count: int, params: BasketParams) -> dict[tuple, int]:
    """Every frequent itemset (a tuple of ascending item positions) with its basket count."""
    found: dict[tuple, int] = {}

    def extend(prefix: tuple, positions: np.ndarray, rows: np.ndarray, row_counts: np.ndarray) -> None:
        for i in range(len(positions)):
            itemset = (*prefix, int(positions[i]))
            found[itemset] = int(row_counts[i])
            if len(found) > params.max_itemsets:
                raise _too_many(params)
            if len(itemset) >= params.max_len or i + 1 == len(positions):
                continue
            row = rows[i]
            words = np.flatnonzero(row)  # only the words where this itemset has baskets can matter below
            joined = rows[i + 1:, words] & row[words]
            joined_counts = np.bitwise_count(joined).sum(axis=1, dtype=np.int64)
            keep = joined_counts >= min_count
            if keep.any():
                extend(itemset, positions[i + 1:][keep], joined[keep], joined_counts[keep])

    extend((), np.arange(len(counts)), bits, counts)
    return found


def _too_many(params: BasketParams) -> Invalid:
    higher = min(1.0, params.min_support * 2)
    return Invalid.field("min_support", f"min_support {params.min_support:g} is too low for this data: it gives more "
                                        f"than {params.max_itemsets:,} frequent itemsets; try a higher value such as "
                                        f"{higher:g}")


def _itemset_frame(found: dict[tuple, int], labels: list[str], n_baskets: int) -> pd.DataFrame:
    if not found:
        return _empty(ITEMSET_COLUMNS)
    keys = list(found)
    frame = pd.DataFrame({
        "items": [tuple(sorted(labels[p] for p in key)) for key in keys],
        "size": np.fromiter((len(key) for key in keys), dtype=np.int64, count=len(keys)),
        "count": np.fromiter(found.values(), dtype=np.int64, count=len(keys)),
    })
    frame["support"] = frame["count"] / n_baskets
    frame = frame.sort_values(["size", "count", "items"], ascending=[True, False, True], kind="mergesort")
    return frame.reset_index(drop=True)


def _rules(found: dict[tuple, int], counts: np.ndarray, n: int, labels: list[str],
           params: BasketParams) -> pd.DataFrame:
    """All rules X => y from the itemsets of two or more items that pass confidence and lift, best first."""
    antecedents, consequents, both, body = [], [], [], []
    for itemset, count in found.items():
        if len(itemset) < 2:
            continue
        for j, head in enumerate(itemset):
            rest = itemset[:j] + itemset[j + 1:]
            antecedents.append(rest)
            consequents.append(head)
            both.append(count)
            body.append(found[rest])
    if not antecedents:
        return _empty(RULE_COLUMNS)
    cz = np.asarray(both, dtype=np.int64)
    cx = np.asarray(body, dtype=np.int64)
    cy = counts[np.asarray(consequents, dtype=np.int64)]
    conf, lift = Fraction(str(params.min_confidence)), Fraction(str(params.min_lift))
    passes = _at_least(cz, conf.denominator, conf.numerator, cx) \
        & _at_least(cz * n, lift.denominator, lift.numerator, cx * cy, bound=n * n)
    picked = np.flatnonzero(passes)
    cz, cx, cy = cz[picked], cx[picked], cy[picked]
    confidence = cz / cx
    head_support = cy / n
    conviction = np.full(len(picked), None, dtype=object)
    partial = cz < cx
    conviction[partial] = ((1 - head_support[partial]) / (1 - confidence[partial])).tolist()
    frame = pd.DataFrame({
        "antecedents": [tuple(sorted(labels[p] for p in antecedents[i])) for i in picked],
        "consequents": [(labels[consequents[i]],) for i in picked],
        "count": cz,
        "support": cz / n,
        "confidence": confidence,
        "lift": (cz * n).astype(np.float64) / (cx * cy).astype(np.float64),
        "leverage": cz / n - (cx / n) * head_support,
        "conviction": conviction,
    })
    frame = frame.sort_values(["lift", "confidence", "count", "antecedents", "consequents"],
                              ascending=[False, False, False, True, True], kind="mergesort")
    return frame.reset_index(drop=True)


def _at_least(left: np.ndarray, left_scale: int, right_scale: int, right: np.ndarray,
              bound: int | None = None) -> np.ndarray:
    """Exactly `left * left_scale >= right_scale * right`, in int64 when that cannot overflow, else in Python ints."""
    largest = max(int(left.max(initial=0)), int(right.max(initial=0)), bound or 0)
    if largest * max(left_scale, right_scale) < _INT64_SAFE:
        return left * left_scale >= right_scale * right
    exact_left = left.astype(object) * left_scale
    exact_right = right.astype(object) * right_scale
    return np.asarray(exact_left >= exact_right, dtype=bool)


def _basket_keys(view: pd.DataFrame) -> pd.Series:
    """The basket each line belongs to: its invoice, else its customer on that calendar day."""
    if "invoice" in view.columns:
        return view["invoice"]
    if {"customer", "date"} <= set(view.columns):
        day = pd.to_datetime(view["date"], errors="coerce").dt.normalize()
        keys = view["customer"].astype("string") + "|" + day.dt.strftime("%Y-%m-%d").astype("string")
        return keys
    raise Invalid.field("invoice", "basket analysis needs an invoice column, or customer and date columns to make "
                                   "one basket per customer and day; name it with columns={role: column}")


def _item_labels(view: pd.DataFrame, item: str) -> pd.Series:
    """Item labels from the description (or code) column; blank labels count as missing."""
    preferred = ("description", "item") if item == "description" else ("item", "description")
    column = next((name for name in preferred if name in view.columns), None)
    if column is None:
        raise Invalid.field("item", "basket analysis needs an item code or description column")
    labels = view[column].astype("string")
    return labels.mask(labels.str.strip().eq("").fillna(False))


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
