"""Where queued analyses run: an RQ queue on Redis when REDIS_URL is set, else a small in-process thread pool."""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

logger = logging.getLogger(__name__)
QUEUE_NAME = "analyses"
JOB_TIMEOUT_SECONDS = 1800


class ThreadQueue:
    """Runs jobs in this process (development, tests, single-server setups); jobs die with the process."""

    def __init__(self, run_job: Callable[[str], None], workers: int = 2) -> None:
        self.run_job = run_job
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="analysis-job")

    def enqueue(self, job_id: str) -> None:
        """Start the job on a pool thread."""
        self.pool.submit(self.run_job, job_id)


class RqQueue:
    """Hands jobs to `rq worker analyses` processes; each runs app.run_analysis_job(job_id)."""

    def __init__(self, redis_url: str) -> None:
        from redis import Redis
        from rq import Queue

        self.queue = Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))

    def enqueue(self, job_id: str) -> None:
        """Queue the job under its own id, so RQ and the jobs table agree."""
        self.queue.enqueue("app.run_analysis_job", job_id, job_id=job_id, job_timeout=JOB_TIMEOUT_SECONDS)
