"""The public system endpoints, readiness when the database is down, the Redis check, and CORS."""
from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command

from app import create_app
from config import APP_VERSION, load_config
from migrate import alembic_config, upgrade
from tests.conftest import assert_problem

DEAD_DATABASE = "mysql+pymysql://root@127.0.0.1:1/none"
LIVE_REDIS = "redis://127.0.0.1:6379/0"
DEAD_REDIS = "redis://127.0.0.1:1/0"
FRONTEND = "http://localhost:5173"


@pytest.fixture
def make_app(monkeypatch, tmp_path):
    """Build an app on the given DATABASE_URL and REDIS_URL; its engine is disposed afterwards."""
    built = []

    def build(database_url: str, redis_url: str = ""):
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "uploads"))
        monkeypatch.setenv("REDIS_URL", redis_url)
        monkeypatch.setenv("AUTH_RATE_LIMIT", "10/minute")
        application = create_app(load_config("testing"))
        built.append(application)
        return application

    yield build
    for application in built:
        application.extensions["db_engine"].dispose()


def downgrade(database_url: str, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["database_url"] = database_url
    command.downgrade(cfg, revision)


def assert_utc_timestamp(value: str) -> None:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None
    assert parsed.utcoffset().total_seconds() == 0


def test_banner(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.json
    assert body["message"] == "Retail Analytics API"
    assert body["status"] == "running"
    assert body["version"] == APP_VERSION
    assert_utc_timestamp(body["timestamp"])
    assert body["services"] == {"database": "ok", "queue": "not_configured", "storage": "ok"}


def test_liveness(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert set(response.json) == {"status", "timestamp"}
    assert response.json["status"] == "healthy"
    assert_utc_timestamp(response.json["timestamp"])


def test_readiness(client, app):
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["version"] == APP_VERSION
    assert_utc_timestamp(body["timestamp"])


def test_services_status(client, app):
    response = client.get("/api/services-status")
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"database", "queue", "storage"}
    assert body["database"]["status"] == "ok"
    assert body["database"]["backend"] == app.extensions["db_engine"].dialect.name
    assert body["queue"]["status"] == "not_configured"
    assert body["storage"]["status"] == "ok"
    assert body["storage"]["writable"] is True
    assert isinstance(body["storage"]["free_mb"], int)


@pytest.mark.parametrize("path", ["/", "/health", "/api/health", "/api/services-status"])
def test_system_endpoints_are_public_even_with_a_bad_token(client, path):
    assert client.get(path).status_code == 200
    assert client.get(path, headers={"Authorization": "Bearer not.a.jwt"}).status_code == 200


def test_readiness_is_503_problem_when_the_database_is_down(make_app):
    client = make_app(DEAD_DATABASE).test_client()
    response = client.get("/api/health")
    body = assert_problem(response, 503)
    assert body["type"] == "/problems/service-unavailable"
    assert "database" in body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "127.0.0.1" not in response.get_data(as_text=True)


@pytest.mark.parametrize("revision", [None, "0001", "-1"])
def test_readiness_is_503_until_the_schema_is_at_the_newest_migration(make_app, tmp_path, revision):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    if revision == "-1":  # the newest migration not applied yet
        upgrade(url)
        downgrade(url, "-1")
    elif revision:
        upgrade(url, revision)
    client = make_app(url).test_client()
    response = client.get("/api/health")
    body = assert_problem(response, 503)
    assert body["type"] == "/problems/service-unavailable"
    assert "migrate.py" in body["detail"]
    assert int(response.headers["Retry-After"]) > 0
    upgrade(url)
    assert client.get("/api/health").status_code == 200


def test_other_system_endpoints_report_the_dead_database(make_app):
    client = make_app(DEAD_DATABASE).test_client()
    liveness = client.get("/health")
    assert liveness.status_code == 200
    assert liveness.json["status"] == "healthy"
    status = client.get("/api/services-status")
    assert status.status_code == 200
    assert status.json["database"] == {"status": "down", "backend": "mysql"}
    banner = client.get("/")
    assert banner.status_code == 200
    assert banner.json["services"]["database"] == "down"


def test_queue_is_ok_when_redis_answers(make_app, database_url):
    client = make_app(database_url, LIVE_REDIS).test_client()
    response = client.get("/api/services-status")
    assert response.status_code == 200
    assert response.json["queue"] == {"status": "ok"}
    assert client.get("/").json["services"]["queue"] == "ok"


def test_queue_is_down_when_redis_does_not_answer(make_app, database_url):
    client = make_app(database_url, DEAD_REDIS).test_client()
    response = client.get("/api/services-status")
    assert response.status_code == 200
    assert response.json["queue"] == {"status": "down"}
    assert response.json["database"]["status"] == "ok"
    # readiness is about the database only
    assert client.get("/api/health").status_code == 200


def test_cors_preflight_from_the_frontend_allows_authorization(client):
    response = client.options("/api/auth/me", headers={
        "Origin": FRONTEND,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization",
    })
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == FRONTEND
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert "authorization" in allowed
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("origin", [FRONTEND, "http://localhost:3000"])
def test_cors_preflight_for_a_json_post(client, origin):
    response = client.options("/api/auth/login", headers={
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type, X-Request-ID",
    })
    assert response.headers["Access-Control-Allow-Origin"] == origin
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-request-id"} <= allowed


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:5174", "null",
                                    "http://localhost:5173.evil.example"])
