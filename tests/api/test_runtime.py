"""Concurrency and faults: deadlock-free concurrent writes, heartbeats and the sweep, consistent job and analysis
statuses, a worker on the wrong database, a lost database as a 503, dead uploads' staging folders."""
from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from app import create_app
from config import load_config
from models.tables import analyses, jobs, rfm_rows
from services.runtime.retry import in_transaction
from services.tokens import issue_token
from tests.api.test_analyses_api import process
from tests.api.test_openapi import operations
from tests.conftest import SALES, TEST_REDIS_URL, assert_problem, upload

LONG_AGO = datetime(2000, 1, 1)
STALE = timedelta(seconds=60)


@pytest.fixture
def alice(auth):
    return auth.register("alice")


def lost_connection(*_args, **_kwargs):
    """What pymysql raises when the server dies under a query, as SQLAlchemy wraps it."""
    import pymysql

    raise OperationalError("INSERT ...", {}, pymysql.err.OperationalError(2013, "Lost connection to server"))


def rows_of(app, table, *columns):
    with app.extensions["db_engine"].connect() as conn:
        return [tuple(row) for row in conn.execute(select(*[table.c[name] for name in columns]))]


def sales_for(customers: int, seed: int) -> str:
    """A small sales file with `customers` customers, different per seed."""
    lines = [SALES.splitlines()[0]]
    for number in range(customers * 3):
        customer = f"c{seed}-{number % customers}"
        lines.append(f"{number},A{number % 7},Cup,{1 + number % 5},2011-0{1 + number % 9}-1{number % 10} 10:00,"
                     f"{1 + number % 13}.50,{customer},UK")
    return "\n".join(lines) + "\n"


