"""The states an analysis and its job go through, as stored in their `status` column."""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """queued (waiting for a worker) -> running -> finished, failed or cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


UNFINISHED = (Status.QUEUED, Status.RUNNING)
ENDED = (Status.FINISHED, Status.FAILED, Status.CANCELLED)
