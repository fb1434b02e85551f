"""The RQ worker (`make worker`): builds the app once, then forks a work-horse per job that inherits it ready.

`rq worker` would import the job's module in every work-horse and so build the app per job (seconds each);
here the parent process pays for the imports and the app once, and each fork starts warm.
"""
from __future__ import annotations

import logging
import os

from flask import Flask

logger = logging.getLogger(__name__)
_app: Flask | None = None
_app_pid: int | None = None


def build_worker_app() -> Flask:
    """The app with this deployment's settings (the same environment and .env as `make run`)."""
    global _app, _app_pid
    from app import create_app

    _app, _app_pid = create_app(), os.getpid()
    return _app


def run_analysis_job(job_id: str) -> None:
    """RQ job function: run one queued analysis in the app built before the fork."""
    app = _app or build_worker_app()
    if _app_pid != os.getpid():
        # a forked work-horse must not share the parent's pooled database sockets
        app.extensions["db_engine"].dispose(close=False)
    app.extensions["services"].jobs.run_job(job_id)


def record_killed_horse(job, retpid: int, ret_val: int, _rusage) -> None:
    """RQ calls this in the parent when a work-horse dies mid-job (killed, out of memory): fail the job now."""
    reason = f"the worker stopped: its work-horse died (wait status {ret_val})"
    logger.error("work-horse %s died running job %s", retpid, job.id)
    _app.extensions["services"].jobs.fail_jobs({job.id: reason})


def main() -> None:
    """Build the app, then serve the configured queue until stopped."""
    from redis import Redis
    from rq import Queue, Worker

    app = build_worker_app()
    if not app.config["REDIS_URL"]:
        raise SystemExit("REDIS_URL is not set: without Redis, analyses run inside the API process")
    connection = Redis.from_url(app.config["REDIS_URL"])
    queue = Queue(app.config["RQ_QUEUE"], connection=connection)
    logger.info("worker on queue %r, database %s", queue.name, app.extensions["db_engine"].url.render_as_string())
    Worker([queue], connection=connection, work_horse_killed_handler=record_killed_horse).work()


if __name__ == "__main__":
    # `python -m` runs this file as __main__; RQ's work-horses import services.runtime.worker, whose _app
    # must be the one built here, so run main() from that module
    from services.runtime import worker

    worker.main()
