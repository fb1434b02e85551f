"""Request and response schemas of the files blueprint (routes/files.py)."""
from __future__ import annotations

import json

from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields, validate

from routes.schemas import BaseSchema, Id, PageArgsSchema, UTCDateTime, page_args_schema, page_schema
from services.files import FILE_SORT_FIELDS
from services.ingest.reader import LAYOUTS


class ColumnMapping(fields.Field):
    """A form field holding a JSON object {role: column name or null}."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            mapping = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError as exc:
            raise ValidationError("must be a JSON object such as {\"customer\": \"Kunde\"}") from exc
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in mapping.items()
        ):
            raise ValidationError("must map role names to column names (strings) or null")
        return mapping


class UploadFormSchema(BaseSchema):
    sheet = fields.String(validate=validate.Length(max=255),
                          metadata={"description": "sheet name, or its position counting from 1"})
    columns = ColumnMapping(metadata={"description": "JSON {role: column}; overrides the detected roles",
                                      "example": "{\"customer\": \"Customer ID\"}"})
    layout = fields.String(validate=validate.OneOf(LAYOUTS))
    dayfirst = fields.Boolean(metadata={"description": "dates such as 03/04/2011 are day first (3 April); "
                                                       "by default month first, with a warning when ambiguous"})


class UploadFileSchema(BaseSchema):
    file = Upload(required=True,
                  metadata={"description": ".csv .tsv .txt .xlsx .xls .json, or .zip/.gz holding one CSV"})


class FileSchema(BaseSchema):
    file_id = fields.Integer()
    upload_id = fields.Integer(metadata={"description": "same as file_id (seed 002 clients)"})
    filename = fields.String()
    size = fields.Integer(metadata={"description": "bytes"})
    rows = fields.Integer()
    columns = fields.List(fields.String())
    column_types = fields.Dict(keys=fields.String(), values=fields.String())
    roles = fields.Dict(keys=fields.String(), values=fields.String())
    layout = fields.String()
    format = fields.String()
    warnings = fields.List(fields.String())
    source = fields.Dict()
    preview = fields.List(fields.Dict())
    sheets = fields.List(fields.Dict(), metadata={"description": "a workbook's sheets: [{name, rows}]"})
    items = fields.Integer(metadata={"description": "basket layout: distinct items"})
    pairs = fields.Integer(metadata={"description": "basket layout: (basket, item) pairs; rows counts baskets"})
    created_at = UTCDateTime()
    raw_expires_at = UTCDateTime(metadata={"description": "when the raw upload is deleted (the data stays)"})
    raw_available = fields.Boolean()


class UploadedSchema(FileSchema):
    message = fields.String()


class FileListItemSchema(FileSchema):
    class Meta:
        exclude = ("preview",)


FilePageArgsSchema = page_args_schema("FilePageArgsSchema", FILE_SORT_FIELDS)
FilePageSchema = page_schema("FilePageSchema", FileListItemSchema)


class FilterArgsSchema(BaseSchema):
    q = fields.String(validate=validate.Length(max=200), metadata={"description": "text in any text column"})
    customer = fields.String(validate=validate.Length(max=200))
    country = fields.String(validate=validate.Length(max=200))
    date_from = fields.String(validate=validate.Length(max=40), metadata={"example": "2011-01-01"})
    date_to = fields.String(validate=validate.Length(max=40), metadata={"example": "2011-12-31"})


class TransactionArgsSchema(FilterArgsSchema, PageArgsSchema):
    sort = fields.String(load_default=None, metadata={"description": "any column of the file"})


class ExportArgsSchema(FilterArgsSchema):
    file_id = Id(required=True)


class TransactionPageSchema(BaseSchema):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    columns = fields.List(fields.String())
    items = fields.List(fields.Dict())
