"""Run one write transaction, again a bounded number of times if the database rolled it back for a deadlock."""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from models.database import is_retryable

logger = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 4
BASE_DELAY_SECONDS = 0.05


def in_transaction(engine: Engine, work: Callable[[Connection], T], attempts: int = ATTEMPTS) -> T:
    """work(conn) inside one transaction; a deadlock or lock-wait timeout reruns it after a jittered backoff
    (the server already rolled everything back, so a rerun cannot double-write)."""
    for attempt in range(1, attempts):
        try:
            with engine.begin() as conn:
                return work(conn)
        except SQLAlchemyError as exc:
            if not is_retryable(exc):
                raise
            delay = random.uniform(0, BASE_DELAY_SECONDS * 2**attempt)  # full jitter: colliding writers spread out
            logger.warning("transaction rolled back (%s), attempt %s of %s; retrying in %.2f s",
                           exc.orig.args[0], attempt, attempts, delay)
            time.sleep(delay)
    with engine.begin() as conn:
        return work(conn)
