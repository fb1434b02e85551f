"""One error shape for everything: RFC 9457 application/problem+json, never an HTML page."""
from __future__ import annotations

import json
import logging

from flask import Flask, Response, current_app, g
from werkzeug.exceptions import HTTPException

from models.database import is_database_unavailable
from services.errors import AppError, DatabaseUnavailable, StorageFull
from services.runtime.storage import is_storage_full

logger = logging.getLogger(__name__)
PROBLEM_MIME = "application/problem+json"
BODY_LOCATIONS = {"json": "body", "form": "form", "files": "files", "query": "query", "headers": "headers"}
# werkzeug errors whose meaning is this API's own (a client backs off on a 429); the rest stay about:blank.
HTTP_SLUGS = {429: "rate-limited"}


def problem(status: int, title: str, detail: str, slug: str | None = None,
            errors: list[dict] | None = None, headers: dict | None = None) -> Response:
    """A problem+json response; `slug` names a problem type of this API, otherwise the type is about:blank."""
    body = {
        "type": f"/problems/{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": g.get("request_id"),
    }
    if errors:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_MIME)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_app_error(error: AppError) -> Response:
    """Our own exceptions already know their status, title and detail."""
    return problem(error.status, error.title, error.detail, error.slug, error.errors, error.headers)


def handle_http_exception(error: HTTPException) -> Response:
    """werkzeug errors (404, 405, 413, 429...) and webargs validation failures."""
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    status = error.code or 500
    if status == 400 and messages and "json" in messages:
        return problem(400, "Malformed JSON", "the request body is not valid JSON", "malformed-json", headers=headers)
    if messages:
        errors = list(_field_errors(messages))
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(status, "Validation failed", detail, "validation-error", errors, headers)
    if status == 413:
        limit_mb = current_app.config["MAX_CONTENT_LENGTH"] / 2**20
        return problem(413, "Content too large", f"the request is larger than the {limit_mb:.0f} MB upload limit",
                       "too-large", headers=headers)
    return problem(status, error.name, error.description or error.name, HTTP_SLUGS.get(status), headers=headers)


def handle_unexpected(error: Exception) -> Response:
    """A lost database is a 503 and a full disk a 507, wherever they strike; anything else is a bug: log it
    with the request id, tell the client only the id."""
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    if is_database_unavailable(error):
        logger.warning("database unavailable in request %s: %s", g.get("request_id"), type(error).__name__)
        return handle_app_error(DatabaseUnavailable("the database is unavailable; try again shortly"))
    if is_storage_full(error):
        logger.error("storage full in request %s", g.get("request_id"))
        return handle_app_error(StorageFull("storage is full; nothing was kept, try again once space is freed"))
    logger.exception("unhandled error in request %s", g.get("request_id"))
    return problem(500, "Internal server error",
                   f"an unexpected error occurred; quote request id {g.get('request_id')} when reporting it")


def _field_errors(messages: dict):
    """Flatten webargs/marshmallow messages {location: {field: [msg]}} into [{field, message}]."""
    for location, value in messages.items():
        yield from _flatten(value, [], BODY_LOCATIONS.get(location, location))


def _flatten(value, path: list[str], location: str):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(inner, path if key == "_schema" else [*path, str(key)], location)
        return
    field = ".".join(path) or location
    for message in value if isinstance(value, list) else [value]:
        yield {"field": field, "message": str(message)}


def init_app(app: Flask) -> None:
    """Register the handlers (after flask-smorest, whose own JSON handler this replaces)."""
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
