"""Uploads: store the original and its Parquet copy, keep metadata, list, search, export and delete them."""
from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from sqlalchemy import Engine

from models import files as file_dao
from models.database import utc_now
from models.pagination import Page, page_slice
from services.errors import FileNotFound, Invalid, StorageFull, TooLarge
from services.exports import csv_bytes
from services.ingest.archives import ArchiveLimits
from services.ingest.reader import LAYOUTS, PARQUET_NAME, IngestOptions, ingest_to_parquet, json_records
from services.ingest.rows import TransactionFilter, filter_transactions, sort_rows
from services.ingest.sniff import extension_of
from services.runtime.sandbox import SandboxLimits, run_sandboxed
from services.runtime.storage import (
    analysis_artifact_dir,
    display_name,
    file_storage_dir,
    is_storage_full,
    remove_stale_staging,
    staging_dir,
)

logger = logging.getLogger(__name__)
FILE_SORT_FIELDS = tuple(file_dao.FILE_SORT_COLUMNS)
ORIGINAL_STEM = "original"
STAGING_MARGIN_SECONDS = 60  # past the parse deadline, so a slow disk or a busy machine never loses a live upload
STORAGE_FULL = "storage is full: the upload was not kept; free some space or delete old files"


@dataclass(frozen=True)
class FileSettings:
    """Storage root, how long raw uploads are kept, and the parser's safety limits."""

    storage_root: Path
    raw_retention: timedelta = timedelta(hours=1)
    archive_limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    sandbox_limits: SandboxLimits = field(default_factory=SandboxLimits)
    max_upload_bytes: int = 16 * 2**20


class FileService:
    """File operations for one owner at a time; uploads are all-or-nothing."""

    def __init__(self, engine: Engine, settings: FileSettings) -> None:
        self.engine = engine
        self.settings = settings

    def upload(self, owner_id: int, stream: BinaryIO, client_filename: str | None, sheet: str | None = None,
               columns: dict | None = None, layout: str | None = None, dayfirst: bool | None = None) -> dict:
        """Parse the upload in a sandbox, then store files and metadata together or not at all."""
        filename = display_name(client_filename)
        extension = extension_of(filename)
        if layout is not None and layout not in LAYOUTS:
            raise Invalid.field("layout", f"must be one of {', '.join(LAYOUTS)}")
        options = IngestOptions(sheet=sheet, columns=columns or {}, layout=layout, dayfirst=dayfirst,
                                limits=self.settings.archive_limits)
        key = uuid.uuid4().hex
        staging = staging_dir(self.settings.storage_root, owner_id, key)
        final = file_storage_dir(self.settings.storage_root, owner_id, key)
        try:
            staging.mkdir(parents=True)
            original = staging / f"{ORIGINAL_STEM}{extension}"
            size = _save_capped(stream, original, self.settings.max_upload_bytes)
            if size == 0:
                raise Invalid("the file is empty")
            metadata = run_sandboxed(ingest_to_parquet, self.settings.sandbox_limits,
                                     original, filename, staging, options)
            now = utc_now()
            with self.engine.begin() as conn:
                file_id = file_dao.insert_file(
                    conn, owner_id=owner_id, storage_key=key, original_name=filename, size_bytes=size,
                    created_at=now, raw_expires_at=now + self.settings.raw_retention, raw_deleted_at=None,
                    **metadata,
                )
                staging.rename(final)
                row = file_dao.get_file(conn, file_id, owner_id)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(final, ignore_errors=True)
            if is_storage_full(exc) and not isinstance(exc, StorageFull):
                raise StorageFull(STORAGE_FULL) from exc
            raise
        logger.info("user %s uploaded file %s (%s rows)", owner_id, file_id, metadata["row_count"])
        return describe_file(row)

    def list_files(self, owner_id: int, page_args: Mapping) -> dict:
        """One page of the owner's files."""
        page = Page.of(page_args)
        with self.engine.connect() as conn:
            total, rows = file_dao.list_files(conn, owner_id, page)
        return page.envelope(total, [describe_file(row) for row in rows])

    def get_file(self, owner_id: int, file_id: int) -> dict:
        """One file's metadata with its preview."""
        return describe_file(self.owned_row(owner_id, file_id))

    def delete_file(self, owner_id: int, file_id: int) -> None:
        """Delete the metadata (and, by cascade, results) and then the stored files."""
        with self.engine.begin() as conn:
            row = self.owned_row(owner_id, file_id, conn)
            file_dao.delete_file(conn, file_id, owner_id)
        shutil.rmtree(self._folder(owner_id, row), ignore_errors=True)

    def load_frame(self, owner_id: int, file_id: int) -> tuple[dict, pd.DataFrame]:
        """The file's metadata and its canonical table (read-only: shared with other requests on this file)."""
        row = self.owned_row(owner_id, file_id)
        path = self._folder(owner_id, row) / PARQUET_NAME
        if not path.exists():
            raise FileNotFound(file_id, f"the stored data of file {file_id} is missing; upload it again")
        return row, _read_parquet(str(path))

    def duplicate_rows(self, owner_id: int, file_row: dict) -> pd.Series:
        """Which rows of the file repeat an earlier row exactly (kept with the cached frame)."""
        return _duplicate_rows(str(self._folder(owner_id, file_row) / PARQUET_NAME))

    def analysis_dir(self, owner_id: int, file_row: dict, analysis_id: int) -> Path:
        """Where an analysis of this file keeps its artifacts (deleted with the file)."""
        return analysis_artifact_dir(self.settings.storage_root, owner_id, file_row["storage_key"], analysis_id)

    def transactions(self, owner_id: int, file_id: int, wanted: TransactionFilter, page_args: Mapping) -> dict:
        """One page of the file's rows that match the filters, with the file's columns."""
        page = Page.of(page_args)
        row, frame = self.load_frame(owner_id, file_id)
        matched = sort_rows(filter_transactions(frame, row["roles"], wanted), page.sort, page.order)
        return {**page.envelope(len(matched), json_records(page_slice(matched, page))), "columns": list(frame.columns)}

    def export_csv(self, owner_id: int, file_id: int, wanted: TransactionFilter) -> tuple[str, bytes]:
        """The matching rows as a formula-safe CSV, with a download name."""
        row, frame = self.load_frame(owner_id, file_id)
        stem = Path(row["original_name"]).stem or "transactions"
        return f"{stem}-transactions.csv", csv_bytes(filter_transactions(frame, row["roles"], wanted))

    def purge_expired_originals(self) -> int:
        """Delete raw uploads past their retention time (the Parquet copies stay); returns how many."""
        now = utc_now()
        with self.engine.begin() as conn:
            expired = file_dao.expired_originals(conn, now)
            for item in expired:
                folder = file_storage_dir(self.settings.storage_root, item["owner_id"], item["storage_key"])
                for original in folder.glob(f"{ORIGINAL_STEM}.*"):
                    original.unlink(missing_ok=True)
                file_dao.mark_original_deleted(conn, item["id"], now)
        if expired:
            logger.info("retention removed %s raw upload(s)", len(expired))
        return len(expired)

    def sweep_staging(self) -> int:
        """Remove staging folders of uploads that died (a killed server) once no upload can still be writing them."""
        grace = self.settings.sandbox_limits.timeout_seconds + STAGING_MARGIN_SECONDS
        return remove_stale_staging(self.settings.storage_root, grace)

    def owned_row(self, owner_id: int, file_id: int, conn=None) -> dict:
        """The owner's file row (on `conn` if given, inside the caller's transaction), or FileNotFound."""
        if conn is None:
            with self.engine.connect() as own_conn:
                return self.owned_row(owner_id, file_id, own_conn)
        row = file_dao.get_file(conn, file_id, owner_id)
        if row is None:
            raise FileNotFound(file_id)
        return row

    def _folder(self, owner_id: int, row: dict) -> Path:
        return file_storage_dir(self.settings.storage_root, owner_id, row["storage_key"])


