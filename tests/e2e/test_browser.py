"""A browser client on http://localhost:5173 (plain HTML + JS in tests/e2e/page) calls the app on another port
through Debian's chromium, driven by playwright-core: every step answers as the contract says, with no CORS
error in the console."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from tests.e2e.servers import NODE_BIN, REPO, SAMPLE, app_env, gunicorn, missing_tools, require, running, wait_until_up

CHROMIUM = Path("/usr/bin/chromium")
PAGE = Path(__file__).resolve().parent / "page"
DRIVER = Path(__file__).resolve().parent / "browser.mjs"
FRONTEND_PORT = 5173
UPLOAD_LIMIT_MB = 1
WALK_SECONDS = 150
EXPECTED_STEPS = ["register", "login", "FormData upload", "analysis cleaning", "results cleaning", "analysis rfm",
                  "results rfm", "analysis basket", "results basket", "analysis statistical", "results statistical",
                  "async job accepted", "async job polled at its Location", "download with its name",
                  "a 404 stays a readable 404", "413 readable", "429 with Retry-After", "logout",
                  "token refused after logout"]


def frontend_port() -> int:
    """5173, the Vite port React developers use, unless another process holds it: then any free port."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", FRONTEND_PORT))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_browser_page_on_another_origin_walks_the_api(tmp_path):
    require("node")
    if not CHROMIUM.exists():
        missing_tools("needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)")
    if not (NODE_BIN.parent / "playwright-core").exists():
        missing_tools("needs npm playwright-core (npm ci at the repository root)")
    site = tmp_path / "site"
    shutil.copytree(PAGE, site)
    shutil.copy(SAMPLE, site / "sample_sales.csv")
    port = frontend_port()
    origin = f"http://localhost:{port}"
    env = app_env(tmp_path, CORS_ORIGINS=origin, MAX_UPLOAD_MB=str(UPLOAD_LIMIT_MB), AUTH_RATE_LIMIT="5/minute")
    page_log = tmp_path / "page-server.log"
    with gunicorn(tmp_path, env) as (api, _proc), running(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site)],
            env, page_log) as page_server:
        wait_until_up(f"http://127.0.0.1:{port}/index.html", page_server, page_log)
        url = f"{origin}/index.html?api={api}&max_upload_mb={UPLOAD_LIMIT_MB}"
        result = subprocess.run(["node", str(DRIVER), url, str(tmp_path / "chromium-profile"), str(WALK_SECONDS)],
                                cwd=REPO, capture_output=True, text=True, timeout=WALK_SECONDS + 60)
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr[-3000:]
    report = json.loads(lines[-1])
    assert "error" not in report, report
    failed = [step for step in report["walk"] if not step["ok"]]
    assert not failed, failed
    assert [step["name"] for step in report["walk"]] == EXPECTED_STEPS
    cors_errors = [text for text in report["consoleErrors"] if "CORS" in text or "Access-Control" in text]
    assert not cors_errors, cors_errors
    download = next(step for step in report["walk"] if step["name"] == "download with its name")
    assert download["detail"]["filename"].endswith(".csv")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
