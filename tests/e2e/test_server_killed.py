"""gunicorn (production settings) SIGKILLed mid-upload: the staging folder it leaves is gone once a restarted
server has swept it, no file row exists for it, and uploads work again."""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import threading
import time
import uuid

from migrate import upgrade
from tests.conftest import PASSWORD
from tests.e2e.conftest import Server, app_environment, sales_csv, wait_until

PARSE_TIMEOUT_SECONDS = 30


def call(server: Server, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def multipart(path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
            "Content-Type: text/csv\r\n\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_server_killed_mid_upload_leaves_nothing_after_a_restart(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(database_url)
    environment = app_environment(tmp_path, database_url, PARSE_TIMEOUT_SECONDS=str(PARSE_TIMEOUT_SECONDS),
                                  RETENTION_INTERVAL_SECONDS="1")
    server = Server(environment, tmp_path / "gunicorn.log")
    server.start()
    try:
        account = json.dumps({"username": "alice", "email": "a@example.com", "password": PASSWORD}).encode()
        status, answer = call(server, "POST", "/api/auth/register", account, {"Content-Type": "application/json"})
        assert status == 201, answer
        headers = {"Authorization": f"Bearer {json.loads(answer)['token']}"}
        body, content_type = multipart(sales_csv(tmp_path / "big.csv", 400_000, 2))
        uploads = tmp_path / "uploads"
        threading.Thread(target=lambda: _ignore_errors(call, server, "POST", "/api/upload", body,
                                                       {**headers, "Content-Type": content_type}),
                         daemon=True).start()
        staging = wait_until(lambda: list(uploads.glob("user_*/.staging-*")), 60, "the upload's staging folder",
                             interval=0.005)
        server.kill()
        assert all(folder.exists() for folder in staging)
        # a restarted server keeps what could still be a live upload, and sweeps it once no upload can be
        long_ago = time.time() - PARSE_TIMEOUT_SECONDS - 61  # stands in for waiting out the deadline
        for folder in staging:
            for entry in [folder, *folder.iterdir()]:
                os.utime(entry, (long_ago, long_ago))
        server.start()
        assert not list(uploads.glob("user_*/.staging-*"))
        status, answer = call(server, "GET", "/api/files", headers=headers)
        assert status == 200 and json.loads(answer)["total"] == 0
        small, small_type = multipart(sales_csv(tmp_path / "small.csv", 10))
        status, answer = call(server, "POST", "/api/upload", small, {**headers, "Content-Type": small_type})
        assert status == 201, answer
        folders = [path.name for path in uploads.glob("user_*/*")]
        assert len(folders) == 1 and not folders[0].startswith(".staging-")
    finally:
        server.stop()


def _ignore_errors(function, *args) -> None:
    with contextlib.suppress(OSError):  # the server was killed under it, as intended
        function(*args)
