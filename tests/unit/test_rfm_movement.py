"""Segment movement and score thresholds: a hand-worked file, properties on generated data, the real sample."""
import io
import math
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import fastexcel
import numpy as np
import pandas as pd
import pytest

from services.analysis.rfm import SEGMENT_GRID, SEGMENTS, RfmParams, rfm_analysis, score_customers, score_value
from services.analysis.rfm_movement import previous_segment, score_thresholds, segment_movement, segments_at
from services.errors import Invalid
from tests.conftest import SAMPLE_FILE, shared_file

COMPARE = pd.Timestamp("2011-03-01")
# Eight customers, A-F buying before 2011-03-01, G and H new after it; invoice 8 has two lines.
HAND_FILE = """invoice,customer,date,amount
1,A,2011-01-10,100.00
2,A,2011-02-25,60.00
3,B,2011-01-05,20.00
11,B,2011-04-20,300.00
4,C,2011-02-10,30.00
5,C,2011-02-20,30.00
12,C,2011-03-15,40.00
6,D,2011-01-20,200.00
7,D,2011-01-30,150.00
8,D,2011-02-27,200.00
8,D,2011-02-27,50.00
13,D,2011-04-28,100.00
9,E,2011-01-15,10.00
10,F,2011-01-05,25.00
14,F,2011-04-20,280.15
15,G,2011-04-25,80.10
16,G,2011-04-29,69.95
17,H,2011-03-05,15.00
"""


def view_of(csv: str) -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(csv), dtype={"invoice": "string", "customer": "string"})
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def current_of(view: pd.DataFrame) -> pd.DataFrame:
    return rfm_analysis(view, RfmParams(n_clusters=2)).customers


def r(low, high, customers):
    return {"min": low, "max": high, "customers": customers}


