"""Login and register are throttled per identifier and per IP (AUTH_RATE_LIMIT=10/minute in the fixtures)."""
from __future__ import annotations

from tests.conftest import PASSWORD, assert_problem

LIMIT = 10


def ip(n: int) -> dict:
    return {"environ_base": {"REMOTE_ADDR": f"10.0.0.{n}"}}


def assert_rate_limited(response) -> dict:
    body = assert_problem(response, 429)
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 60
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert body["type"] == "/problems/rate-limited"
    return body


def test_the_app_fixture_sets_the_limit(app):
    assert app.config["AUTH_RATE_LIMIT"] == "10/minute"
    assert app.config["RATELIMIT_ENABLED"] is True


def test_burst_of_failed_logins_for_one_identifier_is_429(auth):
    auth.register("victor")
    for _ in range(LIMIT):
        assert_problem(auth.login("victor", "wrong password"), 401)
    assert_rate_limited(auth.login("victor", "wrong password"))
    # while throttled even the right password is refused, so guessing cannot go on behind the 429s
    assert_rate_limited(auth.login("victor", PASSWORD))


def test_per_identifier_limit_holds_across_ips_and_spellings(auth):
    auth.register("wendy")
    spellings = ["wendy", "WENDY", " Wendy ", "wEnDy"]
    for n in range(LIMIT):
        assert_problem(auth.login(spellings[n % len(spellings)], "wrong password", **ip(n + 1)), 401)
    assert_rate_limited(auth.login("wendy", "wrong password", **ip(99)))
    assert_rate_limited(auth.login("Wendy", PASSWORD, **ip(100)))
    # another account, from a fresh IP, is not affected
    auth.register("xena")
    assert auth.login("xena", PASSWORD, **ip(101)).status_code == 200


def test_per_ip_limit_holds_across_identifiers(auth):
    auth.register("yuri")
    for n in range(LIMIT):
        assert_problem(auth.login(f"someone{n}", "wrong password", **ip(50)), 401)
    assert_rate_limited(auth.login("someone-else", "wrong password", **ip(50)))
    assert_rate_limited(auth.login("yuri", PASSWORD, **ip(50)))
    # the same account from another IP still gets through
    assert auth.login("yuri", PASSWORD, **ip(51)).status_code == 200


def test_x_forwarded_for_does_not_dodge_the_per_ip_limit(app, auth):
    assert app.config["PROXY_HOPS"] == 0
    for n in range(LIMIT):
        response = auth.login(f"spoof{n}", "wrong password", headers={"X-Forwarded-For": f"192.0.2.{n}"}, **ip(60))
        assert_problem(response, 401)
    response = auth.login("spoof-last", "wrong password", headers={"X-Forwarded-For": "192.0.2.200"}, **ip(60))
    assert_rate_limited(response)


def test_register_is_throttled_per_identifier(client):
    statuses = []
    for n in range(LIMIT):
        response = client.post("/api/auth/register", json={"username": "zara", "email": "zara@example.com",
                                                           "password": PASSWORD}, **ip(n + 1))
        statuses.append(response.status_code)
    assert statuses == [201] + [409] * (LIMIT - 1)
    response = client.post("/api/auth/register", json={"username": "zara", "email": "zara@example.com",
                                                       "password": PASSWORD}, **ip(99))
    assert_rate_limited(response)


def test_register_is_throttled_per_ip(client):
    for n in range(LIMIT):
        response = client.post("/api/auth/register", json={"username": f"bulk{n}", "email": f"bulk{n}@example.com",
                                                           "password": PASSWORD}, **ip(70))
        assert response.status_code == 201, response.json
    response = client.post("/api/auth/register", json={"username": "bulk-last", "email": "bulk-last@example.com",
                                                       "password": PASSWORD}, **ip(70))
    assert_rate_limited(response)
    # nothing was created by the refused request
    again = client.post("/api/auth/register", json={"username": "bulk-last", "email": "bulk-last@example.com",
                                                    "password": PASSWORD}, **ip(71))
    assert again.status_code == 201


def test_retry_after_is_readable_by_browser_clients(auth):
    headers = {"Origin": "http://localhost:5173"}
    for _ in range(LIMIT):
        auth.login("ursa", "wrong password", headers=headers, **ip(80))
    response = auth.login("ursa", "wrong password", headers=headers, **ip(80))
    assert_rate_limited(response)
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    exposed = {h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert "retry-after" in exposed


def test_other_routes_are_not_throttled_by_the_auth_limit(client, auth):
    account = auth.register("tom")
    for _ in range(LIMIT + 5):
        assert client.get("/api/auth/me", headers=account.headers).status_code == 200
        assert client.get("/health").status_code == 200
