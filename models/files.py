"""FileDAO: upload metadata. Every read and delete is scoped to the owner. Never commits."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from models.pagination import Page, paginate
from models.tables import MAX_ID, files

FILE_SORT_COLUMNS = {
    "id": files.c.id,
    "created_at": files.c.created_at,
    "filename": files.c.original_name,
    "size": files.c.size_bytes,
    "rows": files.c.row_count,
}
_LIST_COLUMNS = [c for c in files.c if c.name != "preview"]


def insert_file(conn: Connection, **values) -> int:
    """Insert one file's metadata and return its id."""
    return int(conn.execute(insert(files).values(**values)).inserted_primary_key[0])


def get_file(conn: Connection, file_id: int, owner_id: int) -> dict | None:
    """The owner's file with this id, or None (also when it belongs to someone else)."""
    if not 0 < file_id <= MAX_ID:
        return None
    row = conn.execute(select(files).where(files.c.id == file_id, files.c.owner_id == owner_id)).first()
    return dict(row._mapping) if row else None


def list_files(conn: Connection, owner_id: int, page: Page) -> tuple[int, list[dict]]:
    """One page of the owner's files (without previews) and the total."""
    query = select(*_LIST_COLUMNS).where(files.c.owner_id == owner_id)
    return paginate(conn, query, page, FILE_SORT_COLUMNS, files.c.id)


def transaction_files(conn: Connection, owner_id: int) -> list[dict]:
    """The owner's transaction-layout files, newest first (id and roles only)."""
    query = (select(files.c.id, files.c.roles).where(files.c.owner_id == owner_id, files.c.layout == "transactions")
             .order_by(files.c.id.desc()))
    return [dict(row._mapping) for row in conn.execute(query)]


def delete_file(conn: Connection, file_id: int, owner_id: int) -> bool:
    """Delete the owner's file row; True if it existed."""
    return conn.execute(delete(files).where(files.c.id == file_id, files.c.owner_id == owner_id)).rowcount > 0


def count_files(conn: Connection, owner_id: int | None = None) -> int:
    """How many files one owner has (or everyone, for admin stats)."""
    query = select(func.count()).select_from(files)
    if owner_id is not None:
        query = query.where(files.c.owner_id == owner_id)
    return conn.execute(query).scalar_one()


def expired_originals(conn: Connection, now: datetime) -> list[dict]:
    """Files of every owner whose raw upload is past its retention time (system maintenance, not user data)."""
    query = select(files.c.id, files.c.owner_id, files.c.storage_key).where(
        files.c.raw_expires_at <= now, files.c.raw_deleted_at.is_(None)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def mark_original_deleted(conn: Connection, file_id: int, now: datetime) -> None:
    """Record that the raw upload of a file is gone (its Parquet copy stays)."""
    conn.execute(update(files).where(files.c.id == file_id).values(raw_deleted_at=now))