# At 2011-03-01 (n = 6: score = 1 + floor(5 b / 6), b customers strictly worse; b 0..5 -> 1,1,2,3,4,5):
#   A: last 02-25 -> R 4 days, F 2, M 160      B: 01-05 -> R 55, F 1, M 20      C: 02-20 -> R 9, F 2, M 60
#   D: 02-27 -> R 2, F 3 (inv 8 once), M 600   E: 01-15 -> R 45, F 1, M 10      F: 01-05 -> R 55, F 1, M 25
#   R (fewer days better): D b5 -> 5, A b4 -> 4, C b3 -> 3, E b2 -> 2, B and F tie at 55, b0 -> 1
#   F: B, E, F b0 -> 1; A, C b3 -> 3; D b5 -> 5 (scores 2 and 4 unused)
#   M: E 10 b0 -> 1, B 20 b1 -> 1, F 25 b2 -> 2, C 60 b3 -> 3, A 160 b4 -> 4, D 600 b5 -> 5
#   FM = ceil((F + M) / 2), segment = SEGMENT_GRID[R][FM - 1]:
#   A R4 FM ceil(7/2)=4 Loyal; B R1 FM1 Lost; C R3 FM3 Need Attention; D R5 FM5 Champions; E R2 FM1 Hibernating;
#   F R1 FM ceil(3/2)=2 Lost
PREVIOUS = {"A": "Loyal", "B": "Lost", "C": "Need Attention", "D": "Champions", "E": "Hibernating", "F": "Lost"}
PREVIOUS_THRESHOLDS = {
    "recency": {"better": "lower", "1": r(55, 55, 2), "2": r(45, 45, 1), "3": r(9, 9, 1), "4": r(4, 4, 1),
                "5": r(2, 2, 1)},
    "frequency": {"better": "higher", "1": r(1, 1, 3), "2": None, "3": r(2, 2, 2), "4": None, "5": r(3, 3, 1)},
    "monetary": {"better": "higher", "1": r(10.0, 20.0, 2), "2": r(25.0, 25.0, 1), "3": r(60.0, 60.0, 1),
                 "4": r(160.0, 160.0, 1), "5": r(600.0, 600.0, 1)},
}
# The whole file, as_of = last purchase 04-29 + 1 day = 04-30 (n = 8: b 0..7 -> 1,1,2,2,3,4,4,5):
#   A: R 64 (02-25 to 04-30), F 2, M 160     B: R 10, F 2, M 320     C: R 46 (03-15), F 3, M 100
#   D: R 2, F 4, M 700                       E: R 105 (01-15), F 1, M 10
#   F: R 10, F 2, M 305.15                   G: R 1, F 2, M 150.05   H: R 56 (03-05), F 1, M 15
#   R: G b7 -> 5, D b6 -> 4, B and F tie at 10 b4 -> 3, C b3 -> 2, H b2 -> 2, A b1 -> 1, E b0 -> 1
#   F: E, H b0 -> 1; A, B, F, G b2 -> 2; C b6 -> 4; D b7 -> 5 (score 3 unused)
#   M: E 10 b0 -> 1, H 15 b1 -> 1, C 100 b2 -> 2, G 150.05 b3 -> 2, A 160 b4 -> 3, F 305.15 b5 -> 4,
#      B 320 b6 -> 4, D 700 b7 -> 5
#   A R1 FM ceil(5/2)=3 Hibernating; B R3 FM3 Need Attention; C R2 FM3 At Risk; D R4 FM5 Champions; E R1 FM1 Lost;
#   F R3 FM3 Need Attention; G R5 FM2 Promising; H R2 FM1 Hibernating
CURRENT_THRESHOLDS = {
    "recency": {"better": "lower", "1": r(64, 105, 2), "2": r(46, 56, 2), "3": r(10, 10, 2), "4": r(2, 2, 1),
                "5": r(1, 1, 1)},
    "frequency": {"better": "higher", "1": r(1, 1, 2), "2": r(2, 2, 4), "3": None, "4": r(3, 3, 1), "5": r(4, 4, 1)},
    "monetary": {"better": "higher", "1": r(10.0, 15.0, 2), "2": r(100.0, 150.05, 2), "3": r(160.0, 160.0, 1),
                 "4": r(305.15, 320.0, 2), "5": r(700.0, 700.0, 1)},
}
# Movement, from in SEGMENTS order (new last), then to in SEGMENTS order; revenue = current monetary:
CURRENT_MOVEMENT = [
    {"from": "Champions", "to": "Champions", "customers": 1, "revenue": 700.0},              # D
    {"from": "Loyal", "to": "Hibernating", "customers": 1, "revenue": 160.0},                # A
    {"from": "Need Attention", "to": "At Risk", "customers": 1, "revenue": 100.0},           # C
    {"from": "Hibernating", "to": "Lost", "customers": 1, "revenue": 10.0},                  # E
    {"from": "Lost", "to": "Need Attention", "customers": 2, "revenue": 625.15},             # B 320 + F 305.15
    {"from": None, "to": "Promising", "customers": 1, "revenue": 150.05},                    # G
    {"from": None, "to": "Hibernating", "customers": 1, "revenue": 15.0},                    # H
]
# "This quarter's file": only the rows from 03-01 on, as_of 04-30 (n = 6: b 0..5 -> 1,1,2,3,4,5):
#   B: R 10, F 1, M 300   C: R 46, F 1, M 40   D: R 2, F 1, M 100   F: R 10, F 1, M 280.15   G: R 1, F 2, M 150.05
#   H: R 56, F 1, M 15
#   R: G b5 -> 5, D b4 -> 4, B and F b2 -> 2, C b1 -> 1, H b0 -> 1;  F: G b5 -> 5, the others b0 -> 1
#   M: H 15 -> 1, C 40 -> 1, D 100 -> 2, G 150.05 -> 3, F 280.15 -> 4, B 300 -> 5
#   B R2 FM3 At Risk; C R1 FM1 Lost; D R4 FM2 Potential Loyalist; F R2 FM3 At Risk; G R5 FM4 Loyal; H R1 FM1 Lost
QUARTER_MOVEMENT = [
    {"from": "Champions", "to": "Potential Loyalist", "customers": 1, "revenue": 100.0},     # D
    {"from": "Need Attention", "to": "Lost", "customers": 1, "revenue": 40.0},               # C
    {"from": "Lost", "to": "At Risk", "customers": 2, "revenue": 580.15},                    # B 300 + F 280.15
    {"from": None, "to": "Loyal", "customers": 1, "revenue": 150.05},                        # G
    {"from": None, "to": "Lost", "customers": 1, "revenue": 15.0},                           # H
]
# A (Loyal, 160) and E (Hibernating, 10) bought nothing from 03-01 on.
QUARTER_LOST = {"count": 2, "revenue": 170.0, "by_segment": [
    {"segment": "Loyal", "customers": 1, "revenue": 160.0},
    {"segment": "Hibernating", "customers": 1, "revenue": 10.0}]}


