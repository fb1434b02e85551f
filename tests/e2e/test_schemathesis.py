"""schemathesis over the whole OpenAPI spec, a few examples per operation: no server error, and every response
in a content type the spec documents for it (errors as application/problem+json)."""
from __future__ import annotations

import io

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance

from app import create_app
from config import load_config
from tests.conftest import SALES
from tests.e2e.conftest import signed_in

EXAMPLES_PER_OPERATION = 8


@pytest.fixture
def served(tmp_path, monkeypatch, sqlite_template):
    """An app on a fresh SQLite copy, with a signed-in user who has one uploaded file and one analysis."""
    import shutil

    database = tmp_path / "db.sqlite3"
    shutil.copy(sqlite_template, database)
    for name, value in {"DATABASE_URL": f"sqlite:///{database}", "UPLOAD_DIR": str(tmp_path / "uploads"),
                        "REDIS_URL": "", "RATELIMIT_ENABLED": "false"}.items():
        monkeypatch.setenv(name, value)
    app = create_app(load_config("testing"))
    client = app.test_client()
    headers = signed_in(client)
    file_id = client.post("/api/upload", headers=headers, data={"file": (io.BytesIO(SALES.encode()), "s.csv")},
                          content_type="multipart/form-data").json["file_id"]
    client.post("/api/process", headers=headers, json={"file_id": file_id, "type": "rfm", "params": {"n_clusters": 2}})
    yield app, headers
    app.extensions["db_engine"].dispose()


def test_no_server_errors_and_documented_content_types(served):
    app, headers = served
    api = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures, operations = [], 0
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate], derandomize=True, database=None)
        def check(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error, content_type_conformance])

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collected, so one run reports every failing operation
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert operations >= 38
    assert not failures, "\n\n".join(failures)
