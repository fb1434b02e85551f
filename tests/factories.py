"""Rows written straight through the DAO, for tests where HTTP is not what is being tested."""
from __future__ import annotations

import uuid

from models import analyses as analysis_dao
from models import files as file_dao
from models import users as user_dao
from models.database import utc_now
from models.status import Status


def make_user(conn, username: str = "owner") -> int:
    """An active user; returns its id."""
    return user_dao.insert_user(conn, username, f"{username}@example.com", "not a real hash")


def make_file(conn, owner_id: int, **overrides) -> int:
    """A file's metadata (no stored data behind it); returns its id."""
    now = utc_now()
    values = {"owner_id": owner_id, "storage_key": uuid.uuid4().hex, "original_name": "sales.csv", "size_bytes": 1,
              "format": "csv", "layout": "transactions", "row_count": 0, "columns": [], "roles": {}, "warnings": [],
              "source": {}, "preview": [], "created_at": now, "raw_expires_at": now, "raw_deleted_at": None}
    return file_dao.insert_file(conn, **{**values, **overrides})


def make_analysis(conn, owner_id: int, file_id: int, analysis_type: str = "basket",
                  status: Status = Status.FINISHED) -> int:
    """An analysis record; returns its id."""
    return analysis_dao.insert_analysis(conn, owner_id, file_id, analysis_type, {}, status, utc_now())
