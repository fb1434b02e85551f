"""HTTP layer: one flask-smorest blueprint per area; routes validate, call one service, shape the answer."""
from __future__ import annotations

from flask_smorest import Api

from routes import admin, analyses, auth, dashboard, files, rfm, system, user

BLUEPRINTS = (system.blp, auth.blp, user.blp, admin.blp, files.blp, analyses.blp, rfm.blp, dashboard.blp)


def register_blueprints(api: Api) -> None:
    """Attach every blueprint to the API (and so to the OpenAPI spec)."""
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
