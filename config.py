"""Application settings read from the environment (and a .env file), one class per mode."""
from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from dotenv import load_dotenv

APP_VERSION = "0.1.0"
PROJECT_ROOT = Path(__file__).resolve().parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
MIN_SECRET_BYTES = 32

logger = logging.getLogger(__name__)


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in (_env(name, default) or "").split(",") if item.strip()]


def default_database_url() -> str:
    """The embedded SQLite database used when DATABASE_URL is not set."""
    return f"sqlite:///{INSTANCE_DIR / 'retail_analytics.sqlite3'}"


def _development_secret() -> str:
    """A random key kept in instance/ so tokens survive restarts of the dev server."""
    path = INSTANCE_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    logger.info("generated a development SECRET_KEY in %s", path)
    return key


class Config:
    """Settings shared by every mode; each value comes from the environment of the same name."""

    ENV_NAME = "base"
    DEBUG = False
    TESTING = False

    def __init__(self) -> None:
        load_dotenv(PROJECT_ROOT / ".env", override=False)
        self.DATABASE_URL = _env("DATABASE_URL", default_database_url())
        self.SECRET_KEY = self._secret_key(_env("SECRET_KEY"))
        self.JWT_EXPIRES_MINUTES = _env_int("JWT_EXPIRES_MINUTES", 60)
        self.BCRYPT_ROUNDS = _env_int("BCRYPT_ROUNDS", 12)
        self.UPLOAD_DIR = Path(_env("UPLOAD_DIR", str(PROJECT_ROOT / "uploads"))).resolve()
        # file:///abs/path (a folder, by default UPLOAD_DIR) or s3://bucket/prefix; see services/runtime/objectstore.py
        self.STORAGE_URL = _env("STORAGE_URL", self.UPLOAD_DIR.as_uri())
        self.S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")  # None = AWS itself; else MinIO, Ceph, SeaweedFS...
        self.S3_REGION = _env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1"))
        # Read by pyarrow too; here because presigned download URLs are signed with them.
        self.AWS_ACCESS_KEY_ID = _env("AWS_ACCESS_KEY_ID")
        self.AWS_SECRET_ACCESS_KEY = _env("AWS_SECRET_ACCESS_KEY")
        self.AWS_SESSION_TOKEN = _env("AWS_SESSION_TOKEN")
        self.S3_PRESIGN_SECONDS = _env_int("S3_PRESIGN_SECONDS", 300)
        self.MAX_UPLOAD_MB = _env_int("MAX_UPLOAD_MB", 16)
        # Multipart framing adds a little on top of the file itself.
        self.MAX_CONTENT_LENGTH = self.MAX_UPLOAD_MB * 1024 * 1024 + 64 * 1024
        self.CORS_ORIGINS = _env_list("CORS_ORIGINS", "http://localhost:5173,http://localhost:3000")
        self.REDIS_URL = _env("REDIS_URL")
        self.PROXY_HOPS = _env_int("PROXY_HOPS", 0)
        self.AUTH_RATE_LIMIT = _env("AUTH_RATE_LIMIT", "10/minute")
        self.RATELIMIT_ENABLED = _env("RATELIMIT_ENABLED", "true").lower() != "false"
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_HEADERS_ENABLED = True
        self.LOG_LEVEL = _env("LOG_LEVEL", "INFO")
        self.RAW_RETENTION_MINUTES = _env_int("RAW_RETENTION_MINUTES", 60)
        self.RETENTION_INTERVAL_SECONDS = _env_int("RETENTION_INTERVAL_SECONDS", 30)
        self.RETENTION_THREAD = _env("RETENTION_THREAD", "true").lower() != "false"
        self.HEARTBEAT_STALE_SECONDS = _env_int("HEARTBEAT_STALE_SECONDS", 60)
        self.RQ_QUEUE = _env("RQ_QUEUE", "analyses")
        self.STORAGE_MIN_FREE_MB = _env_int("STORAGE_MIN_FREE_MB", 256)
        self.MAX_DECOMPRESSED_MB = _env_int("MAX_DECOMPRESSED_MB", 256)
        self.MAX_SHEET_CELLS = _env_int("MAX_SHEET_CELLS", 50_000_000)
        self.PARSE_MEMORY_MB = _env_int("PARSE_MEMORY_MB", 3072)
        self.PARSE_TIMEOUT_SECONDS = _env_int("PARSE_TIMEOUT_SECONDS", 60)

    def _secret_key(self, configured: str | None) -> str:
        return configured or _development_secret()


class DevelopmentConfig(Config):
    """Local development: SQLite by default and a generated, persisted secret."""

    ENV_NAME = "development"


class TestingConfig(Config):
    """pytest: cheap bcrypt, a throwaway secret; the fixtures set DATABASE_URL and UPLOAD_DIR."""

    ENV_NAME = "testing"
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.BCRYPT_ROUNDS = 4
        self.RETENTION_THREAD = False

    def _secret_key(self, configured: str | None) -> str:
        return configured or secrets.token_urlsafe(48)


class ProductionConfig(Config):
    """gunicorn behind nginx: refuses to start without a real SECRET_KEY."""

    ENV_NAME = "production"

    def _secret_key(self, configured: str | None) -> str:
        if not configured or len(configured.encode()) < MIN_SECRET_BYTES:
            raise RuntimeError(
                f"SECRET_KEY must be set to at least {MIN_SECRET_BYTES} bytes in production "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return configured


CONFIGS = {cls.ENV_NAME: cls for cls in (DevelopmentConfig, TestingConfig, ProductionConfig)}


def load_config(env_name: str | None = None) -> Config:
    """Build the settings for APP_ENV (development, testing or production)."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    name = env_name or _env("APP_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"APP_ENV must be one of {sorted(CONFIGS)}, got {name!r}")
    return CONFIGS[name]()
