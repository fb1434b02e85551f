"""Self-service accounts: register, log in and out, resolve tokens, edit or delete one's own profile."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from models import analyses as analysis_dao
from models import files as file_dao
from models import revoked_tokens as token_dao
from models import users as user_dao
from models.database import utc_now
from services.errors import Conflict, Forbidden, Invalid, Unauthorized, UserNotFound
from services.passwords import check_password_policy, hash_password, verify_password
from services.runtime.storage import remove_user_storage
from services.tokens import decode_token, issue_token

logger = logging.getLogger(__name__)
ROLES = ("user", "analyst", "admin")
BAD_LOGIN = "unknown user or wrong password"


@dataclass(frozen=True)
class AuthSettings:
    """What the account services need from the configuration."""

    secret_key: str
    token_minutes: int
    bcrypt_rounds: int
    storage_root: Path


def public_user(row: dict) -> dict:
    """The fields of a user row that may leave the server."""
    return {
        "user_id": row["id"],
        "username": row["username"],
        "email": row["email"],
        "role": row["role"],
        "is_active": bool(row["is_active"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def normalise_identity(value: str) -> str:
    """Usernames and emails are stored and compared trimmed and lower-cased."""
    return value.strip().lower()


class AccountService:
    """Account operations; each public method runs in one transaction of its own."""

    def __init__(self, engine: Engine, settings: AuthSettings) -> None:
        self.engine = engine
        self.settings = settings

    def register(self, username: str, email: str, password: str, role: str = "user") -> dict:
        """Create a user and return its id with a first token."""
        username, email = normalise_identity(username), normalise_identity(email)
        check_password_policy(password)
        password_hash = hash_password(password, self.settings.bcrypt_rounds)
        with self.engine.begin() as conn:
            _refuse_taken(conn, username, email)
            try:
                user_id = user_dao.insert_user(conn, username, email, password_hash, role)
            except IntegrityError as exc:
                raise Conflict("username or email is already registered") from exc
        logger.info("registered user %s", user_id)
        return {"user_id": user_id, **self._token_for(user_id, 0)}

    def login(self, identifier: str, password: str) -> dict:
        """Check credentials; unknown users and wrong passwords get the same answer."""
        with self.engine.connect() as conn:
            user = user_dao.find_user_by_identifier(conn, normalise_identity(identifier))
        if not verify_password(password, user["password_hash"] if user else None):
            raise Unauthorized(BAD_LOGIN)
        if not user["is_active"]:
            raise Forbidden("this account is deactivated")
        return {**self._token_for(user["id"], user["token_version"]), "user": public_user(user)}

    def authenticate(self, token: str) -> tuple[dict, dict]:
        """The user and claims behind a bearer token, or Unauthorized if it is bad, stale or revoked."""
        claims = decode_token(token, self.settings.secret_key)
        with self.engine.connect() as conn:
            user, revoked = user_dao.get_token_user(conn, int(claims["sub"]), claims["jti"])
        issued_at = datetime.fromtimestamp(claims["iat"], UTC).replace(tzinfo=None)
        stale = user is None or claims.get("ver", 0) != user["token_version"] or issued_at < user["created_at"]
        if stale or revoked:
            raise Unauthorized("token revoked")
        if not user["is_active"]:
            raise Unauthorized("this account is deactivated")
        return user, claims

    def logout(self, user_id: int, claims: dict) -> None:
        """Deny this token (only this one) until it expires."""
        expires_at = datetime.fromtimestamp(claims["exp"], UTC).replace(tzinfo=None)
        with self.engine.begin() as conn:
            token_dao.purge_expired_tokens(conn, utc_now())
            token_dao.revoke_token(conn, claims["jti"], user_id, expires_at)

    def profile(self, user_id: int) -> dict:
        """The user's own profile with how many files and analyses they have."""
        with self.engine.connect() as conn:
            return {**public_user(existing_user(conn, user_id)), "files": file_dao.count_files(conn, user_id),
                    "analyses": analysis_dao.count_analyses(conn, user_id)}

    def update_profile(self, user_id: int, username: str | None = None, email: str | None = None) -> dict:
        """Change username and/or email; other fields cannot be changed here."""
        changes = {k: normalise_identity(v) for k, v in (("username", username), ("email", email)) if v is not None}
        with self.engine.begin() as conn:
            existing_user(conn, user_id)
            if changes:
                _refuse_taken(conn, changes.get("username"), changes.get("email"), except_user_id=user_id)
                try:
                    user_dao.update_user(conn, user_id, **changes)
                except IntegrityError as exc:
                    raise Conflict("username or email is already registered") from exc
            return public_user(user_dao.get_user(conn, user_id))

    def change_password(self, user_id: int, old_password: str, new_password: str) -> dict:
        """Replace the password and revoke every earlier token; returns a fresh token."""
        check_password_policy(new_password, field="new_password")
        with self.engine.begin() as conn:
            user = existing_user(conn, user_id)
            if not verify_password(old_password, user["password_hash"]):
                raise Invalid.field("old_password", "does not match the current password")
            user_dao.bump_token_version(
                conn, user_id, password_hash=hash_password(new_password, self.settings.bcrypt_rounds)
            )
            version = user["token_version"] + 1
        return self._token_for(user_id, version)

    def delete_account(self, user_id: int) -> None:
        """Delete the user, their rows (by cascade) and their stored files."""
        with self.engine.begin() as conn:
            if not user_dao.delete_user(conn, user_id):
                raise UserNotFound()
        remove_user_storage(self.settings.storage_root, user_id)
        logger.info("deleted user %s", user_id)

    def _token_for(self, user_id: int, token_version: int) -> dict:
        token, _claims = issue_token(user_id, token_version, self.settings.secret_key, self.settings.token_minutes)
        return {"token": token, "token_type": "Bearer", "expires_in": self.settings.token_minutes * 60}


def existing_user(conn, user_id: int) -> dict:
    """The user row, or UserNotFound."""
    user = user_dao.get_user(conn, user_id)
    if user is None:
        raise UserNotFound(user_id)
    return user


def _refuse_taken(conn, username: str | None, email: str | None, except_user_id: int | None = None) -> None:
    taken = user_dao.taken_fields(conn, username, email, except_user_id)
    if taken:
        raise Conflict(
            f"{' and '.join(taken)} already registered",
            errors=[{"field": field, "message": "already registered"} for field in taken],
        )
