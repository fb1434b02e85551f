"""User administration, admin role only (seed 004 shapes)."""
from __future__ import annotations

from marshmallow import fields, validate

from middlewares.auth import require_role
from routes.schemas import BaseSchema, Blueprint, MessageSchema, UserSchema, page_args_schema, page_schema
from services.accounts import ROLES
from services.admin import USER_SORT_FIELDS
from services.registry import current_services

blp = Blueprint("admin", __name__, url_prefix="/api/admin", description="User administration (admin role)")
blp.before_request(require_role("admin"))

UserPageArgsSchema = page_args_schema("UserPageArgsSchema", USER_SORT_FIELDS)
UserPageSchema = page_schema("UserPageSchema", UserSchema)


class RoleSchema(BaseSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class UserCountsSchema(BaseSchema):
    total = fields.Integer()
    active = fields.Integer()
    by_role = fields.Dict(keys=fields.String(), values=fields.Integer())


class StatsSchema(BaseSchema):
    users = fields.Nested(UserCountsSchema)
    files = fields.Integer()
    analyses = fields.Integer()
    jobs = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "jobs per status"})


@blp.route("/users", methods=["GET"])
@blp.arguments(UserPageArgsSchema, location="query")
@blp.response(200, UserPageSchema)
def list_users(args):
    """All users, paginated and sortable."""
    return current_services().admin.list_users(args)


@blp.route("/users/<id:user_id>", methods=["GET"])
@blp.response(200, UserSchema)
def get_user(user_id):
    """One user."""
    return current_services().admin.get_user(user_id)


@blp.route("/users/<id:user_id>/role", methods=["PUT"])
@blp.arguments(RoleSchema)
@blp.response(200, UserSchema)
def set_role(body, user_id):
    """Change a user's role; their existing tokens are revoked."""
    return current_services().admin.set_role(user_id, body["role"])


@blp.route("/users/<id:user_id>/toggle-active", methods=["PUT"])
@blp.response(200, UserSchema)
def toggle_active(user_id):
    """Deactivate (revoking their tokens) or reactivate a user."""
    return current_services().admin.toggle_active(user_id)


@blp.route("/users/<id:user_id>", methods=["DELETE"])
@blp.response(200, MessageSchema)
def delete_user(user_id):
    """Delete a user with all their files and results."""
    current_services().admin.delete_user(user_id)
    return {"message": "user deleted"}


@blp.route("/stats", methods=["GET"])
@blp.response(200, StatsSchema)
def stats():
    """Counts across the system."""
    return current_services().admin.stats()
