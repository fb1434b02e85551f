"""Engine creation for SQLite (embedded default) and MySQL/MariaDB, and the app's engine accessor."""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)
EXTENSION_KEY = "db_engine"


def create_db_engine(database_url: str) -> Engine:
    """An engine with the settings each backend needs: FKs and WAL on SQLite, utf8mb4 and pre-ping on MySQL.
    Statement parameters stay out of error messages and logs: they are customers' data."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _configure_sqlite_connection)
        return engine
    if url.get_backend_name() in ("mysql", "mariadb"):
        url = url.update_query_dict({"charset": "utf8mb4"})
        return create_engine(url, pool_pre_ping=True, pool_recycle=1800, hide_parameters=True)
    raise RuntimeError(f"unsupported DATABASE_URL backend {url.get_backend_name()!r}: use sqlite or mysql+pymysql")


def _configure_sqlite_connection(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def init_app(app: Flask) -> None:
    """Create the app's engine from DATABASE_URL and keep it on the app."""
    app.extensions[EXTENSION_KEY] = create_db_engine(app.config["DATABASE_URL"])


def utc_now() -> datetime:
    """Naive UTC now, to the second: MySQL DATETIME keeps no zone and would round microseconds."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
