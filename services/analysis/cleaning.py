"""Cleaning rules for order lines, each switchable and counted, plus outlier flags and data-quality alerts."""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from services.analysis.evidence import cancellation_mask, status_mask
from services.errors import Invalid

logger = logging.getLogger(__name__)

# Applied in this order; a row removed by several rules is counted once, under the first.
RULES = (
    "missing_customer",
    "missing_item",
    "unparseable_dates",
    "excluded_statuses",
    "cancellations",
    "non_positive_quantity",
    "non_positive_price",
    "duplicates",
)
OUTLIER_MODES = ("flag", "remove", "off")
OUTLIER_METHODS = {"iqr": 1.5, "zscore": 3.0}
# Thresholds in the spirit of ydata-profiling's alerts.
HIGH_CARDINALITY = 50
SKEW_LIMIT = 20.0
ZEROS_SHARE = 0.05
# A rule that removes more than this share of the rows or of the revenue says so in `warnings`.
LOSS_WARNING_SHARE = 0.10
EXAMPLE_SCAN = 1000  # removed rows looked at for three distinct example values
# Where a removed row's example value comes from, by rule (the first column the view has).
EXAMPLE_COLUMNS = {
    "missing_customer": ("invoice", "item", "description"), "missing_item": ("invoice", "customer"),
    "unparseable_dates": ("invoice", "customer"), "excluded_statuses": ("status",),
    "cancellations": ("invoice", "quantity", "amount"), "non_positive_quantity": ("quantity",),
    "non_positive_price": ("unit_price", "amount"), "duplicates": ("invoice", "item", "description"),
    "outlier": ("amount",),
}


@dataclass(frozen=True)
class CleaningParams:
    """Which rules to apply (all by default) and what to do with amount outliers."""

    missing_customer: bool = True
    missing_item: bool = True
    unparseable_dates: bool = True
    excluded_statuses: bool = True
    exclude_statuses: tuple[str, ...] | None = None  # None: cancelled, refunded, returned (evidence.py)
    cancellations: bool = True
    non_positive_quantity: bool = True
    non_positive_price: bool = True
    duplicates: bool = True
    outliers: str = "flag"
    outlier_method: str = "iqr"
    outlier_threshold: float | None = None

    def __post_init__(self) -> None:
        if self.outliers not in OUTLIER_MODES:
            raise Invalid.field("outliers", f"must be one of {', '.join(OUTLIER_MODES)}")
        if self.outlier_method not in OUTLIER_METHODS:
            raise Invalid.field("outlier_method", f"must be one of {', '.join(OUTLIER_METHODS)}")
        if self.outlier_threshold is not None and not 0 < self.outlier_threshold <= 100:
            raise Invalid.field("outlier_threshold", "must be between 0 and 100")
        if self.exclude_statuses is not None and len(self.exclude_statuses) > 100:
            raise Invalid.field("exclude_statuses", "at most 100 status values")


