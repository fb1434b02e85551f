"""Application factory for the Retail Analytics API; `python app.py` runs the development server."""
from __future__ import annotations

import logging
import os
from datetime import UTC, date, datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api
from marshmallow import ValidationError
from werkzeug.middleware.proxy_fix import ProxyFix

from config import APP_VERSION, INSTANCE_DIR, Config, load_config
from middlewares import auth, cors, errors, request_context
from middlewares.rate_limit import limiter
from models import database
from routes import docs as swagger_ui
from routes import register_blueprints
from routes.auth import RegisterSchema
from routes.schemas import IdConverter, ProblemSchema, id_param_schema
from services.errors import AppError
from services.registry import build_services
from services.runtime.housekeeping import HousekeepingThread, housekeeping_sweeps
from services.runtime.sandbox import start_parser_server

logger = logging.getLogger(__name__)


class IsoJSONProvider(DefaultJSONProvider):
    """Datetimes as ISO 8601 (naive ones are UTC), not Flask's default RFC 822."""

    @staticmethod
    def default(value):
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return DefaultJSONProvider.default(value)


class RetailApi(Api):
    """flask-smorest Api whose errors are documented as problem+json and handled by middlewares/errors.py."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """Left to middlewares/errors.py, which answers problem+json for everything."""

    def _register_responses(self) -> None:
        """The shared error responses are documented with the content type they are served with."""
        self.DEFAULT_RESPONSE_CONTENT_TYPE = errors.PROBLEM_MIME
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE  # success responses keep application/json


def create_app(config: Config | None = None) -> Flask:
    """Build the app: config, logging, database, CORS, limits, routes, OpenAPI, errors, CLI."""
    config = config or load_config()
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.json = IsoJSONProvider(app)
    app.config.from_object(config)
    app.config.update(_openapi_settings())
    request_context.configure_logging(app.config["LOG_LEVEL"])
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.config["UPLOAD_DIR"].mkdir(parents=True, exist_ok=True)

    engine = app.extensions["db_engine"] = database.create_db_engine(app.config["DATABASE_URL"])
    app.extensions["services"] = build_services(app.config, engine, APP_VERSION)
    request_context.init_app(app)
    cors.init_app(app)
    auth.init_app(app)
    limiter.init_app(app)
    app.url_map.converters["id"] = IdConverter
    api = RetailApi(app)
    api.register_converter(IdConverter, id_param_schema)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    register_blueprints(api)
    app.register_blueprint(swagger_ui.blp)
    errors.init_app(app)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(cleanup_command)
    start_parser_server()
    app.extensions["services"].files.sweep_staging()  # uploads a killed server left half-written
    if app.config["RETENTION_THREAD"]:
        sweeps = housekeeping_sweeps(app.extensions["services"], app.config)
        HousekeepingThread(sweeps, app.config["RETENTION_INTERVAL_SECONDS"]).start()
    return app


def _openapi_settings() -> dict:
    return {
        "API_TITLE": "Retail Analytics API",
        "API_VERSION": APP_VERSION,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": swagger_ui.ASSETS_URL,
        # Every operation needs a bearer token unless it declares security: [] (see middlewares/auth.public).
        "API_SPEC_OPTIONS": {"security": [{"bearerAuth": []}], "servers": [
            {"url": "/", "description": "the server that serves this spec"},
            {"url": "http://127.0.0.1:5000", "description": "`make run` on this machine"},
        ]},
    }


@click.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--email", prompt=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="ADMIN_PASSWORD")
@with_appcontext
def create_admin_command(username: str, email: str, password: str) -> None:
    """Create an admin account (the first admin cannot be made over HTTP); same rules as register."""
    try:
        account = RegisterSchema().load({"username": username, "email": email, "password": password})
        user_id = current_app.extensions["services"].admin.create_admin(**account)
    except ValidationError as exc:
        raise click.ClickException(f"invalid {', '.join(exc.messages)}: {exc.messages}") from exc
    except AppError as exc:
        raise click.ClickException(exc.detail) from exc
    click.echo(f"admin {username!r} created with id {user_id}")


@click.command("cleanup")
@with_appcontext
def cleanup_command() -> None:
    """Run the housekeeping sweeps now (the app also runs them every RETENTION_INTERVAL_SECONDS)."""
    removed, staging, stopped = (sweep() for sweep in housekeeping_sweeps(current_app.extensions["services"],
                                                                           current_app.config))
    click.echo(f"removed {removed} raw upload(s) and {staging} dead upload(s); "
               f"failed {stopped} job(s)/analysis(es) whose worker stopped")


if __name__ == "__main__":
    create_app().run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")))
