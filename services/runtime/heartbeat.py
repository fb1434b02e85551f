"""A per-process heartbeat: analyses and jobs this process holds (running, or waiting in its pool) are touched
every few seconds, so the housekeeping sweep can tell a live run from one whose process died."""
from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from models import analyses as analysis_dao
from models import jobs as job_dao
from models.database import utc_now

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5.0


class Heartbeat:
    """Holds analysis and job ids; a daemon thread (started on first use in each process) touches their rows."""

    def __init__(self, engine: Engine, interval_seconds: float = HEARTBEAT_SECONDS) -> None:
        self.engine = engine
        self.interval_seconds = interval_seconds
        self._analyses: Counter[int] = Counter()
        self._jobs: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._thread_pid: int | None = None

    def hold(self, analysis_id: int, job_id: str | None = None) -> None:
        """Keep beating for this analysis (and job) until `release`."""
        with self._lock:
            if self._thread_pid != os.getpid():  # first use, or a forked RQ work-horse: no thread here yet
                self._analyses.clear()
                self._jobs.clear()
                threading.Thread(target=self._beat_forever, name="heartbeat", daemon=True).start()
                self._thread_pid = os.getpid()
            self._analyses[analysis_id] += 1
            if job_id:
                self._jobs[job_id] += 1

    def release(self, analysis_id: int, job_id: str | None = None) -> None:
        """Stop beating for this analysis (and job)."""
        with self._lock:
            self._analyses[analysis_id] -= 1
            if job_id:
                self._jobs[job_id] -= 1
            self._analyses, self._jobs = +self._analyses, +self._jobs  # drop ids no longer held

    @contextmanager
    def holding(self, analysis_id: int, job_id: str | None = None) -> Iterator[None]:
        """Beat for this analysis (and job) while the block runs."""
        self.hold(analysis_id, job_id)
        try:
            yield
        finally:
            self.release(analysis_id, job_id)

    def beat(self) -> None:
        """Touch every held row now."""
        with self._lock:
            analysis_ids, job_ids = list(self._analyses), list(self._jobs)
        if not analysis_ids:
            return
        now = utc_now()
        with self.engine.begin() as conn:
            analysis_dao.touch(conn, analysis_ids, now)
            if job_ids:
                job_dao.touch(conn, job_ids, now)

    def _beat_forever(self) -> None:
        stopped = threading.Event()
        while not stopped.wait(self.interval_seconds):
            try:
                self.beat()
            except SQLAlchemyError as exc:  # the database is away: the runs will find out and fail themselves
                logger.warning("heartbeat could not reach the database: %s", type(exc).__name__)
