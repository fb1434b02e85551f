"""JWT access tokens: HS256 only, with exp/iat/sub/jti required and a per-user version claim."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import jwt

from services.errors import Unauthorized

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti"]
_USER_ID = re.compile(r"[1-9][0-9]{0,9}")


def issue_token(user_id: int, token_version: int, secret: str, lifetime_minutes: int) -> tuple[str, dict]:
    """A signed token for the user and its claims."""
    now = datetime.now(UTC).replace(microsecond=0)
    claims = {
        "sub": str(user_id),
        "iat": now,
        "exp": now + timedelta(minutes=lifetime_minutes),
        "jti": uuid.uuid4().hex,
        "ver": token_version,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), claims


def decode_token(token: str, secret: str) -> dict:
    """Verified claims of a token, or Unauthorized saying why it was refused."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("invalid token") from exc
    if not _USER_ID.fullmatch(str(claims["sub"])) or not isinstance(claims.get("ver", 0), int):
        raise Unauthorized("invalid token")
    return claims