def test_cors_preflight_from_another_origin_is_not_allowed(client, origin):
    response = client.options("/api/auth/me", headers={
        "Origin": origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization",
    })
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Headers" not in response.headers


def test_cors_headers_on_real_responses_and_errors(client):
    ok = client.get("/api/health", headers={"Origin": FRONTEND})
    assert ok.headers["Access-Control-Allow-Origin"] == FRONTEND
    exposed = {h.strip().lower() for h in ok.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"x-request-id", "location", "retry-after"} <= exposed
    # a browser can read the 401 problem too
    unauthorized = client.get("/api/auth/me", headers={"Origin": FRONTEND})
    assert_problem(unauthorized, 401)
    assert unauthorized.headers["Access-Control-Allow-Origin"] == FRONTEND
    evil = client.get("/api/health", headers={"Origin": "http://evil.example"})
    assert evil.status_code == 200
    assert "Access-Control-Allow-Origin" not in evil.headers


def preflight(client, path: str, method: str = "GET", origin: str = FRONTEND):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": "Authorization, Prefer"})


def test_preflights_are_cacheable_and_async_answers_readable(client):
    response = preflight(client, "/api/process", "POST")
    assert response.status_code in (200, 204)
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "prefer"} <= allowed
    real = client.get("/api/health", headers={"Origin": FRONTEND})
    exposed = {h.strip().lower() for h in real.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"preference-applied", "content-disposition"} <= exposed


@pytest.mark.parametrize("path, method", [("/api/analyses/undefined/download", "GET"), ("/api/nope", "DELETE"),
                                          ("/api/auth/login", "DELETE"), ("/api/admin/users/1", "DELETE")])
def test_a_preflight_succeeds_where_the_real_request_will_fail(client, auth, path, method):
    response = preflight(client, path, method)
    assert response.status_code in (200, 204), response.status_code
    assert response.headers["Access-Control-Allow-Origin"] == FRONTEND
    assert method in response.headers["Access-Control-Allow-Methods"]
    # the real request then keeps its real status, readable by the script
    account = auth.register(f"cors{abs(hash(path)) % 10_000}")
    real = client.open(path, method=method, headers={"Origin": FRONTEND, **account.headers})
    assert real.status_code in (403, 404, 405), real.status_code
    assert_problem(real, real.status_code)
    assert real.headers["Access-Control-Allow-Origin"] == FRONTEND


def test_a_preflight_from_another_origin_on_an_unknown_path_gets_no_cors_headers(client):
    response = preflight(client, "/api/nope", origin="http://evil.example")
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers
