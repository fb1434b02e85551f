"""The signed-in user's profile: read, edit, password change, delete."""
from tests.conftest import PASSWORD, assert_problem


def test_profile_read_and_update_ignores_other_fields(client, auth):
    account = auth.register("ivy")
    profile = client.get("/api/user/profile", headers=account.headers)
    assert profile.status_code == 200
    assert profile.json["username"] == "ivy"
    response = client.put("/api/user/profile", headers=account.headers, json={
        "username": "Ivy2", "email": "IVY2@example.com", "role": "admin", "user_id": 77, "is_active": False,
    })
    assert response.status_code == 200
    assert response.json["username"] == "ivy2"
    assert response.json["email"] == "ivy2@example.com"
    assert response.json["role"] == "user"
    assert response.json["user_id"] == account.user_id
    assert auth.login("ivy2@example.com").status_code == 200


def test_profile_update_conflicts_and_validation(client, auth):
    auth.register("jack")
    account = auth.register("kate")
    assert_problem(client.put("/api/user/profile", headers=account.headers, json={"username": "JACK"}), 409, "username")
    assert_problem(client.put("/api/user/profile", headers=account.headers, json={"email": "jack@example.com"}),
                   409, "email")
    assert_problem(client.put("/api/user/profile", headers=account.headers, json={"email": "nope"}), 422, "email")
    assert_problem(client.put("/api/user/profile", headers=account.headers, json={"username": ["x"]}), 422, "username")
    same = client.put("/api/user/profile", headers=account.headers, json={"username": "kate"})
    assert same.status_code == 200


def test_password_change_needs_old_password_and_revokes_old_tokens(client, auth):
    account = auth.register("liam")
    wrong = client.put("/api/user/profile/password", headers=account.headers,
                       json={"old_password": "not it at all", "new_password": "brand new pass"})
    assert_problem(wrong, 422, "old_password")
    too_long = client.put("/api/user/profile/password", headers=account.headers,
                          json={"old_password": PASSWORD, "new_password": "x" * 73})
    assert_problem(too_long, 422, "new_password")
    missing = client.put("/api/user/profile/password", headers=account.headers, json={"new_password": "abcdefghij"})
    assert_problem(missing, 422, "old_password")

    changed = client.put("/api/user/profile/password", headers=account.headers,
                         json={"old_password": PASSWORD, "new_password": "brand new pass"})
    assert changed.status_code == 200
    assert_problem(client.get("/api/auth/me", headers=account.headers), 401)
    fresh = {"Authorization": f"Bearer {changed.json['token']}"}
    assert client.get("/api/auth/me", headers=fresh).status_code == 200
    assert_problem(auth.login("liam"), 401)
    assert auth.login("liam", "brand new pass").status_code == 200


def test_delete_account_removes_user_tokens_and_stored_files(app, client, auth):
    account = auth.register("mia")
    folder = app.config["UPLOAD_DIR"] / f"user_{account.user_id}"
    folder.mkdir(parents=True)
    (folder / "sales.parquet").write_bytes(b"data")
    client.post("/api/auth/logout", headers={"Authorization": f"Bearer {auth.login('mia').json['token']}"})

    assert client.delete("/api/user/profile", headers=account.headers).status_code == 200
    assert not folder.exists()
    assert_problem(client.get("/api/user/profile", headers=account.headers), 401)
    assert_problem(auth.login("mia"), 401)
    assert auth.register("mia").user_id != account.user_id
