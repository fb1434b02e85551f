"""Debian's nginx with deploy/nginx/retail.conf in front of gunicorn: nginx's own errors are JSON problems with
CORS, the app's answers pass through once, and the client address is the one nginx saw."""
from __future__ import annotations

import json
import re
import socket
import threading
import uuid

import pytest

from tests.e2e.servers import app_env, free_port, gunicorn, http, nginx, require, stop

FRONTEND = "http://localhost:5173"
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def _nginx_installed():
    require("nginx")


def multipart(size: int) -> tuple[bytes, dict]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + b"a,b\n" * (size // 4) + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def assert_nginx_problem(status: int, headers: dict, body: bytes, expected: int, origin: str | None) -> dict:
    assert status == expected, body
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == expected
    assert problem["type"].startswith("/problems/")
    assert problem["title"] and problem["detail"]
    assert re.fullmatch(r"[0-9a-f]{32}", problem["request_id"])
    assert headers["x-request-id"] == problem["request_id"]
    assert headers.get("access-control-allow-origin") == origin
    return problem


def login(base: str, n: int, origin: str = FRONTEND) -> tuple[int, dict, bytes]:
    body = json.dumps({"identifier": "nobody", "password": "wrong password"}).encode()
    return http("POST", base + "/api/auth/login", body, {"Content-Type": "application/json", "Origin": origin,
                                                         "X-Forwarded-For": f"198.51.100.{n}"})


def test_nginx_in_front_of_gunicorn(tmp_path):
    env = app_env(tmp_path, PROXY_HOPS="1", AUTH_RATE_LIMIT="3/minute")
    upstream = free_port()
    with gunicorn(tmp_path, env, upstream) as (_app, app_proc), nginx(tmp_path, upstream) as base:
        status, headers, body = http("GET", base + "/api/health", headers={"Origin": FRONTEND})
        assert status == 200 and json.loads(body)["status"] == "ok"
        assert headers["access-control-allow-origin"] == FRONTEND  # the app's header, not doubled by nginx
        assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"])  # nginx's $request_id reached the app

        # over client_max_body_size: nginx's own 413, readable by the browser
        big, form = multipart(18 * MB)
        problem = assert_nginx_problem(*http("POST", base + "/api/upload", big, {**form, "Origin": FRONTEND}),
                                       413, FRONTEND)
        assert problem["type"] == "/problems/too-large"
        assert_nginx_problem(*http("POST", base + "/api/upload", big, {**form, "Origin": "http://evil.example"}),
                             413, None)
        # between MAX_UPLOAD_MB and nginx's limit: the app's own 413 passes through
        over_app_limit, form = multipart(16 * MB + 300 * 1024)
        status, headers, body = http("POST", base + "/api/upload", over_app_limit, {**form, "Origin": FRONTEND})
        assert status in (401, 413), body  # no token: the app may refuse before it reads the body
        assert headers["content-type"] == "application/problem+json"
        assert headers["access-control-allow-origin"] == FRONTEND

        # X-Forwarded-For is appended by nginx; with PROXY_HOPS=1 a forged first hop does not dodge the limit
        for n in range(3):
            assert login(base, n)[0] == 401
        status, headers, body = login(base, 99)
        assert status == 429 and json.loads(body)["type"] == "/problems/rate-limited"
        assert int(headers["retry-after"]) > 0
        assert headers["access-control-allow-origin"] == FRONTEND

        # the app stopped: nginx's 502 is a JSON problem with CORS and Retry-After
        stop(app_proc)
        status, headers, body = http("GET", base + "/api/files", headers={"Origin": FRONTEND})
        assert_nginx_problem(status, headers, body, 502, FRONTEND)
        assert int(headers["retry-after"]) > 0


def test_a_gateway_timeout_is_a_json_problem(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    accepted = []

    def accept_and_say_nothing():
        while True:
            try:
                accepted.append(silent.accept())
            except OSError:
                return

    threading.Thread(target=accept_and_say_nothing, daemon=True).start()
    try:
        with nginx(tmp_path, silent.getsockname()[1], {"proxy_read_timeout 130s;": "proxy_read_timeout 1s;"}) as base:
            status, headers, body = http("GET", base + "/api/files", headers={"Origin": FRONTEND})
            problem = assert_nginx_problem(status, headers, body, 504, FRONTEND)
            assert problem["type"] == "/problems/gateway-timeout"
            assert int(headers["retry-after"]) > 0
    finally:
        silent.close()
        for conn, _addr in accepted:
            conn.close()