def test_hand_worked_segments_thresholds_and_movement():
    view = view_of(HAND_FILE)
    previous = segments_at(view, COMPARE)
    assert dict(zip(previous["customer_id"], previous["segment"], strict=True)) == PREVIOUS
    assert score_thresholds(previous) == PREVIOUS_THRESHOLDS
    current = current_of(view)
    assert score_thresholds(current) == CURRENT_THRESHOLDS
    answer = segment_movement(previous, current)
    assert answer["movement"] == CURRENT_MOVEMENT
    assert answer["lost"] == {"count": 0, "revenue": 0.0, "by_segment": []}
    assert dict(zip(current["customer_id"], previous_segment(previous, current), strict=True)) == {
        **PREVIOUS, "G": None, "H": None}


def test_hand_worked_movement_between_two_files_counts_the_lost():
    view = view_of(HAND_FILE)
    previous = segments_at(view, COMPARE)
    this_quarter = current_of(view[view["date"] >= COMPARE])
    assert segment_movement(previous, this_quarter) == {"movement": QUARTER_MOVEMENT, "lost": QUARTER_LOST}
    without_money = segment_movement(previous[["customer_id", "segment"]], this_quarter)["lost"]
    assert without_money == {"count": 2, "revenue": None, "by_segment": [
        {"segment": "Loyal", "customers": 1, "revenue": None}, {"segment": "Hibernating", "customers": 1,
                                                                 "revenue": None}]}


def test_as_of_is_inclusive_like_rfm_as_of_and_before_all_data_is_422():
    view = view_of("invoice,customer,date,amount\n1,X,2011-03-01 00:00:00,5\n2,Y,2011-03-01 00:00:01,5\n"
                   "3,Z,2011-02-27 12:00:00,5\n")
    table = segments_at(view, COMPARE)
    # X bought at exactly as_of (0 days), Z 1.5 days before (1 whole day), Y one second after (left out)
    assert dict(zip(table["customer_id"], table["recency"], strict=True)) == {"X": 0, "Z": 1}
    with pytest.raises(Invalid, match="no customer has a purchase up to 2011-02-01"):
        segments_at(view, pd.Timestamp("2011-02-01"))


def generated_view(seed: int) -> pd.DataFrame:
    """Customers with 1-8 invoices of 1-3 lines over 2011, cents amounts; few distinct frequencies, so many ties."""
    rng = np.random.default_rng(seed)
    rows, invoice = [], 0
    for customer in range(int(rng.integers(30, 150))):
        for _ in range(1 + int(rng.poisson(1.5))):
            invoice += 1
            day = pd.Timestamp("2011-01-01") + pd.Timedelta(minutes=int(rng.integers(0, 365 * 24 * 60)))
            rows += [(str(invoice), f"c{customer:03d}", day, int(rng.integers(1, 40_000)) / 100)
                     for _ in range(int(rng.integers(1, 4)))]
    view = pd.DataFrame(rows, columns=["invoice", "customer", "date", "amount"])
    return view.astype({"invoice": "string", "customer": "string"})


