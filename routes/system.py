"""System endpoints: service banner, liveness, readiness and the status of each backing service."""
from __future__ import annotations

from marshmallow import fields

from middlewares.auth import public
from routes.schemas import BaseSchema, Blueprint
from services.registry import current_services
from services.system import now_iso

blp = Blueprint("system", __name__, description="Service status (public)")


class BannerSchema(BaseSchema):
    message = fields.String()
    status = fields.String()
    timestamp = fields.String()
    version = fields.String()
    services = fields.Dict(keys=fields.String(), values=fields.String())


class LivenessSchema(BaseSchema):
    status = fields.String()
    timestamp = fields.String()


class HealthSchema(BaseSchema):
    status = fields.String()
    database = fields.String()
    version = fields.String()
    timestamp = fields.String()


class ServiceStatusSchema(BaseSchema):
    database = fields.Dict()
    queue = fields.Dict()
    storage = fields.Dict()


@blp.route("/", methods=["GET"])
@blp.response(200, BannerSchema)
@public(blp)
def banner():
    """Name, state and version of the API with a one-word status per backing service."""
    system = current_services().system
    statuses = system.services_status()
    return {
        "message": "Retail Analytics API",
        "status": "running",
        "timestamp": now_iso(),
        "version": system.version,
        "services": {name: state["status"] for name, state in statuses.items()},
    }


@blp.route("/health", methods=["GET"])
@blp.response(200, LivenessSchema)
@public(blp)
def liveness():
    """Liveness: the process answers (no dependency is checked)."""
    return {"status": "healthy", "timestamp": now_iso()}


@blp.route("/api/health", methods=["GET"])
@blp.response(200, HealthSchema)
@public(blp)
def readiness():
    """Readiness: 200 when the database answers at the newest schema revision, else 503 problem+json."""
    return current_services().system.health()


@blp.route("/api/services-status", methods=["GET"])
@blp.response(200, ServiceStatusSchema)
@public(blp)
def services_status():
    """Database, queue (Redis) and storage, each with its status."""
    return current_services().system.services_status()
