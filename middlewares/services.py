"""Access, inside a request, to the service objects that create_app built."""
from __future__ import annotations

from flask import current_app

from services.registry import Services


def services() -> Services:
    """The app's services (accounts, admin, system...)."""
    return current_app.extensions["services"]
