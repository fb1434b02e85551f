"""Files: upload, list, inspect, delete, search rows and export them as CSV (seed 000/001/002 shapes)."""
from __future__ import annotations

import io

from flask import send_file

from middlewares.auth import current_user
from routes.files_schemas import (
    ExportArgsSchema,
    FilePageArgsSchema,
    FilePageSchema,
    FileSchema,
    TransactionArgsSchema,
    TransactionPageSchema,
    UploadedSchema,
    UploadFileSchema,
    UploadFormSchema,
)
from routes.schemas import Blueprint, MessageSchema
from services.ingest.rows import TransactionFilter
from services.registry import current_services

blp = Blueprint("files", __name__, url_prefix="/api", description="Upload sales files and browse their rows")


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
