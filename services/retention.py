"""Retention of raw uploads: a daemon thread that deletes originals past RAW_RETENTION_MINUTES."""
from __future__ import annotations

import logging
import threading

from services.files import FileService

logger = logging.getLogger(__name__)


class RetentionThread(threading.Thread):
    """Runs FileService.purge_expired_originals every `interval_seconds` until the process ends.

    Each gunicorn worker runs one; purging is idempotent, so several at once are harmless.
    """

    def __init__(self, files: FileService, interval_seconds: float) -> None:
        super().__init__(name="upload-retention", daemon=True)
        self.files = files
        self.interval_seconds = interval_seconds
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval_seconds):
            try:
                self.files.purge_expired_originals()
            except Exception:  # noqa: BLE001 - a failed sweep must not end the thread; the next one retries
                logger.exception("retention sweep failed")
