"""Admin user management: roles, activation, deletion, stats, and who may call it."""
import pytest

from tests.conftest import assert_problem

ADMIN_CALLS = [
    ("get", "/api/admin/users", None),
    ("get", "/api/admin/users/1", None),
    ("put", "/api/admin/users/1/role", {"role": "analyst"}),
    ("put", "/api/admin/users/1/toggle-active", None),
    ("delete", "/api/admin/users/1", None),
    ("get", "/api/admin/stats", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
def test_admin_routes_need_a_token_and_the_admin_role(client, auth, method, path, body):
    assert_problem(getattr(client, method)(path, json=body), 401)
    for role_name in ("user", "analyst"):
        account = auth.register(f"u_{role_name}")
        if role_name == "analyst":
            admin = auth.admin("boss")
            client.put(f"/api/admin/users/{account.user_id}/role", headers=admin.headers, json={"role": "analyst"})
            account.token = auth.login(account.username).json["token"]
        assert_problem(getattr(client, method)(path, json=body, headers=account.headers), 403)


def test_list_users_paginates_and_sorts(client, auth):
    admin = auth.admin()
    for name in ("zed", "amy", "max"):
        auth.register(name)
    page = client.get("/api/admin/users?page=1&per_page=2&sort=username&order=desc", headers=admin.headers)
    assert page.status_code == 200
    assert page.json["total"] == 4
    assert (page.json["page"], page.json["per_page"]) == (1, 2)
    assert [u["username"] for u in page.json["items"]] == ["zed", "root"]
    second = client.get("/api/admin/users?page=2&per_page=2&sort=username&order=desc", headers=admin.headers)
    assert [u["username"] for u in second.json["items"]] == ["max", "amy"]
    beyond = client.get("/api/admin/users?page=9", headers=admin.headers)
    assert beyond.json["items"] == [] and beyond.json["total"] == 4


@pytest.mark.parametrize("query", ["per_page=501", "per_page=0", "page=0", "page=abc", "sort=password_hash",
                                   "order=sideways"])
def test_list_users_rejects_bad_paging(client, auth, query):
    admin = auth.admin()
    assert_problem(client.get(f"/api/admin/users?{query}", headers=admin.headers), 422)


def test_get_user_and_unknown_ids(client, auth):
    admin = auth.admin()
    account = auth.register("nora")
    response = client.get(f"/api/admin/users/{account.user_id}", headers=admin.headers)
    assert response.status_code == 200 and response.json["username"] == "nora"
    for user_id in ("999999", "99999999999999999999", "0"):
        assert_problem(client.get(f"/api/admin/users/{user_id}", headers=admin.headers), 404)
    assert_problem(client.get("/api/admin/users/abc", headers=admin.headers), 404)


def test_role_change_applies_and_revokes_tokens(client, auth):
    admin = auth.admin()
    account = auth.register("omar")
    bad = client.put(f"/api/admin/users/{account.user_id}/role", headers=admin.headers, json={"role": "god"})
    assert_problem(bad, 422, "role")
    changed = client.put(f"/api/admin/users/{account.user_id}/role", headers=admin.headers, json={"role": "analyst"})
    assert changed.status_code == 200 and changed.json["role"] == "analyst"
    assert_problem(client.get("/api/auth/me", headers=account.headers), 401)
    assert auth.login("omar").json["user"]["role"] == "analyst"


def test_toggle_active_twice(client, auth):
    admin = auth.admin()
    account = auth.register("pia")
    off = client.put(f"/api/admin/users/{account.user_id}/toggle-active", headers=admin.headers)
    assert off.json["is_active"] is False
    assert_problem(client.get("/api/auth/me", headers=account.headers), 401)
    on = client.put(f"/api/admin/users/{account.user_id}/toggle-active", headers=admin.headers)
    assert on.json["is_active"] is True
    assert auth.login("pia").status_code == 200


def test_the_last_active_admin_cannot_be_removed(client, auth):
    admin = auth.admin()
    own = f"/api/admin/users/{admin.user_id}"
    assert_problem(client.put(f"{own}/role", headers=admin.headers, json={"role": "user"}), 409)
    assert_problem(client.put(f"{own}/toggle-active", headers=admin.headers), 409)
    assert_problem(client.delete(own, headers=admin.headers), 409)
    second = auth.admin("second")
    assert client.put(f"{own}/role", headers=second.headers, json={"role": "user"}).status_code == 200


def test_delete_user_and_stats(app, client, auth):
    admin = auth.admin()
    account = auth.register("quinn")
    auth.register("rita")
    folder = app.config["UPLOAD_DIR"] / f"user_{account.user_id}"
    folder.mkdir(parents=True)
    stats = client.get("/api/admin/stats", headers=admin.headers).json
    assert stats["users"] == {"total": 3, "active": 3, "by_role": {"admin": 1, "user": 2}}
    assert client.delete(f"/api/admin/users/{account.user_id}", headers=admin.headers).status_code == 200
    assert not folder.exists()
    assert_problem(client.delete(f"/api/admin/users/{account.user_id}", headers=admin.headers), 404)
    assert client.get("/api/admin/stats", headers=admin.headers).json["users"]["total"] == 2
