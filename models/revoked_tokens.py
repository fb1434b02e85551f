"""RevokedTokenDAO: the denylist of logged-out token ids, shared by every worker through the database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from models.tables import revoked_tokens


def revoke_token(conn: Connection, jti: str, user_id: int, expires_at: datetime) -> None:
    """Deny the token `jti` until it would have expired anyway."""
    if not is_token_revoked(conn, jti):
        conn.execute(insert(revoked_tokens).values(jti=jti, user_id=user_id, expires_at=expires_at))


def is_token_revoked(conn: Connection, jti: str) -> bool:
    """True when the token id has been logged out."""
    return conn.execute(select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == jti)).first() is not None


def purge_expired_tokens(conn: Connection, now: datetime) -> int:
    """Forget denylist entries whose tokens have expired; returns how many went."""
    return conn.execute(delete(revoked_tokens).where(revoked_tokens.c.expires_at < now)).rowcount
