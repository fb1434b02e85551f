"""The canonical view every analysis works on: role names as column names, and a line amount."""
from __future__ import annotations

import pandas as pd

from services.ingest.roles import ROLES, require_roles


def canonical(frame: pd.DataFrame, roles: dict[str, str]) -> pd.DataFrame:
    """Columns renamed to their roles (invoice, customer, item, description, quantity, unit_price, amount,
    date, country), only those the file has; `amount` is quantity x unit_price when the file has no amount column.
    """
    view = pd.DataFrame({role: frame[roles[role]] for role in ROLES if role in roles}, index=frame.index)
    if "amount" not in view and {"quantity", "unit_price"} <= set(view.columns):
        view["amount"] = view["quantity"] * view["unit_price"]
    return view


def need(view: pd.DataFrame, roles: tuple[str, ...], purpose: str, original_columns: list[str]) -> None:
    """422 naming each role `purpose` needs that the canonical view lacks, and the file's columns."""
    require_roles({role: role for role in view.columns}, roles, original_columns, purpose)