@dataclass
class CleaningResult:
    """The removal reason of every removed row (NA for kept rows) and the summary."""

    view: pd.DataFrame
    reasons: pd.Series
    summary: dict

    def kept(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The kept rows of the view (original index), all columns or only `columns` (cheaper on big files)."""
        mask = self.reasons.isna()
        return self.view.loc[mask, [c for c in columns if c in self.view]] if columns else self.view[mask]

    def brief(self) -> dict:
        """What the other analyses repeat of the cleaning in their summary."""
        return {key: self.summary[key] for key in ("rows_in", "rows_out", "removed", "cancellation_evidence",
                                                    "statuses", "warnings")}


def clean(view: pd.DataFrame, original: pd.DataFrame, params: CleaningParams, alerts: bool = True,
          repeated: pd.Series | None = None) -> CleaningResult:
    """Apply the enabled rules to the canonical `view`; `original` (same index) is used for exact duplicates.
    `alerts=False` skips the per-column data-quality alerts (analyses other than cleaning do not report them);
    `repeated` is original.duplicated() when the caller already has it."""
    reasons = pd.Series(pd.NA, index=view.index, dtype="string")
    # Every rule looks at a row's own values, so an exact copy of a removed row is removed by the same rule:
    # "duplicate among the remaining rows" is simply "duplicate in the file", computed once per file.
    if repeated is None:
        repeated = original.duplicated(keep="first")
    applied, skipped, found = [], {}, {"cancellation_evidence": {}, "statuses": []}
    for rule in RULES:
        if not getattr(params, rule):
            continue
        mask = _rule_mask(rule, view, repeated, params, found)
        if mask is None:
            skipped[rule] = "the file has no column for it"
            continue
        reasons = reasons.mask(mask & reasons.isna(), rule)
        applied.append(rule)
    outliers = _outliers(view, reasons.isna(), params)
    if params.outliers == "remove" and outliers["rows"] is not None:
        reasons = reasons.mask(view.index.isin(outliers["rows"]) & reasons.isna(), "outlier")
    counts = reasons.value_counts()
    counted = [*applied, "outlier"] if params.outliers == "remove" else applied
    summary = {
        "rows_in": len(view),
        "rows_out": int(reasons.isna().sum()),
        "removed": {rule: int(counts.get(rule, 0)) for rule in counted},
        "rules_applied": applied,
        "rules_skipped": skipped,
        **found,
        "warnings": loss_warnings(view, reasons, counted),
        "outliers": {key: value for key, value in outliers.items() if key != "rows"},
        "alerts": data_quality_alerts(original, repeated) if alerts else [],
        "params": asdict(params),
    }
    return CleaningResult(view, reasons, summary)


def _rule_mask(rule: str, view: pd.DataFrame, repeated: pd.Series, params: CleaningParams,
               found: dict) -> pd.Series | None:
    """The rows `rule` removes (None when the file has no column for it); evidence is recorded in `found`."""
    has = view.columns.__contains__
    if rule == "missing_customer":
        return view["customer"].isna() if has("customer") else None
    if rule == "missing_item":
        labels = [c for c in ("item", "description") if has(c)]
        return view[labels].isna().all(axis=1) if labels else None
    if rule == "unparseable_dates":
        return view["date"].isna() if has("date") else None
    if rule == "excluded_statuses":
        if not has("status"):
            return None
        mask, found["statuses"] = status_mask(view["status"], params.exclude_statuses)
        return mask
    if rule == "cancellations":
        mask, found["cancellation_evidence"] = cancellation_mask(view)
        return mask
    if rule == "non_positive_quantity":
        return (view["quantity"] <= 0).fillna(True) if has("quantity") else None
    if rule == "non_positive_price":
        money = "unit_price" if has("unit_price") else "amount" if has("amount") else None
        return (view[money] <= 0).fillna(True) if money else None
    return repeated


def loss_warnings(view: pd.DataFrame, reasons: pd.Series, rules: list[str]) -> list[dict]:
    """One warning per rule that removed more than LOSS_WARNING_SHARE of the rows or of the (positive) revenue,
    with its count, both shares and three example values of the removed rows."""
    rows = len(view)
    positions = np.flatnonzero(reasons.notna().to_numpy())  # usually a small part of the file: work on those
    codes, names = pd.factorize(reasons.iloc[positions])
    counts = np.bincount(codes, minlength=len(names))
    revenue = np.zeros(len(names))
    total = 0.0
    if "amount" in view:
        amounts = pd.to_numeric(view["amount"]).to_numpy(dtype="float64")
        amounts = np.where(amounts > 0, amounts, 0.0)  # refunds and missing amounts are not revenue
        total = float(amounts.sum())
        revenue = np.bincount(codes, weights=amounts[positions], minlength=len(names))
    warnings = []
    for code, rule in enumerate(names):
        share, revenue_share = counts[code] / rows, float(revenue[code]) / total if total > 0 else 0.0
        if rule not in rules or max(share, revenue_share) <= LOSS_WARNING_SHARE:
            continue
        column = next((c for c in EXAMPLE_COLUMNS.get(rule, ()) if c in view), None)
        first = positions[codes == code][:EXAMPLE_SCAN]
        values = view[column].iloc[first] if column else pd.Series([], dtype=object)
        examples = [_plain(value) for value in values.dropna().drop_duplicates().head(3)]
        count = int(counts[code])
        warnings.append({
            "rule": rule, "removed": count, "share": round(share, 4), "revenue_share": round(revenue_share, 4),
            "column": column, "examples": examples,
            "message": f"{rule} removed {count:,} of {rows:,} rows ({share:.1%}, {revenue_share:.1%} of the revenue), "
                       f"for example {', '.join(map(str, examples)) or 'rows without a value'}; switch the rule off "
                       f"in params.cleaning if these rows are real sales",
        })
    return warnings


def _outliers(view: pd.DataFrame, kept: pd.Series, params: CleaningParams) -> dict:
    """Line amounts of the kept rows far from the rest: beyond k x IQR of the quartiles, or beyond z std devs."""
    threshold = params.outlier_threshold or OUTLIER_METHODS[params.outlier_method]
    result = {"mode": params.outliers, "method": params.outlier_method, "threshold": threshold,
              "column": "amount", "flagged": 0, "low": None, "high": None, "rows": None}
    if params.outliers == "off" or "amount" not in view:
        return result
    amounts = view["amount"][kept].astype("float64").dropna()
    if len(amounts) < 4:
        return result
    if params.outlier_method == "iqr":
        q1, q3 = amounts.quantile([0.25, 0.75])
        low, high = q1 - threshold * (q3 - q1), q3 + threshold * (q3 - q1)
    else:
        mean, std = amounts.mean(), amounts.std()
        low, high = mean - threshold * std, mean + threshold * std
    outside = (amounts < low) | (amounts > high)
    result.update(flagged=int(outside.sum()), low=round(float(low), 4), high=round(float(high), 4),
                  rows=amounts.index[outside])
    return result


def data_quality_alerts(frame: pd.DataFrame, repeated: pd.Series | None = None) -> list[dict]:
    """Per-column alerts like ydata-profiling's: missing, zeros, constant, unique, high cardinality, skew,
    and duplicate rows (column "*"); `repeated` is frame.duplicated() if the caller has it."""
    alerts: list[dict] = []
    rows = len(frame)
    if rows == 0:
        return alerts
    for column in frame.columns:
        values = frame[column]
        missing = int(values.isna().sum())
        present = rows - missing
        if missing:
            alerts.append({"column": column, "type": "missing", "value": round(missing / rows, 4)})
        distinct = int(values.nunique())
        if present and distinct == 1:
            alerts.append({"column": column, "type": "constant", "value": _plain(values.dropna().iloc[0])})
            continue
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            zeros = int((values == 0).sum())
            if zeros / rows > ZEROS_SHARE:
                alerts.append({"column": column, "type": "zeros", "value": round(zeros / rows, 4)})
            skew = values.astype("float64").skew() if present > 2 else np.nan
            if pd.notna(skew) and abs(skew) > SKEW_LIMIT:
                alerts.append({"column": column, "type": "skewed", "value": round(float(skew), 2)})
        elif not pd.api.types.is_datetime64_any_dtype(values):
            if present > 1 and distinct == present:
                alerts.append({"column": column, "type": "unique", "value": distinct})
            elif distinct > HIGH_CARDINALITY:
                alerts.append({"column": column, "type": "high_cardinality", "value": distinct})
    duplicates = int((frame.duplicated() if repeated is None else repeated).sum())
    if duplicates:
        alerts.append({"column": "*", "type": "duplicates", "value": duplicates})
    return alerts


def _plain(value):
    """A JSON-safe Python scalar."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
