"""Flask-Limiter: throttles login and register per client IP and per account identifier."""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Storage (memory:// or Redis) and on/off come from RATELIMIT_* in config.py at init_app time.
limiter = Limiter(key_func=get_remote_address)


def _auth_rate() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


def _identifier_key() -> str:
    """The account a login/register is aimed at, so one account cannot be hammered from many IPs."""
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        for field in ("identifier", "username", "email"):
            value = body.get(field)
            if isinstance(value, str) and value.strip():
                return "account:" + value.strip().lower()[:254]
    return "ip:" + get_remote_address()


def auth_rate_limit(view: Callable) -> Callable:
    """Apply AUTH_RATE_LIMIT per IP and per identifier to a view."""
    per_ip = limiter.limit(_auth_rate, key_func=lambda: "ip:" + get_remote_address(), scope="auth-ip")
    per_identifier = limiter.limit(_auth_rate, key_func=_identifier_key)
    return per_ip(per_identifier(view))
