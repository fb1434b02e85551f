"""Load and queue benchmarks on real servers: gunicorn with the production settings on SQLite and MariaDB, 32
clients (wrk) paging through an analysis' results against a bare Flask route, and an analysis through the RQ
worker against the same analysis run in the request."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT.parent / "shared" / "data" / "online_retail_sample.xlsx"
CLIENTS = 32
PASSWORD = "bench password"  # noqa: S105 - a throwaway account on a throwaway database


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(base: str, method: str, path: str, body: dict | bytes | None = None, headers: dict | None = None,
         content_type: str = "application/json") -> dict:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(f"{base}{path}", data=data, method=method,  # noqa: S310 - our local server
                                     headers={**(headers or {}), **({"Content-Type": content_type} if data else {})})
    with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310 - our own local server
        return json.loads(response.read())


class Process:
    """A server or worker in its own session, stopped with its children."""

    def __init__(self, argv: list[str], environment: dict, ready_url: str | None = None) -> None:
        self.process = subprocess.Popen(argv, cwd=ROOT, env=environment, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while ready_url and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(ready_url, timeout=2)  # noqa: S310
                return
            except OSError:
                time.sleep(0.2)
        if ready_url:
            raise SystemExit(f"{argv} did not answer {ready_url}")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(60)


def gunicorn(app_spec: str, environment: dict, ready_path: str) -> tuple[Process, str]:
    port = free_port()
    environment = {**environment, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    base = f"http://127.0.0.1:{port}"
    return Process([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", app_spec], environment,
                   base + ready_path), base


def wrk(url: str, seconds: int, environment: dict) -> dict:
    """32 connections on 2 threads for `seconds`; the Lua script pages through the results."""
    command = ["wrk", "-t2", f"-c{CLIENTS}", f"-d{seconds}s", "--timeout", "10s", "-s",
               str(ROOT / "bench" / "load.lua"), url]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)  # noqa: S607
    line = next(line for line in done.stdout.splitlines() if line.startswith("WRKJSON "))
    result = json.loads(line.removeprefix("WRKJSON "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def line(label: str, result: dict) -> str:
    return (f"{label}: {result['rps']:,.0f} req/s, p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, "
            f"p99 {result['p99']:.1f} ms, {result['errors']} errors")


def prepared_server(database_url: str, workdir: Path, extra: dict) -> tuple[Process, str, dict, dict]:
    """gunicorn (production settings) on a migrated database with one user, the sample file and an rfm analysis."""
    from migrate import upgrade

    upgrade(database_url)
    environment = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
                   "DATABASE_URL": database_url, "UPLOAD_DIR": str(workdir / "uploads"), "RATELIMIT_ENABLED": "false",
                   "LOG_LEVEL": "INFO", "REDIS_URL": "", **extra}
    server, base = gunicorn("app:create_app()", environment, "/health")
    call(base, "POST", "/api/auth/register", {"username": "bench", "email": "bench@example.com",
                                              "password": PASSWORD})
    token = call(base, "POST", "/api/auth/login", {"identifier": "bench", "password": PASSWORD})["token"]
    headers = {"Authorization": f"Bearer {token}"}
    boundary = secrets.token_hex(8)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"sample.xlsx\"\r\n\r\n"
            ).encode() + SAMPLE.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    file_id = call(base, "POST", "/api/upload", body, headers, f"multipart/form-data; boundary={boundary}")["file_id"]
    analysis = call(base, "POST", "/api/process", {"file_id": file_id, "type": "rfm", "params": {}}, headers)
    return server, base, {**environment, "BENCH_TOKEN": token}, {"file_id": file_id, **analysis}


def load_run(database_url: str, label: str, seconds: int, workdir: Path, extra: dict | None = None) -> dict:
    server, base, environment, analysis = prepared_server(database_url, workdir, extra or {})
    try:
        path = f"/api/analyses/{analysis['analysis_id']}/results"
        pages = -(-analysis["summary"]["total_customers"] // 50)
        result = wrk(base + path, seconds, {**environment, "BENCH_PATH": path, "BENCH_PAGES": str(pages)})
        print(line(f"load         {label:<28}", result), flush=True)
        token = environment["BENCH_TOKEN"]
        page = call(base, "GET", f"{path}?per_page=50", headers={"Authorization": f"Bearer {token}"})
        return {"result": result, "page": page}
    finally:
        server.stop()


def bench_load(seconds: int, mysql_url: str | None) -> None:
    """32 clients on /api/analyses/<id>/results, on SQLite and MariaDB, against a bare Flask route."""
    if not shutil.which("wrk"):
        raise SystemExit("the load benchmark needs wrk (`make bench` installs the Debian package)")
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        sqlite = load_run(f"sqlite:///{work / 'load.sqlite3'}", "sqlite, gunicorn defaults", seconds, work / "a")
        recycled = load_run(f"sqlite:///{work / 'recycle.sqlite3'}", "sqlite, max_requests=500", seconds,
                            work / "b", {"GUNICORN_MAX_REQUESTS": "500"})
        results = {"sqlite": sqlite["result"], "recycled": recycled["result"]}
        if mysql_url:
            with throwaway_database(mysql_url) as url:
                results["mariadb"] = load_run(url, "mariadb, gunicorn defaults", seconds, work / "c")["result"]
        rows = work / "rows.json"
        rows.write_text(json.dumps(sqlite["page"]))
        environment = {**os.environ, "BENCH_ROWS": str(rows), "BENCH_PATH": "/rows", "BENCH_PAGES": "1",
                       "BENCH_TOKEN": "-"}
        reference, base = gunicorn("bench.reference_app:create_app()", environment, "/rows")
        try:
            bare = wrk(base + "/rows", seconds, environment)
        finally:
            reference.stop()
        print(line(f"load         {'bare Flask route, same page':<28}", bare))
        for name in ("sqlite", "mariadb"):
            if name in results:
                ours = results[name]
                print(f"load         {name}: {ours['rps'] / bare['rps']:.2f}x the bare route's req/s (target >= 0.5), "
                      f"p99 {ours['p99']:.0f} ms (target <= 250 ms), {ours['errors']} errors (target 0)")


@contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """A fresh database on the MariaDB server for this run, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = f"rat_bench_{secrets.token_hex(3)}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        engine.dispose()


