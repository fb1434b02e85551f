"""Real components for the fault tests: a private mariadbd, a private redis-server, a gunicorn server, each on
a free port and torn down afterwards. Every test here is marked e2e (`make e2e`, and .ci/run)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse 1"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def signed_in(client) -> dict:
    """Register alice on a test client and return her Authorization header."""
    answer = client.post("/api/auth/register", json={"username": "alice", "email": "alice@example.com",
                                                     "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.json['token']}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout: float, what: str, interval: float = 0.05):
    """Poll `condition` until it returns something truthy; fail the test (not hang) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}")


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def sales_csv(path: Path, customers: int, lines_per_customer: int = 2) -> Path:
    """A sales file with many distinct customers, so an rfm analysis writes many rows."""
    with path.open("w") as out:
        out.write("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n")
        for number in range(customers * lines_per_customer):
            customer = number % customers
            out.write(f"{number},A{number % 50},Item {number % 50},{1 + number % 7},"
                      f"2011-{1 + number % 12:02d}-{1 + number % 28:02d} 10:00,{1 + number % 19}.25,"
                      f"C{customer},UK\n")
    return path


class MariaDB:
    """A private mariadbd in a temp dir: start, SIGKILL, start again on the same data."""

    def __init__(self, workdir: Path) -> None:
        self.datadir, self.socket, self.port = workdir / "data", workdir / "mysqld.sock", free_port()
        self.process: subprocess.Popen | None = None
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=120)
        self.log = workdir / "mariadbd.log"

    @property
    def url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/retail"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
             f"--socket={self.socket}", "--bind-address=127.0.0.1", "--user=root",
             "--innodb-buffer-pool-size=64M", "--skip-log-bin", f"--log-error={self.log}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: port_open(self.port) or self.process.poll() is not None, 60, "mariadbd to listen")
        if self.process.poll() is not None:
            pytest.fail(f"mariadbd did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)


@pytest.fixture
def mariadb(tmp_path):
    if not Path("/usr/sbin/mariadbd").exists() and not any(
            Path(folder, "mariadbd").exists() for folder in os.environ.get("PATH", "").split(":")):
        pytest.skip("mariadbd is not installed")
    server = MariaDB(tmp_path / "mariadb")
    server.start()
    import pymysql

    connection = pymysql.connect(host="127.0.0.1", port=server.port, user="root")
    with connection.cursor() as cursor:
        cursor.execute("CREATE DATABASE retail CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    connection.close()
    yield server
    if server.process.poll() is None:
        server.process.terminate()
        server.process.wait(30)


@pytest.fixture
def redis_url(tmp_path):
    """A private redis-server on a free port."""
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: port_open(port), 30, "redis-server to listen")
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(30)


def app_environment(tmp_path: Path, database_url: str, **extra: str) -> dict:
    """The environment a server, a worker and the in-test app share."""
    return {**os.environ, "DATABASE_URL": database_url, "UPLOAD_DIR": str(tmp_path / "uploads"),
            "SECRET_KEY": "e2e-secret-" + "x" * 40, "RATELIMIT_ENABLED": "false", "REDIS_URL": "",
            "LOG_LEVEL": "WARNING", "MAX_UPLOAD_MB": "64", **extra}


class Server:
    """gunicorn with the production settings (gunicorn.conf.py) on a free port."""

    def __init__(self, environment: dict, log: Path) -> None:
        self.port = free_port()
        self.environment = {**environment, "APP_ENV": "production", "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                            "GUNICORN_WORKERS": environment.get("GUNICORN_WORKERS", "1")}
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                                             "app:create_app()"], cwd=ROOT, env=self.environment,
                                            stdout=log, stderr=log, start_new_session=True)
        wait_until(self._healthy, 60, "gunicorn to answer /health", interval=0.2)

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"gunicorn exited: {self.log.read_text()[-3000:]}")
        try:
            return urllib.request.urlopen(f"{self.base}/health", timeout=2).status == 200  # noqa: S310
        except OSError:
            return False

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)
