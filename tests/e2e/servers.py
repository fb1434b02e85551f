"""Real processes for the deploy and end-to-end tests: gunicorn or `make run`, nginx in front, Redis, a static page.

Every server listens on a free port picked at start, runs in its own process group and is stopped at the end.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
NODE_BIN = REPO / "node_modules" / ".bin"
NGINX_SITE = REPO / "deploy" / "nginx" / "retail.conf"
SAMPLE = REPO / "postman" / "sample_sales.csv"
BOOT_SECONDS = 90


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require(*tools: str) -> None:
    """Skip the test, naming what is missing, unless every tool is on PATH (or node_modules/.bin); with
    E2E_REQUIRED=1 (.ci/run, which installs them) a missing tool fails the test instead."""
    missing = [tool for tool in tools if not shutil.which(tool) and not (NODE_BIN / tool).exists()]
    if missing:
        missing_tools(f"needs {', '.join(missing)} (.ci/run installs them: apt-get install nginx chromium "
                      "redis-server, npm ci)")


def missing_tools(reason: str) -> None:
    """Skip, or fail where the tools are required."""
    if os.environ.get("E2E_REQUIRED") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def tool(name: str) -> str:
    """The path of a tool from node_modules/.bin or PATH."""
    local = NODE_BIN / name
    return str(local) if local.exists() else shutil.which(name)


def app_env(tmp_path: Path, **overrides: str) -> dict:
    """The environment of a server on a fresh SQLite file and upload folder, the venv first on PATH."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GUNICORN_", "PYTEST_"))}
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        APP_ENV="development",
        DATABASE_URL=f"sqlite:///{tmp_path / 'app.sqlite3'}",
        UPLOAD_DIR=str(tmp_path / "uploads"),
        REDIS_URL="",
        RETENTION_THREAD="false",
        LOG_LEVEL="WARNING",
        GUNICORN_WORKERS="2",
    )
    env.update(overrides)
    return env


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
         timeout: float = 30) -> tuple[int, dict, bytes]:
    """One request: (status, headers with lower-case names, body), for error statuses too."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - local test servers
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, seconds: float = BOOT_SECONDS) -> None:
    """Poll `url` until it answers at all; fail with the server's log if it exits or never answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            http("GET", url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"{url} did not answer within {seconds} s:\n{log.read_text()[-4000:]}")


@contextmanager
def running(cmd: list[str], env: dict, log: Path, cwd: Path = REPO) -> Iterator[subprocess.Popen]:
    """Run a command in its own process group, stopped (SIGTERM, then SIGKILL) when the block ends."""
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """End a process started by `running` and everything it started."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def migrate(env: dict) -> None:
    """Bring the server's database to the newest revision, as `make run` does first."""
    subprocess.run([str(VENV_BIN / "python"), "migrate.py"], cwd=REPO, env=env, check=True,
                   capture_output=True, timeout=120)


@contextmanager
def gunicorn(tmp_path: Path, env: dict, port: int | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """The app under gunicorn with gunicorn.conf.py on a migrated database: (base url, process)."""
    port = port or free_port()
    migrate(env)
    cmd = [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "app:create_app()"]
    log = tmp_path / f"gunicorn-{port}.log"
    with running(cmd, env, log) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base + "/health", proc, log)
        yield base, proc


@contextmanager
def nginx(tmp_path: Path, upstream_port: int, replace: dict | None = None) -> Iterator[str]:
    """Debian's nginx with deploy/nginx/retail.conf, its ports rewritten to free ones: the base url."""
    port = free_port()
    site = NGINX_SITE.read_text()
    rewrites = {"listen 8080;": f"listen 127.0.0.1:{port};", "server 127.0.0.1:8000;":
                f"server 127.0.0.1:{upstream_port};", **(replace or {})}
    for old, new in rewrites.items():
        assert old in site, f"{old!r} is no longer in {NGINX_SITE.name}"
        site = site.replace(old, new)
    # Not under tmp_path (mode 0700): nginx's workers drop root and must reach their temp folders.
    prefix = Path(tempfile.mkdtemp(prefix=f"retail-nginx-{port}-"))
    prefix.chmod(0o755)
    (prefix / "site.conf").write_text(site)
    temp_paths = " ".join(f"{name}_temp_path {prefix / (name + '_temp')};"
                          for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (prefix / "nginx.conf").write_text(
        f"pid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'};\nevents {{}}\n"
        f"http {{\n access_log {prefix / 'access.log'};\n {temp_paths}\n include {prefix / 'site.conf'};\n}}\n")
    log = prefix / "stderr.log"
    try:
        with running([tool("nginx"), "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                     os.environ.copy(), log) as proc:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + "/health", proc, log)
            yield base
    finally:
        shutil.copytree(prefix, tmp_path / prefix.name, ignore=shutil.ignore_patterns("*_temp"), dirs_exist_ok=True)
        shutil.rmtree(prefix, ignore_errors=True)


@contextmanager
def redis_server(tmp_path: Path) -> Iterator[str]:
    """A private redis-server on a free port (never the shared one): its URL."""
    port = free_port()
    log = tmp_path / f"redis-{port}.log"
    cmd = [tool("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
           "--dir", str(tmp_path)]
    with running(cmd, os.environ.copy(), log) as proc:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start: {log.read_text()}")
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"


def queue_a_job(base: str) -> tuple[str, str]:
    """Register, upload the sample and queue an rfm analysis: (token, job location)."""
    account = {"username": "unitcheck", "email": "unitcheck@example.com", "password": "a long passphrase"}
    status, _h, body = http("POST", base + "/api/auth/register", json.dumps(account).encode(),
                            {"Content-Type": "application/json"})
    assert status == 201, body
    token = json.loads(body)["token"]
    boundary = secrets.token_hex(8)
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"sales.csv\"\r\n\r\n"
            .encode() + SAMPLE.read_bytes() + f"\r\n--{boundary}--\r\n".encode())
    status, _h, body = http("POST", base + "/api/upload", form, {
        "Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 201, body
    status, headers, body = http("POST", base + "/api/process", json.dumps(
        {"file_id": json.loads(body)["file_id"], "type": "rfm", "params": {"n_clusters": 3}}).encode(),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Prefer": "respond-async"})
    assert status == 202, body
    return token, headers["location"]


def job_outcome(base: str, job: tuple[str, str], seconds: float = 120) -> str:
    """Poll the job until it leaves queued/running (bounded): its last status."""
    token, location = job
    deadline = time.monotonic() + seconds
    status = "queued"
    while status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        status = json.loads(http("GET", base + location, headers={"Authorization": f"Bearer {token}"})[2])["status"]
    return status


def fenced_block(markdown: str, after: str) -> str:
    """The first ```bash block after the line containing `after`."""
    start = markdown.index(after)
    match = re.compile(r"```bash\n(.*?)```", re.S).search(markdown, start)
    assert match, f"no bash block after {after!r}"
    return match.group(1)