def bench_queue(redis_url: str) -> None:
    """The same rfm analysis in the request and through `make worker` (RQ), best of three each."""
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        queue = {"REDIS_URL": redis_url, "RQ_QUEUE": f"bench-{secrets.token_hex(4)}"}
        server, base, environment, analysis = prepared_server(f"sqlite:///{work / 'queue.sqlite3'}", work, queue)
        worker = Process([sys.executable, "-m", "services.runtime.worker"], environment)
        headers = {"Authorization": f"Bearer {environment['BENCH_TOKEN']}"}
        body = {"file_id": analysis["file_id"], "type": "rfm", "params": {}}
        try:
            sync, queued = [], []
            for _ in range(3):
                began = time.perf_counter()
                call(base, "POST", "/api/process", body, headers)
                sync.append(time.perf_counter() - began)
                began = time.perf_counter()
                job = call(base, "POST", "/api/process", body, {**headers, "Prefer": "respond-async"})
                while job["status"] in ("queued", "running"):
                    time.sleep(0.02)
                    job = call(base, "GET", f"/api/jobs/{job['job_id']}", headers=headers)
                if job["status"] != "finished":
                    raise SystemExit(f"the queued analysis ended {job['status']}: {job['error']}")
                queued.append(time.perf_counter() - began)
        finally:
            worker.stop()
            server.stop()
        print(f"queue        rfm on the sample, best of 3: in the request {min(sync):.2f} s, through the RQ worker "
              f"{min(queued):.2f} s -> +{min(queued) - min(sync):.2f} s (target <= 0.5 s)")