def _save_capped(stream: BinaryIO, target: Path, limit: int) -> int:
    """Copy the upload to `target`; a file over `limit` bytes is a 413 (the request limit also covers the
    multipart framing, so it lets a slightly larger file through)."""
    size = 0
    with target.open("wb") as sink:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"the file is larger than the {limit / 2**20:g} MiB upload limit")
            sink.write(chunk)
    return size


@lru_cache(maxsize=2)
def _read_parquet(path: str) -> pd.DataFrame:
    """Several analyses usually run on the same file in a row; the Parquet copy never changes once written
    (its folder name is a fresh random key), and pandas' copy-on-write keeps the cached frame unmodified."""
    return pd.read_parquet(path)


@lru_cache(maxsize=2)
def _duplicate_rows(path: str) -> pd.Series:
    return _read_parquet(path).duplicated(keep="first")


def _shape(row: dict) -> dict:
    """A workbook's sheets, a basket file's distinct items and (basket, item) pairs, when the file has them."""
    source = row["source"] or {}
    # Always present (null when they do not apply): the schema would read dict attributes such as .items.
    shape = {key: source.get(key) for key in ("items", "pairs", "sheets")}
    if shape["sheets"]:  # files uploaded before sheet sizes were kept have no sheet_rows
        rows = source.get("sheet_rows") or [None] * len(shape["sheets"])
        shape["sheets"] = [{"name": name, "rows": count} for name, count in zip(shape["sheets"], rows, strict=True)]
    return shape


def describe_file(row: dict) -> dict:
    """File metadata as the API shows it (the upload answer and GET /api/files/<id>)."""
    return {
        "file_id": row["id"],
        "upload_id": row["id"],
        "filename": row["original_name"],
        "size": row["size_bytes"],
        "rows": row["row_count"],
        "columns": [column["name"] for column in row["columns"]],
        "column_types": {column["name"]: column["type"] for column in row["columns"]},
        "roles": row["roles"],
        "layout": row["layout"],
        "format": row["format"],
        "warnings": row["warnings"],
        "source": row["source"],
        **_shape(row),
        "preview": row.get("preview"),
        "created_at": row["created_at"],
        "raw_expires_at": row["raw_expires_at"],
        "raw_available": row["raw_deleted_at"] is None,
    }
