"""`flask create-admin`: the only way to make the first admin."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import PASSWORD, REPO, assert_problem

PROJECT = REPO


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def admin_args(username="boss", email=None, password=PASSWORD) -> list[str]:
    args = ["create-admin", "--username", username, "--email", email or f"{username}@example.com"]
    if password is not None:
        args += ["--password", password]
    return args


def create_admin(runner, username="boss", email=None, password=PASSWORD):
    return runner.invoke(args=admin_args(username, email, password))


def user_count(client, admin_headers) -> int:
    response = client.get("/api/admin/stats", headers=admin_headers)
    assert response.status_code == 200, response.json
    return response.json["users"]["total"]


def test_create_admin_makes_an_admin_who_can_log_in_and_administer(runner, client, auth):
    result = create_admin(runner, "boss")
    assert result.exit_code == 0, result.output
    assert "'boss' created" in result.output
    login = auth.login("boss")
    assert login.status_code == 200, login.json
    assert login.json["user"]["role"] == "admin"
    assert login.json["user"]["email"] == "boss@example.com"
    assert f"id {login.json['user']['user_id']}" in result.output
    headers = {"Authorization": f"Bearer {login.json['token']}"}
    stats = client.get("/api/admin/stats", headers=headers)
    assert stats.status_code == 200
    assert stats.json["users"] == {"total": 1, "active": 1, "by_role": {"admin": 1}}


def test_a_plain_user_cannot_reach_admin_routes_but_the_cli_admin_can(runner, client, auth):
    account = auth.register("pleb")
    assert_problem(client.get("/api/admin/stats", headers=account.headers), 403)
    assert create_admin(runner, "chief").exit_code == 0
    token = auth.login("chief").json["token"]
    users = client.get("/api/admin/users", headers={"Authorization": f"Bearer {token}"})
    assert users.status_code == 200
    assert {u["username"] for u in users.json["items"]} == {"pleb", "chief"}


def test_duplicate_username_exits_non_zero_with_a_clear_message(runner, client, auth):
    assert create_admin(runner, "boss").exit_code == 0
    for username, email in (("boss", "other@example.com"), ("BOSS", "third@example.com")):
        result = create_admin(runner, username, email)
        assert result.exit_code != 0
        assert "Error:" in result.output
        assert "username" in result.output
        assert "already registered" in result.output
        assert "Traceback" not in result.output
    headers = {"Authorization": f"Bearer {auth.login('boss').json['token']}"}
    assert user_count(client, headers) == 1


def test_duplicate_email_exits_non_zero(runner):
    assert create_admin(runner, "boss", "boss@example.com").exit_code == 0
    result = create_admin(runner, "boss2", "Boss@Example.com")
    assert result.exit_code != 0
    assert "email" in result.output
    assert "already registered" in result.output


@pytest.mark.parametrize("password, message", [("short", "at least 8"), ("é" * 37, "at most 72 bytes")])
def test_bad_password_exits_non_zero_and_creates_nobody(runner, auth, password, message):
    result = create_admin(runner, "boss", password=password)
    assert result.exit_code != 0
    assert "password" in result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert_problem(auth.login("boss", password), 401)
    assert create_admin(runner, "boss").exit_code == 0


def test_password_can_come_from_admin_password(runner, auth):
    result = runner.invoke(args=["create-admin", "--username", "envboss", "--email", "envboss@example.com"],
                           env={"ADMIN_PASSWORD": "from the environment"})
    assert result.exit_code == 0, result.output
    assert auth.login("envboss", "from the environment").status_code == 200


def test_password_prompt_asks_twice(runner, auth):
    result = runner.invoke(args=["create-admin", "--username", "promptboss", "--email", "pb@example.com"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input
    assert auth.login("promptboss").status_code == 200


@pytest.mark.parametrize("username, email", [("bad name/..", "ok@example.com"), ("okname", "not-an-email"),
                                             ("", "empty@example.com")])
def test_cli_applies_the_register_rules_to_username_and_email(runner, username, email):
    result = create_admin(runner, username, email)
    assert result.exit_code != 0, result.output


def test_create_admin_runs_from_the_plain_test_cli_runner(app, auth):
    result = app.test_cli_runner().invoke(args=admin_args("plainboss"))
    assert result.exit_code == 0, repr(result.exception)
    assert auth.login("plainboss").status_code == 200


def test_the_real_flask_command_creates_an_admin(app, auth, database_url, tmp_path):
    env = {**os.environ, "APP_ENV": "testing", "DATABASE_URL": database_url, "UPLOAD_DIR": str(tmp_path / "cli"),
           "REDIS_URL": "", "LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "flask", "--app", "app", *admin_args("realboss")]
    first = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "'realboss' created" in first.stdout
    again = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode != 0
    assert "Error:" in again.stderr
    assert "username" in again.stderr
    assert "already registered" in again.stderr
    login = auth.login("realboss")
    assert login.status_code == 200
    assert login.json["user"]["role"] == "admin"
