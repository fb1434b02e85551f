"""Authentication for every route unless marked @public, and role checks for whole blueprints."""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g, request

from services.errors import Forbidden, Unauthorized
from services.registry import current_services

# flask-smorest's spec and Swagger UI, Swagger UI's files (routes/docs.py), and Flask's static files.
_PUBLIC_BLUEPRINTS = ("api-docs", "swagger-ui", "static")


def public(blp) -> Callable[[Callable], Callable]:
    """Open a view of `blp` to anonymous clients, both in the auth check and in the OpenAPI spec."""

    def decorator(view: Callable) -> Callable:
        view.is_public = True
        return blp.doc(security=[])(view)

    return decorator


def is_public_endpoint(endpoint: str | None, view: Callable | None) -> bool:
    """True for views marked @public and for the API docs."""
    if endpoint is None:
        return True  # no route matched: let routing answer 404/405
    return endpoint.split(".")[0] in _PUBLIC_BLUEPRINTS or getattr(view, "is_public", False)


def _authenticate_request() -> None:
    if request.method == "OPTIONS":
        return  # CORS preflight carries no credentials
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if is_public_endpoint(request.endpoint, view):
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    g.current_user, g.token_claims = current_services().accounts.authenticate(token.strip())


def current_user() -> dict:
    """The authenticated user's row."""
    return g.current_user


def require_role(*roles: str) -> Callable[[], None]:
    """A before_request hook for a blueprint whose routes all need one of `roles`."""

    def check_role() -> None:
        user = g.get("current_user")
        if user is not None and user["role"] not in roles:
            raise Forbidden(f"this needs the {' or '.join(roles)} role")

    return check_role


def init_app(app: Flask) -> None:
    """Authenticate every request before the blueprints' own hooks run."""
    app.before_request(_authenticate_request)
