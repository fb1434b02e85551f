"""UserDAO and RevokedTokenDAO on both backends; the DAO never commits."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import revoked_tokens as token_dao
from models import users as user_dao
from models.database import create_db_engine
from models.pagination import Page
from models.tables import revoked_tokens


@pytest.fixture
def engine(database_url):
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def add(conn, name, role="user"):
    return user_dao.insert_user(conn, name, f"{name}@example.com", "hash", role)


def test_dao_writes_vanish_without_the_callers_commit(engine):
    with engine.connect() as conn:
        add(conn, "ghost")
        conn.rollback()
    with engine.connect() as conn:
        assert user_dao.find_user_by_identifier(conn, "ghost") is None


def test_insert_get_find_update(engine):
    with engine.begin() as conn:
        user_id = add(conn, "ana")
        row = user_dao.get_user(conn, user_id)
        assert row["username"] == "ana" and row["is_active"] and row["token_version"] == 0
        assert user_dao.find_user_by_identifier(conn, "ana@example.com")["id"] == user_id
        user_dao.bump_token_version(conn, user_id, role="analyst")
        row = user_dao.get_user(conn, user_id)
        assert (row["token_version"], row["role"]) == (1, "analyst")
        assert user_dao.get_user(conn, 2**40) is None


def test_unique_username_and_email_are_exact_on_both_backends(engine):
    with engine.begin() as conn:
        add(conn, "eve")
        assert user_dao.taken_fields(conn, "eve", "new@example.com") == ["username"]
        assert user_dao.taken_fields(conn, "other", "eve@example.com") == ["email"]
        assert user_dao.taken_fields(conn, "eve", "eve@example.com", except_user_id=1_000_000) == ["username", "email"]
        # MySQL's default collation would call these equal; ours must not.
        assert user_dao.taken_fields(conn, "évé", None) == []
    with pytest.raises(IntegrityError), engine.begin() as conn:
        add(conn, "eve")


def test_deleting_a_user_cascades_to_its_revoked_tokens(engine):
    later = datetime(2099, 1, 1)
    with engine.begin() as conn:
        user_id = add(conn, "tom")
        token_dao.revoke_token(conn, "jti-1", user_id, later)
        token_dao.revoke_token(conn, "jti-1", user_id, later)
        assert token_dao.is_token_revoked(conn, "jti-1")
        assert user_dao.delete_user(conn, user_id)
        assert conn.execute(select(revoked_tokens)).all() == []
        assert not user_dao.delete_user(conn, user_id)


def test_purge_forgets_only_expired_tokens(engine):
    now = datetime(2030, 1, 1)
    with engine.begin() as conn:
        user_id = add(conn, "una")
        token_dao.revoke_token(conn, "old", user_id, now - timedelta(seconds=1))
        token_dao.revoke_token(conn, "new", user_id, now + timedelta(hours=1))
        assert token_dao.purge_expired_tokens(conn, now) == 1
        assert not token_dao.is_token_revoked(conn, "old")
        assert token_dao.is_token_revoked(conn, "new")


def test_list_and_count_users(engine):
    with engine.begin() as conn:
        for name in ("b", "c", "a"):
            add(conn, name + "_user")
        add(conn, "z_admin", role="admin")
        total, rows = user_dao.list_users(conn, Page(page=1, per_page=3, sort="username", order="asc"))
        assert total == 4
        assert [r["username"] for r in rows] == ["a_user", "b_user", "c_user"]
        assert user_dao.count_users(conn) == {"total": 4, "active": 4, "by_role": {"user": 3, "admin": 1}}
        assert user_dao.count_active_admins(conn) == 1
