"""User administration for admins: list, inspect, change role, (de)activate, delete, and system counts."""
from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import Engine

from models import analyses as analysis_dao
from models import files as file_dao
from models import jobs as job_dao
from models import users as user_dao
from models.pagination import Page
from services.accounts import ROLES, AccountService, AuthSettings, existing_user, public_user
from services.errors import Conflict, Invalid
from services.runtime.storage import remove_user_storage

logger = logging.getLogger(__name__)
USER_SORT_FIELDS = tuple(user_dao.USER_SORT_COLUMNS)


class AdminService:
    """Admin operations; each public method runs in one transaction of its own."""

    def __init__(self, engine: Engine, settings: AuthSettings) -> None:
        self.engine = engine
        self.settings = settings

    def list_users(self, page_args: Mapping) -> dict:
        """One page of users."""
        page = Page.of(page_args)
        with self.engine.connect() as conn:
            total, rows = user_dao.list_users(conn, page)
        return page.envelope(total, [public_user(r) for r in rows])

    def get_user(self, user_id: int) -> dict:
        """One user by id."""
        with self.engine.connect() as conn:
            return public_user(existing_user(conn, user_id))

    def set_role(self, user_id: int, role: str) -> dict:
        """Change a user's role; their tokens are revoked so the new role applies at once."""
        if role not in ROLES:
            raise Invalid.field("role", f"must be one of {', '.join(ROLES)}")
        with self.engine.begin() as conn:
            user = existing_user(conn, user_id)
            if role != user["role"]:
                if role != "admin":
                    _keep_an_admin(conn, user)
                user_dao.bump_token_version(conn, user_id, role=role)
            return public_user(user_dao.get_user(conn, user_id))

    def toggle_active(self, user_id: int) -> dict:
        """Deactivate an active user (revoking their tokens) or reactivate an inactive one."""
        with self.engine.begin() as conn:
            user = existing_user(conn, user_id)
            if user["is_active"]:
                _keep_an_admin(conn, user)
            user_dao.bump_token_version(conn, user_id, is_active=not user["is_active"])
            return public_user(user_dao.get_user(conn, user_id))

    def delete_user(self, user_id: int) -> None:
        """Delete a user with all their files and results."""
        with self.engine.begin() as conn:
            _keep_an_admin(conn, existing_user(conn, user_id))
            user_dao.delete_user(conn, user_id)
        remove_user_storage(self.settings.storage_root, user_id)
        logger.info("admin deleted user %s", user_id)

    def stats(self) -> dict:
        """Counts across the whole system."""
        with self.engine.connect() as conn:
            return {"users": user_dao.count_users(conn), "files": file_dao.count_files(conn),
                    "analyses": analysis_dao.count_analyses(conn), "jobs": job_dao.count_jobs(conn)}

    def create_admin(self, username: str, email: str, password: str) -> int:
        """Create an admin account (the CLI's create-admin)."""
        return AccountService(self.engine, self.settings).register(username, email, password, role="admin")["user_id"]


def _keep_an_admin(conn, user: dict) -> None:
    """Refuse a change that would leave no active admin."""
    if user["role"] == "admin" and user["is_active"] and user_dao.count_active_admins(conn) <= 1:
        raise Conflict("this is the last active admin: make another admin first")
