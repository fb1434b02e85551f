"""Alembic environment: migrates the database given by migrate.py (or DATABASE_URL) online."""
from alembic import context

from models.database import create_db_engine
from models.tables import metadata

config = context.config


def run_migrations() -> None:
    """Apply migrations on a fresh engine for the database migrate.py names."""
    engine = create_db_engine(config.attributes["database_url"])
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run `python migrate.py`")
run_migrations()
