"""Apply the versioned schema migrations (Alembic, migrations/versions) to DATABASE_URL.

usage: python migrate.py [--database-url URL] [--to REVISION] [--current]
"""
from __future__ import annotations

import argparse
import fcntl
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from config import PROJECT_ROOT, load_config

logger = logging.getLogger(__name__)
LOCK_WAIT_SECONDS = 300


def alembic_config() -> AlembicConfig:
    """Alembic settings built in code, so no alembic.ini can drift from the app's DATABASE_URL."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return cfg


def head_revisions() -> frozenset[str]:
    """The newest revision(s) in migrations/versions: what this build's code expects the schema to be at."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at `database_url` to `revision` (default: the newest)."""
    cfg = alembic_config()
    cfg.attributes["database_url"] = database_url
    with migration_lock(database_url):
        command.upgrade(cfg, revision)


@contextmanager
def migration_lock(database_url: str) -> Iterator[None]:
    """One migration at a time per database: processes that start together (`make prod &` and `make worker &`,
    an app and a worker container, several hosts) would otherwise all create the same tables, and all but one
    fail. MySQL/MariaDB: a named server lock; SQLite: an flock on a file beside the database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            yield
            return
        path = Path(url.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        with (path.parent / f"{path.name}.migrate-lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    engine = create_engine(url, poolclass=NullPool)
    name = f"retail-analytics-migrate:{url.database}"[:64]
    try:
        with engine.connect() as conn:
            granted = conn.execute(text("SELECT GET_LOCK(:name, :wait)"), {"name": name, "wait": LOCK_WAIT_SECONDS})
            if granted.scalar() != 1:
                raise RuntimeError(f"another migration of {url.database} held its lock for {LOCK_WAIT_SECONDS} s")
            try:
                yield
            finally:
                try:
                    conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})
                except SQLAlchemyError as exc:  # the server went away: its lock went with the session
                    logger.warning("could not release the migration lock: %s", exc)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="defaults to DATABASE_URL from the environment or .env")
    parser.add_argument("--to", default="head", help="target revision (default: head)")
    parser.add_argument("--current", action="store_true", help="print the database's revision and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    database_url = args.database_url or load_config().DATABASE_URL
    if args.current:
        cfg = alembic_config()
        cfg.attributes["database_url"] = database_url
        command.current(cfg)
        return 0
    upgrade(database_url, args.to)
    logger.info("database is at revision %s", args.to)
    return 0


if __name__ == "__main__":
    sys.exit(main())
