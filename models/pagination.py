"""One way to page and sort any SELECT: total count plus one page of rows as dicts, in one round trip."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, CursorResult, Select, func, select

_TOTAL = "_page_total"


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


def paginate(conn: Connection, query: Select, page: Page, sortable: dict, tiebreak,
             total: int | None = None) -> tuple[int, list[dict]]:
    """Run `query` for one page; `sortable` maps public sort names to columns, `tiebreak` keeps pages stable.

    A caller that knows the total (an analysis stores its row count when it finishes) passes it and saves the
    count; otherwise the count rides along the page as an uncorrelated scalar subquery, which both backends
    evaluate once. Only a page past the end, which has no row to carry it, costs a second query."""
    ordered = query
    if page.sort:
        column = sortable[page.sort]
        ordered = ordered.order_by(column.desc() if page.order == "desc" else column.asc())
    ordered = ordered.order_by(tiebreak).limit(page.per_page).offset((page.page - 1) * page.per_page)
    if total is not None:
        return total, rows_as_dicts(conn.execute(ordered))
    count = select(func.count()).select_from(query.order_by(None).subquery())
    result = conn.execute(ordered.add_columns(count.scalar_subquery().label(_TOTAL)))
    names = tuple(result.keys())[:-1]
    rows = result.all()
    if rows:
        return rows[0][-1], [dict(zip(names, row, strict=False)) for row in rows]  # stops before the total
    return (conn.execute(count).scalar_one() if page.page > 1 else 0), []


def rows_as_dicts(result: CursorResult) -> list[dict]:
    """Every row of `result` as a dict; zipping the plain row tuples is about twice as fast as Row._mapping."""
    names = tuple(result.keys())
    return [dict(zip(names, row, strict=True)) for row in result]


def page_slice(rows, page: Page):
    """One page of an in-memory list or DataFrame (for results that do not live in SQL)."""
    start = (page.page - 1) * page.per_page
    return rows.iloc[start:start + page.per_page] if hasattr(rows, "iloc") else rows[start:start + page.per_page]
