"""Every table of the schema, in SQLAlchemy Core. The migrations in migrations/versions create exactly these."""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
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


def exact_text() -> Text:
    """A TEXT compared byte for byte on every backend (LIKE folds case and accents under MySQL's default)."""
    return Text().with_variant(mysql.TEXT(collation="utf8mb4_bin"), "mysql", "mariadb")


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

analyses = Table(
    "analyses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("file_id", Integer, ForeignKey("files.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("type", String(16), nullable=False),
    Column("params", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("summary", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    # touched every few seconds while queued or running; a stale one means its worker died (see the sweep)
    Column("heartbeat_at", DateTime, nullable=True),
    Index("ix_analyses_status_heartbeat", "status", "heartbeat_at"),
    sqlite_autoincrement=True,
    **MYSQL_TABLE_OPTIONS,
)

rfm_rows = Table(
    "rfm_rows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("analysis_id", Integer, ForeignKey("analyses.id", ondelete="CASCADE"), nullable=False),
    Column("customer_id", String(255), nullable=False),
    Column("recency", Integer, nullable=False),
    Column("frequency", Integer, nullable=False),
    Column("monetary", Numeric(20, 2, asdecimal=False), nullable=False),
    Column("r_score", SmallInteger, nullable=False),
    Column("f_score", SmallInteger, nullable=False),
    Column("m_score", SmallInteger, nullable=False),
    Column("rfm_score", String(3), nullable=False),
    Column("segment", exact_string(32), nullable=False),
    Column("cluster", SmallInteger, nullable=False),
    Index("ix_rfm_rows_analysis_segment", "analysis_id", "segment"),
    Index("ix_rfm_rows_analysis_cluster", "analysis_id", "cluster"),
    # rows of one analysis in id order without a sort (both backends end every index with the primary key),
    # so paging through results reads 50 index entries instead of sorting the whole analysis
    Index("ix_rfm_rows_analysis_id", "analysis_id"),
    **MYSQL_TABLE_OPTIONS,
)

basket_rules = Table(
    "basket_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("analysis_id", Integer, ForeignKey("analyses.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("antecedents", JSON, nullable=False),
    Column("consequents", JSON, nullable=False),
    # every item of the rule between unit separators, so ?item= filters with one LIKE on both backends
    Column("items_key", exact_text(), nullable=False),
    Column("count", Integer, nullable=False),
    Column("support", Double, nullable=False),
    Column("confidence", Double, nullable=False),
    Column("lift", Double, nullable=False),
    Column("leverage", Double, nullable=False),
    Column("conviction", Double, nullable=True),
    **MYSQL_TABLE_OPTIONS,
)

frequent_itemsets = Table(
    "frequent_itemsets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("analysis_id", Integer, ForeignKey("analyses.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("items", JSON, nullable=False),
    Column("items_key", exact_text(), nullable=False),
    Column("size", SmallInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("support", Double, nullable=False),
    **MYSQL_TABLE_OPTIONS,
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("analysis_id", Integer, ForeignKey("analyses.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("progress", SmallInteger, nullable=False),
    Column("stage", String(64), nullable=False),
    Column("error", Text, nullable=True),
    Column("cancel_requested", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("heartbeat_at", DateTime, nullable=True),
    Index("ix_jobs_status_heartbeat", "status", "heartbeat_at"),
    **MYSQL_TABLE_OPTIONS,
)
