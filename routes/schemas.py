"""Marshmallow schemas shared by several blueprints: users, pages, messages and the problem document."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC

import flask_smorest
import marshmallow as ma
from marshmallow import fields, validate
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter

from models.tables import MAX_ID


class SafeJSONParser(FlaskParser):
    """webargs' parser, with JSON that Python refuses for its shape (nested thousands deep, an integer of
    thousands of digits) answered as malformed JSON (400) like any other unparseable body."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except (RecursionError, ValueError) as exc:
            if isinstance(exc, json.JSONDecodeError):
                raise
            raise json.JSONDecodeError(f"unusable JSON: {type(exc).__name__}", "<body>", 0) from exc


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the safe JSON parser; every routes module uses this one."""

    ARGUMENTS_PARSER = SafeJSONParser()


class IdConverter(IntegerConverter):
    """`<id:name>` in a route: an id beyond the id columns' range names no row, so it becomes 0, which no row
    has either, and every method answers 404 as for any missing id (SQLite would raise OverflowError on it;
    a converter refusing it would turn a DELETE into a 405, as werkzeug then offers the GET)."""

    def to_python(self, value: str) -> int:
        """The id, or 0 when no row can have it."""
        number = super().to_python(value)
        return number if 0 < number <= MAX_ID else 0


def id_param_schema(_converter: IdConverter) -> dict:
    """How an `<id:...>` path parameter appears in the OpenAPI spec: the ids a row can have."""
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


MAX_PER_PAGE = 500
MAX_PAGE = 1_000_000  # page x per_page stays within every backend's OFFSET range


class BaseSchema(ma.Schema):
    """Unknown fields (role, id, is_active in a register body...) are dropped, never applied."""

    class Meta:
        unknown = ma.EXCLUDE

    @ma.pre_load
    def refuse_lone_surrogates(self, data, **_kwargs):
        """JSON may carry "\\ud800", which no database or hash can take: a 422, not a 500."""
        if isinstance(data, Mapping):
            bad = [key for key, value in data.items() if not _is_unicode(value)]
            if bad:
                raise ma.ValidationError({key: ["is not valid Unicode text"] for key in bad})
        return data


def _is_unicode(value) -> bool:
    """False if the value, or any text nested in it (at any depth, without recursion), holds a lone surrogate."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


class UTCDateTime(fields.DateTime):
    """ISO 8601 with an explicit UTC offset; the database keeps naive UTC."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class Id(fields.Integer):
    """An id in a query or a body, as a JSON integer or as a string of digits (an id read from a URL), within the
    id columns' range; booleans, floats, other text and ids no row can have are a 422 (the contract's ids are
    opaque strings or integers)."""

    DIGITS = re.compile(r"[0-9]{1,18}")

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
        metadata = {"description": "an integer, or its digits as a string", **kwargs.pop("metadata", {})}
        super().__init__(strict=True, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and self.DIGITS.fullmatch(value):
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


class UserSchema(BaseSchema):
    user_id = fields.Integer(required=True)
    username = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": ["user", "analyst", "admin"]})
    is_active = fields.Boolean(required=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime()


class MessageSchema(BaseSchema):
    message = fields.String(required=True)


class TokenSchema(BaseSchema):
    token = fields.String(required=True)
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_in = fields.Integer(metadata={"description": "seconds until the token expires"})


class PageArgsSchema(BaseSchema):
    """?page=1&per_page=50&sort=<field>&order=asc|desc; subclasses restrict `sort`."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))
    sort = fields.String(load_default=None)
    order = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))


def page_args_schema(name: str, sort_fields: tuple[str, ...]) -> type[PageArgsSchema]:
    """A PageArgsSchema whose `sort` accepts only `sort_fields`."""
    sort = fields.String(load_default=None, validate=validate.OneOf(sort_fields))
    return type(name, (PageArgsSchema,), {"sort": sort})


def page_schema(name: str, item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """The paginated list envelope {total, page, per_page, items}."""
    return type(name, (BaseSchema,), {
        "total": fields.Integer(required=True),
        "page": fields.Integer(required=True),
        "per_page": fields.Integer(required=True),
        "items": fields.List(fields.Nested(item_schema), required=True),
    })


class FieldErrorSchema(BaseSchema):
    field = fields.String()
    message = fields.String()


class ProblemSchema(BaseSchema):
    """RFC 9457 problem details, the body of every error."""

    type = fields.String(metadata={"example": "/problems/validation-error"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    request_id = fields.String()
    errors = fields.List(fields.Nested(FieldErrorSchema))
