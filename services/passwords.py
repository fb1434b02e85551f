"""Password hashing with bcrypt, including its 72-byte input limit."""
from __future__ import annotations

import bcrypt

from services.errors import Invalid

BCRYPT_MAX_BYTES = 72
MIN_PASSWORD_CHARS = 8
# Verified against when the user does not exist, so unknown users cost the same time as wrong passwords.
_DUMMY_HASH = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=4))


def check_password_policy(password: str, field: str = "password") -> None:
    """Raise Invalid unless the password has 8+ characters and fits bcrypt's 72 UTF-8 bytes."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise Invalid.field(field, f"must be at least {MIN_PASSWORD_CHARS} characters")
    encoded = _utf8(password)
    if encoded is None:
        raise Invalid.field(field, "is not valid Unicode text")
    if len(encoded) > BCRYPT_MAX_BYTES:
        raise Invalid.field(field, f"must be at most {BCRYPT_MAX_BYTES} bytes in UTF-8")


def hash_password(password: str, rounds: int) -> str:
    """bcrypt hash of a password that already passed check_password_policy."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when the password matches; never raises (bcrypt 5 raises on >72 bytes, which is simply a mismatch)."""
    encoded = _utf8(password)
    if password_hash is None or encoded is None or len(encoded) > BCRYPT_MAX_BYTES:
        bcrypt.checkpw(b"x", _DUMMY_HASH)
        return False
    try:
        return bcrypt.checkpw(encoded, password_hash.encode("ascii"))
    except ValueError:
        return False


def _utf8(text: str) -> bytes | None:
    """UTF-8 bytes, or None for text holding lone surrogates (valid JSON, not valid Unicode)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None
