"""The signed-in user's own profile: read, edit, change password, delete (seed 002 shapes)."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from middlewares.auth import current_user
from routes.auth import USERNAME_RULE
from routes.schemas import BaseSchema, Blueprint, MessageSchema, TokenSchema, UserSchema
from services.registry import current_services

blp = Blueprint("user", __name__, url_prefix="/api/user", description="Your own profile")


class ProfileUpdateSchema(BaseSchema):
    """At least one of username and email (a 422 otherwise)."""

    username = fields.String(validate=USERNAME_RULE)
    email = fields.Email(validate=validate.Length(max=254))

    @validates_schema
    def require_a_change(self, data: dict, **_kwargs) -> None:
        """An empty or missing body changes nothing: say so instead of answering 200."""
        if not data:
            raise ValidationError("send username and/or email")


class PasswordChangeSchema(BaseSchema):
    old_password = fields.String(required=True)
    new_password = fields.String(required=True, metadata={
        "minLength": 8, "description": "8 characters or more, at most 72 bytes in UTF-8 (else a 422)"})


class ProfileSchema(UserSchema):
    files = fields.Integer(metadata={"description": "how many files you have uploaded"})
    analyses = fields.Integer(metadata={"description": "how many analyses you have run"})


class PasswordChangedSchema(TokenSchema):
    message = fields.String()


@blp.route("/profile", methods=["GET"])
@blp.response(200, ProfileSchema)
def get_profile():
    """Your profile."""
    return current_services().accounts.profile(current_user()["id"])


@blp.route("/profile", methods=["PUT"])
@blp.arguments(ProfileUpdateSchema)
@blp.response(200, UserSchema)
def update_profile(body):
    """Change your username and/or email; any other field is ignored."""
    return current_services().accounts.update_profile(current_user()["id"], **body)


@blp.route("/profile/password", methods=["PUT"])
@blp.arguments(PasswordChangeSchema)
@blp.response(200, PasswordChangedSchema)
def change_password(body):
    """Change your password; every token issued before stops working, and a new one is returned."""
    accounts = current_services().accounts
    token = accounts.change_password(current_user()["id"], body["old_password"], body["new_password"])
    return {"message": "password changed", **token}


@blp.route("/profile", methods=["DELETE"])
@blp.response(200, MessageSchema)
def delete_profile():
    """Delete your account with all its files and results."""
    current_services().accounts.delete_account(current_user()["id"])
    return {"message": "account deleted"}
