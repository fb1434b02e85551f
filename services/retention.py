"""Housekeeping in the background: raw uploads past their retention time, analyses whose worker died."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class HousekeepingThread(threading.Thread):
    """Runs each sweep every `interval_seconds` until the process ends.

    Each gunicorn worker runs one; every sweep is idempotent, so several at once are harmless.
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
