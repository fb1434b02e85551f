"""Accounts: register, log in, who am I, log out (seed 002 and 004 shapes)."""
from __future__ import annotations

from flask import g
from marshmallow import fields, validate

from middlewares.auth import current_user, public
from middlewares.rate_limit import auth_rate_limit
from routes.schemas import BaseSchema, Blueprint, MessageSchema, TokenSchema, UserSchema
from services.registry import current_services

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Register, log in and out")

USERNAME_RULE = validate.Regexp(
    r"^[A-Za-z0-9_.-]{3,64}$", error="must be 3 to 64 letters, digits, '_', '.' or '-'"
)


class RegisterSchema(BaseSchema):
    username = fields.String(required=True, validate=USERNAME_RULE, metadata={"example": "shopowner"})
    email = fields.Email(required=True, validate=validate.Length(max=254), metadata={"example": "owner@example.com"})
    password = fields.String(
        required=True, metadata={"minLength": 8,
                                 "description": "8 characters or more, at most 72 bytes in UTF-8 (else a 422)"}
    )


class RegisteredSchema(TokenSchema):
    message = fields.String(metadata={"example": "registered"})
    user_id = fields.Integer()


class LoginSchema(BaseSchema):
    identifier = fields.String(
        required=True, validate=validate.Length(min=1, max=254), metadata={"description": "username or email"}
    )
    password = fields.String(required=True)


class LoggedInSchema(TokenSchema):
    user = fields.Nested(UserSchema)


class MeSchema(UserSchema):
    class Meta:
        exclude = ("updated_at",)


@blp.route("/register", methods=["POST"])
@blp.arguments(RegisterSchema)
@blp.response(201, RegisteredSchema)
@auth_rate_limit
@public(blp)
def register(body):
    """Create an account and get a first token; role, id and similar fields in the body are ignored."""
    return {"message": "registered", **current_services().accounts.register(**body)}


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, LoggedInSchema)
@auth_rate_limit
@public(blp)
def login(body):
    """Exchange a username or email and a password for a token."""
    return current_services().accounts.login(body["identifier"], body["password"])


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
def me():
    """The signed-in user."""
    return current_services().accounts.profile(current_user()["id"])


@blp.route("/logout", methods=["POST"])
@blp.response(200, MessageSchema)
def logout():
    """Revoke the token this request was sent with."""
    current_services().accounts.logout(current_user()["id"], g.token_claims)
    return {"message": "logged out"}
