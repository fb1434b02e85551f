"""CORS for browser clients: the CORS_ORIGINS allow-list, headers a script may read, and preflights that the
browser can cache and that succeed on every /api/* path, so a 404 reaches the script as a 404."""
from __future__ import annotations

import logging

from flask import Flask, Response, current_app, request
from flask_cors import CORS

logger = logging.getLogger(__name__)

API_PATHS = r"/api/*"
ALLOW_HEADERS = ["Authorization", "Content-Type", "Prefer", "X-Request-ID"]
EXPOSE_HEADERS = ["Location", "Retry-After", "X-Request-ID", "Content-Disposition", "Preference-Applied"]
# Browsers cap this (Chromium at 2 hours); 10 minutes spares most preflights yet lets a config change through soon.
PREFLIGHT_MAX_AGE_SECONDS = 600


def _answer_preflight() -> Response | None:
    """A preflight is about the origin, method and headers, not the resource: answer it before routing can 404
    or 405, and let flask-cors add the headers (none for an origin that is not allowed)."""
    if (request.method == "OPTIONS" and request.path.startswith("/api/")
            and "Access-Control-Request-Method" in request.headers):
        return current_app.response_class(status=204)
    return None


def init_app(app: Flask) -> None:
    """Register before authentication, so no hook refuses a preflight (it carries no credentials)."""
    app.before_request(_answer_preflight)
    CORS(app, resources={API_PATHS: {"origins": app.config["CORS_ORIGINS"]}}, allow_headers=ALLOW_HEADERS,
         expose_headers=EXPOSE_HEADERS, max_age=PREFLIGHT_MAX_AGE_SECONDS)
