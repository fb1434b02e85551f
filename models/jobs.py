"""JobDAO: asynchronous analysis runs, scoped to their owner. Never commits."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from models.analyses import WORKER_STOPPED
from models.status import UNFINISHED, Status
from models.tables import jobs


def insert_job(conn: Connection, job_id: str, owner_id: int, analysis_id: int, now: datetime) -> None:
    """A queued job for one analysis."""
    conn.execute(insert(jobs).values(id=job_id, owner_id=owner_id, analysis_id=analysis_id, status=Status.QUEUED,
                                     progress=0, stage=Status.QUEUED, cancel_requested=False, created_at=now,
                                     updated_at=now, heartbeat_at=now))


def get_job(conn: Connection, job_id: str, owner_id: int) -> dict | None:
    """The owner's job, or None."""
    row = conn.execute(select(jobs).where(jobs.c.id == job_id, jobs.c.owner_id == owner_id)).first()
    return dict(row._mapping) if row else None


def get_job_for_worker(conn: Connection, job_id: str) -> dict | None:
    """A job by id alone, for the worker that runs it."""
    row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    return dict(row._mapping) if row else None


def update_job(conn: Connection, job_id: str, now: datetime, only_from: tuple[str, ...] = UNFINISHED,
               **values) -> bool:
    """Set status, progress, stage, error or cancel_requested of a job still in one of `only_from`
    (a finished, failed or cancelled job stays so); False if there was none."""
    query = update(jobs).where(jobs.c.id == job_id, jobs.c.status.in_(only_from))
    return conn.execute(query.values(updated_at=now, heartbeat_at=now, **values)).rowcount > 0


def touch(conn: Connection, job_ids: list[str], now: datetime) -> None:
    """Heartbeat of jobs a live process holds."""
    conn.execute(update(jobs).where(jobs.c.id.in_(job_ids), jobs.c.status.in_(UNFINISHED)).values(heartbeat_at=now))


def unfinished_jobs(conn: Connection) -> list[dict]:
    """Every queued or running job (id, analysis id, status), for reconciling with the queue."""
    rows = conn.execute(select(jobs.c.id, jobs.c.analysis_id, jobs.c.status).where(jobs.c.status.in_(UNFINISHED)))
    return [dict(row._mapping) for row in rows]


def count_jobs(conn: Connection) -> dict:
    """Jobs per status (admin stats)."""
    rows = conn.execute(select(jobs.c.status, func.count().label("n")).group_by(jobs.c.status))
    return {row.status: row.n for row in rows}


def stale_jobs(conn: Connection, beat_before: datetime) -> list[dict]:
    """Queued or running jobs whose heartbeat stopped before `beat_before` (their worker died)."""
    query = select(jobs.c.id, jobs.c.analysis_id).where(
        jobs.c.status.in_(UNFINISHED), (jobs.c.heartbeat_at < beat_before) | jobs.c.heartbeat_at.is_(None))
    return [dict(row._mapping) for row in conn.execute(query)]


def fail_job(conn: Connection, job_id: str, now: datetime, error: str = WORKER_STOPPED) -> bool:
    """Fail a queued or running job with a reason."""
    return update_job(conn, job_id, now, status=Status.FAILED, stage=Status.FAILED, error=error[:5000])
