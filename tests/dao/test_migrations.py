"""The Alembic migrations build exactly the schema models/tables.py describes, on SQLite and MariaDB."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from migrate import upgrade
from models.database import create_db_engine
from models.tables import metadata


def test_migrated_schema_matches_the_table_definitions(database_url):
    engine = create_db_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        assert context.get_current_revision() is not None
    engine.dispose()


def test_upgrade_twice_is_a_no_op(database_url):
    upgrade(database_url)
    engine = create_db_engine(database_url)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_mysql_tables_are_innodb_utf8mb4(database_url):
    engine = create_db_engine(database_url)
    if engine.dialect.name != "mysql":
        engine.dispose()
        return
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT table_name, engine, table_collation FROM information_schema.tables "
            "WHERE table_schema = DATABASE()"
        )).all()
    engine.dispose()
    assert rows
    for name, table_engine, collation in rows:
        assert table_engine == "InnoDB", name
        assert collation.startswith("utf8mb4"), name
