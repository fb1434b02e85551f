"""Migrations started at the same moment by several processes (app and worker, several hosts) all succeed."""
from __future__ import annotations

import multiprocessing
import os

import pytest
from sqlalchemy import create_engine, inspect

from migrate import upgrade
from tests.conftest import throwaway_mysql_database

PROCESSES = 4


def _migrate(database_url: str, start, results) -> None:
    start.wait(30)
    try:
        upgrade(database_url)
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 - the parent asserts on what each process reports
        results.put(f"{type(exc).__name__}: {exc}")


def _migrate_together(database_url: str) -> list[str]:
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    workers = [context.Process(target=_migrate, args=(database_url, start, results)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    start.set()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(30)
    return outcomes


def test_concurrent_migrations_of_a_fresh_sqlite_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert _migrate_together(url) == ["ok"] * PROCESSES
    assert "users" in inspect(create_engine(url)).get_table_names()


@pytest.mark.skipif(not os.environ.get("TEST_MYSQL_URL"), reason="needs TEST_MYSQL_URL (MariaDB)")
def test_concurrent_migrations_of_a_fresh_mariadb_database():
    with throwaway_mysql_database("rat_lock") as url:
        assert _migrate_together(url) == ["ok"] * PROCESSES
        assert "users" in inspect(create_engine(url)).get_table_names()
