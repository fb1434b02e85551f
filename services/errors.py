"""Domain exceptions that carry their HTTP status; middlewares/errors.py turns them into problem+json."""
from __future__ import annotations


class AppError(Exception):
    """Base of every expected failure: a status, a short title, a human detail and optional field errors."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, errors: list[dict] | None = None, headers: dict | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class Invalid(AppError):
    """The request is well-formed but its values are unusable (422)."""

    status, title, slug = 422, "Unprocessable content", "validation-error"

    @classmethod
    def field(cls, field: str, message: str) -> "Invalid":
        """An Invalid naming one field."""
        return cls(f"{field}: {message}", errors=[{"field": field, "message": message}])


class Unauthorized(AppError):
    """Missing, bad, expired or revoked credentials (401)."""

    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str = "missing or invalid credentials", **kwargs) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="api"'}, **kwargs)


class Forbidden(AppError):
    """Authenticated, but the role or account state does not allow this (403)."""

    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(AppError):
    """The resource does not exist, or belongs to someone else (404)."""

    status, title, slug = 404, "Not found", "not-found"


class Conflict(AppError):
    """The change clashes with existing state, such as a taken username (409)."""

    status, title, slug = 409, "Conflict", "conflict"


class TooLarge(AppError):
    """The upload is over the configured size (413)."""

    status, title, slug = 413, "Content too large", "too-large"


class Unsupported(AppError):
    """The file type or media type cannot be handled (415)."""

    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


RETRY_AFTER_SECONDS = 5  # what a 503 tells clients to wait: long enough for a reconnect or a failover


class ServiceUnavailable(AppError):
    """A backing service (the queue) is down (503); clients are told when to retry."""

    status, title, slug = 503, "Service unavailable", "service-unavailable"

    def __init__(self, detail: str, **kwargs) -> None:
        super().__init__(detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}, **kwargs)


class DatabaseUnavailable(ServiceUnavailable):
    """The database refused or lost the connection, or stayed locked (503)."""

    title, slug = "Database unavailable", "database-unavailable"


class StorageFull(AppError):
    """The disk holding uploads (or the database) has no room left (507); nothing was kept."""

    status, title, slug = 507, "Insufficient storage", "storage-full"


class JobNotFound(Exception):
    """A worker was handed a job its database does not hold (raised so the queue records a failure)."""
