"""Heartbeats on analyses and jobs: the housekeeping sweep fails queued or running ones whose worker stopped.
Also an (analysis_id) index on rfm_rows, so results pages come in id order without sorting the analysis.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
TABLES = ("analyses", "jobs")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("heartbeat_at", sa.DateTime, nullable=True))
            batch.create_index(f"ix_{table}_status_heartbeat", ["status", "heartbeat_at"])
        # rows running before this revision count as just seen, so the new sweep gives them a minute
        rows = sa.table(table, sa.column("status"), sa.column("heartbeat_at"))
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        op.execute(rows.update().where(rows.c.status.in_(("queued", "running"))).values(heartbeat_at=now))


    op.create_index("ix_rfm_rows_analysis_id", "rfm_rows", ["analysis_id"])


def downgrade() -> None:
    op.drop_index("ix_rfm_rows_analysis_id", "rfm_rows")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_status_heartbeat")
            batch.drop_column("heartbeat_at")
