"""The service objects of one application, built once from its settings and engine."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine

from services.accounts import AccountService, AuthSettings
from services.admin import AdminService
from services.system import SystemService


@dataclass(frozen=True)
class Services:
    """Everything a route or a worker may call."""

    accounts: AccountService
    admin: AdminService
    system: SystemService


def build_services(settings: Mapping, engine: Engine, version: str) -> Services:
    """Wire the services to the configuration (a Flask config or any mapping with the same keys)."""
    auth = AuthSettings(
        secret_key=settings["SECRET_KEY"],
        token_minutes=settings["JWT_EXPIRES_MINUTES"],
        bcrypt_rounds=settings["BCRYPT_ROUNDS"],
        storage_root=settings["UPLOAD_DIR"],
    )
    return Services(
        accounts=AccountService(engine, auth),
        admin=AdminService(engine, auth),
        system=SystemService(engine, settings["UPLOAD_DIR"], settings.get("REDIS_URL"), version),
    )
