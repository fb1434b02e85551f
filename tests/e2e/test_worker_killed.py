"""An RQ work-horse SIGKILLed mid-job (`make worker` process, private redis-server): the job and its analysis
are failed with the reason at once, and the same worker runs the next job."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from app import create_app
from config import load_config
from migrate import upgrade
from tests.e2e.conftest import ROOT, app_environment, sales_csv, signed_in, wait_until


def work_horses(pid: int) -> list[int]:
    """Children forked from the worker itself (the parser's forkserver is a child too, with its own command)."""
    path, own = Path(f"/proc/{pid}/task/{pid}/children"), Path(f"/proc/{pid}/cmdline").read_bytes()
    children = [int(child) for child in path.read_text().split()] if path.exists() else []
    return [child for child in children if Path(f"/proc/{child}/cmdline").read_bytes() == own]


def test_work_horse_killed_mid_job(tmp_path, redis_url, monkeypatch):
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(database_url)
    environment = app_environment(tmp_path, database_url, REDIS_URL=redis_url, RQ_QUEUE=f"e2e-{uuid.uuid4().hex}",
                                  APP_ENV="testing")
    for name in ("DATABASE_URL", "UPLOAD_DIR", "REDIS_URL", "RQ_QUEUE", "RATELIMIT_ENABLED", "MAX_UPLOAD_MB",
                 "SECRET_KEY"):
        monkeypatch.setenv(name, environment[name])
    api = create_app(load_config("testing"))
    client = api.test_client()
    headers = signed_in(client)
    with sales_csv(tmp_path / "many.csv", 120_000).open("rb") as handle:
        file_id = client.post("/api/upload", headers=headers, data={"file": (handle, "many.csv")},
                              content_type="multipart/form-data").json["file_id"]
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "services.runtime.worker"], cwd=ROOT, env=environment,
                              stdout=log, stderr=log)
    try:
        def submit(kind: str, params: dict) -> dict:
            return client.post("/api/process", headers={**headers, "Prefer": "respond-async"},
                               json={"file_id": file_id, "type": kind, "params": params}).json

        def job(job_id: str) -> dict:
            return client.get(f"/api/jobs/{job_id}", headers=headers).json

        doomed = submit("rfm", {"n_clusters": 4})
        wait_until(lambda: job(doomed["job_id"])["stage"] in ("cleaning", "analysing"), 120, "the job to run")
        horses = wait_until(lambda: work_horses(worker.pid), 10, "the work-horse")
        os.kill(horses[0], signal.SIGKILL)
        failed = wait_until(lambda: (state := job(doomed["job_id"]))["status"] == "failed" and state, 60,
                            "the killed job to be failed")
        assert "worker stopped" in failed["error"] and "died" in failed["error"]
        analysis = client.get(f"/api/analyses/{doomed['analysis_id']}", headers=headers).json
        assert analysis["status"] == "failed"
        assert worker.poll() is None  # the worker itself lives on
        survivor = submit("statistical", {})
        done = wait_until(lambda: (state := job(survivor["job_id"]))["status"] in ("finished", "failed") and state,
                          120, "the next job")
        assert done["status"] == "finished", done
    finally:
        worker.terminate()
        worker.wait(30)
        log.close()
        api.extensions["db_engine"].dispose()
