"""Market basket analysis: hand-worked metrics, exact thresholds, the groceries data, and pyfim/mlxtend as oracles."""
from __future__ import annotations

from collections import Counter
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from services.analysis.basket import (
    MAX_RULES_CAP,
    BasketParams,
    BasketResult,
    basket_analysis,
    mine_codes,
    recommendations,
)
from services.errors import Invalid
from tests.conftest import TEST_DATA

GROCERIES = TEST_DATA / "groceries.csv"

# n = 5; bread 4, milk 4, butter 2; bread+milk 3, bread+butter 2, milk+butter 1, all three 1.
TINY = [["bread", "milk"], ["bread", "butter"], ["bread", "milk", "butter"], ["milk"], ["bread", "milk"]]
EVERYTHING = {"min_support": 0.2, "min_confidence": 0, "min_lift": 0}


def mine_baskets(baskets: list[list[str]] | pd.Series, params: BasketParams) -> BasketResult:
    """Mine plain baskets (each a list of item labels); every basket counts, even an empty one."""
    series = pd.Series(list(baskets), dtype=object)
    flat = series.explode().dropna()
    item_codes, item_names = pd.factorize(flat.to_numpy(dtype=object), sort=False)
    return mine_codes(flat.index.to_numpy(dtype=np.int64), item_codes, [str(name) for name in item_names], len(series),
                      params)


@pytest.fixture(scope="module")
def groceries() -> list[list[str]]:
    return [line.split(",") for line in GROCERIES.read_text(encoding="utf-8").splitlines()]


def rule_map(result) -> dict:
    """{(antecedents, consequent): row as a dict} for easy lookups."""
    return {(row["antecedents"], row["consequents"][0]): row for row in result.rules.to_dict("records")}


def rule_keys(result) -> set:
    return {(a, c[0], int(n)) for a, c, n in zip(result.rules["antecedents"], result.rules["consequents"],
                                                 result.rules["count"], strict=True)}


# --- hand-worked metrics -------------------------------------------------------------------------------------

def test_tiny_itemsets_counts_and_supports():
    result = mine_baskets(TINY, BasketParams(**EVERYTHING))
    assert (result.transactions, result.items, result.min_count) == (5, 3, 1)
    got = {row["items"]: (row["size"], row["count"], row["support"]) for row in result.itemsets.to_dict("records")}
    assert got == {
        ("bread",): (1, 4, 0.8), ("milk",): (1, 4, 0.8), ("butter",): (1, 2, 0.4),
        ("bread", "milk"): (2, 3, 0.6), ("bread", "butter"): (2, 2, 0.4), ("butter", "milk"): (2, 1, 0.2),
        ("bread", "butter", "milk"): (3, 1, 0.2),
    }
    assert list(result.itemsets.columns) == ["items", "size", "count", "support"]


@pytest.mark.parametrize("rule, expected", [
    # (antecedents, consequent): count, support, confidence, lift = n*cz/(cx*cy), leverage, conviction
    ((("bread",), "milk"), (3, 0.6, 0.75, 15 / 16, 0.6 - 0.8 * 0.8, 0.2 / 0.25)),
    ((("milk",), "bread"), (3, 0.6, 0.75, 15 / 16, 0.6 - 0.8 * 0.8, 0.2 / 0.25)),
    ((("bread",), "butter"), (2, 0.4, 0.5, 1.25, 0.4 - 0.8 * 0.4, 0.6 / 0.5)),
    ((("butter",), "bread"), (2, 0.4, 1.0, 1.25, 0.4 - 0.4 * 0.8, None)),
    ((("milk",), "butter"), (1, 0.2, 0.25, 0.625, 0.2 - 0.8 * 0.4, 0.6 / 0.75)),
    ((("butter",), "milk"), (1, 0.2, 0.5, 0.625, 0.2 - 0.4 * 0.8, 0.2 / 0.5)),
    ((("bread", "milk"), "butter"), (1, 0.2, 1 / 3, 5 / 6, 0.2 - 0.6 * 0.4, 0.6 / (2 / 3))),
    ((("bread", "butter"), "milk"), (1, 0.2, 0.5, 0.625, 0.2 - 0.4 * 0.8, 0.2 / 0.5)),
    ((("butter", "milk"), "bread"), (1, 0.2, 1.0, 1.25, 0.2 - 0.2 * 0.8, None)),
])
def test_tiny_rule_metrics_by_hand(rule, expected):
    rules = rule_map(mine_baskets(TINY, BasketParams(**EVERYTHING)))
    assert len(rules) == 9
    row = rules[rule]
    count, support, confidence, lift, leverage, conviction = expected
    assert row["count"] == count
    assert row["support"] == pytest.approx(support)
    assert row["confidence"] == pytest.approx(confidence)
    assert row["lift"] == pytest.approx(lift)
    assert row["leverage"] == pytest.approx(leverage)
    if conviction is None:
        assert row["conviction"] is None  # confidence 1: conviction is infinite
    else:
        assert row["conviction"] == pytest.approx(conviction)


