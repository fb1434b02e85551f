"""Liveness and readiness of the backing services: the database, the Redis queue and the upload storage."""
from __future__ import annotations

import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import redis
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from services.errors import ServiceUnavailable

logger = logging.getLogger(__name__)


class SystemService:
    """Checks that each answer quickly and never raise except where a 503 is the answer."""

    def __init__(self, engine: Engine, storage_root: Path, redis_url: str | None, version: str,
                 schema_heads: frozenset[str], min_free_mb: int = 0) -> None:
        self.engine = engine
        self.min_free_mb = min_free_mb
        self.storage_root = storage_root
        self.redis_url = redis_url
        self.version = version
        self.schema_heads = schema_heads

    def health(self) -> dict:
        """Readiness: ok when the database answers and its schema is at this build's newest migration,
        ServiceUnavailable otherwise (a fresh or half-migrated database would answer requests with errors)."""
        if self.database_status()["status"] != "ok":
            raise ServiceUnavailable("the database is not reachable")
        current = self.schema_revisions()
        if current != self.schema_heads:
            raise ServiceUnavailable(
                f"the database schema is at revision {', '.join(sorted(current)) or 'none'}, this build needs "
                f"{', '.join(sorted(self.schema_heads))}: run `python migrate.py`")
        return {"status": "ok", "database": "ok", "version": self.version, "timestamp": now_iso()}

    def schema_revisions(self) -> frozenset[str]:
        """The Alembic revision(s) the database is at; empty when it was never migrated or cannot be read."""
        try:
            with self.engine.connect() as conn:
                return frozenset(MigrationContext.configure(conn).get_current_heads())
        except SQLAlchemyError as exc:
            logger.warning("schema revision check failed: %s", exc.__class__.__name__)
            return frozenset()

    def services_status(self) -> dict:
        """Each backing service with its status and a few facts."""
        return {"database": self.database_status(), "queue": self.queue_status(), "storage": self.storage_status()}

    def database_status(self) -> dict:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            logger.warning("database check failed: %s", exc.__class__.__name__)
            return {"status": "down", "backend": self.engine.dialect.name}
        return {"status": "ok", "backend": self.engine.dialect.name}

    def queue_status(self) -> dict:
        if not self.redis_url:
            return {"status": "not_configured", "detail": "set REDIS_URL to run analyses on an RQ worker"}
        try:
            client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=1, socket_timeout=1)
            client.ping()
        except redis.RedisError as exc:
            logger.warning("redis check failed: %s", exc.__class__.__name__)
            return {"status": "down"}
        return {"status": "ok"}

    def storage_status(self) -> dict:
        root = self.storage_root
        if not root.is_dir() or not os.access(root, os.W_OK):
            return {"status": "down", "writable": False}
        free_mb = shutil.disk_usage(root).free // (1024 * 1024)
        # below the threshold uploads and analyses start failing with 507: say so before they do
        status = "ok" if free_mb >= self.min_free_mb else "low"
        return {"status": status, "writable": True, "free_mb": free_mb, "min_free_mb": self.min_free_mb}


def now_iso() -> str:
    """The current UTC time in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")
