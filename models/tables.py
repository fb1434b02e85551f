"""Every table of the schema, in SQLAlchemy Core. The migrations in migrations/versions create exactly these."""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
)
from sqlalchemy.dialects import mysql

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)
MAX_ID = 2**31 - 1  # the largest value of the INTEGER id columns
MYSQL_TABLE_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def exact_string(length: int) -> String:
    """A VARCHAR compared byte for byte on every backend (MySQL's default collation folds case and accents)."""
    return String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb")


users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", exact_string(64), nullable=False, unique=True),
    Column("email", exact_string(254), nullable=False, unique=True),
    Column("password_hash", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("token_version", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # Ids are never reused on SQLite either: a deleted user's token must not fit a newcomer.
    sqlite_autoincrement=True,
    **MYSQL_TABLE_OPTIONS,
)

revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("expires_at", DateTime, nullable=False, index=True),
    **MYSQL_TABLE_OPTIONS,
)

files = Table(
    "files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("storage_key", String(32), nullable=False, unique=True),
    Column("original_name", String(255), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("format", String(16), nullable=False),
    Column("layout", String(16), nullable=False),
    Column("row_count", BigInteger, nullable=False),
    Column("columns", JSON, nullable=False),
    Column("roles", JSON, nullable=False),
    Column("warnings", JSON, nullable=False),
    Column("source", JSON, nullable=False),
    Column("preview", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("raw_expires_at", DateTime, nullable=False, index=True),
    Column("raw_deleted_at", DateTime, nullable=True),
    sqlite_autoincrement=True,
    **MYSQL_TABLE_OPTIONS,
)
