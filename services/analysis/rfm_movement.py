"""RFM over time: the segments at an earlier as_of, the movement between two segmentations, and the value range of
each score. Pure: no flask, no DAO."""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from services.analysis.rfm import SEGMENTS, customer_table, score_customers
from services.errors import Invalid

logger = logging.getLogger(__name__)
# Each scored value, its score column, and which way is better (rfm.score_customers scores recency reversed).
SCORED = {"recency": ("r_score", "lower"), "frequency": ("f_score", "higher"), "monetary": ("m_score", "higher")}
SCORES = range(1, 6)


def score_thresholds(customers: pd.DataFrame) -> dict:
    """Per recency, frequency and monetary: which way is `better`, and for each score "1".."5" the {min, max,
    customers} of the values that got it (None when no customer did).

    rfm.score is non-decreasing in the value (reversed for recency) and equal values share a score, so the ranges
    of different scores never overlap and follow each other in score order. A value, also one no customer has
    (as /predict scores it), scores at least s exactly when it is better than every value scoring below s: for
    frequency "a 5 means more than max(4)" ("at least min(5)" among these customers), for recency "fewer days than
    min(4)"."""
    thresholds: dict = {}
    for value, (score_column, better) in SCORED.items():
        values, scores = customers[value].to_numpy(), customers[score_column].to_numpy()
        thresholds[value] = {"better": better}
        for s in SCORES:
            got = values[scores == s]
            thresholds[value][str(s)] = ({"min": got.min().item(), "max": got.max().item(), "customers": len(got)}
                                         if len(got) else None)
    return thresholds


def segments_at(view: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The customers as an rfm analysis with this as_of scores and segments them: rows at or before as_of, recency
    in whole days to it (rfm.customer_table and rfm.score_customers, unchanged). A 422 when nobody bought by then."""
    table, as_of, _ = customer_table(view, as_of)
    if table.empty:
        raise Invalid(f"no customer has a purchase up to {as_of.isoformat()}")
    score_customers(table)
    return table.reset_index()


def previous_segment(previous: pd.DataFrame, current: pd.DataFrame) -> pd.Series:
    """Each current customer's segment in `previous` (matched by customer_id text), None for customers new since
    then; aligned to current's index."""
    _check_unique(current, "current")
    _check_unique(previous, "previous")
    found = current["customer_id"].map(previous.set_index("customer_id")["segment"]).astype(object)
    return found.where(found.notna(), None).rename("previous_segment")


def segment_movement(previous: pd.DataFrame, current: pd.DataFrame) -> dict:
    """`movement`: one cell {from, to, customers, revenue} per (previous, current) segment pair that has customers,
    from None for customers new since then; revenue is the cell's current monetary, added exactly in cents. Cells
    are ordered by `from` in SEGMENTS order (None last), then by `to` in SEGMENTS order. `lost`: the previous
    customers absent from current, as {count, revenue, by_segment: [{segment, customers, revenue}]} in SEGMENTS
    order; revenue is their previous monetary, or None when previous has no monetary column."""
    before = previous_segment(previous, current)
    cells = _tally(zip(before, current["segment"], strict=True), _cents(current["monetary"]))
    movement = [{"from": source, "to": target, "customers": customers, "revenue": cents / 100}
                for (source, target), (customers, cents) in sorted(cells.items(), key=lambda cell: (
                    _rank(cell[0][0]), _rank(cell[0][1])))]
    gone = previous[~previous["customer_id"].isin(current["customer_id"])]
    priced = "monetary" in gone
    by_segment = _tally(gone["segment"], _cents(gone["monetary"]) if priced else [0] * len(gone))
    lost = {
        "count": len(gone),
        "revenue": sum(cents for _, cents in by_segment.values()) / 100 if priced else None,
        "by_segment": [{"segment": segment, "customers": customers, "revenue": cents / 100 if priced else None}
                       for segment, (customers, cents) in sorted(by_segment.items(), key=lambda s: _rank(s[0]))],
    }
    return {"movement": movement, "lost": lost}


def _check_unique(table: pd.DataFrame, name: str) -> None:
    """A customer twice would be counted twice (and cannot be looked up): a programming error, not bad input."""
    if table["customer_id"].duplicated().any():
        raise ValueError(f"{name}: a customer_id appears more than once")


def _cents(money: pd.Series) -> list[int]:
    """Whole cents of amounts that rfm already rounded to the cent (rint only drops the float noise), so that sums
    are exact and do not depend on the order of the customers."""
    return np.rint(np.asarray(money, dtype="float64") * 100).astype("int64").tolist()


def _tally(keys, cents: list[int]) -> dict:
    """{key: (customers, cents)} in first-seen order."""
    totals: dict = {}
    for key, amount in zip(keys, cents, strict=True):
        customers, total = totals.get(key, (0, 0))
        totals[key] = (customers + 1, total + amount)
    return totals


def _rank(segment: str | None) -> tuple[int, str]:
    """SEGMENTS order; a name SEGMENTS does not know (an older analysis) after them by name; None (new) last."""
    if segment is None:
        return len(SEGMENTS) + 1, ""
    return (SEGMENTS.index(segment) if segment in SEGMENTS else len(SEGMENTS)), segment