def test_rules_have_one_consequent_and_sorted_antecedents():
    result = mine_baskets(TINY, BasketParams(**EVERYTHING))
    assert list(result.rules.columns) == ["antecedents", "consequents", "count", "support", "confidence", "lift",
                                          "leverage", "conviction"]
    for antecedents, consequents in zip(result.rules["antecedents"], result.rules["consequents"], strict=True):
        assert len(consequents) == 1 and antecedents and list(antecedents) == sorted(antecedents)
        assert consequents[0] not in antecedents


def test_lift_threshold_is_exact_where_floats_fall_short():
    # lift of bread=>butter is 5*2/(4*2) = 1.25 exactly, but from supports it is 1.2499999999999998 in floats.
    assert (2 / 5) / ((4 / 5) * (2 / 5)) < 1.25
    rules = rule_map(mine_baskets(TINY, BasketParams(min_support=0.2, min_confidence=0, min_lift=1.25)))
    assert set(rules) == {(("bread",), "butter"), (("butter",), "bread"), (("butter", "milk"), "bread")}
    above = mine_baskets(TINY, BasketParams(min_support=0.2, min_confidence=0, min_lift=1.2500001))
    assert above.rules_total == 0


def test_confidence_and_support_thresholds_are_inclusive():
    # confidence of bread=>butter is exactly 1/2; min_support 0.4 of 5 baskets is exactly 2 baskets.
    result = mine_baskets(TINY, BasketParams(min_support=0.4, min_confidence=0.5, min_lift=0))
    assert result.min_count == 2
    assert set(rule_map(result)) == {(("bread",), "milk"), (("milk",), "bread"), (("bread",), "butter"),
                                     (("butter",), "bread")}


def test_default_min_lift_keeps_lift_exactly_one():
    result = mine_baskets([["a", "b"], ["a"], ["b"], []], BasketParams(min_support=0.25, min_confidence=0))
    assert result.transactions == 4  # the empty basket still counts
    assert set(rule_map(result)) == {(("a",), "b"), (("b",), "a")}
    assert result.rules["lift"].tolist() == [1.0, 1.0]


def test_max_len_counts_every_item_of_the_rule():
    result = mine_baskets(TINY, BasketParams(**EVERYTHING, max_len=2))
    assert result.itemsets["size"].max() == 2 and len(result.itemsets) == 6
    assert result.rules_total == 6 and all(len(a) == 1 for a in result.rules["antecedents"])


def test_max_rules_keeps_the_best_by_lift_confidence_count():
    result = mine_baskets(TINY, BasketParams(**EVERYTHING, max_rules=4))
    assert (result.rules_total, result.truncated, len(result.rules)) == (9, True, 4)
    assert list(zip(result.rules["antecedents"], result.rules["consequents"], strict=True)) == [
        (("butter",), ("bread",)),          # lift 1.25, confidence 1, count 2
        (("butter", "milk"), ("bread",)),   # lift 1.25, confidence 1, count 1
        (("bread",), ("butter",)),          # lift 1.25, confidence 0.5
        (("bread",), ("milk",)),            # lift 15/16, confidence 0.75: ties with milk=>bread, then by name
    ]
    full = mine_baskets(TINY, BasketParams(**EVERYTHING, max_rules=9))
    assert (full.rules_total, full.truncated) == (9, False)


def test_explosion_guard_raises_instead_of_hanging(groceries):
    with pytest.raises(Invalid) as caught:
        mine_baskets(groceries, BasketParams(min_support=0.001, min_confidence=0.8, max_itemsets=1000))
    assert caught.value.errors[0]["field"] == "min_support"
    assert "too low" in caught.value.detail and "higher" in caught.value.detail
    with pytest.raises(Invalid):
        mine_baskets(TINY, BasketParams(**EVERYTHING, max_itemsets=2))  # three frequent items already
    assert len(mine_baskets(TINY, BasketParams(**EVERYTHING, max_itemsets=7)).itemsets) == 7


