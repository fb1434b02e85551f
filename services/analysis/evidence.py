"""Which lines are cancellations or returns, decided from evidence in the file itself, and which order statuses
mean the sale did not happen (cancelled, refunded, returned, in the languages the role aliases cover)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from services.ingest.roles import normalise_name

C_PREFIX = "C + invoice number"
NEGATIVE_QUANTITY = "negative quantity"
NEGATIVE_AMOUNT = "negative amount"
# Compared after normalise_name(), so "Canceled", "CANCELLED" and "Annulée" all match.
EXCLUDED_STATUSES = (
    "cancelled", "canceled", "cancel", "cancellation", "refunded", "refund", "returned", "return", "void", "voided",
    "annule", "annulee", "rembourse", "remboursee", "retourne", "retournee",
    "storniert", "storno", "erstattet", "zuruckgegeben", "retoure",
    "cancelado", "cancelada", "anulado", "anulada", "reembolsado", "reembolsada", "devuelto", "devuelta",
    "dibatalkan", "batal", "dikembalikan", "dikembalikandana",
    "ยกเลิก", "คืนเงิน", "คืนสินค้า",
)


def cancellation_mask(view: pd.DataFrame) -> tuple[pd.Series | None, dict[str, int]]:
    """Lines that undo a sale, and how many lines each kind of evidence flagged; None without any column for it.

    Evidence: an invoice id that is `C` followed by the shape of the file's other ids (C536379 among 536378-style
    ids, but not CA-2016-152156 among US-2016-... ids, where C is just a letter of the id), a negative quantity,
    and a negative line amount when the file states amounts rather than unit prices (a negative unit price is
    another rule's business).
    """
    parts: dict[str, pd.Series] = {}
    if "invoice" in view:
        parts[C_PREFIX] = _c_prefixed(view["invoice"])
    if "quantity" in view:
        parts[NEGATIVE_QUANTITY] = (view["quantity"] < 0).fillna(False).astype(bool)
    if "amount" in view and "unit_price" not in view:
        parts[NEGATIVE_AMOUNT] = (view["amount"] < 0).fillna(False).astype(bool)
    if not parts:
        return None, {}
    evidence = {name: int(mask.sum()) for name, mask in parts.items()}
    return pd.concat(parts.values(), axis=1).any(axis=1), {name: n for name, n in evidence.items() if n}


def _c_prefixed(invoices: pd.Series) -> pd.Series:
    codes, uniques = pd.factorize(invoices, use_na_sentinel=True)
    distinct = pd.Series(uniques, dtype="string").str.strip().str.upper()
    starts_c = distinct.str.startswith("C").fillna(False).to_numpy(dtype=bool)
    if not starts_c.any():
        return pd.Series(False, index=invoices.index)
    # The shape of an id: digits as 9, letters and signs as they are ("C536379" -> "C999999").
    shapes = distinct.str.replace(r"\d", "9", regex=True)
    others = set(shapes[~starts_c].dropna())
    cancelled = starts_c & shapes.str[1:].isin(others).to_numpy(dtype=bool) & ~shapes.isin(others).to_numpy(bool)
    flagged = np.append(cancelled, False)  # position -1 (a missing id) is never a cancellation
    return pd.Series(flagged[codes], index=invoices.index)


def status_mask(statuses: pd.Series, excluded: tuple[str, ...] | None) -> tuple[pd.Series, list[dict]]:
    """Lines whose status is one of `excluded` (default: the cancelled/refunded/returned words), and each status
    value with its line count and whether it was excluded."""
    wanted = {normalise_name(value) for value in (EXCLUDED_STATUSES if excluded is None else excluded)}
    counts = statuses.astype("string").str.strip().value_counts(dropna=False)
    report, drop = [], []
    for value, rows in counts.items():
        is_excluded = not pd.isna(value) and normalise_name(value) in wanted
        report.append({"status": None if pd.isna(value) else str(value), "rows": int(rows), "excluded": is_excluded})
        if is_excluded:
            drop.append(value)
    return statuses.astype("string").str.strip().isin(drop).fillna(False).astype(bool), report
