"""Request ids (X-Request-ID in and out), log records that carry them, one access-log line per request, and the
unread body of a refused request drained so a proxy in front gets the answer."""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, current_app, g, has_request_context, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wsgi import LimitedStream

logger = logging.getLogger("access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
DRAIN_MARGIN = 2 * 2**20  # what a proxy may forward beyond MAX_CONTENT_LENGTH (nginx: MAX_UPLOAD_MB + 1 MiB)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record ('-' outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure_logging(level: str) -> None:
    """Log to stderr with the request id in every line (gunicorn collects stderr)."""
    root = logging.getLogger()
    if any(isinstance(f, RequestIdFilter) for h in root.handlers for f in h.filters):
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)


def _start_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    elapsed_ms = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
    # The one access line per request (gunicorn's own access log is off): it carries the request id.
    logger.info("%s %s %s %s %.1fms", request.remote_addr, request.method, request.path, response.status_code,
                elapsed_ms)
    return response


def init_app(app: Flask) -> None:
    """Give every request an id before anything else runs, echo it on the response, drain refused bodies."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
    app.after_request(_drain_unread_body)


def _drain_unread_body(response: Response) -> Response:
    """Read and drop what a refused request left of its body (a 401 before the upload was read, a 413), when a
    proxy would forward that much: a server that answers early and closes makes nginx, still sending the body,
    answer 502 instead of the app's 401 or 413. Bodies larger than any proxy here forwards are not read."""
    length = request.content_length
    if not length or length > (current_app.config.get("MAX_CONTENT_LENGTH") or 0) + DRAIN_MARGIN:
        return response
    try:
        try:
            stream = request.stream  # what the app left unread of it (nothing, once a form was parsed)
        except RequestEntityTooLarge:
            stream = LimitedStream(request.environ["wsgi.input"], length)  # refused before anything was read
        while stream.read(1 << 20):
            pass
    except (OSError, HTTPException):  # the client went away meanwhile: nothing left to protect
        pass
    return response