@pytest.mark.parametrize("field, value", [
    ("min_support", 0), ("min_support", 1.5), ("min_support", -0.1), ("min_support", float("nan")),
    ("min_support", True), ("min_confidence", 1.2), ("min_confidence", -0.1), ("min_lift", -1),
    ("max_len", 1), ("max_len", 101), ("max_len", 2.5), ("item", "sku"), ("max_rules", 0), ("country", "  "),
    ("max_itemsets", 0),
])
def test_invalid_params_name_the_field(field, value):
    with pytest.raises(Invalid) as caught:
        BasketParams(**{field: value})
    assert caught.value.status == 422
    assert caught.value.errors == [{"field": field, "message": caught.value.errors[0]["message"]}]


def test_empty_input_gives_empty_results():
    result = mine_baskets([], BasketParams())
    assert (result.transactions, result.items, result.rules_total, len(result.itemsets)) == (0, 0, 0, 0)
    nothing_frequent = mine_baskets([["a"], ["b"]], BasketParams(min_support=1.0))
    assert nothing_frequent.itemsets.empty and nothing_frequent.rules.empty and nothing_frequent.min_count == 2


def test_series_of_baskets_is_accepted():
    assert rule_keys(mine_baskets(pd.Series(TINY), BasketParams(**EVERYTHING))) == \
        rule_keys(mine_baskets(TINY, BasketParams(**EVERYTHING)))


# --- canonical views -----------------------------------------------------------------------------------------

def view_of(baskets: list[list[str]]) -> pd.DataFrame:
    rows = [(f"inv{i}", item) for i, basket in enumerate(baskets) for item in basket]
    return pd.DataFrame({"invoice": pd.Series([r[0] for r in rows], dtype="string"),
                         "description": pd.Series([r[1] for r in rows], dtype="string")})


def test_invoice_view_matches_plain_baskets_and_ignores_repeats_and_blanks():
    view = view_of(TINY)
    noise = pd.DataFrame({"invoice": pd.Series(["inv0", "inv1", "inv2"], dtype="string"),
                          "description": pd.Series(["bread", None, "  "], dtype="string")})
    result = basket_analysis(pd.concat([view, noise], ignore_index=True), BasketParams(**EVERYTHING))
    assert (result.transactions, result.items) == (5, 3)
    assert rule_keys(result) == rule_keys(mine_baskets(TINY, BasketParams(**EVERYTHING)))


def test_customer_and_calendar_day_make_the_baskets_without_invoices():
    view = pd.DataFrame({
        "customer": pd.Series(["c1", "c1", "c1", "c2", "c2", None], dtype="string"),
        "date": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 17:30", "2024-01-02 09:00", "2024-01-01 10:00",
                                "2024-01-01 10:00", "2024-01-01 10:00"]),
        "description": pd.Series(["bread", "milk", "bread", "bread", "milk", "milk"], dtype="string"),
    })
    result = basket_analysis(view, BasketParams(min_support=0.5))
    # baskets: c1 day 1 {bread, milk}, c1 day 2 {bread}, c2 day 1 {bread, milk}; the line without a customer is dropped
    assert (result.transactions, result.min_count) == (3, 2)
    rules = rule_map(result)
    assert set(rules) == {(("milk",), "bread"), (("bread",), "milk")}
    assert rules[(("bread",), "milk")]["confidence"] == pytest.approx(2 / 3)
    assert rules[(("milk",), "bread")]["lift"] == 1.0


def test_missing_invoice_role_is_named():
    with pytest.raises(Invalid) as caught:
        basket_analysis(pd.DataFrame({"description": pd.Series(["a"], dtype="string")}), BasketParams())
    assert caught.value.errors[0]["field"] == "invoice"


def test_item_by_code_or_by_description():
    view = pd.DataFrame({
        "invoice": pd.Series(["1", "1", "2", "2", "3"], dtype="string"),
        "item": pd.Series(["85123A", "22423", "85123B", "22423", "22423"], dtype="string"),
        "description": pd.Series(["WHITE HEART", "CAKE STAND", "WHITE HEART", "CAKE STAND", "CAKE STAND"],
                                 dtype="string"),
    })
    params = {"min_support": 0.5, "min_confidence": 0, "min_lift": 0}
    by_name = basket_analysis(view, BasketParams(**params))
    assert set(by_name.itemsets["items"]) == {("CAKE STAND",), ("WHITE HEART",), ("CAKE STAND", "WHITE HEART")}
    by_code = basket_analysis(view, BasketParams(**params, item="code"))
    assert by_code.items == 3 and set(by_code.itemsets["items"]) == {("22423",)}  # 85123A and B: one basket each
    only_codes = basket_analysis(view.drop(columns="description"), BasketParams(**params))
    assert set(only_codes.itemsets["items"]) == {("22423",)}  # no description: the code labels the item


def test_country_filter_is_case_insensitive_and_needs_the_column():
    view = view_of(TINY).assign(country=pd.Series(["France", "France", "Germany", "germany", "GERMANY ",
                                                   "Germany", "germany", "Germany", "France", "France"],
                                                  dtype="string"))
    result = basket_analysis(view, BasketParams(min_support=0.5, country="germany"))
    assert result.transactions == 3  # inv1 (bread, butter), inv2 (bread, milk, butter), inv3 (milk) rows
    assert set(result.itemsets["items"]) >= {("bread",), ("butter",)}
    with pytest.raises(Invalid) as caught:
        basket_analysis(view_of(TINY), BasketParams(country="France"))
    assert caught.value.errors[0]["field"] == "country"


# --- recommendations -----------------------------------------------------------------------------------------

def test_recommendations_rank_by_lift_then_confidence_then_count_one_per_item():
    rules = mine_baskets(TINY, BasketParams(**EVERYTHING)).rules
    assert recommendations(rules, "butter") == [
        {"item": "bread", "lift": 1.25, "confidence": 1.0, "support": 0.4, "count": 2, "antecedents": ["butter"]},
        {"item": "milk", "lift": 0.625, "confidence": 0.5, "support": 0.2, "count": 1,
         "antecedents": ["bread", "butter"]},
    ]
    assert [r["item"] for r in recommendations(rules, "butter", limit=1)] == ["bread"]
    assert recommendations(rules, "caviar") == []
    assert recommendations(rules.iloc[0:0], "butter") == []
    with pytest.raises(Invalid):
        recommendations(rules, "butter", limit=0)


# --- the groceries data (9,835 baskets) ------------------------------------------------------------------------

def test_groceries_file_is_the_classic_one(groceries):
    assert len(groceries) == 9835
    frequency = Counter(item for basket in groceries for item in set(basket))
    assert len(frequency) == 169 and frequency["whole milk"] == 2513
    assert sum(frequency.values()) == 43367


def test_groceries_rule_counts_match_arules(groceries):
    strict = mine_baskets(groceries, BasketParams(min_support=0.001, min_confidence=0.8, min_lift=0))
    assert (strict.min_count, len(strict.itemsets), strict.rules_total) == (10, 13492, 410)
    loose = mine_baskets(groceries, BasketParams(min_support=0.006, min_confidence=0.25, min_lift=0))
    assert (loose.min_count, loose.rules_total) == (60, 463)


def test_groceries_keeps_rules_of_confidence_exactly_the_minimum(groceries):
    rules = rule_map(mine_baskets(groceries, BasketParams(min_support=0.001, min_confidence=0.8, min_lift=0)))
    row = rules[(("herbs", "rolls/buns"), "whole milk")]
    assert row["count"] == 24 and row["confidence"] == 0.8  # 24 of 30 baskets
    exact = [r for r in rules.values()
             if Fraction(int(r["count"]), round(r["count"] / r["confidence"])) == Fraction(4, 5)]
    assert len(exact) == 39


# --- pyfim (Borgelt's C code, the engine inside arules) as the oracle ---------------------------------------------

def pyfim_rules(fim, baskets, min_count: int, min_confidence: float, max_len: int) -> set:
    # supp < 0: an absolute count; mode "o": rule support is that of body and head together, as in arules.
    found = fim.arules(baskets, supp=-min_count, conf=min_confidence * 100, zmin=2, zmax=max_len,
                       report="abcl", mode="o")
    return {(tuple(sorted(body)), head, both) for head, body, both, _body, _conf, _lift in found}


@pytest.mark.parametrize("support, confidence, max_len", [
    (0.001, 0.8, 10), (0.006, 0.25, 10), (0.003, 0.5, 3), (0.01, 0.0, 10), (0.002, 0.75, 4),
])
def test_groceries_rules_match_pyfim(groceries, support, confidence, max_len):
    fim = pytest.importorskip("fim")
    ours = mine_baskets(groceries, BasketParams(min_support=support, min_confidence=confidence, min_lift=0,
                                                max_len=max_len, max_rules=MAX_RULES_CAP))
    assert rule_keys(ours) == pyfim_rules(fim, groceries, ours.min_count, confidence, max_len)


