"""Register, login, me and logout through the HTTP API."""
from tests.conftest import PASSWORD, assert_problem


def test_register_returns_token_and_ignores_privileged_fields(client, auth):
    response = client.post("/api/auth/register", json={
        "username": "Alice", "email": "Alice@Example.com", "password": PASSWORD,
        "role": "admin", "id": 99, "is_active": False,
    })
    assert response.status_code == 201
    assert response.json["message"] == "registered"
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {response.json['token']}"})
    assert me.status_code == 200
    assert me.json["user_id"] == response.json["user_id"]
    assert me.json["username"] == "alice"
    assert me.json["email"] == "alice@example.com"
    assert me.json["role"] == "user"
    assert me.json["is_active"] is True
    assert me.json["created_at"].endswith("+00:00")


def test_login_by_username_or_email_case_insensitively(auth):
    account = auth.register("bob")
    for identifier in ("bob", "BOB", "bob@example.com", " Bob@Example.COM "):
        response = auth.login(identifier)
        assert response.status_code == 200, identifier
        assert response.json["user"]["user_id"] == account.user_id
        assert response.json["expires_in"] == 3600


def test_unknown_user_and_wrong_password_get_the_same_401(auth):
    auth.register("carol")
    wrong = auth.login("carol", "wrong password")
    unknown = auth.login("nobody", "wrong password")
    for response in (wrong, unknown):
        assert_problem(response, 401)
    assert {k: v for k, v in wrong.json.items() if k != "request_id"} == \
        {k: v for k, v in unknown.json.items() if k != "request_id"}


def test_password_over_72_bytes_is_422_at_register_and_401_at_login(client, auth):
    long_password = "é" * 37  # 74 bytes in UTF-8, 37 characters
    response = client.post("/api/auth/register", json={"username": "dave", "email": "d@example.com",
                                                       "password": long_password})
    assert_problem(response, 422, "password")
    auth.register("dave")
    assert_problem(auth.login("dave", long_password), 401)
    assert_problem(auth.login("dave", "x" * 10_000), 401)


def test_short_password_is_422(client):
    response = client.post("/api/auth/register", json={"username": "erin", "email": "e@example.com",
                                                       "password": "short"})
    assert_problem(response, 422, "password")


def test_duplicate_username_or_email_is_409_naming_the_field(client, auth):
    auth.register("frank")
    same_name = client.post("/api/auth/register", json={"username": "FRANK", "email": "other@example.com",
                                                        "password": PASSWORD})
    assert_problem(same_name, 409, "username")
    same_email = client.post("/api/auth/register", json={"username": "frank2", "email": "Frank@example.com",
                                                         "password": PASSWORD})
    assert_problem(same_email, 409, "email")


def test_register_validation_errors_name_each_field(client):
    response = client.post("/api/auth/register", json={"username": 12, "email": "not-an-email"})
    body = assert_problem(response, 422)
    assert {e["field"] for e in body["errors"]} == {"username", "email", "password"}
    bad_name = client.post("/api/auth/register", json={"username": "a b/../c", "email": "x@example.com",
                                                       "password": PASSWORD})
    assert_problem(bad_name, 422, "username")


def test_malformed_and_non_object_json(client):
    malformed = client.post("/api/auth/login", data="{not json", content_type="application/json")
    assert_problem(malformed, 400)
    for body in ("[1, 2]", '"text"', "null", "42"):
        response = client.post("/api/auth/login", data=body, content_type="application/json")
        assert response.status_code in (400, 422), body
        assert response.mimetype == "application/problem+json"


def test_form_encoded_body_is_a_validation_error_not_a_crash(client):
    response = client.post("/api/auth/login", data={"identifier": "x", "password": "y"})
    assert_problem(response, 422, "identifier")


def test_me_needs_a_bearer_token(client):
    assert_problem(client.get("/api/auth/me"), 401)
    assert_problem(client.get("/api/auth/me", headers={"Authorization": "Basic YWxpY2U6cHc="}), 401)
    assert_problem(client.get("/api/auth/me", headers={"Authorization": "Bearer "}), 401)
    assert_problem(client.get("/api/auth/me", headers={"Authorization": "Bearer not.a.jwt"}), 401)
    response = client.get("/api/auth/me")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_logout_revokes_only_that_token(client, auth):
    account = auth.register("gina")
    other_session = auth.login("gina").json["token"]
    assert client.post("/api/auth/logout", headers=account.headers).status_code == 200
    assert_problem(client.get("/api/auth/me", headers=account.headers), 401)
    assert_problem(client.post("/api/auth/logout", headers=account.headers), 401)
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {other_session}"}).status_code == 200


def test_deactivated_account_cannot_log_in(client, auth):
    admin = auth.admin()
    account = auth.register("hank")
    client.put(f"/api/admin/users/{account.user_id}/toggle-active", headers=admin.headers)
    assert_problem(auth.login("hank"), 403)
    assert_problem(client.get("/api/auth/me", headers=account.headers), 401)
