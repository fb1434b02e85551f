"""Every error is application/problem+json with a request id: 404, 405, 413, 500, and the X-Request-ID header."""
from __future__ import annotations

import logging
import re

import pytest

from tests.conftest import PASSWORD, assert_problem

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def assert_problem_with_request_id(response, status: int) -> dict:
    """assert_problem, plus: never HTML, and the body's request_id is the X-Request-ID header."""
    text = response.get_data(as_text=True)
    assert not text.lstrip().startswith("<"), text
    body = assert_problem(response, status)
    assert body["request_id"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.parametrize("path", ["/nope", "/api/nope", "/api/auth/nope", "/api/auth/me/", "/health/",
                                  "/api/admin/users/abc", "/api/admin/users/1/nope", "/static/nope.css"])
def test_unknown_route_is_404_problem(client, path):
    for headers in ({}, {"Accept": "text/html"}, {"Accept": "application/json"}):
        response = client.get(path, headers=headers)
        body = assert_problem_with_request_id(response, 404)
        assert body["type"] == "about:blank"


def test_unknown_route_is_404_even_with_a_token_or_a_body(client, auth):
    account = auth.register("nina")
    assert_problem_with_request_id(client.get("/api/files-nope", headers=account.headers), 404)
    assert_problem_with_request_id(client.post("/api/nope", json={"a": 1}), 404)
    assert_problem_with_request_id(client.delete("/api/nope"), 404)


@pytest.mark.parametrize("method, path, allowed", [
    ("GET", "/api/auth/login", {"POST"}),
    ("PUT", "/api/auth/register", {"POST"}),
    ("DELETE", "/health", {"GET"}),
    ("POST", "/", {"GET"}),
    ("PATCH", "/api/user/profile", {"GET", "PUT", "DELETE"}),
    ("POST", "/api/admin/users/1", {"GET", "DELETE"}),
    ("GET", "/api/user/profile/password", {"PUT"}),
])
def test_wrong_method_is_405_problem_with_allow_header(client, method, path, allowed):
    response = client.open(path, method=method, headers={"Accept": "text/html"})
    body = assert_problem_with_request_id(response, 405)
    allow = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= allow, allow
    assert method not in allow
    assert body["type"] == "about:blank"


def test_body_over_max_content_length_is_413_problem(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 200
    small = client.post("/api/auth/login", json={"identifier": "nobody", "password": "wrong password"})
    assert_problem(small, 401)  # under the limit the request goes through as usual
    big = client.post("/api/auth/login", json={"identifier": "nobody", "password": "x" * 5000})
    body = assert_problem_with_request_id(big, 413)
    assert body["type"] == "/problems/too-large"
    register = client.post("/api/auth/register", data="{" + " " * 5000 + "}", content_type="application/json")
    assert_problem_with_request_id(register, 413)


def test_body_over_max_content_length_on_an_authenticated_route_is_413(app, client, auth):
    account = auth.register("oscar")
    app.config["MAX_CONTENT_LENGTH"] = 200
    response = client.put("/api/user/profile", headers=account.headers, json={"username": "o" * 5000})
    assert_problem_with_request_id(response, 413)


def _add_failing_route(app):
    def explode():
        raise RuntimeError("kaboom: internal detail that must not reach the client")

    explode.is_public = True
    app.add_url_rule("/api/test-explode", "test_explode", explode, methods=["GET", "POST"])


def test_unexpected_exception_is_500_problem_with_request_id_and_is_logged(app, client, caplog):
    _add_failing_route(app)
    caplog.set_level(logging.ERROR)
    response = client.get("/api/test-explode", headers={"X-Request-ID": "trace-500-abc", "Accept": "text/html"})
    body = assert_problem_with_request_id(response, 500)
    assert body["request_id"] == "trace-500-abc"
    assert "trace-500-abc" in body["detail"]
    assert "kaboom" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert logged, caplog.text
    assert any(r.exc_info[0] is RuntimeError and "trace-500-abc" in r.getMessage() for r in logged), caplog.text


def test_unexpected_exception_without_client_id_quotes_a_generated_id(app, client, caplog):
    _add_failing_route(app)
    caplog.set_level(logging.ERROR)
    response = client.post("/api/test-explode", json={})
    body = assert_problem_with_request_id(response, 500)
    assert HEX_ID.match(body["request_id"])
    assert body["request_id"] in body["detail"]
    assert body["request_id"] in caplog.text


@pytest.mark.parametrize("request_id", ["abc-123", "A.b_c-9", "x" * 64, "0123456789abcdef"])
def test_valid_client_request_id_is_echoed(client, request_id):
    ok = client.get("/health", headers={"X-Request-ID": request_id})
    assert ok.status_code == 200
    assert ok.headers["X-Request-ID"] == request_id
    missing = client.get("/api/nope", headers={"X-Request-ID": request_id})
    assert assert_problem_with_request_id(missing, 404)["request_id"] == request_id


@pytest.mark.parametrize("request_id", ["has spaces", "a" * 200, "x" * 65, "<script>", "id;drop", "", "é-id",
                                        "../../etc"])
def test_invalid_client_request_id_is_replaced(client, request_id):
    ok = client.get("/health", headers={"X-Request-ID": request_id})
    assert ok.status_code == 200
    assert ok.headers["X-Request-ID"] != request_id
    assert HEX_ID.match(ok.headers["X-Request-ID"])
    missing = client.get("/api/nope", headers={"X-Request-ID": request_id})
    body = assert_problem_with_request_id(missing, 404)
    assert body["request_id"] != request_id
    assert HEX_ID.match(body["request_id"])


def test_each_request_without_an_id_gets_a_fresh_one(client):
    ids = {client.get("/health").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3
    assert all(HEX_ID.match(i) for i in ids)


def test_auth_and_validation_errors_carry_the_request_id_too(client):
    unauthorized = client.get("/api/auth/me", headers={"X-Request-ID": "req-401"})
    assert assert_problem_with_request_id(unauthorized, 401)["request_id"] == "req-401"
    invalid = client.post("/api/auth/register", json={}, headers={"X-Request-ID": "req-422"})
    assert assert_problem_with_request_id(invalid, 422)["request_id"] == "req-422"
    malformed = client.post("/api/auth/login", data="{nope", content_type="application/json")
    assert_problem_with_request_id(malformed, 400)


@pytest.mark.parametrize("path, body", [
    ("/api/auth/login", '{"identifier": "paula", "password": "\\ud800"}'),
    ("/api/auth/login", '{"identifier": "\\ud800", "password": "wrong password"}'),
    ("/api/auth/register", '{"username": "quinn", "email": "q@example.com", "password": "\\ud800abcdefgh"}'),
])
def test_text_that_is_not_valid_unicode_is_a_4xx_not_a_500(client, auth, path, body):
    auth.register("paula")
    response = client.post(path, data=body, content_type="application/json")
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


def test_login_still_works_after_the_errors_above(client, auth):
    """A sanity check that the problem handlers do not swallow normal answers."""
    auth.register("rita")
    response = auth.login("rita", PASSWORD)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