def random_baskets(seed: int) -> list[list[str]]:
    """200-2000 baskets over 5-40 items with skewed popularity and a few items bought together."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(200, 2001)), int(rng.integers(5, 41))
    popularity = 0.5 * np.arange(1, k + 1) ** -1.1
    themes = [rng.choice(k, size=min(k, int(rng.integers(2, 6))), replace=False) for _ in range(rng.integers(2, 6))]
    baskets = []
    for _ in range(n):
        holds = rng.random(k) < popularity
        if rng.random() < 0.4:
            theme = themes[int(rng.integers(len(themes)))]
            holds[theme[rng.random(len(theme)) < 0.7]] = True
        baskets.append([f"item{j:02d}" for j in np.flatnonzero(holds)])
    return baskets


@pytest.mark.parametrize("seed", range(20))
def test_random_baskets_match_pyfim(seed):
    fim = pytest.importorskip("fim")
    baskets = random_baskets(seed)
    on_the_boundary = 0
    for support, confidence, max_len in [(0.005, 0.5, 5), (0.02, 0.25, 4), (0.05, 0.8, 3), (0.01, 0.6, 5),
                                         (0.03, 0.0, 2), (0.01, 0.75, 4)]:
        ours = mine_baskets(baskets, BasketParams(min_support=support, min_confidence=confidence, min_lift=0,
                                                  max_len=max_len, max_rules=MAX_RULES_CAP))
        assert rule_keys(ours) == pyfim_rules(fim, baskets, ours.min_count, confidence, max_len), (support, confidence)
        on_the_boundary += int((ours.rules["confidence"] == confidence).sum()) if confidence else 0
    assert on_the_boundary > 0  # every seed has rules of confidence exactly the minimum: the boundary is tested


def test_random_baskets_lift_filter_matches_exact_pyfim_lift():
    fim = pytest.importorskip("fim")
    baskets = random_baskets(5)
    heads = Counter(item for basket in baskets for item in set(basket))
    ours = mine_baskets(baskets, BasketParams(min_support=0.01, min_confidence=0.1, min_lift=1.5))
    found = fim.arules(baskets, supp=-ours.min_count, conf=10, zmin=2, zmax=10, report="abcl", mode="o")
    n = len(baskets)
    theirs = {(tuple(sorted(body)), head, both) for head, body, both, body_count, _c, _l in found
              if Fraction(both * n, body_count * heads[head]) >= Fraction(3, 2)}
    assert ours.rules_total > 0 and rule_keys(ours) == theirs


# --- mlxtend ---------------------------------------------------------------------------------------------------

def test_mlxtend_fpgrowth_agrees_on_groceries_single_consequent_rules(groceries):
    """mlxtend 0.25 also keeps the 39 rules of confidence exactly 0.8; beyond our 410 it only adds rules with
    two-item consequents (one consequent is the arules convention we follow)."""
    frequent_patterns = pytest.importorskip("mlxtend.frequent_patterns")
    preprocessing = pytest.importorskip("mlxtend.preprocessing")
    encoder = preprocessing.TransactionEncoder()
    onehot = pd.DataFrame(encoder.fit(groceries).transform(groceries), columns=encoder.columns_)
    itemsets = frequent_patterns.fpgrowth(onehot, min_support=0.001, use_colnames=True, max_len=10)
    rules = frequent_patterns.association_rules(itemsets, num_itemsets=len(onehot), metric="confidence",
                                                min_threshold=0.8)
    single = rules[rules["consequents"].map(len) == 1]
    theirs = {(tuple(sorted(a)), next(iter(c))) for a, c in zip(single["antecedents"], single["consequents"],
                                                                  strict=True)}
    ours = mine_baskets(groceries, BasketParams(min_support=0.001, min_confidence=0.8, min_lift=0))
    assert len(itemsets) == len(ours.itemsets) == 13492
    assert theirs == {(a, c) for a, c, _n in rule_keys(ours)} and len(theirs) == 410
    assert (rules["consequents"].map(len) >= 1).all() and len(rules) >= 410


def test_a_tiny_file_that_would_explode_into_millions_of_rules_is_refused_quickly():
    same_18_items = [[f"item{i}" for i in range(18)]] * 32
    with pytest.raises(Invalid, match="candidate rules"):
        mine_baskets(same_18_items, BasketParams(min_support=0.5, max_len=100, max_itemsets=1_000_000))
    with pytest.raises(Invalid, match="max_rules"):
        BasketParams(max_rules=10**9)
