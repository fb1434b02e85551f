"""Analyses and their results: rfm rows, basket rules, frequent itemsets; jobs for asynchronous runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

from models.tables import MYSQL_TABLE_OPTIONS, exact_string, exact_text

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _analysis_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["analysis_id"], ["analyses.id"], name=f"fk_{table}_analysis_id",
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "analyses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner_id", sa.Integer, nullable=False),
        sa.Column("file_id", sa.Integer, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_analyses"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name="fk_analyses_owner_id", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["file_id"], ["files.id"], name="fk_analyses_file_id", ondelete="CASCADE"),
        sqlite_autoincrement=True,
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_analyses_owner_id", "analyses", ["owner_id"])
    op.create_index("ix_analyses_file_id", "analyses", ["file_id"])
    op.create_table(
        "rfm_rows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("analysis_id", sa.Integer, nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("recency", sa.Integer, nullable=False),
        sa.Column("frequency", sa.Integer, nullable=False),
        sa.Column("monetary", sa.Numeric(20, 2, asdecimal=False), nullable=False),
        sa.Column("r_score", sa.SmallInteger, nullable=False),
        sa.Column("f_score", sa.SmallInteger, nullable=False),
        sa.Column("m_score", sa.SmallInteger, nullable=False),
        sa.Column("rfm_score", sa.String(3), nullable=False),
        sa.Column("segment", exact_string(32), nullable=False),
        sa.Column("cluster", sa.SmallInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rfm_rows"),
        _analysis_fk("rfm_rows"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_rfm_rows_analysis_segment", "rfm_rows", ["analysis_id", "segment"])
    op.create_index("ix_rfm_rows_analysis_cluster", "rfm_rows", ["analysis_id", "cluster"])
    op.create_table(
        "basket_rules",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("analysis_id", sa.Integer, nullable=False),
        sa.Column("antecedents", sa.JSON, nullable=False),
        sa.Column("consequents", sa.JSON, nullable=False),
        sa.Column("items_key", exact_text(), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("support", sa.Double, nullable=False),
        sa.Column("confidence", sa.Double, nullable=False),
        sa.Column("lift", sa.Double, nullable=False),
        sa.Column("leverage", sa.Double, nullable=False),
        sa.Column("conviction", sa.Double, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_basket_rules"),
        _analysis_fk("basket_rules"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_basket_rules_analysis_id", "basket_rules", ["analysis_id"])
    op.create_table(
        "frequent_itemsets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("analysis_id", sa.Integer, nullable=False),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("items_key", exact_text(), nullable=False),
        sa.Column("size", sa.SmallInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("support", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_frequent_itemsets"),
        _analysis_fk("frequent_itemsets"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_frequent_itemsets_analysis_id", "frequent_itemsets", ["analysis_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.Integer, nullable=False),
        sa.Column("analysis_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.SmallInteger, nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name="fk_jobs_owner_id", ondelete="CASCADE"),
        _analysis_fk("jobs"),
        **MYSQL_TABLE_OPTIONS,
    )
    op.create_index("ix_jobs_owner_id", "jobs", ["owner_id"])
    op.create_index("ix_jobs_analysis_id", "jobs", ["analysis_id"])


def downgrade() -> None:
    for table in ("jobs", "frequent_itemsets", "basket_rules", "rfm_rows", "analyses"):
        op.drop_table(table)
