"""Marshmallow fields for analysis params that take JSON values as they are (no "yes" for true, no "3" for 3),
and `load`, which turns a schema's errors into one 422 naming each field by its path (`params.cleaning.x`)."""
from __future__ import annotations

import math

from marshmallow import RAISE, Schema, ValidationError, fields

from services.errors import Invalid
from services.ingest.rows import iso_timestamp

UNKNOWN = "unknown parameter"


class _Strict(fields.Field):
    """A field whose value must already have one JSON type; `null` only where the field allows it."""

    expected = "a value"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.error_messages = {**self.error_messages, "null": f"must be {self.expected}",
                               "invalid": f"must be {self.expected}"}

    def _deserialize(self, value, attr, data, **kwargs):
        converted = self.convert(value)
        if converted is None:
            raise self.make_error("invalid")
        return converted

    def convert(self, value):
        """The value as the params take it, or None when it is not of this field's type."""
        raise NotImplementedError


class Boolean(_Strict):
    """true or false."""

    expected = "true or false"

    def convert(self, value):
        return value if isinstance(value, bool) else None


class Integer(_Strict):
    """A JSON whole number (not a boolean, not a float)."""

    expected = "a whole number"

    def convert(self, value):
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class Number(_Strict):
    """A finite JSON number, as a float."""

    expected = "a number"

    def convert(self, value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        try:
            number = float(value)
        except OverflowError:
            raise ValidationError("is too large") from None
        return number if math.isfinite(number) else None


class Text(_Strict):
    """A JSON string."""

    expected = "text"

    def convert(self, value):
        return value if isinstance(value, str) else None


class WholeNumberOrText(_Strict):
    """A whole number or a string (such as n_clusters: 5 or "auto")."""

    expected = "a whole number or text"

    def convert(self, value):
        if isinstance(value, str):
            return value
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class Texts(_Strict):
    """A list of strings, as a tuple."""

    expected = "a list of texts"

    def convert(self, value):
        return tuple(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


class IsoDate(_Strict):
    """An ISO 8601 date or timestamp, as a pandas Timestamp."""

    expected = "an ISO 8601 date"

    def convert(self, value):
        if not isinstance(value, str):
            return None
        try:
            return iso_timestamp(value, self.name)
        except Invalid as exc:
            raise ValidationError(exc.errors[0]["message"]) from None


class RoleColumns(_Strict):
    """{role: column name or null}."""

    expected = "an object {{role: column name or null}}"  # braces doubled: marshmallow formats messages

    def convert(self, value):
        return value if isinstance(value, dict) and all(isinstance(v, str | None) for v in value.values()) else None


class Rules(fields.Nested):
    """A nested object of switches; `null` is the same as leaving it out."""

    def __init__(self, schema: type[Schema], **kwargs) -> None:
        super().__init__(schema, allow_none=True, unknown=RAISE, **kwargs)
        self.error_messages = {**self.error_messages, "type": "must be an object of rule switches"}


class ParamsSchema(Schema):
    """Base of every params schema: unknown fields are refused by name, nothing gets a default here (the params
    dataclasses hold the defaults)."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": UNKNOWN, "type": "must be an object"}


def load(schema: Schema, raw: object, prefix: str) -> dict:
    """`raw` loaded by `schema`; any error is a 422 whose fields are `prefix.path.to.field`."""
    try:
        return schema.load(raw, unknown=RAISE)
    except ValidationError as exc:
        errors = list(_flatten(exc.messages, prefix))
        unknown = [e["field"].rsplit(".", 1)[-1] for e in errors if e["message"] == UNKNOWN]
        if unknown and len(unknown) == len(errors):
            takes = ", ".join(name for name, field in schema.fields.items() if not field.dump_only)
            detail = f"unknown parameter(s) {', '.join(sorted(unknown))}; {prefix} takes {takes}"
        else:
            detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise Invalid(detail, errors=errors) from None


def prefixed(exc: Invalid, prefix: str) -> Invalid:
    """The same 422 with each field error under `prefix` (a params dataclass names its own fields)."""
    exc.errors = [{**e, "field": f"{prefix}.{e['field']}"} for e in exc.errors or []]
    return exc


def _flatten(messages, prefix: str):
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, prefix if key == "_schema" else f"{prefix}.{key}")
    else:
        for message in messages if isinstance(messages, list) else [messages]:
            if isinstance(message, dict | list):
                yield from _flatten(message, prefix)
            else:
                yield {"field": prefix, "message": message}

