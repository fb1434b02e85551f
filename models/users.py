"""UserDAO: reads and writes the users table. Never commits."""
from __future__ import annotations

from sqlalchemy import Connection, bindparam, delete, func, insert, or_, select, update

from models.database import utc_now
from models.pagination import Page, paginate
from models.revoked_tokens import token_revoked
from models.tables import MAX_ID, users

USER_SORT_COLUMNS = {
    "id": users.c.id,
    "username": users.c.username,
    "email": users.c.email,
    "role": users.c.role,
    "created_at": users.c.created_at,
}
# Built once: this runs on every authenticated request, and building and cache-keying a statement costs more
# than SQLite takes to answer it.
_TOKEN_USER = select(users, token_revoked(bindparam("jti")).label("token_revoked")) \
    .where(users.c.id == bindparam("user_id"))


def insert_user(conn: Connection, username: str, email: str, password_hash: str, role: str = "user") -> int:
    """Insert an active user and return its id."""
    now = utc_now()
    result = conn.execute(
        insert(users).values(
            username=username,
            email=email,
            password_hash=password_hash,
            role=role,
            is_active=True,
            token_version=0,
            created_at=now,
            updated_at=now,
        )
    )
    return int(result.inserted_primary_key[0])


def get_user(conn: Connection, user_id: int) -> dict | None:
    """The user row with this id, or None (also for ids no INTEGER column can hold)."""
    if not 0 < user_id <= MAX_ID:
        return None
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return dict(row._mapping) if row else None


def get_token_user(conn: Connection, user_id: int, jti: str) -> tuple[dict | None, bool]:
    """The user a token names and whether the token id is on the denylist, read together in one round trip
    (every request asks both, and another worker may have revoked the token a moment ago)."""
    if not 0 < user_id <= MAX_ID:
        return None, False
    row = conn.execute(_TOKEN_USER, {"user_id": user_id, "jti": jti}).first()
    if row is None:
        return None, False
    user = dict(row._mapping)
    return user, bool(user.pop("token_revoked"))


def find_user_by_identifier(conn: Connection, identifier: str) -> dict | None:
    """The user whose username or email is `identifier` (already normalised), or None."""
    row = conn.execute(
        select(users).where(or_(users.c.username == identifier, users.c.email == identifier))
    ).first()
    return dict(row._mapping) if row else None


def taken_fields(
    conn: Connection, username: str | None, email: str | None, except_user_id: int | None = None
) -> list[str]:
    """Which of `username` and `email` already belong to another user."""
    taken = []
    for field, value in (("username", username), ("email", email)):
        if value is None:
            continue
        query = select(users.c.id).where(users.c[field] == value)
        if except_user_id is not None:
            query = query.where(users.c.id != except_user_id)
        if conn.execute(query).first():
            taken.append(field)
    return taken


def update_user(conn: Connection, user_id: int, **values) -> None:
    """Set the given columns (and updated_at) on one user."""
    conn.execute(update(users).where(users.c.id == user_id).values(updated_at=utc_now(), **values))


def bump_token_version(conn: Connection, user_id: int, **values) -> None:
    """Invalidate every token issued so far to this user, optionally setting other columns too."""
    update_user(conn, user_id, token_version=users.c.token_version + 1, **values)


def delete_user(conn: Connection, user_id: int) -> bool:
    """Delete one user (dependent rows go by ON DELETE CASCADE); True if a row was deleted."""
    return conn.execute(delete(users).where(users.c.id == user_id)).rowcount > 0


def list_users(conn: Connection, page: Page) -> tuple[int, list[dict]]:
    """One page of users and the total count."""
    return paginate(conn, select(users), page, USER_SORT_COLUMNS, users.c.id)


def count_active_admins(conn: Connection) -> int:
    """How many active admins exist."""
    query = select(func.count()).where(users.c.role == "admin", users.c.is_active.is_(True))
    return conn.execute(query).scalar_one()


def count_users(conn: Connection) -> dict:
    """User totals: all, active, and per role."""
    per_role = select(users.c.role, func.count().label("n")).group_by(users.c.role)
    by_role = {row.role: row.n for row in conn.execute(per_role)}
    active = conn.execute(select(func.count()).where(users.c.is_active.is_(True))).scalar_one()
    return {"total": sum(by_role.values()), "active": active, "by_role": by_role}
