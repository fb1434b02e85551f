"""RFM: recency, frequency and monetary value per customer, 1-5 scores, named segments and KMeans clusters."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from services.analysis.money import half_up
from services.errors import Invalid

logger = logging.getLogger(__name__)
RANDOM_STATE = 42
SILHOUETTE_SAMPLE = 2000
MONEY_UNITS = 10_000  # amounts are summed in 1/10000ths, exact for prices with up to 4 decimals
CUSTOMER_ID_MAX = 255

# Segment by recency score (rows, 5 = most recent) and the FM score, ceil((F + M) / 2) (columns, 1..5).
# Every one of the 125 (R, F, M) combinations falls in exactly one cell.
SEGMENT_GRID = {
    5: ("New", "Promising", "Potential Loyalist", "Loyal", "Champions"),
    4: ("Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Champions"),
    3: ("About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"),
    2: ("Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"),
    1: ("Lost", "Lost", "Hibernating", "At Risk", "Can't Lose Them"),
}
SEGMENTS = ("Champions", "Loyal", "Potential Loyalist", "New", "Promising", "Need Attention", "About to Sleep",
            "At Risk", "Can't Lose Them", "Hibernating", "Lost")


@dataclass(frozen=True)
class RfmParams:
    """as_of (default: the last purchase + 1 day), clusters as a number or "auto", and the range "auto" searches."""

    as_of: pd.Timestamp | None = None
    n_clusters: int | str = 5
    k_min: int = 2
    k_max: int = 10

    def __post_init__(self) -> None:
        if not (self.n_clusters == "auto" or (isinstance(self.n_clusters, int) and 2 <= self.n_clusters <= 20)):
            raise Invalid.field("n_clusters", 'must be a whole number from 2 to 20, or "auto"')
        if not 2 <= self.k_min <= self.k_max <= 20:
            raise Invalid.field("k_min", "k_min and k_max must satisfy 2 <= k_min <= k_max <= 20")


@dataclass
class RfmResult:
    """One row per customer, the summary, and the model that `predict` needs."""

    customers: pd.DataFrame
    summary: dict
    model: dict


def rfm_analysis(view: pd.DataFrame, params: RfmParams) -> RfmResult:
    """Compute, score, segment and cluster the customers of a cleaned canonical view."""
    table, as_of, ignored = customer_table(view, params.as_of)
    if table.empty:
        raise Invalid("no customer has a purchase to analyse after cleaning")
    score_customers(table)
    features, mean, scale = scaled_features(table)
    elbow = elbow_curve(features, params.k_min, params.k_max) if params.n_clusters == "auto" else None
    k = elbow["suggested_k"] if elbow else params.n_clusters
    labels, centroids = _cluster(features, k)
    table["cluster"] = labels
    profiles = cluster_profiles(table)
    summary = {
        "total_customers": len(table),
        "clusters": k,
        "as_of": as_of.isoformat(),
        "rows_after_as_of_ignored": ignored,
        "total_revenue": half_up(table["monetary"].sum()),
        "segments": segment_summary(table),
        "cluster_profiles": profiles,
        "scoring": "score = 1 + floor(5 x share of customers with a strictly worse value); ties share a score",
    }
    if elbow:
        summary["elbow"] = elbow
    model = {
        "feature_mean": mean, "feature_scale": scale, "centroids": centroids,
        "labels": {p["cluster"]: p["label"] for p in profiles},
        "sorted": {name: np.sort(table[name].to_numpy(dtype="float64")) for name in ("recency", "frequency",
                                                                                        "monetary")},
    }
    return RfmResult(table.reset_index(), summary, model)


def customer_table(view: pd.DataFrame, as_of: pd.Timestamp | None) -> tuple[pd.DataFrame, pd.Timestamp, int]:
    """recency (whole days from the last purchase to as_of), frequency (distinct invoices, or lines without an
    invoice column) and monetary (sum of line amounts, to the cent) per customer."""
    lines = view.dropna(subset=["customer", "date", "amount"])
    as_of = pd.Timestamp(as_of) if as_of is not None else lines["date"].max().floor("s") + pd.Timedelta(days=1)
    ignored = int((lines["date"] > as_of).sum())
    lines = lines[lines["date"] <= as_of]
    amounts = lines["amount"].to_numpy(dtype="float64")
    if len(amounts) and np.abs(amounts).sum() * MONEY_UNITS >= 2**62:
        raise Invalid("line amounts are too large to add up to the cent (over 4e14 in total)")
    units = np.rint(amounts * MONEY_UNITS).astype("int64")
    grouped = lines.assign(units=units).groupby("customer", sort=True, observed=True)
    table = pd.DataFrame({
        "last_purchase": grouped["date"].max(),
        "frequency": grouped["invoice"].nunique() if "invoice" in lines else grouped.size(),
        "units": grouped["units"].sum(),
    })
    table["recency"] = (as_of - table["last_purchase"]).dt.days.astype("int64")
    table["monetary"] = [_money_from_units(u) for u in table["units"]]
    table.index.name = "customer_id"
    longest = int(table.index.str.len().max()) if len(table) else 0
    if longest > CUSTOMER_ID_MAX:
        raise Invalid.field("columns.customer", f"customer ids are at most {CUSTOMER_ID_MAX} characters; "
                                                f"this column has one of {longest}: is it the right column?")
    table = table[["recency", "frequency", "monetary"]].astype({"frequency": "int64"})
    return table, as_of, ignored


def score_customers(table: pd.DataFrame) -> None:
    """Add the 1-5 scores (fewer days since the last purchase is better), the rfm_score text and the named segment
    to a customer_table, in place."""
    table["r_score"] = score(table["recency"].to_numpy(), higher_is_better=False)
    table["f_score"] = score(table["frequency"].to_numpy())
    table["m_score"] = score(table["monetary"].to_numpy())
    table["rfm_score"] = (table["r_score"].astype(str) + table["f_score"].astype(str) + table["m_score"].astype(str))
    table["segment"] = [segment_of(r, f, m) for r, f, m in
                        zip(table["r_score"], table["f_score"], table["m_score"], strict=True)]


def score(values: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """1..5: one plus five times the share of customers this value strictly beats, floored; ties share a score,
    the worst value always scores 1, and heavy ties simply leave some scores unused."""
    ordered = np.sort(values)
    if higher_is_better:
        beaten = np.searchsorted(ordered, values, side="left")
    else:
        beaten = len(ordered) - np.searchsorted(ordered, values, side="right")
    return (1 + np.minimum(4, (5 * beaten) // len(ordered))).astype("int64")


def score_value(value: float, ordered: np.ndarray, higher_is_better: bool = True) -> int:
    """The score a new value would get against an analysis' sorted values."""
    if higher_is_better:
        beaten = int(np.searchsorted(ordered, value, side="left"))
    else:
        beaten = len(ordered) - int(np.searchsorted(ordered, value, side="right"))
    return 1 + min(4, (5 * beaten) // len(ordered))


def segment_of(r_score: int, f_score: int, m_score: int) -> str:
    """The named segment of one score combination (see SEGMENT_GRID)."""
    return SEGMENT_GRID[int(r_score)][-(-(int(f_score) + int(m_score)) // 2) - 1]


def elbow_curve(features: np.ndarray, k_min: int, k_max: int) -> dict:
    """Inertia and silhouette for each k, and the suggested k: the knee of the inertia curve (farthest point from
    the chord between its ends), moved by one to a neighbour when that neighbour's silhouette is higher."""
    distinct = len(np.unique(features, axis=0))
    ks = [k for k in range(k_min, k_max + 1) if k < distinct]
    if not ks:
        raise Invalid.field("k_min", f"only {distinct} distinct customer profiles: too few to cluster")
    inertia, silhouette = [], []
    sample = min(SILHOUETTE_SAMPLE, len(features))
    with _one_thread():
        for k in ks:
            model = KMeans(n_clusters=k, random_state=RANDOM_STATE, n_init=4).fit(features)
            inertia.append(float(model.inertia_))
            silhouette.append(float(silhouette_score(features, model.labels_, sample_size=sample,
                                                     random_state=RANDOM_STATE)))
    knee = _knee(ks, inertia)
    candidates = [i for i in (knee - 1, knee, knee + 1) if 0 <= i < len(ks)]
    best = max(candidates, key=lambda i: (silhouette[i], -abs(i - knee)))
    return {"k": ks, "inertia": [round(v, 4) for v in inertia], "silhouette": [round(v, 4) for v in silhouette],
            "knee_k": ks[knee], "suggested_k": ks[best]}


def cluster_profiles(table: pd.DataFrame) -> list[dict]:
    """Per cluster: size, share, mean and median R/F/M, revenue and revenue share, and a readable label."""
    total_revenue = table["monetary"].sum()
    grouped = table.groupby("cluster")
    profiles = []
    for cluster, members in grouped:
        means = members[["recency", "frequency", "monetary"]].mean()
        profiles.append({
            "cluster": int(cluster),
            "label": _describe(means, table),
            "customers": len(members),
            "share": round(len(members) / len(table), 4),
            "recency_mean": round(float(means["recency"]), 2),
            "frequency_mean": round(float(means["frequency"]), 2),
            "monetary_mean": half_up(means["monetary"]),
            "recency_median": float(members["recency"].median()),
            "frequency_median": float(members["frequency"].median()),
            "monetary_median": half_up(members["monetary"].median()),
            "revenue": half_up(members["monetary"].sum()),
            "revenue_share": round(float(members["monetary"].sum() / total_revenue), 4) if total_revenue else None,
        })
    _unique_labels(profiles)
    return profiles


def segment_summary(table: pd.DataFrame) -> list[dict]:
    """Customers, share, revenue and mean R/F/M per named segment, in SEGMENTS order (empty segments left out)."""
    total_revenue = table["monetary"].sum()
    rows = []
    for name, members in table.groupby("segment"):
        revenue = members["monetary"].sum()
        rows.append({
            "segment": name,
            "customers": len(members),
            "share": round(len(members) / len(table), 4),
            "revenue": half_up(revenue),
            "revenue_share": round(float(revenue / total_revenue), 4) if total_revenue else None,
            "recency_mean": round(float(members["recency"].mean()), 2),
            "frequency_mean": round(float(members["frequency"].mean()), 2),
            "monetary_mean": half_up(members["monetary"].mean()),
        })
    return sorted(rows, key=lambda row: SEGMENTS.index(row["segment"]))


def predict(model: dict, recency: float, frequency: float, monetary: float) -> dict:
    """Scores, segment and nearest cluster for a new customer, from a finished analysis' model."""
    r = score_value(recency, model["sorted"]["recency"], higher_is_better=False)
    f = score_value(frequency, model["sorted"]["frequency"])
    m = score_value(monetary, model["sorted"]["monetary"])
    point = (np.log1p(np.maximum([recency, frequency, monetary], 0)) - model["feature_mean"]) / model["feature_scale"]
    cluster = int(np.argmin(((np.asarray(model["centroids"]) - point) ** 2).sum(axis=1)))
    return {"cluster": cluster, "cluster_label": model["labels"][cluster], "segment": segment_of(r, f, m),
            "r_score": r, "f_score": f, "m_score": m, "rfm_score": f"{r}{f}{m}"}


def _one_thread():
    """A few thousand 3-d points cluster fastest on one thread; OpenMP's spinning threads crawl on a busy server."""
    return threadpool_limits(limits=1)


def scaled_features(table: pd.DataFrame) -> tuple[np.ndarray, list, list]:
    """Standardised log1p of R, F, M (negatives clipped to 0): what KMeans, the elbow and predict all use.
    Returns the features and the mean and scale that produced them."""
    logged = np.log1p(np.maximum(table[["recency", "frequency", "monetary"]].to_numpy(dtype="float64"), 0))
    mean = logged.mean(axis=0)
    scale = logged.std(axis=0)
    scale[scale == 0] = 1.0
    return (logged - mean) / scale, mean.tolist(), scale.tolist()


def _cluster(features: np.ndarray, k: int) -> tuple[np.ndarray, list]:
    """KMeans on the standardised features; clusters renumbered by size (0 = largest) so runs are comparable."""
    distinct = len(np.unique(features, axis=0))
    if distinct < k:
        raise Invalid.field("n_clusters", f"{k} clusters need at least {k} distinct customers; there are {distinct}")
    with _one_thread():
        model = KMeans(n_clusters=k, random_state=RANDOM_STATE, n_init=10).fit(features)
    sizes = np.bincount(model.labels_, minlength=k)
    order = sorted(range(k), key=lambda c: (-sizes[c], c))
    renumber = np.empty(k, dtype="int64")
    renumber[order] = np.arange(k)
    return renumber[model.labels_], model.cluster_centers_[order].tolist()


def _knee(ks: list[int], inertia: list[float]) -> int:
    if len(ks) < 3:
        return 0
    x = (np.asarray(ks) - ks[0]) / (ks[-1] - ks[0])
    span = inertia[0] - inertia[-1]
    y = (np.asarray(inertia) - inertia[-1]) / span if span else np.zeros(len(ks))
    # distance below the chord from (0, 1) to (1, 0)
    return int(np.argmax(1 - x - y))


def _describe(means: pd.Series, table: pd.DataFrame) -> str:
    words = {"recency": ("Recent", "Cooling", "Lapsed"), "frequency": ("one-off", "occasional", "frequent"),
             "monetary": ("low-spend", "mid-spend", "high-spend")}
    parts = []
    for name, levels in words.items():
        share_below = float((table[name] < means[name]).mean())
        parts.append(levels[min(2, int(share_below * 3))])
    return " ".join(parts)


def _unique_labels(profiles: list[dict]) -> None:
    seen: dict[str, int] = {}
    for profile in profiles:
        seen[profile["label"]] = seen.get(profile["label"], 0) + 1
        if seen[profile["label"]] > 1:
            profile["label"] = f"{profile['label']} #{seen[profile['label']]}"


def _money_from_units(units: int) -> float:
    return half_up(Decimal(int(units)) / MONEY_UNITS)
