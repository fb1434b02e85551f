"""The committed Postman collection passes under newman against `make run` on a fresh database, in its order."""
from __future__ import annotations

import json
import subprocess

from tests.e2e.servers import REPO, app_env, free_port, require, running, tool, wait_until_up

COLLECTION = REPO / "postman" / "retail-analytics.postman_collection.json"


def test_newman_passes_the_collection_against_make_run(tmp_path):
    require("newman", "make")
    port = free_port()
    env = app_env(tmp_path, PORT=str(port))
    log = tmp_path / "make-run.log"
    report = tmp_path / "newman.json"
    with running(["make", "run"], env, log) as proc:
        wait_until_up(f"http://127.0.0.1:{port}/api/health", proc, log, seconds=300)
        result = subprocess.run(
            [tool("newman"), "run", str(COLLECTION.relative_to(REPO)), "--env-var", f"baseUrl=http://127.0.0.1:{port}",
             "--reporters", "cli,json", "--reporter-json-export", str(report), "--timeout", "240000",
             "--color", "off"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    run = json.loads(report.read_text())["run"]
    assert run["failures"] == []
    assert run["stats"]["assertions"]["total"] >= 80
    names = [execution["item"]["name"] for execution in run["executions"]]
    assert names[:3] == ["Readiness", "Register a random user", "Log in"]
    assert names[-1] == "Log out"
    for kind in ("cleaning", "rfm", "basket", "statistical"):
        assert f"Run {kind}" in names and f"Results of {kind}" in names
