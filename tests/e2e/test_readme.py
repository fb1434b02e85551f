"""README's shell blocks, run as written on a fresh database: `make run` with the curl block, and the production
block (make prod and the worker) with the curl block and a queued job. Only addresses are changed: the ports to
free ones, the example database and Redis URLs to throwaway ones."""
from __future__ import annotations

import json
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import throwaway_mysql_database
from tests.e2e.servers import (
    REPO,
    app_env,
    fenced_block,
    free_port,
    http,
    job_outcome,
    queue_a_job,
    redis_server,
    require,
    running,
    wait_until_up,
)

README = (REPO / "README.md").read_text()
CURL_BLOCK = fenced_block(README, "Then, in another shell")
PRODUCTION_BLOCK = fenced_block(README, "### Production")
MAKE_RUN_ADDRESS = "127.0.0.1:5000"
EXAMPLE_DATABASE = "mysql+pymysql://retail:change-me@127.0.0.1:3306/retail"
EXAMPLE_REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(autouse=True)
def _tools():
    require("make", "curl", "bash")


def substituted(block: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in block, f"README block no longer contains {old!r}"
        block = block.replace(old, new)
    return block


def run_curl_block(port: int) -> list[dict]:
    """Paste the curl block into bash (failing on any error): the JSON answers it printed."""
    script = substituted(CURL_BLOCK, {MAKE_RUN_ADDRESS: f"127.0.0.1:{port}"})
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=REPO, capture_output=True, text=True,
                            timeout=300, env={k: v for k, v in os.environ.items() if k != "TOKEN"})
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    registered, me, analysis, logged_out = answers
    assert registered["token"] and registered["user_id"]
    assert me["username"] == "shopowner"
    assert analysis["status"] == "finished" and analysis["type"] == "rfm"
    assert logged_out == {"message": "logged out"}
    return answers


def test_make_run_and_the_curl_block(tmp_path):
    port = free_port()
    env = app_env(tmp_path, PORT=str(port))
    for name in ("GUNICORN_WORKERS", "RETENTION_THREAD", "LOG_LEVEL", "APP_ENV", "REDIS_URL"):
        env.pop(name)  # the embedded defaults, as a developer has them
    log = tmp_path / "make-run.log"
    with running(["make", "run"], env, log) as proc:
        wait_until_up(f"http://127.0.0.1:{port}/api/health", proc, log, seconds=300)
        assert http("GET", f"http://127.0.0.1:{port}/api/health")[0] == 200
        run_curl_block(port)
    assert "gunicorn" in log.read_text().lower()  # a real server, not werkzeug's


@contextmanager
def fresh_database(tmp_path: Path):
    """A throwaway MariaDB database when TEST_MYSQL_URL is set (production's backend), else a SQLite file."""
    if not os.environ.get("TEST_MYSQL_URL"):
        yield f"sqlite:///{tmp_path / 'production.sqlite3'}"
        return
    with throwaway_mysql_database("rat_readme") as url:
        yield url


def test_the_production_block_on_a_fresh_database(tmp_path):
    require("redis-server")
    port = free_port()
    with redis_server(tmp_path) as redis_url, fresh_database(tmp_path) as database_url:
        script = substituted(PRODUCTION_BLOCK, {EXAMPLE_DATABASE: database_url, EXAMPLE_REDIS: redis_url})
        env = {key: value for key, value in os.environ.items()
               if key not in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PROXY_HOPS")}
        env.update(PORT=str(port), UPLOAD_DIR=str(tmp_path / "uploads"), GUNICORN_WORKERS="2")
        log = tmp_path / "production.log"
        # The block backgrounds make prod and the worker; they stay in this process group until the test ends.
        with running(["bash", "-c", script + "\nwait\n"], env, log) as proc:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + "/health", proc, log, seconds=300)
            status, _headers, body = http("GET", base + "/api/health")
            assert status == 200, body
            run_curl_block(port)
            assert job_outcome(base, queue_a_job(base)) == "finished", log.read_text()[-3000:]
