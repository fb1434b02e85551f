"""Where a user's stored files live on disk: one folder per user under UPLOAD_DIR."""
from __future__ import annotations

import errno
import logging
import shutil
import time
from pathlib import Path

logger = logging.getLogger(__name__)
STAGING_PREFIX = ".staging-"
FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
# pyarrow and SQLite report a full disk in words only (pyarrow's OSError carries no errno).
FULL_MESSAGES = ("no space left on device", "database or disk is full", "disk quota exceeded")


def user_storage_dir(storage_root: Path, user_id: int) -> Path:
    """The folder holding every file of one user; built from the numeric id only, never from client input."""
    return storage_root / f"user_{int(user_id)}"


def remove_user_storage(storage_root: Path, user_id: int) -> None:
    """Delete a user's folder and everything in it, if it exists."""
    folder = user_storage_dir(storage_root, user_id)
    if folder.exists():
        shutil.rmtree(folder)
        logger.info("removed storage of user %s", user_id)


def file_storage_dir(storage_root: Path, owner_id: int, storage_key: str) -> Path:
    """The folder of one upload: its original (until retention removes it) and its Parquet copy."""
    if not storage_key.isalnum():
        raise ValueError("storage keys are generated hex strings")
    return user_storage_dir(storage_root, owner_id) / storage_key


def analysis_artifact_dir(storage_root: Path, owner_id: int, storage_key: str, analysis_id: int) -> Path:
    """Files an analysis keeps beside its upload (so deleting the file deletes them too)."""
    return file_storage_dir(storage_root, owner_id, storage_key) / "analyses" / str(int(analysis_id))


def display_name(client_filename: str | None) -> str:
    """The client's file name reduced to a harmless label: no folders, no control characters, 255 chars."""
    name = (client_filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    return name[-255:] or "upload"


def is_storage_full(error: BaseException) -> bool:
    """True when `error`, or what caused it, says the disk (or the quota) is full."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in FULL_ERRNOS:
            return True
        if any(words in str(error).lower() for words in FULL_MESSAGES):
            return True
        error = error.__cause__ or getattr(error, "orig", None)
    return False


def staging_dir(storage_root: Path, owner_id: int, storage_key: str) -> Path:
    """Where an upload is written before its metadata row exists; renamed to its file folder on success."""
    return user_storage_dir(storage_root, owner_id) / f"{STAGING_PREFIX}{storage_key}"


def remove_stale_staging(storage_root: Path, older_than_seconds: float) -> int:
    """Delete staging folders nobody has written to for `older_than_seconds` (their upload died); returns how many."""
    cutoff = time.time() - older_than_seconds
    removed = 0
    for folder in storage_root.glob(f"user_*/{STAGING_PREFIX}*"):
        try:
            newest = max([folder.stat().st_mtime, *(entry.stat().st_mtime for entry in folder.iterdir())])
        except FileNotFoundError:  # its upload finished or failed meanwhile
            continue
        if newest < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        logger.warning("removed %s staging folder(s) left by interrupted uploads", removed)
    return removed
