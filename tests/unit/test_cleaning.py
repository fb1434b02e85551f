"""Cleaning rules on a hand-made frame: each rule's count, the order rules apply in, outliers and alerts."""
import pandas as pd
import pytest

from services.analysis.cleaning import RULES, CleaningParams, clean, data_quality_alerts
from services.analysis.frame import canonical
from services.errors import Invalid

ROLES = {"invoice": "Inv", "customer": "Cust", "item": "Code", "description": "Desc", "quantity": "Qty",
         "unit_price": "Price", "date": "When"}


def original() -> pd.DataFrame:
    rows = [
        ("1", "A", "X", "Cup", 2, 1.5, "2011-01-01"),      # kept
        ("1", "A", "Y", "Jug", 1, 3.0, "2011-01-01"),      # kept
        ("2", None, "X", "Cup", 1, 1.5, "2011-01-02"),     # missing_customer
        ("C3", "B", "X", "Cup", -1, 1.5, "2011-01-03"),    # cancellations (also negative quantity)
        ("4", "B", None, None, 1, 1.5, "2011-01-04"),      # missing_item
        ("5", "B", "X", "Cup", 0, 1.5, "2011-01-05"),      # non_positive_quantity
        ("6", "B", "X", "Cup", 1, 0.0, "2011-01-06"),      # non_positive_price
        ("1", "A", "X", "Cup", 2, 1.5, "2011-01-01"),      # duplicates (of the first row)
        ("8", "C", "X", "Cup", 1, 1.5, None),              # unparseable_dates
        ("9", "C", "Z", "Vase", 1, 100.0, "2011-01-09"),   # kept; an amount outlier
        ("10", None, "Z", "Vase", 0, 0.0, None),           # several rules: counted once, as missing_customer
    ]
    frame = pd.DataFrame(rows, columns=["Inv", "Cust", "Code", "Desc", "Qty", "Price", "When"])
    for column in ("Inv", "Cust", "Code", "Desc"):
        frame[column] = frame[column].astype("string")
    frame["When"] = pd.to_datetime(frame["When"])
    return frame


def run(**params):
    frame = original()
    return clean(canonical(frame, ROLES), frame, CleaningParams(**params))


def test_every_rule_counts_its_rows_once_in_order():
    result = run()
    assert result.summary["removed"] == {
        "missing_customer": 2, "missing_item": 1, "unparseable_dates": 1, "cancellations": 1,
        "non_positive_quantity": 1, "non_positive_price": 1, "duplicates": 1,
    }
    assert (result.summary["rows_in"], result.summary["rows_out"]) == (11, 3)
    assert result.kept().index.tolist() == [0, 1, 9]
    assert result.reasons[10] == "missing_customer"
    assert result.summary["rules_applied"] == [rule for rule in RULES if rule != "excluded_statuses"]  # no status


def test_rules_can_be_switched_off():
    result = run(missing_customer=False, duplicates=False)
    assert "missing_customer" not in result.summary["removed"]
    assert result.kept().index.tolist() == [0, 1, 2, 7, 9]
    assert result.summary["removed"]["unparseable_dates"] == 2  # row 10 now falls to the next rule in order


def test_missing_columns_skip_their_rules():
    frame = original()[["Inv", "Qty", "Price"]]
    result = clean(canonical(frame, {"invoice": "Inv", "quantity": "Qty", "unit_price": "Price"}), frame,
                   CleaningParams())
    assert set(result.summary["rules_skipped"]) == {"missing_customer", "missing_item", "unparseable_dates",
                                                    "excluded_statuses"}


def test_amount_outliers_flagged_or_removed():
    assert run().summary["outliers"] == {"mode": "flag", "method": "iqr", "threshold": 1.5, "column": "amount",
                                         "flagged": 0, "low": None, "high": None}  # 3 amounts: too few to judge
    removed = run(missing_customer=False, duplicates=False, outliers="remove")
    # kept amounts 3, 3, 1.5, 3, 100: q1 = q3 = 3, so the fences are 3..3 and 1.5 and 100 are outliers
    assert removed.summary["outliers"]["flagged"] == 2
    assert (removed.summary["outliers"]["low"], removed.summary["outliers"]["high"]) == (3.0, 3.0)
    assert removed.summary["removed"]["outlier"] == 2
    assert removed.kept().index.tolist() == [0, 1, 7]
    # mean 22.1, sample std 43.55: only 100 is more than one std away
    z = run(missing_customer=False, duplicates=False, outlier_method="zscore", outlier_threshold=1.0)
    assert z.summary["outliers"]["flagged"] == 1
    assert "outlier" not in z.summary["removed"]


def test_bad_outlier_params_are_invalid():
    for params in ({"outliers": "drop"}, {"outlier_method": "mad"}, {"outlier_threshold": -1.0}):
        with pytest.raises(Invalid):
            CleaningParams(**params)


def test_alerts_like_a_profiler():
    rows = 500
    frame = pd.DataFrame({
        "id": pd.array([f"c{i}" for i in range(rows)], dtype="string"),
        "country": ["UK"] * rows,
        "zeros": [0] * 50 + list(range(1, rows - 49)),
        "skewed": [1.0] * (rows - 1) + [1e9],
        "gaps": [None] * 30 + ["x", "y"] * ((rows - 30) // 2),
    })
    frame = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)
    alerts = {(a["column"], a["type"]): a["value"] for a in data_quality_alerts(frame)}
    assert alerts == {
        ("id", "high_cardinality"): rows,
        ("country", "constant"): "UK",
        ("zeros", "zeros"): round(51 / 501, 4),
        ("skewed", "skewed"): round(float(frame["skewed"].skew()), 2),
        ("gaps", "missing"): round(31 / 501, 4),
        ("*", "duplicates"): 1,
    }
    assert frame["skewed"].skew() > 20
    assert data_quality_alerts(frame.iloc[0:0]) == []
