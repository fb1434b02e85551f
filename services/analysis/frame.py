"""The canonical view every analysis works on: role names as column names, and a line amount."""
from __future__ import annotations

import pandas as pd

from services.ingest.roles import ROLES, require_roles


def canonical(frame: pd.DataFrame, roles: dict[str, str]) -> pd.DataFrame:
    """Columns renamed to their roles (invoice, customer, item, description, quantity, unit_price, amount,
    date, country, status), only those the file has; `amount` is quantity x unit_price when the file has no amount
    column; the file's other numeric columns follow under their own names.
    """
    view = pd.DataFrame({role: frame[roles[role]] for role in ROLES if role in roles}, index=frame.index)
    if "amount" not in view and has_money(roles):
        view["amount"] = view["quantity"] * view["unit_price"]
    for column, values in frame.items():  # other numeric columns (Profit, Discount) ride along under their name
        if column not in roles.values() and is_measure(values):
            view[column if column not in view else f"{column} (column)"] = values
    return view


def is_measure(values: pd.Series) -> bool:
    """A numeric column (booleans are not measures)."""
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def has_money(roles: dict[str, str]) -> bool:
    """Line amounts are known: an amount column, or quantity and unit price to multiply."""
    return "amount" in roles or {"quantity", "unit_price"} <= set(roles)


def need(view: pd.DataFrame, roles: tuple[str, ...], purpose: str, original_columns: list[str]) -> None:
    """422 naming each role `purpose` needs that the canonical view lacks, and the file's columns."""
    require_roles({role: role for role in view.columns}, roles, original_columns, purpose)

