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


class AnalysisNotFound(NotFound):
    """No analysis with this id for this owner, or it went while it ran (404)."""

    def __init__(self, analysis_id: int, what: str = "not found") -> None:
        super().__init__(f"analysis {analysis_id} {what}")


class FileNotFound(NotFound):
    """No file with this id for this owner, or its stored data or results went with it (404)."""

    def __init__(self, file_id: int | None = None, detail: str | None = None) -> None:
        super().__init__(detail or f"file {file_id} not found")

    @classmethod
    def during_run(cls) -> FileNotFound:
        """The file (and so the analysis' row or folder) was deleted while an analysis of it ran."""
        return cls(detail="the file was deleted while the analysis ran")

    @classmethod
    def results_gone(cls) -> FileNotFound:
        """An analysis' stored artifact is missing because its file was deleted meanwhile."""
        return cls(detail="the results of this analysis are gone (was its file deleted?)")


class JobNotFound(NotFound):
    """No job with this id for this owner (404); a worker handed a job its database lacks raises it too, so the
    queue records a failure."""

    def __init__(self, job_id: str, detail: str | None = None) -> None:
        super().__init__(detail or f"job {job_id} not found")


class UserNotFound(NotFound):
    """No user with this id (404)."""

    def __init__(self, user_id: int | None = None) -> None:
        super().__init__("user not found" if user_id is None else f"user {user_id} not found")


class DownloadNotFound(NotFound):
    """No download by this name (404); the name is shown, never used as a path."""

    def __init__(self, filename: str) -> None:
        super().__init__(f"no download named {filename[:100]!r}")


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
