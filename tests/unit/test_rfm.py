"""RFM on hand-made customers: exact recency, frequency and money, tie-safe scores, segments, clusters, predict."""
import itertools

import numpy as np
import pandas as pd
import pytest

from services.analysis.rfm import (
    SEGMENTS,
    RfmParams,
    customer_table,
    elbow_curve,
    predict,
    rfm_analysis,
    score,
    segment_of,
)
from services.errors import Invalid


def lines(*rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["invoice", "customer", "date", "amount"])
    frame["invoice"] = frame["invoice"].astype("string")
    frame["customer"] = frame["customer"].astype("string")
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def test_recency_frequency_monetary_are_exact():
    view = lines(
        ("1", "0042", "2011-01-01 09:00", 10.0),
        ("2", "0042", "2011-01-10 17:30", 5.5),
        ("2", "0042", "2011-01-10 17:30", 0.1),          # same invoice: frequency counts invoices, not lines
        ("3", "B", "2011-01-05 12:00", 3 * 0.335),       # 1.005 in floating point is 1.00499..., to the cent 1.01
        ("4", "C", "2011-01-20 08:00", 0.1),
        ("5", "C", "2011-01-20 08:00", 0.2),             # 0.1 + 0.2 = 0.30000000000000004 as floats
    )
    table, as_of, ignored = customer_table(view, None)
    assert as_of == pd.Timestamp("2011-01-21 08:00")     # the last purchase + 1 day
    assert ignored == 0
    assert table.index.tolist() == ["0042", "B", "C"]    # ids stay text, leading zeros kept
    assert table["recency"].tolist() == [10, 15, 1]      # whole days from the last purchase to as_of
    assert table["frequency"].tolist() == [2, 1, 2]
    assert table["monetary"].tolist() == [15.6, 1.01, 0.3]


def test_as_of_ignores_later_purchases():
    view = lines(("1", "A", "2011-01-01", 1.0), ("2", "A", "2011-03-01", 2.0), ("3", "B", "2011-01-15", 4.0))
    table, as_of, ignored = customer_table(view, pd.Timestamp("2011-02-01"))
    assert ignored == 1
    assert table["recency"].tolist() == [31, 17]
    assert table["monetary"].tolist() == [1.0, 4.0]


def test_scores_respect_ties_and_direction():
    frequency = np.array([1, 1, 1, 1, 1, 1, 2, 3, 4, 10])
    assert score(frequency).tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    assert score(np.array([10, 20, 30, 40, 50])).tolist() == [1, 2, 3, 4, 5]
    recency = np.array([0, 5, 5, 10])
    assert score(recency, higher_is_better=False).tolist() == [4, 2, 2, 1]
    assert score(np.array([7, 7, 7])).tolist() == [1, 1, 1]   # everyone tied: no crash, no odd bins
    assert score(np.array([3])).tolist() == [1]


def test_segment_table_covers_all_125_combinations_once():
    seen = {}
    for r, f, m in itertools.product(range(1, 6), repeat=3):
        seen[(r, f, m)] = segment_of(r, f, m)
    assert len(seen) == 125
    assert set(seen.values()) == set(SEGMENTS)
    assert segment_of(5, 5, 5) == "Champions"
    assert segment_of(1, 1, 1) == "Lost"
    assert segment_of(1, 5, 5) == "Can't Lose Them"
    assert segment_of(5, 1, 1) == "New"
    assert segment_of(3, 3, 3) == "Need Attention"


def synthetic_customers(groups=((5, 20, 2000.0), (60, 3, 150.0), (300, 1, 20.0)), per_group=40, seed=3):
    rng = np.random.default_rng(seed)
    rows, invoice = [], 0
    end = pd.Timestamp("2011-12-09 12:00")
    for g, (recency, frequency, monetary) in enumerate(groups):
        for c in range(per_group):
            customer = f"g{g}c{c}"
            visits = max(1, int(rng.poisson(frequency)))
            last = end - pd.Timedelta(days=int(abs(rng.normal(recency, recency * 0.1))))
            for v in range(visits):
                invoice += 1
                rows.append((str(invoice), customer, last - pd.Timedelta(days=7 * v),
                             round(abs(rng.normal(monetary, monetary * 0.1)) / visits, 2)))
    return lines(*rows)


def test_rfm_analysis_end_to_end_on_three_groups():
    view = synthetic_customers()
    result = rfm_analysis(view, RfmParams(n_clusters=3))
    customers = result.customers
    assert len(customers) == 120 and result.summary["total_customers"] == 120
    assert set(customers.columns) >= {"customer_id", "recency", "frequency", "monetary", "r_score", "f_score",
                                      "m_score", "rfm_score", "segment", "cluster"}
    # each synthetic group becomes exactly one cluster
    group = customers["customer_id"].str[:2]
    assert customers.groupby(group)["cluster"].nunique().tolist() == [1, 1, 1]
    profiles = {p["label"]: p for p in result.summary["cluster_profiles"]}
    assert len(profiles) == 3
    assert sum(p["customers"] for p in profiles.values()) == 120
    assert any(label.startswith("Recent") and label.endswith("high-spend") for label in profiles)
    assert sum(s["customers"] for s in result.summary["segments"]) == 120
    assert round(sum(s["revenue"] for s in result.summary["segments"]), 2) == result.summary["total_revenue"]
    assert customers.loc[customers["rfm_score"] == "555", "segment"].eq("Champions").all()


def test_auto_clusters_find_the_knee():
    result = rfm_analysis(synthetic_customers(), RfmParams(n_clusters="auto", k_min=2, k_max=8))
    assert result.summary["clusters"] == 3
    elbow = result.summary["elbow"]
    assert elbow["k"] == list(range(2, 9)) and len(elbow["inertia"]) == 7 == len(elbow["silhouette"])
    assert elbow["inertia"] == sorted(elbow["inertia"], reverse=True)


def test_elbow_on_blobs():
    rng = np.random.default_rng(0)
    blobs = np.vstack([rng.normal(center, 0.05, size=(50, 3)) for center in ((0, 0, 0), (3, 3, 3), (0, 3, 0),
                                                                              (3, 0, 3))])
    assert elbow_curve(blobs, 2, 9)["suggested_k"] == 4


def test_predict_reproduces_the_analysis():
    result = rfm_analysis(synthetic_customers(), RfmParams(n_clusters=3))
    for row in result.customers.sample(10, random_state=1).itertuples():
        answer = predict(result.model, row.recency, row.frequency, row.monetary)
        assert (answer["r_score"], answer["f_score"], answer["m_score"]) == (row.r_score, row.f_score, row.m_score)
        assert answer["segment"] == row.segment
        assert answer["cluster"] == row.cluster


def test_too_few_customers_and_bad_params_are_422():
    view = lines(("1", "A", "2011-01-01", 1.0), ("2", "B", "2011-01-02", 2.0))
    with pytest.raises(Invalid, match="at least 3 distinct customers"):
        rfm_analysis(view, RfmParams(n_clusters=3))
    for params in ({"n_clusters": 1}, {"n_clusters": "many"}, {"k_min": 5, "k_max": 3}):
        with pytest.raises(Invalid):
            RfmParams(**params)
    with pytest.raises(Invalid, match="no customer"):
        rfm_analysis(lines(("1", None, "2011-01-01", 1.0)), RfmParams())
