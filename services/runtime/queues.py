"""Where queued analyses run: an RQ queue on Redis when REDIS_URL is set, else a small in-process thread pool."""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from services.runtime.heartbeat import Heartbeat

logger = logging.getLogger(__name__)
DEFAULT_QUEUE = "analyses"
JOB_TIMEOUT_SECONDS = 1800
WORKER_ENTRY = "services.runtime.worker.run_analysis_job"
# RQ states in which a job will still run, and those in which it never will.
RQ_WAITING = {"queued", "deferred", "scheduled"}
RQ_ENDED = {"failed", "stopped", "canceled"}


class ThreadQueue:
    """Runs jobs in this process (development, tests, single-server setups); its heartbeat keeps waiting jobs
    alive, so the jobs of a process that died are failed by the sweep like any other."""

    def __init__(self, run_job: Callable[[str], None], heartbeat: Heartbeat, workers: int = 2) -> None:
        self.run_job = run_job
        self.heartbeat = heartbeat
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="analysis-job")

    def enqueue(self, job_id: str, analysis_id: int) -> None:
        """Start the job on a pool thread."""
        self.heartbeat.hold(analysis_id, job_id)
        self.pool.submit(self._run, job_id, analysis_id)

    def _run(self, job_id: str, analysis_id: int) -> None:
        try:
            self.run_job(job_id)
        finally:
            self.heartbeat.release(analysis_id, job_id)

    def reconcile(self, job_ids: list[str]) -> tuple[list[str], dict[str, str]]:
        """Nothing to ask: this pool's jobs beat on their own."""
        return [], {}


class RqQueue:
    """Hands jobs to `make worker` processes (services/runtime/worker.py)."""

    def __init__(self, redis_url: str, queue_name: str = DEFAULT_QUEUE) -> None:
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        self.queue = Queue(queue_name, connection=self.connection)

    def enqueue(self, job_id: str, analysis_id: int) -> None:
        """Queue the job under its own id, so RQ and the jobs table agree."""
        self.queue.enqueue(WORKER_ENTRY, job_id, job_id=job_id, job_timeout=JOB_TIMEOUT_SECONDS,
                           description=f"analysis {analysis_id}")

    def reconcile(self, job_ids: list[str]) -> tuple[list[str], dict[str, str]]:
        """Ask RQ about our unfinished jobs: those still waiting in Redis (their heartbeat is refreshed), and
        those RQ failed, with its reason (a dead work-horse, a worker on another database...)."""
        from redis import RedisError
        from rq.job import Job

        try:
            jobs = Job.fetch_many(job_ids, connection=self.connection)
        except RedisError as exc:  # the heartbeat rule still fails stopped runs; RQ's reasons wait for Redis
            logger.warning("could not ask RQ about %s job(s): %s", len(job_ids), exc)
            return [], {}
        waiting, ended = [], {}
        for job_id, job in zip(job_ids, jobs, strict=True):
            if job is None:
                continue  # expired or never queued: the heartbeat decides
            status = str(job.get_status(refresh=False).value)
            if status in RQ_WAITING:
                waiting.append(job_id)
            elif status in RQ_ENDED:
                ended[job_id] = _failure_reason(job, status)
        return waiting, ended


def _failure_reason(job, status: str) -> str:
    result = job.latest_result()
    lines = (result.exc_string or "").strip().splitlines() if result else []
    return f"the queue {status} the job: {lines[-1] if lines else 'no reason given'}"
