"""Files: upload, list, inspect, delete, search rows and export them as CSV (seed 000/001/002 shapes)."""
from __future__ import annotations

import io
import json

from flask import send_file
from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields, validate

from middlewares.auth import current_user
from routes.schemas import (
    BaseSchema,
    Blueprint,
    Id,
    MessageSchema,
    PageArgsSchema,
    UTCDateTime,
    page_args_schema,
    page_schema,
)
from services.files import FILE_SORT_FIELDS
from services.ingest.reader import LAYOUTS
from services.ingest.rows import TransactionFilter
from services.registry import current_services

blp = Blueprint("files", __name__, url_prefix="/api", description="Upload sales files and browse their rows")


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


def _filters(args: dict) -> TransactionFilter:
    return TransactionFilter(**{key: args.get(key) for key in ("q", "customer", "country", "date_from", "date_to")})


@blp.route("/upload", methods=["POST"])
@blp.arguments(UploadFormSchema, location="form")
@blp.arguments(UploadFileSchema, location="files")
@blp.response(201, UploadedSchema)
def upload(form, files):
    """Upload a sales file; it is checked, parsed in a sandbox, typed, and its column roles detected."""
    upload_file = files["file"]
    described = current_services().files.upload(
        current_user()["id"], upload_file.stream, upload_file.filename,
        sheet=form.get("sheet"), columns=form.get("columns"), layout=form.get("layout"),
        dayfirst=form.get("dayfirst"),
    )
    return {"message": "file uploaded", **described}


@blp.route("/files", methods=["GET"])
@blp.arguments(FilePageArgsSchema, location="query")
@blp.response(200, FilePageSchema)
def list_files(args):
    """Your files, newest last unless sorted."""
    return current_services().files.list_files(current_user()["id"], args)


@blp.route("/files/<id:file_id>", methods=["GET"])
@blp.response(200, FileSchema)
def get_file(file_id):
    """One of your files, with its roles, warnings and a preview."""
    return current_services().files.get_file(current_user()["id"], file_id)


@blp.route("/files/<id:file_id>", methods=["DELETE"])
@blp.response(200, MessageSchema)
def delete_file(file_id):
    """Delete a file, its stored copies and every result computed from it."""
    current_services().files.delete_file(current_user()["id"], file_id)
    return {"message": "file deleted"}


@blp.route("/files/<id:file_id>/transactions", methods=["GET"])
@blp.arguments(TransactionArgsSchema, location="query")
@blp.response(200, TransactionPageSchema)
def transactions(args, file_id):
    """Search the file's rows by text, customer, country and date range, page by page."""
    return current_services().files.transactions(current_user()["id"], file_id, _filters(args), args)


@blp.route("/export/csv", methods=["GET"])
@blp.arguments(ExportArgsSchema, location="query")
@blp.response(200, {"type": "string", "format": "binary"}, content_type="text/csv")
def export_csv(args):
    """The same search as /files/<id>/transactions, all matching rows, as a CSV download."""
    name, body = current_services().files.export_csv(current_user()["id"], args["file_id"], _filters(args))
    return send_file(io.BytesIO(body), mimetype="text/csv", as_attachment=True, download_name=name)
