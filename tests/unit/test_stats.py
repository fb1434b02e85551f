"""The statistical analysis on tiny hand-made order lines: every expected number is worked out by hand below."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from services.analysis.statistical import StatsParams, statistical_summary
from services.errors import Invalid

COLUMNS = ["invoice", "customer", "item", "description", "quantity", "unit_price", "amount", "date", "country"]
TEXT = ["invoice", "customer", "item", "description", "country"]

# Five orders, three customers, three products, four calendar months (2011-01 empty).
#  invoice customer item desc quantity price amount  date (weekday)              country
LINES = [
    ("A1", "C1", "P1", "MUG", 2, 5.00, 10.00, "2010-12-06 09:15", "UK"),  # Monday
    ("A1", "C1", "P2", "BAG", 1, 20.00, 20.00, "2010-12-06 09:15", "UK"),
    ("A2", "C2", "P1", "MUG", 4, 5.00, 20.00, "2010-12-07 14:30", "France"),  # Tuesday
    ("A3", "C1", "P3", "PEN", 10, 0.50, 5.00, "2011-02-07 09:45", "UK"),  # Monday
    ("A4", "C3", "P2", "BAG", 3, 20.00, 60.00, "2011-02-11 14:05", "Germany"),  # Friday
    ("A4", "C3", "P3", "PEN", 20, 0.50, 10.00, "2011-02-11 14:05", "Germany"),
    ("A5", "C2", "P1", "MUG", 1, 5.00, 5.00, "2011-03-01 09:00", "France"),  # Tuesday
]


def kpis(view: pd.DataFrame) -> dict:
    """The kpis section alone."""
    return statistical_summary(view, StatsParams())["kpis"]


def view(rows=LINES, drop=()) -> pd.DataFrame:
    """A canonical view with the dtypes the cleaning step produces, without the `drop` columns."""
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.astype({column: "string" for column in TEXT}).astype({"quantity": "int64", "unit_price": "float64",
                                                                       "amount": "float64"})
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.drop(columns=list(drop))


def summary(frame, **params) -> dict:
    result = statistical_summary(frame, StatsParams(**params))
    json.dumps(result, allow_nan=False)
    assert_plain(result)
    return result


def assert_plain(value, where="summary"):
    """Only JSON's own Python types, with no numpy scalar hiding anywhere."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str, where
            assert_plain(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_plain(item, f"{where}[{index}]")
    else:
        assert value is None or type(value) in (str, int, float, bool), f"{where} is {type(value)}"
        assert not isinstance(value, float) or math.isfinite(value), where


def labels(entries):
    return [entry["label"] for entry in entries]


def values(entries, key="value"):
    return [entry[key] for entry in entries]


# kpis ---------------------------------------------------------------------------------------------------------
def test_kpis_by_hand():
    # revenue 10+20+20+5+60+10+5 = 130 over 5 invoices; quantity 2+1+4+10+3+20+1 = 41; customers C1, C2, C3
    assert kpis(view()) == {
        "total_revenue": 130.0, "total_orders": 5, "unique_customers": 3,
        "avg_order_value": 26.0,  # 130 / 5
        "items_per_order": 8.2,  # 41 / 5
        "revenue_per_customer": 43.33,  # 130 / 3 = 43.333...
        "total_quantity": 41, "rows": 7,
        "first_date": "2010-12-06T09:15:00", "last_date": "2011-03-01T09:00:00",
    }


def test_summary_kpis_are_the_dashboard_kpis():
    assert summary(view())["kpis"] == kpis(view())


@pytest.mark.parametrize(("amounts", "total"), [
    ([2.675], 2.68),  # the float is 2.67499999..., np.round and round() give 2.67; the decimal text rounds up
    ([1.005], 1.01),
    ([-2.675], -2.68),  # half away from zero
    ([0.1, 0.2], 0.3),  # 0.30000000000000004
    ([0.125, 0.0], 0.13),
])
def test_money_rounds_half_away_from_zero(amounts, total):
    frame = pd.DataFrame({"amount": amounts})
    assert kpis(frame)["total_revenue"] == total


def test_revenue_per_customer_counts_only_lines_with_a_customer():
    frame = view()
    frame.loc[6, "customer"] = pd.NA  # A5 (5.00) becomes anonymous; C2 keeps A2
    result = kpis(frame)
    assert result["total_revenue"] == 130.0
    assert result["unique_customers"] == 3
    assert result["revenue_per_customer"] == 41.67  # (130 - 5) / 3 = 41.666...


def test_missing_invoices_are_not_orders():
    frame = view()
    frame.loc[6, "invoice"] = pd.NA  # A5
    result = kpis(frame)
    assert result["total_orders"] == 4
    assert result["avg_order_value"] == 32.5  # 130 / 4
    assert result["items_per_order"] == 10.25  # 41 / 4


def test_missing_and_infinite_amounts_are_left_out():
    frame = view()
    frame.loc[0, "amount"] = np.nan
    frame.loc[1, "amount"] = np.inf
    result = summary(frame)
    assert result["kpis"]["total_revenue"] == 100.0  # 130 - 10 - 20
    assert result["describe"]["amount"]["count"] == 5
    assert result["describe"]["amount"]["missing"] == 2
    # A1 has no known amount left, so it is no order total; the other totals are 20, 5, 70, 5
    assert sum(values(result["histograms"]["order_value"])) == 4


# describe and correlation --------------------------------------------------------------------------------------
def sample_skew(x):
    """Adjusted Fisher-Pearson skewness, as pandas computes it."""
    n, deviations = len(x), x - x.mean()
    m2, m3 = (deviations ** 2).mean(), (deviations ** 3).mean()
    return math.sqrt(n * (n - 1)) / (n - 2) * m3 / m2 ** 1.5


def sample_kurtosis(x):
    """Excess (Fisher) kurtosis with the sample correction, as pandas computes it."""
    n, deviations = len(x), x - x.mean()
    m2, m4 = (deviations ** 2).mean(), (deviations ** 4).mean()
    return (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * m4 / m2 ** 2 - 3 * (n - 1))


def test_describe_matches_numpy_on_the_tiny_data():
    described = summary(view())["describe"]
    assert list(described) == ["quantity", "unit_price", "amount"]
    amount = np.array([10, 20, 20, 5, 60, 10, 5], dtype=float)
    # sorted 5 5 10 10 20 20 60: median 10; q1 at position 1.5 -> 7.5; q3 at position 4.5 -> 20
    assert described["amount"] == pytest.approx({
        "count": 7, "mean": 130 / 7, "std": float(np.std(amount, ddof=1)), "min": 5.0, "q1": 7.5,
        "median": 10.0, "q3": 20.0, "max": 60.0, "skew": sample_skew(amount), "kurtosis": sample_kurtosis(amount),
        "missing": 0,
    })
    quantity = np.array([2, 1, 4, 10, 3, 20, 1], dtype=float)
    # sorted 1 1 2 3 4 10 20
    assert described["quantity"] == pytest.approx({
        "count": 7, "mean": 41 / 7, "std": float(np.std(quantity, ddof=1)), "min": 1.0, "q1": 1.5,
        "median": 3.0, "q3": 7.0, "max": 20.0, "skew": sample_skew(quantity),
        "kurtosis": sample_kurtosis(quantity), "missing": 0,
    })


def test_describe_of_tiny_and_constant_columns_has_none_where_undefined():
    frame = pd.DataFrame({"quantity": [3, 3], "amount": [4.0, np.nan]})
    described = summary(frame)["describe"]
    assert described["amount"] == {"count": 1, "mean": 4.0, "std": None, "min": 4.0, "q1": 4.0, "median": 4.0,
                                   "q3": 4.0, "max": 4.0, "skew": None, "kurtosis": None, "missing": 1}
    assert described["quantity"]["std"] == 0.0
    assert described["quantity"]["skew"] is None  # fewer than 3 values
    empty = summary(pd.DataFrame({"amount": pd.Series([], dtype="float64")}))["describe"]["amount"]
    assert empty == {"count": 0, "mean": None, "std": None, "min": None, "q1": None, "median": None, "q3": None,
                     "max": None, "skew": None, "kurtosis": None, "missing": 0}


def test_correlation_is_pearson_over_the_numeric_columns():
    correlation = summary(view())["correlation"]
    assert correlation["columns"] == ["quantity", "unit_price", "amount"]
    frame = view()
    expected = np.corrcoef([frame["quantity"], frame["unit_price"], frame["amount"]])
    assert np.allclose(np.array(correlation["matrix"]), expected)


def test_correlation_with_a_constant_column_is_none_there():
    frame = pd.DataFrame({"quantity": [1, 2, 3], "unit_price": [2.0, 2.0, 2.0], "amount": [2.0, 4.0, 6.0]})
    correlation = summary(frame)["correlation"]
    assert correlation["matrix"][0][2] == pytest.approx(1.0)
    assert correlation["matrix"][1] == [None, None, None]
    assert [row[1] for row in correlation["matrix"]] == [None, None, None]


# time buckets -------------------------------------------------------------------------------------------------
def test_by_month_fills_the_gap_months():
    assert summary(view())["by_month"] == [
        {"label": "2010-12", "value": 50.0, "orders": 2},  # A1 30 + A2 20
        {"label": "2011-01", "value": 0.0, "orders": 0},
        {"label": "2011-02", "value": 75.0, "orders": 2},  # A3 5 + A4 70
        {"label": "2011-03", "value": 5.0, "orders": 1},  # A5
    ]


def test_by_weekday_runs_monday_to_sunday():
    by_weekday = summary(view())["by_weekday"]
    assert labels(by_weekday) == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert values(by_weekday, "weekday") == [0, 1, 2, 3, 4, 5, 6]
    # Monday A1 30 + A3 5; Tuesday A2 20 + A5 5; Friday A4 70
    assert values(by_weekday) == [35.0, 25.0, 0.0, 0.0, 70.0, 0.0, 0.0]
    assert values(by_weekday, "orders") == [2, 2, 0, 0, 1, 0, 0]


def test_by_hour_has_all_24_hours():
    by_hour = summary(view())["by_hour"]
    assert labels(by_hour) == [f"{hour:02d}" for hour in range(24)]
    assert values(by_hour, "hour") == list(range(24))
    revenue, orders = [0.0] * 24, [0] * 24
    revenue[9], orders[9] = 40.0, 3  # A1 30 (09:15), A3 5 (09:45), A5 5 (09:00)
    revenue[14], orders[14] = 90.0, 2  # A2 20 (14:30), A4 70 (14:05)
    assert values(by_hour) == revenue
    assert values(by_hour, "orders") == orders


def test_dates_without_a_time_of_day_have_no_hours():
    frame = view()
    frame["date"] = frame["date"].dt.normalize()
    result = summary(frame)
    assert result["by_hour"] == []
    assert values(result["by_weekday"]) == [35.0, 25.0, 0.0, 0.0, 70.0, 0.0, 0.0]


def test_time_zone_aware_dates_bucket_on_local_wall_time():
    frame = view()
    frame["date"] = frame["date"].dt.tz_localize("Asia/Bangkok")
    result = summary(frame)
    assert result["kpis"]["first_date"] == "2010-12-06T09:15:00+07:00"
    assert values(result["by_hour"])[9] == 40.0
    assert labels(result["by_month"]) == ["2010-12", "2011-01", "2011-02", "2011-03"]


def test_lines_without_a_date_are_left_out_of_time_buckets():
    frame = view()
    frame.loc[4, "date"] = pd.NaT  # half of A4: 60.00; its other line still dates A4
    result = summary(frame)
    assert result["by_month"][2] == {"label": "2011-02", "value": 15.0, "orders": 2}
    assert values(result["by_weekday"])[4] == 10.0
    assert result["kpis"]["total_revenue"] == 130.0


# top lists ---------------------------------------------------------------------------------------------------
def test_top_products_customers_and_countries():
    result = summary(view())
    assert result["top_products"] == [
        {"label": "BAG", "item": "P2", "value": 80.0, "quantity": 4, "orders": 2},  # 20 + 60
        {"label": "MUG", "item": "P1", "value": 35.0, "quantity": 7, "orders": 3},  # 10 + 20 + 5
        {"label": "PEN", "item": "P3", "value": 15.0, "quantity": 30, "orders": 2},  # 5 + 10
    ]
    assert result["top_customers"] == [
        {"label": "C3", "value": 70.0, "orders": 1, "quantity": 23},
        {"label": "C1", "value": 35.0, "orders": 2, "quantity": 13},
        {"label": "C2", "value": 25.0, "orders": 2, "quantity": 5},
    ]
    assert result["top_countries"] == [
        {"label": "Germany", "value": 70.0, "orders": 1, "customers": 1},
        {"label": "UK", "value": 35.0, "orders": 2, "customers": 1},
        {"label": "France", "value": 25.0, "orders": 2, "customers": 1},
    ]


def test_top_n_cuts_the_lists():
    result = summary(view(), top_n=2)
    assert labels(result["top_products"]) == ["BAG", "MUG"]
    assert labels(result["top_customers"]) == ["C3", "C1"]
    assert labels(result["top_countries"]) == ["Germany", "UK"]


def test_ties_are_broken_by_label_on_the_rounded_cents():
    rows = [  # every customer and product totals 0.30; "b" gets there as 0.1 + 0.2 = 0.30000000000000004
        ("T1", "b", "X2", "b", 1, 0.1, 0.1, "2011-01-03 10:00", "Spain"),
        ("T1", "b", "X2", "b", 1, 0.2, 0.2, "2011-01-03 10:00", "Spain"),
        ("T2", "c", "X3", "c", 1, 0.3, 0.3, "2011-01-03 10:00", "Italy"),
        ("T3", "a", "X1", "a", 1, 0.3, 0.3, "2011-01-03 10:00", "Chile"),
        ("T4", "d", "X4", "d", 1, 0.2, 0.2, "2011-01-03 10:00", "Chile"),
    ]
    result = summary(view(rows), top_n=2)
    assert labels(result["top_products"]) == ["a", "b"]
    assert values(result["top_products"]) == [0.3, 0.3]
    assert labels(result["top_customers"]) == ["a", "b"]
    assert labels(result["top_countries"]) == ["Chile", "Italy"]  # 0.5; then Italy 0.3 before Spain 0.3


def test_a_product_is_labelled_by_its_commonest_description():
    rows = [
        ("B1", "C1", "P1", "WHITE HEART", 1, 1.0, 1.0, "2011-01-03 10:00", "UK"),
        ("B2", "C1", "P1", "CREAM HEART", 1, 1.0, 1.0, "2011-01-03 10:00", "UK"),
        ("B3", "C1", "P1", "CREAM HEART", 1, 1.0, 1.0, "2011-01-03 10:00", "UK"),
        ("B4", "C1", "P2", "ZEBRA", 1, 1.0, 1.0, "2011-01-03 10:00", "UK"),
        ("B4", "C1", "P2", "APE", 1, 1.0, 1.0, "2011-01-03 10:00", "UK"),  # a tie: alphabetical wins
        ("B5", "C1", "P3", None, 1, 0.5, 0.5, "2011-01-03 10:00", "UK"),  # no description: the code
    ]
    assert summary(view(rows))["top_products"] == [
        {"label": "CREAM HEART", "item": "P1", "value": 3.0, "quantity": 3, "orders": 3},
        {"label": "APE", "item": "P2", "value": 2.0, "quantity": 2, "orders": 1},
        {"label": "P3", "item": "P3", "value": 0.5, "quantity": 1, "orders": 1},
    ]


def test_products_by_description_without_item_codes():
    products = summary(view(drop=["item"]))["top_products"]
    assert labels(products) == ["BAG", "MUG", "PEN"]
    assert values(products, "item") == [None, None, None]
    assert labels(summary(view(drop=["description"]))["top_products"]) == ["P2", "P1", "P3"]
    assert summary(view(drop=["item", "description"]))["top_products"] == []


# histograms --------------------------------------------------------------------------------------------------
def test_histograms_by_hand():
    histograms = summary(view(), bins=4)["histograms"]
    # order totals A1 30, A2 20, A3 5, A4 70, A5 5: from 5 to 70 in steps of 16.25
    assert histograms["order_value"] == [
        {"label": "5–21.25", "from": 5.0, "to": 21.25, "value": 3},  # 5, 5, 20
        {"label": "21.25–37.5", "from": 21.25, "to": 37.5, "value": 1},  # 30
        {"label": "37.5–53.75", "from": 37.5, "to": 53.75, "value": 0},
        {"label": "53.75–70", "from": 53.75, "to": 70.0, "value": 1},  # 70, the last bin is closed
    ]
    # quantities 2 1 4 10 3 20 1: from 1 to 20 in steps of 4.75
    assert histograms["quantity"] == [
        {"label": "1–5.75", "from": 1.0, "to": 5.75, "value": 5},
        {"label": "5.75–10.5", "from": 5.75, "to": 10.5, "value": 1},
        {"label": "10.5–15.25", "from": 10.5, "to": 15.25, "value": 0},
        {"label": "15.25–20", "from": 15.25, "to": 20.0, "value": 1},
    ]


def test_histogram_edges_are_half_open():
    frame = pd.DataFrame({"amount": [0.0, 1.0, 2.0, 3.0, 4.0]})  # edges 0 2 4: 2 falls in the second bin
    assert values(summary(frame, bins=2)["histograms"]["order_value"]) == [2, 3]


def test_histogram_of_a_constant_column_is_one_bin():
    frame = pd.DataFrame({"invoice": ["A", "B", "C"], "quantity": [2, 2, 2], "amount": [7.5, 7.5, 7.5]})
    histograms = summary(frame)["histograms"]
    assert histograms["order_value"] == [{"label": "7.5", "from": 7.5, "to": 7.5, "value": 3}]
    assert histograms["quantity"] == [{"label": "2", "from": 2.0, "to": 2.0, "value": 3}]


def test_histogram_bins_default_to_20():
    order_value = summary(view())["histograms"]["order_value"]
    assert len(order_value) == 20
    assert sum(values(order_value)) == 5
    assert (order_value[0]["from"], order_value[-1]["to"]) == (5.0, 70.0)


# cohorts -----------------------------------------------------------------------------------------------------
def test_cohort_retention_by_hand():
    # C1 and C2 first buy in 2010-12, C3 in 2011-02; the data ends in 2011-03.
    # C1 comes back in 2011-02 (period 2), C2 in 2011-03 (period 3), C3 never.
    assert summary(view())["cohorts"] == {
        "cohorts": ["2010-12", "2011-02"],
        "periods": [0, 1, 2, 3],
        "customers": [2, 1],
        "retention": [[1.0, 0.0, 0.5, 0.5], [1.0, 0.0, None, None]],
    }


def test_cohort_shares_have_four_decimals():
    rows = [(f"I{n}", f"C{n}", "P", "P", 1, 1.0, 1.0, "2011-01-10 10:00", "UK") for n in range(3)]
    rows.append(("I9", "C0", "P", "P", 1, 1.0, 1.0, "2011-02-10 10:00", "UK"))  # one of three returns
    assert summary(view(rows))["cohorts"]["retention"] == [[1.0, 0.3333]]  # 1 of 3


# missing columns ----------------------------------------------------------------------------------------------
def test_without_customers():
    result = summary(view(drop=["customer"]))
    assert result["kpis"]["unique_customers"] is None
    assert result["kpis"]["revenue_per_customer"] is None
    assert result["kpis"]["total_revenue"] == 130.0
    assert result["top_customers"] == []
    assert values(result["top_countries"], "customers") == [None, None, None]
    assert result["cohorts"] == {}


def test_without_dates():
    result = summary(view(drop=["date"]))
    assert (result["by_month"], result["by_weekday"], result["by_hour"], result["cohorts"]) == ([], [], [], {})
    assert (result["kpis"]["first_date"], result["kpis"]["last_date"]) == (None, None)
    assert labels(result["top_products"]) == ["BAG", "MUG", "PEN"]


def test_a_date_column_that_is_not_datetime_is_ignored():
    frame = view()
    frame["date"] = frame["date"].astype(str)
    result = summary(frame)
    assert (result["by_month"], result["cohorts"], result["kpis"]["first_date"]) == ([], {}, None)


def test_without_quantity():
    result = summary(view(drop=["quantity"]))
    assert result["kpis"]["items_per_order"] is None
    assert result["kpis"]["total_quantity"] is None
    assert list(result["describe"]) == ["unit_price", "amount"]
    assert result["correlation"]["columns"] == ["unit_price", "amount"]
    assert result["histograms"]["quantity"] == []
    assert values(result["top_products"], "quantity") == [None, None, None]
    assert values(result["top_customers"], "quantity") == [None, None, None]


def test_without_invoices_every_line_is_an_order():
    result = summary(view(drop=["invoice"]), bins=2)
    assert result["kpis"]["total_orders"] == 7
    assert result["kpis"]["avg_order_value"] == 18.57  # 130 / 7 = 18.571...
    assert result["kpis"]["items_per_order"] == 5.86  # 41 / 7 = 5.857...
    assert values(result["by_month"], "orders") == [3, 0, 3, 1]
    # line amounts 10 20 20 5 60 10 5 between edges 5, 32.5, 60
    assert values(result["histograms"]["order_value"]) == [6, 1]
    assert values(result["top_products"], "orders") == [2, 3, 2]


def test_amount_alone_is_enough():
    result = summary(pd.DataFrame({"amount": [1.5, 2.5]}))
    assert result["kpis"] == {"total_revenue": 4.0, "total_orders": 2, "unique_customers": None,
                              "avg_order_value": 2.0, "items_per_order": None, "revenue_per_customer": None,
                              "total_quantity": None, "rows": 2, "first_date": None, "last_date": None}
    assert result["correlation"] == {"columns": ["amount"], "matrix": [[1.0]]}
    assert (result["top_products"], result["top_customers"], result["top_countries"]) == ([], [], [])


def test_without_an_amount_it_is_invalid():
    with pytest.raises(Invalid) as caught:
        statistical_summary(view(drop=["amount"]), StatsParams())
    assert caught.value.status == 422
    assert "amount" in caught.value.detail
    assert "invoice, customer, item, description, quantity, unit_price, date, country" in caught.value.detail
    assert caught.value.errors == [{"field": "columns.amount", "message": "no column has this role"}]
    with pytest.raises(Invalid):
        kpis(pd.DataFrame({"customer": ["C1"]}))


def test_nullable_dtypes():
    frame = view()
    frame["quantity"] = frame["quantity"].astype("Int64")
    frame.loc[0, "quantity"] = pd.NA
    frame["amount"] = frame["amount"].astype("Float64")
    result = summary(frame)
    assert result["kpis"]["total_quantity"] == 39
    assert result["kpis"]["total_revenue"] == 130.0
    assert result["describe"]["quantity"]["missing"] == 1


def test_fractional_quantities_keep_four_decimals():
    frame = pd.DataFrame({"quantity": [0.25, 1.5, 0.12345], "amount": [1.0, 2.0, 3.0]})
    assert kpis(frame)["total_quantity"] == 1.8735  # 1.87345 rounded


# JSON safety -------------------------------------------------------------------------------------------------
def test_one_line_is_json_safe():
    result = summary(view(LINES[:1]))
    assert result["kpis"]["total_revenue"] == 10.0
    assert result["describe"]["amount"]["std"] is None
    assert result["histograms"]["order_value"] == [{"label": "10", "from": 10.0, "to": 10.0, "value": 1}]
    assert result["cohorts"] == {"cohorts": ["2010-12"], "periods": [0], "customers": [1], "retention": [[1.0]]}


def test_constant_columns_are_json_safe():
    rows = [(f"I{n}", "C1", "P1", "MUG", 2, 5.0, 10.0, "2011-01-03 10:00", "UK") for n in range(5)]
    result = summary(view(rows))
    assert result["correlation"]["matrix"] == [[None] * 3] * 3
    assert result["describe"]["amount"]["skew"] is None


def test_no_lines_is_json_safe():
    result = summary(view([]))
    assert result["kpis"]["total_revenue"] == 0.0
    assert result["kpis"]["avg_order_value"] is None
    assert result["kpis"]["unique_customers"] == 0
    assert result["kpis"]["revenue_per_customer"] is None
    assert (result["by_month"], result["by_hour"], result["cohorts"]) == ([], [], {})
    assert result["histograms"] == {"order_value": [], "quantity": []}
    assert result["top_products"] == []


# params ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("field", "value"), [
    ("top_n", 0), ("top_n", 101), ("top_n", "10"), ("top_n", True), ("top_n", 2.5), ("top_n", None),
    ("bins", 1), ("bins", 101), ("bins", 20.0),
])
def test_invalid_params(field, value):
    with pytest.raises(Invalid) as caught:
        StatsParams(**{field: value})
    assert caught.value.errors[0]["field"] == field


def test_param_bounds_are_allowed():
    assert StatsParams(top_n=1, bins=2) == StatsParams(1, 2)
    assert StatsParams(top_n=100, bins=100).top_n == 100
    assert StatsParams() == StatsParams(top_n=10, bins=20)
