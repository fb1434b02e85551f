"""Jobs: analyses queued with `Prefer: respond-async`, run by a worker, reported, cancelled, and reconciled
with the queue and the heartbeats so that none stays queued or running after its worker is gone."""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import Engine

from models import analyses as analysis_dao
from models import jobs as job_dao
from models.database import describe_database, utc_now
from models.status import ENDED, Status
from services.analyses import AnalysisService, Cancelled
from services.errors import AppError, Conflict, JobNotFound, ServiceUnavailable
from services.runtime.heartbeat import Heartbeat
from services.runtime.queues import DEFAULT_QUEUE, RqQueue, ThreadQueue

logger = logging.getLogger(__name__)
QUEUE_DOWN = "the job queue is unavailable"


class JobService:
    """Queues analyses, runs them in workers, and keeps each job's status and its analysis' status together."""

    def __init__(self, engine: Engine, analyses: AnalysisService, heartbeat: Heartbeat,
                 redis_url: str | None = None, queue_name: str = DEFAULT_QUEUE) -> None:
        self.engine = engine
        self.analyses = analyses
        self.queue = RqQueue(redis_url, queue_name) if redis_url else ThreadQueue(self.run_job, heartbeat)

    def submit(self, owner_id: int, file_id: int, analysis_type: str, params: dict) -> dict:
        """Queue an analysis as a job; returns the job."""
        job_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            analysis_id = self.analyses.create(owner_id, file_id, analysis_type, params, Status.QUEUED, conn)
            job_dao.insert_job(conn, job_id, owner_id, analysis_id, utc_now())
        try:
            self.queue.enqueue(job_id, analysis_id)
        except Exception as exc:
            logger.exception("could not queue job %s", job_id)
            self.fail_jobs({job_id: QUEUE_DOWN})
            raise ServiceUnavailable(f"{QUEUE_DOWN}; try again, or run without Prefer: respond-async") from exc
        return self.job(owner_id, job_id)

    def run_job(self, job_id: str) -> None:
        """Worker entry: run the job's analysis unless it was cancelled. A job this database does not hold
        raises JobNotFound naming the database, so the queue fails it loudly instead of reporting success."""
        with self.engine.begin() as conn:
            job = job_dao.get_job_for_worker(conn, job_id)
            if job is None:
                database = describe_database(self.engine)
                raise JobNotFound(job_id, f"job {job_id} is not in the database {database}: it was deleted with "
                                          "its file, or this worker's DATABASE_URL is not the API's")
            if not job_dao.update_job(conn, job_id, utc_now(), only_from=(Status.QUEUED,), status=Status.RUNNING,
                                      stage="starting", progress=1):
                return  # cancelled while it waited
            analysis_dao.set_status(conn, job["analysis_id"], Status.RUNNING, only_from=(Status.QUEUED,))
        try:
            self.analyses.run(job["analysis_id"], job_id=job_id)
        except (Cancelled, AppError):
            pass  # recorded on the job and its analysis by the pipeline
        except Exception:  # noqa: BLE001 - recorded by the pipeline (or, with the database away, by the sweep)
            logger.exception("job %s failed", job_id)

    def job(self, owner_id: int, job_id: str) -> dict:
        """A job's state."""
        with self.engine.connect() as conn:
            job = job_dao.get_job(conn, job_id, owner_id)
        if job is None:
            raise JobNotFound(job_id)
        return describe_job(job)

    def cancel_job(self, owner_id: int, job_id: str) -> dict:
        """Cancel a queued job at once, or a running one at its next stage."""
        with self.engine.begin() as conn:
            job = job_dao.get_job(conn, job_id, owner_id)
            if job is None:
                raise JobNotFound(job_id)
            if job["status"] in ENDED:
                raise Conflict(f"job {job_id} is already {job['status']}")
            if job["status"] == Status.QUEUED:
                job_dao.update_job(conn, job_id, utc_now(), status=Status.CANCELLED, stage=Status.CANCELLED,
                                   cancel_requested=True)
                analysis_dao.set_status(conn, job["analysis_id"], Status.CANCELLED, utc_now(),
                                        error="cancelled by the user")
            else:
                job_dao.update_job(conn, job_id, utc_now(), cancel_requested=True)
        return self.job(owner_id, job_id)

    def fail_jobs(self, reasons: dict[str, str]) -> int:
        """Fail these jobs and their analyses, each with its reason (jobs already ended stay as they are)."""
        now, failed = utc_now(), 0
        with self.engine.begin() as conn:
            for job_id, reason in reasons.items():
                job = job_dao.get_job_for_worker(conn, job_id)
                if job is not None and job_dao.fail_job(conn, job_id, now, reason):
                    analysis_dao.set_status(conn, job["analysis_id"], Status.FAILED, now, error=reason)
                    failed += 1
        return failed

    def fail_stopped(self, stale_after: timedelta) -> int:
        """The sweep: fail jobs the queue failed (with its reason), keep those still waiting in it alive, then
        fail every queued or running job and analysis whose heartbeat is older than `stale_after`."""
        with self.engine.connect() as conn:
            unfinished = job_dao.unfinished_jobs(conn)
        waiting, ended = self.queue.reconcile([job["id"] for job in unfinished]) if unfinished else ([], {})
        failed = self.fail_jobs(ended)
        now = utc_now()
        with self.engine.begin() as conn:
            if waiting:
                analysis_ids = [job["analysis_id"] for job in unfinished if job["id"] in set(waiting)]
                job_dao.touch(conn, waiting, now)
                analysis_dao.touch(conn, analysis_ids, now)
            stale = job_dao.stale_jobs(conn, now - stale_after)
            for job in stale:
                job_dao.fail_job(conn, job["id"], now)
            failed += len(stale) + analysis_dao.fail_stale(conn, now - stale_after, now)
        if failed:
            logger.warning("failed %s job(s)/analysis(es) whose worker stopped", failed)
        return failed


def describe_job(row: dict) -> dict:
    """A job as the API shows it."""
    return {"job_id": row["id"], "status": row["status"], "progress": row["progress"], "stage": row["stage"],
            "analysis_id": row["analysis_id"], "error": row["error"], "cancel_requested": row["cancel_requested"],
            "created_at": row["created_at"], "updated_at": row["updated_at"]}
