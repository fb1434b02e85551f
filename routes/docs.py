"""Swagger UI's files, served by the app from the pinned swagger-ui-bundle package so /api/docs works offline."""
from __future__ import annotations

import logging

from flask import Blueprint
from swagger_ui_bundle import swagger_ui_path

logger = logging.getLogger(__name__)

ASSETS_URL = "/api/docs/assets/"
# A plain Flask blueprint: static files only, nothing for the OpenAPI spec; middlewares/auth.py keeps it public.
blp = Blueprint("swagger-ui", __name__, static_folder=swagger_ui_path, static_url_path=ASSETS_URL.rstrip("/"))
