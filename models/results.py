"""ResultDAO: bulk writes and paged reads of rfm rows, basket rules and frequent itemsets. Never commits.

Reads take the analysis id only: callers first load the analysis through AnalysisDAO with its owner.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Table, insert, select

from models.pagination import Page, paginate
from models.tables import basket_rules, frequent_itemsets, rfm_rows

RFM_SORT = {name: rfm_rows.c[name] for name in ("customer_id", "recency", "frequency", "monetary", "r_score",
                                                "f_score", "m_score", "rfm_score", "segment", "cluster")}
RULE_SORT = {name: basket_rules.c[name] for name in ("count", "support", "confidence", "lift", "leverage",
                                                     "conviction")}
RULE_COLUMNS = ("antecedents", "consequents", "count", "support", "confidence", "lift", "leverage", "conviction")
ITEMSET_SORT = {name: frequent_itemsets.c[name] for name in ("size", "count", "support")}
BATCH = 5000
# the columns a page shows, selected once instead of per request
_RFM_PAGE = select(*[c for c in rfm_rows.c if c.name not in ("id", "analysis_id")])
_RULES_PAGE = select(*[c for c in basket_rules.c if c.name not in ("id", "analysis_id", "items_key")])


def bulk_insert(conn: Connection, table: Table, analysis_id: int, rows: Iterable[dict]) -> int:
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


SEPARATOR = "\x1f"  # ASCII unit separator; an item name holding one has it replaced by a space in the key


def items_key(items: Iterable[str]) -> str:
    """Every item between separators, so that one LIKE finds every rule or itemset holding a given item."""
    return SEPARATOR + SEPARATOR.join(item.replace(SEPARATOR, " ") for item in items) + SEPARATOR


def _like_item(column, item: str):
    escaped = item.replace(SEPARATOR, " ").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{SEPARATOR}{escaped}{SEPARATOR}%", escape="\\")


def rfm_page(conn: Connection, analysis_id: int, page: Page, segment: str | None = None,
             cluster: int | None = None, total: int | None = None) -> tuple[int, list[dict]]:
    """One page of an analysis' customers, optionally of one segment and/or cluster; `total` if already known."""
    query = _RFM_PAGE.where(rfm_rows.c.analysis_id == analysis_id)
    if segment is not None:
        query = query.where(rfm_rows.c.segment == segment)
    if cluster is not None:
        query = query.where(rfm_rows.c.cluster == cluster)
    return paginate(conn, query, page, RFM_SORT, rfm_rows.c.id, total)


def all_rfm_rows(conn: Connection, analysis_id: int) -> list[dict]:
    """Every customer row of an analysis, in insertion order."""
    query = select(*[c for c in rfm_rows.c if c.name not in ("id", "analysis_id")]) \
        .where(rfm_rows.c.analysis_id == analysis_id).order_by(rfm_rows.c.id)
    return [dict(row._mapping) for row in conn.execute(query)]


def rules_page(conn: Connection, analysis_id: int, page: Page, item: str | None = None,
               total: int | None = None) -> tuple[int, list[dict]]:
    """One page of an analysis' rules, optionally those mentioning `item`; `total` if already known."""
    query = _RULES_PAGE.where(basket_rules.c.analysis_id == analysis_id)
    if item:
        query = query.where(_like_item(basket_rules.c.items_key, item))
    return paginate(conn, query, page, RULE_SORT, basket_rules.c.id, total)


def all_rules(conn: Connection, analysis_id: int) -> list[dict]:
    """Every rule of an analysis, strongest first (the order they were written in)."""
    query = select(*[c for c in basket_rules.c if c.name not in ("id", "analysis_id", "items_key")]) \
        .where(basket_rules.c.analysis_id == analysis_id).order_by(basket_rules.c.id)
    return [dict(row._mapping) for row in conn.execute(query)]


def rules_with_antecedent_item(conn: Connection, analysis_id: int, item: str) -> list[dict]:
    """Rules of an analysis that mention `item` (the caller keeps those with it on the left)."""
    query = select(*[c for c in basket_rules.c if c.name not in ("id", "analysis_id", "items_key")]) \
        .where(basket_rules.c.analysis_id == analysis_id, _like_item(basket_rules.c.items_key, item))
    return [dict(row._mapping) for row in conn.execute(query)]


def itemsets_page(conn: Connection, analysis_id: int, page: Page, item: str | None = None) -> tuple[int, list[dict]]:
    """One page of an analysis' frequent itemsets."""
    query = select(frequent_itemsets.c["items"], frequent_itemsets.c.size, frequent_itemsets.c["count"],
                   frequent_itemsets.c.support).where(frequent_itemsets.c.analysis_id == analysis_id)
    if item:
        query = query.where(_like_item(frequent_itemsets.c.items_key, item))
    return paginate(conn, query, page, ITEMSET_SORT, frequent_itemsets.c.id)