def test_sixteen_concurrent_analyses_all_succeed(app, client, alice):
    """On MariaDB the old write (a DELETE before the INSERTs) deadlocked 2-4 of 8 concurrent runs."""
    files = [upload(client, alice, sales_for(60, n))["file_id"] for n in range(16)]
    statuses, start = [], threading.Barrier(16)

    def run(file_id):
        own_client = app.test_client()
        start.wait()
        statuses.append(process(own_client, alice, file_id, "rfm", n_clusters=3).status_code)

    threads = [threading.Thread(target=run, args=(file_id,)) for file_id in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 16
    assert len(rows_of(app, rfm_rows, "id")) == 16 * 60


def test_a_deadlock_is_retried_and_other_errors_are_not(app):
    import pymysql

    engine, calls = app.extensions["db_engine"], []

    def deadlocks_once(conn):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("INSERT", {}, pymysql.err.OperationalError(1213, "Deadlock found"))
        return "written"

    assert in_transaction(engine, deadlocks_once) == "written" and len(calls) == 2
    calls.clear()
    with pytest.raises(OperationalError):
        in_transaction(engine, lambda conn: calls.append(1) or lost_connection())
    assert len(calls) == 1


def test_every_endpoint_is_a_503_with_retry_after_when_the_database_is_gone(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "mysql+pymysql://root@127.0.0.1:1/none")
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("REDIS_URL", "")
    app = create_app(load_config("testing"))
    client = app.test_client()
    token, _claims = issue_token(1, 0, app.config["SECRET_KEY"], 5)  # well signed: checking it needs the database
    database_free = {"/", "/health", "/api/services-status"}  # they report the database as down, with a 200
    checked = 0
    for path, method, _endpoint, url in operations(app):
        if path in database_free:
            continue
        response = client.open(url, method=method, headers={"Authorization": f"Bearer {token}"},
                               json={"identifier": "a", "password": "p" * 8, "username": "abc",
                                     "email": "a@example.com"} if method in ("POST", "PUT") else None)
        body = assert_problem(response, 503)
        assert response.headers["Retry-After"].isdigit(), (method, url)
        assert "127.0.0.1" not in body["detail"]
        checked += 1
    assert checked > 30


def test_a_run_that_cannot_record_its_failure_is_failed_by_the_sweep(app, client, alice, services, monkeypatch):
    """The database dies at the write, and again when the run records its failure: 503 now, failed soon after."""
    import models.analyses as analysis_dao
    import models.results as result_dao

    file_id = upload(client, alice)["file_id"]
    monkeypatch.setattr(result_dao, "insert_results", lost_connection)
    monkeypatch.setattr(analysis_dao, "set_status", lost_connection)
    response = process(client, alice, file_id, "rfm", n_clusters=2)
    assert_problem(response, 503)
    assert response.headers["Retry-After"]
    monkeypatch.undo()
    assert rows_of(app, analyses, "status") == [("running",)]
    assert services.jobs.fail_stopped(STALE) == 0  # its heartbeat is fresh: the sweep leaves it a minute
    with app.extensions["db_engine"].begin() as conn:
        conn.execute(update(analyses).values(heartbeat_at=datetime.now() - timedelta(seconds=61)))
    assert services.jobs.fail_stopped(STALE) == 1
    status, error = rows_of(app, analyses, "status", "error")[0]
    assert status == "failed" and "worker stopped" in error


def test_heartbeats_keep_live_runs_and_the_sweep_fails_stopped_ones(app, client, alice, services, monkeypatch):
    monkeypatch.setattr(services.jobs.queue, "enqueue", lambda *_ids: None)  # a worker that never comes
    file_id = upload(client, alice)["file_id"]
    job = client.post("/api/process", headers={**alice.headers, "Prefer": "respond-async"},
                      json={"file_id": file_id, "type": "rfm", "params": {}}).json
    with app.extensions["db_engine"].begin() as conn:  # old, but beating: the 60-minute age rule is gone
        conn.execute(update(analyses).values(created_at=LONG_AGO))
        conn.execute(update(jobs).values(created_at=LONG_AGO))
    assert services.jobs.fail_stopped(STALE) == 0
    heartbeat = services.analyses.heartbeat
    with app.extensions["db_engine"].begin() as conn:
        conn.execute(update(analyses).values(heartbeat_at=LONG_AGO))
        conn.execute(update(jobs).values(heartbeat_at=LONG_AGO))
    with heartbeat.holding(job["analysis_id"], job["job_id"]):
        heartbeat.beat()
    assert rows_of(app, jobs, "heartbeat_at")[0][0] > LONG_AGO
    assert services.jobs.fail_stopped(STALE) == 0
    with app.extensions["db_engine"].begin() as conn:
        conn.execute(update(analyses).values(heartbeat_at=LONG_AGO))
        conn.execute(update(jobs).values(heartbeat_at=LONG_AGO))
    heartbeat.beat()  # released: nothing is touched any more
    assert services.jobs.fail_stopped(STALE) == 2
    reported = client.get(f"/api/jobs/{job['job_id']}", headers=alice.headers).json
    assert reported["status"] == "failed" and "worker stopped" in reported["error"]
    assert rows_of(app, analyses, "status") == [("failed",)]
    result = app.test_cli_runner().invoke(args=["cleanup"])
    assert "failed 0 job(s)" in result.output


def test_a_running_job_and_its_analysis_say_the_same(app, client, alice, services, monkeypatch):
    import services.analysis.rfm as rfm_module

    seen, original = [], rfm_module.rfm_analysis

    def spy(view, params):
        seen.extend(rows_of(app, analyses, "status") + rows_of(app, jobs, "status"))
        return original(view, params)

    monkeypatch.setattr(rfm_module, "rfm_analysis", spy)
    file_id = upload(client, alice)["file_id"]
    job = client.post("/api/process", headers={**alice.headers, "Prefer": "respond-async"},
                      json={"file_id": file_id, "type": "rfm", "params": {"n_clusters": 2}}).json
    for _ in range(200):
        if client.get(f"/api/jobs/{job['job_id']}", headers=alice.headers).json["status"] == "finished":
            break
        time.sleep(0.05)
    assert seen == [("running",), ("running",)]
    assert rows_of(app, analyses, "status") == [("finished",)] and rows_of(app, jobs, "status") == [("finished",)]


def test_a_worker_without_the_job_fails_it_naming_its_database(app, services):
    from services.errors import JobNotFound

    with pytest.raises(JobNotFound, match="is not in the database") as raised:
        services.jobs.run_job(uuid.uuid4().hex)
    assert app.extensions["db_engine"].url.render_as_string(hide_password=True) in str(raised.value)


def test_a_worker_on_another_database_makes_the_api_report_the_job_failed(monkeypatch, database_url, tmp_path,
                                                                         shared_redis):
    """README once showed `rq worker` with only REDIS_URL: that worker used its own SQLite and said "Job OK"."""
    from rq import Queue, SimpleWorker

    import services.runtime.worker as worker_module

    connection = shared_redis
    queue_name = f"test-wrong-db-{uuid.uuid4().hex}"
    for name, value in {"DATABASE_URL": database_url, "UPLOAD_DIR": str(tmp_path / "uploads"),
                        "REDIS_URL": TEST_REDIS_URL, "RQ_QUEUE": queue_name,
                        "RATELIMIT_ENABLED": "false"}.items():
        monkeypatch.setenv(name, value)
    api = create_app(load_config("testing"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'worker-default.sqlite3'}")
    from migrate import upgrade

    upgrade(os.environ["DATABASE_URL"])
    monkeypatch.setattr(worker_module, "_app", create_app(load_config("testing")))
    monkeypatch.setattr(worker_module, "_app_pid", os.getpid())
    client = api.test_client()
    token = client.post("/api/auth/register", json={"username": "rqer", "email": "rq@example.com",
                                                    "password": "rq password 1"}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    file_id = upload(client, type("A", (), {"headers": headers})())["file_id"]
    job = client.post("/api/process", headers={**headers, "Prefer": "respond-async"},
                      json={"file_id": file_id, "type": "statistical", "params": {}}).json
    queue = Queue(queue_name, connection=connection)
    try:
        SimpleWorker([queue], connection=connection).work(burst=True)
        assert queue.failed_job_registry.get_job_ids() == [job["job_id"]]
        assert api.extensions["services"].jobs.fail_stopped(STALE) == 1
        reported = client.get(f"/api/jobs/{job['job_id']}", headers=headers).json
        assert reported["status"] == "failed"
        assert "worker-default.sqlite3" in reported["error"] and "not in the database" in reported["error"]
        assert client.get(f"/api/analyses/{job['analysis_id']}", headers=headers).json["status"] == "failed"
    finally:
        queue.delete(delete_jobs=True)
        api.extensions["db_engine"].dispose()
        worker_module._app.extensions["db_engine"].dispose()


def test_staging_folders_of_dead_uploads_are_swept_at_boot(app, tmp_path, monkeypatch):
    root = app.config["UPLOAD_DIR"]
    dead, live = root / "user_7" / ".staging-dead", root / "user_7" / ".staging-live"
    for folder in (dead, live):
        folder.mkdir(parents=True)
        (folder / "original.csv").write_bytes(b"x" * 1000)
    old = time.time() - app.config["PARSE_TIMEOUT_SECONDS"] - 120
    for path in (dead / "original.csv", dead):
        os.utime(path, (old, old))
    create_app(load_config("testing")).extensions["db_engine"].dispose()
    assert not dead.exists() and live.exists()


def test_storage_below_the_threshold_is_not_ok(monkeypatch, app):
    monkeypatch.setenv("STORAGE_MIN_FREE_MB", str(10**12))
    low = create_app(load_config("testing"))
    storage = low.test_client().get("/api/services-status").json["storage"]
    assert storage["status"] == "low" and storage["free_mb"] < storage["min_free_mb"]
    assert low.test_client().get("/").json["services"]["storage"] == "low"
    low.extensions["db_engine"].dispose()


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30])
def test_ids_beyond_the_database_range_are_404_or_422(app, client, alice, huge):
    for path, method, _endpoint, _url in operations(app):
        names = [name for name in ("file_id", "analysis_id", "user_id") if f"{{{name}}}" in path]
        if not names:
            continue
        url = path.replace(f"{{{names[0]}}}", str(huge))
        response = client.open(url, method=method, headers=alice.headers,
                               json={"file_id": huge, "type": "rfm", "params": {}} if method == "POST" else None)
        assert response.status_code in (401, 403, 404, 405, 422), (method, url, response.status_code)
    for query in (f"/api/analyses?file_id={huge}", f"/api/dashboard?file_id={huge}",
                  f"/api/export/csv?file_id={huge}", f"/api/files?page={huge}"):
        assert_problem(client.get(query, headers=alice.headers), 422)


def test_the_sweep_fails_stopped_runs_while_redis_is_down(app, client, alice, services, monkeypatch):
    """With REDIS_URL set and Redis gone, asking RQ fails; the heartbeat half of the sweep must still run."""
    from services.runtime.queues import RqQueue

    monkeypatch.setattr(services.jobs, "queue", RqQueue("redis://127.0.0.1:9/0"))  # nothing listens on port 9
    monkeypatch.setattr(services.jobs.queue, "enqueue", lambda *_ids: None)
    file_id = upload(client, alice)["file_id"]
    job = client.post("/api/process", headers={**alice.headers, "Prefer": "respond-async"},
                      json={"file_id": file_id, "type": "rfm", "params": {}}).json
    with app.extensions["db_engine"].begin() as conn:
        conn.execute(update(analyses).values(heartbeat_at=LONG_AGO))
        conn.execute(update(jobs).values(heartbeat_at=LONG_AGO))
    assert services.jobs.fail_stopped(STALE) == 2
    reported = client.get(f"/api/jobs/{job['job_id']}", headers=alice.headers).json
    assert reported["status"] == "failed" and "worker stopped" in reported["error"]
