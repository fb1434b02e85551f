"""JobDAO: asynchronous analysis runs, scoped to their owner. Never commits."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from models.tables import jobs


def insert_job(conn: Connection, job_id: str, owner_id: int, analysis_id: int, now: datetime) -> None:
    """A queued job for one analysis."""
    conn.execute(insert(jobs).values(id=job_id, owner_id=owner_id, analysis_id=analysis_id, status="queued",
                                     progress=0, stage="queued", cancel_requested=False, created_at=now,
                                     updated_at=now))


def get_job(conn: Connection, job_id: str, owner_id: int) -> dict | None:
    """The owner's job, or None."""
    row = conn.execute(select(jobs).where(jobs.c.id == job_id, jobs.c.owner_id == owner_id)).first()
    return dict(row._mapping) if row else None


def get_job_for_worker(conn: Connection, job_id: str) -> dict | None:
    """A job by id alone, for the worker that runs it."""
    row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    return dict(row._mapping) if row else None


def update_job(conn: Connection, job_id: str, now: datetime, **values) -> None:
    """Set status, progress, stage, error or cancel_requested."""
    conn.execute(update(jobs).where(jobs.c.id == job_id).values(updated_at=now, **values))


def count_jobs(conn: Connection) -> dict:
    """Jobs per status (admin stats)."""
    rows = conn.execute(select(jobs.c.status, func.count().label("n")).group_by(jobs.c.status))
    return {row.status: row.n for row in rows}


def fail_stale(conn: Connection, started_before: datetime, now: datetime) -> int:
    """Mark queued or running jobs older than `started_before` failed; returns how many."""
    query = (update(jobs).where(jobs.c.status.in_(("queued", "running")), jobs.c.created_at < started_before)
             .values(status="failed", stage="failed", updated_at=now,
                     error="abandoned: its worker stopped before finishing"))
    return conn.execute(query).rowcount
