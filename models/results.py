"""ResultDAO: bulk writes and paged reads of analysis result rows (rfm rows, basket rules, frequent itemsets),
by result table name. Never commits.

Reads take the analysis id only: callers first load the analysis through AnalysisDAO with its owner.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Connection, Select, Table, insert, select

from models.pagination import Page, paginate
from models.tables import basket_rules, frequent_itemsets, metadata, rfm_rows

BATCH = 5000
SEPARATOR = "\x1f"  # ASCII unit separator; an item name holding one has it replaced by a space in the key


@dataclass(frozen=True)
class _ResultTable:
    """A result table: which columns callers see, which take exact filters, and how an item filter matches."""

    table: Table
    exact_filters: tuple[str, ...] = ()
    item_key: bool = False  # rows carry items_key, so `item` finds every row holding that item
    hidden: tuple[str, ...] = ("id", "analysis_id", "items_key")

    @property
    def visible(self) -> list:
        return [column for column in self.table.c if column.name not in self.hidden]

    @cached_property
    def select_visible(self) -> Select:
        """The visible columns' SELECT, built once rather than per request."""
        return select(*self.visible)


# Tables that filter or key their rows; any other result table (an analysis_id column, plain rows) needs no entry.
_TABLES = {
    "rfm_rows": _ResultTable(rfm_rows, exact_filters=("segment", "cluster")),
    "basket_rules": _ResultTable(basket_rules, item_key=True),
    "frequent_itemsets": _ResultTable(frequent_itemsets, item_key=True),
}


def _spec(table_name: str) -> _ResultTable:
    return _TABLES.get(table_name) or _ResultTable(metadata.tables[table_name])


def items_key(items: Iterable[str]) -> str:
    """Every item between separators, so that one LIKE finds every rule or itemset holding a given item."""
    return SEPARATOR + SEPARATOR.join(item.replace(SEPARATOR, " ") for item in items) + SEPARATOR


def insert_rfm_rows(conn: Connection, analysis_id: int, rows: Iterable[dict]) -> int:
    """An rfm analysis' customer rows."""
    return _bulk_insert(conn, rfm_rows, analysis_id, rows)


def insert_rules(conn: Connection, analysis_id: int, rows: Iterable[dict]) -> int:
    """A basket analysis' rules ({antecedents, consequents, count, support, ...}), keyed by their items."""
    keyed = ({**row, "items_key": items_key([*row["antecedents"], *row["consequents"]])} for row in rows)
    return _bulk_insert(conn, basket_rules, analysis_id, keyed)


def insert_itemsets(conn: Connection, analysis_id: int, rows: Iterable[dict]) -> int:
    """A basket analysis' frequent itemsets ({items, size, count, support}), keyed by their items."""
    keyed = ({**row, "items_key": items_key(row["items"])} for row in rows)
    return _bulk_insert(conn, frequent_itemsets, analysis_id, keyed)


_WRITERS: dict[str, Callable[[Connection, int, Iterable[dict]], int]] = {
    "rfm_rows": insert_rfm_rows, "basket_rules": insert_rules, "frequent_itemsets": insert_itemsets}


def insert_results(conn: Connection, table_name: str, analysis_id: int, rows: Iterable[dict]) -> int:
    """Rows of the result table `table_name` (as an analysis kind names it) for one analysis."""
    writer = _WRITERS.get(table_name)
    return writer(conn, analysis_id, rows) if writer else _bulk_insert(conn, _spec(table_name).table, analysis_id, rows)


def result_columns(table_name: str) -> list[str]:
    """The columns a reader of `table_name` gets, in order."""
    return [column.name for column in _spec(table_name).visible]


def result_page(conn: Connection, table_name: str, analysis_id: int, page: Page,
                filters: Mapping[str, object] | None = None, total: int | None = None) -> tuple[int, list[dict]]:
    """One page of an analysis' rows of `table_name`, filtered; sorts by any visible column (callers whitelist).
    `total`, when the caller knows it (an unfiltered page of a finished analysis), saves the count."""
    spec = _spec(table_name)
    query = _filtered(spec, analysis_id, filters or {})
    return paginate(conn, query, page, {column.name: column for column in spec.visible}, spec.table.c.id, total)


def all_results(conn: Connection, table_name: str, analysis_id: int, item: str | None = None) -> list[dict]:
    """Every row of an analysis in `table_name` (those holding `item`), in insertion order."""
    spec = _spec(table_name)
    query = _filtered(spec, analysis_id, {"item": item}).order_by(spec.table.c.id)
    return [dict(row._mapping) for row in conn.execute(query)]


def _filtered(spec: _ResultTable, analysis_id: int, filters: Mapping[str, object]):
    query = spec.select_visible.where(spec.table.c.analysis_id == analysis_id)
    for name, value in filters.items():
        if value is None:
            continue
        if name == "item" and spec.item_key:
            if value:  # an empty item filters nothing
                query = query.where(_like_item(spec.table.c.items_key, str(value)))
        elif name in spec.exact_filters:
            query = query.where(spec.table.c[name] == value)
        else:
            raise ValueError(f"{name} does not filter {spec.table.name}")
    return query


def _like_item(column, item: str):
    escaped = item.replace(SEPARATOR, " ").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{SEPARATOR}{escaped}{SEPARATOR}%", escape="\\")


def _bulk_insert(conn: Connection, table: Table, analysis_id: int, rows: Iterable[dict]) -> int:
    """Result rows of one analysis, by executemany in batches (pymysql sends each batch as multi-row INSERTs)."""
    written, batch = 0, []
    for row in rows:
        batch.append({**row, "analysis_id": analysis_id})
        if len(batch) == BATCH:
            conn.execute(insert(table), batch)
            written, batch = written + len(batch), []
    if batch:
        conn.execute(insert(table), batch)
        written += len(batch)
    return written
