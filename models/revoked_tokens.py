"""RevokedTokenDAO: the denylist of logged-out token ids, shared by every worker through the database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Exists, delete, exists, insert, select

from models.tables import revoked_tokens


def revoke_token(conn: Connection, jti: str, user_id: int, expires_at: datetime) -> None:
    """Deny the token `jti` until it would have expired anyway."""
    if not is_token_revoked(conn, jti):
        conn.execute(insert(revoked_tokens).values(jti=jti, user_id=user_id, expires_at=expires_at))


def is_token_revoked(conn: Connection, jti: str) -> bool:
    """True when the token id has been logged out."""
    return bool(conn.execute(select(token_revoked(jti))).scalar_one())


def token_revoked(jti) -> Exists:
    """EXISTS on the denylist for `jti` (a value or a bind parameter), to ask in the same query as something else."""
    return exists().where(revoked_tokens.c.jti == jti)


def purge_expired_tokens(conn: Connection, now: datetime) -> int:
    """Forget denylist entries whose tokens have expired; returns how many went."""
    return conn.execute(delete(revoked_tokens).where(revoked_tokens.c.expires_at < now)).rowcount