def cents(values) -> Decimal:
    return sum((Decimal(repr(float(v))) for v in values), Decimal(0)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def rank(segment):
    return len(SEGMENTS) if segment is None else SEGMENTS.index(segment)


@pytest.mark.parametrize("seed", range(5))
def test_movement_properties_on_generated_files(seed):
    view = generated_view(seed)
    compare = pd.Timestamp("2011-07-01")
    previous = segments_at(view, compare)
    same = rfm_analysis(view, RfmParams(as_of=compare, n_clusters=2)).customers
    pd.testing.assert_frame_equal(previous, same[previous.columns])   # the analysis as run with as_of = compare
    current = current_of(view)
    answer = segment_movement(previous, current)
    before = previous_segment(previous, current)
    first_purchase = view.groupby("customer")["date"].min()
    new = set(first_purchase[first_purchase > compare].index)
    assert set(current.loc[before.isna(), "customer_id"]) == new
    pairs = Counter(zip(before, current["segment"], strict=True))
    cells = {(c["from"], c["to"]): c for c in answer["movement"]}
    assert len(cells) == len(answer["movement"])                      # every pair once: each customer in one cell
    assert {key: c["customers"] for key, c in cells.items()} == dict(pairs)
    assert sum(c["customers"] for c in answer["movement"]) == len(current)
    for (source, target), cell in cells.items():
        members = current[(before.eq(source) if source else before.isna()) & current["segment"].eq(target)]
        assert Decimal(repr(cell["revenue"])) == cents(members["monetary"])
    assert list(cells) == sorted(cells, key=lambda key: (rank(key[0]), rank(key[1])))
    assert answer["lost"] == {"count": 0, "revenue": 0.0, "by_segment": []}   # a later as_of keeps everyone
    shuffled = segment_movement(previous.sample(frac=1, random_state=seed), current.sample(frac=1, random_state=1))
    assert shuffled == answer

    later = current_of(view[view["date"] > compare])
    lost = segment_movement(previous, later)["lost"]
    last_purchase = view.groupby("customer")["date"].max()
    gone = previous[previous["customer_id"].isin(last_purchase[last_purchase <= compare].index)]
    assert lost["count"] == len(gone)
    assert {s["segment"]: s["customers"] for s in lost["by_segment"]} == dict(Counter(gone["segment"]))
    assert Decimal(repr(lost["revenue"])) == cents(gone["monetary"])


def assert_thresholds_are_exact(customers: pd.DataFrame) -> None:
    """Every value lies in its score's range, ranges follow each other without overlap, and a value of any size
    scores at least s exactly when it is better than everything scoring below s."""
    thresholds = score_thresholds(customers)
    for value, column, higher in (("recency", "r_score", False), ("frequency", "f_score", True),
                                  ("monetary", "m_score", True)):
        ranges = thresholds[value]
        assert ranges["better"] == ("higher" if higher else "lower")
        for s, v in zip(customers[column], customers[value], strict=True):
            assert ranges[str(s)]["min"] <= v <= ranges[str(s)]["max"]
        used = [ranges[str(s)] for s in range(1, 6) if ranges[str(s)]]
        assert sum(u["customers"] for u in used) == len(customers)
        for worse, better in zip(used, used[1:], strict=False):
            assert (worse["max"] < better["min"]) if higher else (worse["min"] > better["max"])
        ordered = np.sort(customers[value].to_numpy(dtype="float64"))
        probes = np.concatenate([ordered, ordered + 0.005, ordered - 0.005, [ordered[0] - 1, ordered[-1] + 1]])
        scored = np.array([score_value(v, ordered, higher) for v in probes])   # as /predict scores new values
        for s in range(2, 6):
            below = [ranges[str(t)] for t in range(1, s) if ranges[str(t)]]
            beyond = probes > max(b["max"] for b in below) if higher else probes < min(b["min"] for b in below)
            assert np.array_equal(scored >= s, beyond)


@pytest.mark.parametrize("seed", range(5))
def test_thresholds_of_generated_analyses(seed):
    view = generated_view(seed)
    assert_thresholds_are_exact(segments_at(view, pd.Timestamp("2011-07-01")))
    assert_thresholds_are_exact(current_of(view))


def test_score_ranges_never_overlap_even_under_heavy_ties():
    rng = np.random.default_rng(11)
    for _ in range(200):
        n = int(rng.integers(1, 60))
        table = pd.DataFrame({"recency": rng.integers(0, int(rng.integers(1, 8)), n),
                              "frequency": rng.integers(1, int(rng.integers(2, 6)), n),
                              "monetary": rng.integers(0, int(rng.integers(1, 400)), n) / 100})
        score_customers(table)
        assert_thresholds_are_exact(table)


def test_segment_counts_on_the_real_sample_at_an_earlier_date():
    raw = fastexcel.read_excel(str(shared_file(SAMPLE_FILE))).load_sheet(0).to_pandas()
    raw = raw[raw["CustomerID"].notna() & ~raw["InvoiceNo"].astype(str).str.startswith("C")
              & (raw["Quantity"] > 0) & (raw["UnitPrice"] > 0)]
    view = pd.DataFrame({"invoice": raw["InvoiceNo"].astype(str), "customer": raw["CustomerID"].astype("int64")
                         .astype(str), "date": raw["InvoiceDate"], "amount": raw["Quantity"] * raw["UnitPrice"]})
    compare = pd.Timestamp("2011-07-01")
    # independently: the lines up to compare, R/F/M per customer, money exact in Decimal, ranks by pandas
    lines = raw[raw["InvoiceDate"] <= compare].assign(
        customer=lambda f: f["CustomerID"].astype("int64").astype(str),
        money=lambda f: [Decimal(str(q)) * Decimal(str(p)) for q, p in zip(f["Quantity"], f["UnitPrice"],
                                                                            strict=True)])
    grouped = lines.groupby("customer")
    table = pd.DataFrame({"recency": (compare - grouped["InvoiceDate"].max()).dt.days,
                          "frequency": grouped["InvoiceNo"].nunique(),
                          "monetary": grouped["money"].agg(lambda m: float(sum(m).quantize(Decimal("0.01"),
                                                                                           ROUND_HALF_UP)))})
    n = len(table)
    beaten = {"r": n - table["recency"].rank(method="max"), "f": table["frequency"].rank(method="min") - 1,
              "m": table["monetary"].rank(method="min") - 1}
    scores = {k: 1 + np.minimum(4, (5 * b.astype("int64")) // n) for k, b in beaten.items()}
    expected = pd.Series([SEGMENT_GRID[r][math.ceil((f + m) / 2) - 1] for r, f, m in
                          zip(scores["r"], scores["f"], scores["m"], strict=True)], index=table.index)
    previous = segments_at(view, compare)
    assert previous["segment"].value_counts().to_dict() == expected.value_counts().to_dict()
    assert dict(zip(previous["customer_id"], previous["segment"], strict=True)) == expected.to_dict()
    movement = segment_movement(previous, current_of(view))["movement"]
    assert sum(c["customers"] for c in movement if c["from"] is not None) == n


def test_unknown_segment_names_sort_after_known_ones_and_duplicate_ids_are_refused():
    previous = pd.DataFrame({"customer_id": ["a", "b", "c"], "segment": ["Zeta (old)", "Alpha (old)", "Lost"]})
    current = pd.DataFrame({"customer_id": ["a", "b", "c"], "segment": ["Lost"] * 3, "monetary": [1.0, 2.0, 3.0]})
    assert [c["from"] for c in segment_movement(previous, current)["movement"]] == ["Lost", "Alpha (old)",
                                                                                    "Zeta (old)"]
    with pytest.raises(ValueError, match="previous: a customer_id appears more than once"):
        segment_movement(pd.concat([previous, previous]), current)
