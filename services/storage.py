"""Where a user's stored files live on disk: one folder per user under UPLOAD_DIR."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)


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


REMOVED_ROWS_FILE = "removed.parquet"  # a cleaning analysis: positions and reasons of the removed rows
MODEL_FILE = "model.joblib"  # an rfm analysis: what /predict needs


def analysis_artifact_dir(storage_root: Path, owner_id: int, storage_key: str, analysis_id: int) -> Path:
    """Files an analysis keeps beside its upload (so deleting the file deletes them too)."""
    return file_storage_dir(storage_root, owner_id, storage_key) / "analyses" / str(int(analysis_id))


def display_name(client_filename: str | None) -> str:
    """The client's file name reduced to a harmless label: no folders, no control characters, 255 chars."""
    name = (client_filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    return name[-255:] or "upload"
