"""The service objects of one application, built once from its settings and engine, and their accessor."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import Engine

from migrate import head_revisions
from services.accounts import AccountService, AuthSettings
from services.admin import AdminService
from services.analyses import AnalysisService
from services.dashboard import DashboardService
from services.files import FileService, FileSettings
from services.ingest.archives import ArchiveLimits
from services.jobs import JobService
from services.results import ResultService
from services.runtime.heartbeat import Heartbeat
from services.runtime.sandbox import SandboxLimits
from services.system import SystemService


@dataclass(frozen=True)
class Services:
    """Everything a route or a worker may call."""

    accounts: AccountService
    admin: AdminService
    files: FileService
    analyses: AnalysisService
    jobs: JobService
    results: ResultService
    dashboard: DashboardService
    system: SystemService


def build_services(settings: Mapping, engine: Engine, version: str) -> Services:
    """Wire the services to the configuration (a Flask config or any mapping with the same keys)."""
    auth = AuthSettings(
        secret_key=settings["SECRET_KEY"],
        token_minutes=settings["JWT_EXPIRES_MINUTES"],
        bcrypt_rounds=settings["BCRYPT_ROUNDS"],
        storage_root=settings["UPLOAD_DIR"],
    )
    files = FileSettings(
        storage_root=settings["UPLOAD_DIR"],
        raw_retention=timedelta(minutes=settings["RAW_RETENTION_MINUTES"]),
        archive_limits=ArchiveLimits(max_bytes=settings["MAX_DECOMPRESSED_MB"] * 2**20,
                                     max_cells=settings["MAX_SHEET_CELLS"]),
        sandbox_limits=SandboxLimits(memory_bytes=settings["PARSE_MEMORY_MB"] * 2**20,
                                     timeout_seconds=settings["PARSE_TIMEOUT_SECONDS"]),
        max_upload_bytes=settings["MAX_UPLOAD_MB"] * 2**20,
    )
    file_service = FileService(engine, files)
    heartbeat = Heartbeat(engine)
    analyses = AnalysisService(engine, file_service, heartbeat)
    return Services(
        accounts=AccountService(engine, auth),
        admin=AdminService(engine, auth),
        files=file_service,
        analyses=analyses,
        jobs=JobService(engine, analyses, heartbeat, settings.get("REDIS_URL"), settings["RQ_QUEUE"]),
        results=ResultService(engine, file_service),
        dashboard=DashboardService(engine, file_service),
        system=SystemService(engine, settings["UPLOAD_DIR"], settings.get("REDIS_URL"), version, head_revisions(),
                             settings["STORAGE_MIN_FREE_MB"]),
    )


def current_services() -> Services:
    """The services of the app handling this request (create_app keeps them in app.extensions)."""
    return current_app.extensions["services"]
