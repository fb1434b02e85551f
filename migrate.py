"""Apply the versioned schema migrations (Alembic, migrations/versions) to DATABASE_URL.

usage: python migrate.py [--database-url URL] [--to REVISION] [--current]
"""
from __future__ import annotations

import argparse
import logging
import sys

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

from config import PROJECT_ROOT, load_config

logger = logging.getLogger(__name__)


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
    command.upgrade(cfg, revision)


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
