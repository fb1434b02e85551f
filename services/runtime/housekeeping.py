"""Housekeeping in the background: raw uploads past retention, staging folders of dead uploads, stopped runs."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import partial

logger = logging.getLogger(__name__)


def housekeeping_sweeps(services, settings: Mapping) -> list[Callable[[], int]]:
    """The sweeps, each returning how much it did: raw uploads, dead uploads' staging folders, runs whose
    worker stopped (their heartbeat is older than HEARTBEAT_STALE_SECONDS, or the queue failed them)."""
    stale_after = timedelta(seconds=settings["HEARTBEAT_STALE_SECONDS"])
    return [services.files.purge_expired_originals, services.files.sweep_staging,
            partial(services.jobs.fail_stopped, stale_after)]


class HousekeepingThread(threading.Thread):
    """Runs each sweep every `interval_seconds` until the process ends.

    Each gunicorn worker and each RQ worker runs one; every sweep is idempotent, so several at once are harmless.
    """

    def __init__(self, sweeps: list[Callable[[], int]], interval_seconds: float) -> None:
        super().__init__(name="housekeeping", daemon=True)
        self.sweeps = sweeps
        self.interval_seconds = interval_seconds
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval_seconds):
            for sweep in self.sweeps:
                try:
                    sweep()
                except Exception:  # noqa: BLE001 - a failed sweep must not end the thread; the next one retries
                    logger.exception("housekeeping sweep %s failed", getattr(sweep, "__name__", sweep))
