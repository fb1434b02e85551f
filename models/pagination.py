"""One way to page and sort any SELECT: total count plus one page of rows as dicts."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Select, func, select


@dataclass(frozen=True)
class Page:
    """A page request: 1-based page number, page size, and an optional whitelisted sort column."""

    page: int = 1
    per_page: int = 50
    sort: str | None = None
    order: str = "asc"

    @classmethod
    def of(cls, args: Mapping) -> Page:
        """The page a request's validated query asks for (page, per_page, sort, order; missing ones default)."""
        return cls(**{name: args[name] for name in ("page", "per_page", "sort", "order") if name in args})

    def envelope(self, total: int, items: list) -> dict:
        """The one shape of every paged answer."""
        return {"total": total, "page": self.page, "per_page": self.per_page, "items": items}


def paginate(conn: Connection, query: Select, page: Page, sortable: dict, tiebreak) -> tuple[int, list[dict]]:
    """Run `query` for one page; `sortable` maps public sort names to columns, `tiebreak` keeps pages stable."""
    total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    ordered = query
    if page.sort:
        column = sortable[page.sort]
        ordered = ordered.order_by(column.desc() if page.order == "desc" else column.asc())
    ordered = ordered.order_by(tiebreak).limit(page.per_page).offset((page.page - 1) * page.per_page)
    return total, [dict(row._mapping) for row in conn.execute(ordered)]


def page_slice(rows, page: Page):
    """One page of an in-memory list or DataFrame (for results that do not live in SQL)."""
    start = (page.page - 1) * page.per_page
    return rows.iloc[start:start + page.per_page] if hasattr(rows, "iloc") else rows[start:start + page.per_page]
