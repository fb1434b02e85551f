"""AnalysisDAO: analysis records, scoped to their owner. Never commits."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from models.pagination import Page, paginate
from models.status import UNFINISHED, Status
from models.tables import MAX_ID, analyses

WORKER_STOPPED = "the worker stopped before finishing (it was killed, or lost its database)"
ANALYSIS_SORT_COLUMNS = {"id": analyses.c.id, "created_at": analyses.c.created_at, "type": analyses.c.type,
                         "status": analyses.c.status}


def insert_analysis(conn: Connection, owner_id: int, file_id: int, analysis_type: str, params: dict,
                    status: str, now: datetime) -> int:
    """A new analysis record; returns its id."""
    result = conn.execute(insert(analyses).values(owner_id=owner_id, file_id=file_id, type=analysis_type,
                                                  params=params, status=status, created_at=now,
                                                  heartbeat_at=now))
    return int(result.inserted_primary_key[0])


def get_analysis(conn: Connection, analysis_id: int, owner_id: int) -> dict | None:
    """The owner's analysis, or None (also for someone else's)."""
    if not 0 < analysis_id <= MAX_ID:
        return None
    row = conn.execute(select(analyses).where(analyses.c.id == analysis_id, analyses.c.owner_id == owner_id)).first()
    return dict(row._mapping) if row else None


def get_analysis_unscoped(conn: Connection, analysis_id: int) -> dict | None:
    """An analysis by id alone, for the pipeline: it only runs ids created for their owner a moment before."""
    row = conn.execute(select(analyses).where(analyses.c.id == analysis_id)).first()
    return dict(row._mapping) if row else None


def latest_analysis(conn: Connection, owner_id: int, file_id: int, analysis_type: str) -> dict | None:
    """The owner's newest finished analysis of this type on this file."""
    query = (select(analyses)
             .where(analyses.c.owner_id == owner_id, analyses.c.file_id == file_id,
                    analyses.c.type == analysis_type, analyses.c.status == Status.FINISHED)
             .order_by(analyses.c.id.desc()).limit(1))
    row = conn.execute(query).first()
    return dict(row._mapping) if row else None


def list_analyses(conn: Connection, owner_id: int, page: Page, file_id: int | None = None,
                  analysis_type: str | None = None) -> tuple[int, list[dict]]:
    """One page of the owner's analyses, optionally of one file and/or type (summaries left out)."""
    query = select(*[c for c in analyses.c if c.name != "summary"]).where(analyses.c.owner_id == owner_id)
    if file_id is not None:
        query = query.where(analyses.c.file_id == file_id)
    if analysis_type is not None:
        query = query.where(analyses.c.type == analysis_type)
    return paginate(conn, query, page, ANALYSIS_SORT_COLUMNS, analyses.c.id)


def set_status(conn: Connection, analysis_id: int, status: str, now: datetime | None = None,
               summary: dict | None = None, error: str | None = None, only_from: tuple[str, ...] = UNFINISHED) -> bool:
    """Record a state change (and, when finishing, the summary or the error) of an analysis still in one of
    `only_from`; False if it is gone or already elsewhere (a sweep failed it, the user cancelled it)."""
    values: dict = {"status": status}
    if summary is not None:
        values["summary"] = summary
    if error is not None:
        values["error"] = error[:5000]
    if now is not None:
        values["finished_at"] = now
    query = update(analyses).where(analyses.c.id == analysis_id, analyses.c.status.in_(only_from))
    return conn.execute(query.values(**values)).rowcount > 0


def delete_analysis(conn: Connection, analysis_id: int, owner_id: int) -> bool:
    """Delete the owner's analysis and (by cascade) its result rows."""
    query = delete(analyses).where(analyses.c.id == analysis_id, analyses.c.owner_id == owner_id)
    return conn.execute(query).rowcount > 0


def count_analyses(conn: Connection, owner_id: int | None = None, file_id: int | None = None) -> int:
    """How many analyses the owner has (on one file if given); everyone's with owner_id None (admin stats)."""
    query = select(func.count()).select_from(analyses)
    if owner_id is not None:
        query = query.where(analyses.c.owner_id == owner_id)
    if file_id is not None:
        query = query.where(analyses.c.file_id == file_id)
    return conn.execute(query).scalar_one()


def touch(conn: Connection, analysis_ids: list[int], now: datetime) -> None:
    """Heartbeat of analyses a live process holds (by id alone: the runner and queue created them)."""
    conn.execute(update(analyses).where(analyses.c.id.in_(analysis_ids), analyses.c.status.in_(UNFINISHED))
                 .values(heartbeat_at=now))


def fail_stale(conn: Connection, beat_before: datetime, now: datetime) -> int:
    """Fail queued or running analyses whose heartbeat stopped before `beat_before`; returns how many."""
    query = (update(analyses)
             .where(analyses.c.status.in_(UNFINISHED),
                    (analyses.c.heartbeat_at < beat_before) | analyses.c.heartbeat_at.is_(None))
             .values(status=Status.FAILED, finished_at=now, error=WORKER_STOPPED))
    return conn.execute(query).rowcount
