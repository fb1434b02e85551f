"""One storage interface for uploads and artifacts: a local folder (file://) or an S3 bucket (s3://), by STORAGE_URL.

Keys are relative paths the app builds (`user_3/<hexkey>/data.parquet`). The rule on both backends: write objects
under a fresh key, then commit the database row; on failure delete what was written. A writer commits on close:
the object is visible under its key only once the `with` block ends without an exception. Storage faults become
StorageUnavailable (503, Retry-After) or StorageFull (507); a missing object is ObjectNotFound (404, and a
FileNotFoundError for code that expects one).

It runs past 300 lines because the interface, its errors and the local backend are one unit (the S3 backend
is in s3store.py, its signing in presign.py); splitting the local backend off would leave a base class with
no implementation beside it.
"""
from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import pandas as pd
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from services.errors import AppError, NotFound, ServiceUnavailable, StorageFull

if TYPE_CHECKING:
    from services.runtime.s3store import S3Options

logger = logging.getLogger(__name__)
CHUNK_BYTES = 1 << 20
STREAM_BUFFER_BYTES = 8 << 20  # unbuffered S3 reads are one ranged GET per 64 KiB
PARTIAL_SUFFIX = ".partial"  # a local write in progress, or left by a crash (housekeeping removes old ones)
FULL_MARKERS = ("QuotaExceeded", "StorageFull", "InsufficientStorage", "No space left", "quota exceeded")


class StorageUnavailable(ServiceUnavailable):
    """The storage cannot be reached or refused the call (503, with the one Retry-After every 503 has)."""

    title, slug = "Storage unavailable", "storage-unavailable"

    def __init__(self, detail: str = "the file storage is not reachable; try again shortly") -> None:
        super().__init__(detail)


class ObjectNotFound(NotFound, FileNotFoundError):
    """No object under this key (404); also a FileNotFoundError, as pandas and pyarrow callers expect."""


class StorageConfigError(RuntimeError):
    """STORAGE_URL or the S3 settings cannot work (bad URL, missing bucket); raised at boot."""


class PresignUnavailable(RuntimeError):
    """This store cannot hand out presigned URLs (file://, or S3 without static credentials)."""


@dataclass(frozen=True)
class StoredObject:
    """One listed object: its key, size in bytes and last modification time (UTC)."""

    key: str
    size: int
    mtime: datetime

    @property
    def age(self) -> timedelta:
        """How long ago the object was last written."""
        return datetime.now(UTC) - self.mtime

    @property
    def partial(self) -> bool:
        """Whether this is an unfinished local write rather than an object."""
        return self.key.endswith(PARTIAL_SUFFIX)


def check_key(key: str) -> str:
    """The key itself if it is a safe relative path; ValueError for absolute, `..`, backslash, NUL or empty parts."""
    if not isinstance(key, str) or not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise ValueError(f"unsafe storage key {key!r}")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"unsafe storage key {key!r}")
    return key


def _translate(exc: OSError, key: str) -> AppError:
    """The app's error for a storage OSError; every fault that is not the client's becomes a 503 or a 507."""
    if isinstance(exc, FileNotFoundError):
        return ObjectNotFound(f"{key} is not in storage")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT) or any(marker in str(exc) for marker in FULL_MARKERS):
        logger.error("storage full writing %s: %s", key, exc)
        return StorageFull("the file storage is full; delete files or ask the operator for more space")
    logger.error("storage failed on %s: %s", key, exc)
    return StorageUnavailable()


@contextmanager
def storage_errors(key: str) -> Iterator[None]:
    """Turn storage OSErrors raised inside the block into ObjectNotFound, StorageFull or StorageUnavailable."""
    try:
        yield
    except AppError:
        raise
    except OSError as exc:
        raise _translate(exc, key) from exc


class ObjectStore:
    """Operations shared by both backends over a pyarrow filesystem rooted at `root`."""

    backend = "base"

    def __init__(self, fs: pafs.FileSystem, root: str, location: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.location = location

    def path(self, key: str) -> str:
        """The filesystem path of a key."""
        return f"{self.root}/{check_key(key)}"

    @contextmanager
    def open_writer(self, key: str) -> Iterator[pa.NativeFile]:
        """A stream that becomes the object `key` when the block ends; an exception leaves no object behind."""
        final = self.path(key)
        pending = self._pending_path(final)
        with storage_errors(key):
            self._make_parent(final)
            stream = self.fs.open_output_stream(pending)
        try:
            with storage_errors(key):
                yield stream
                stream.close()
                if pending != final:
                    self.fs.move(pending, final)
        except BaseException:
            self._discard(stream, pending, key)
            raise

    def put_bytes(self, key: str, data: bytes) -> int:
        """Store `data` under `key`; its size."""
        with self.open_writer(key) as out:
            out.write(data)
        return len(data)

    def put_file(self, key: str, local_path: Path | str) -> int:
        """Copy a local file to `key`; its size."""
        with open(local_path, "rb") as source, self.open_writer(key) as out:
            shutil.copyfileobj(source, out, CHUNK_BYTES)
            return out.tell()

    def write_parquet(self, key: str, data: pd.DataFrame | pa.Table, **options) -> int:
        """Write a frame or table as Parquet (pyarrow.parquet.write_table options); the object's size."""
        table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
        with self.open_writer(key) as out:
            pq.write_table(table, out, **options)
            return out.tell()

    def open_reader(self, key: str) -> pa.NativeFile:
        """A seekable file (for joblib.load, read_excel, Parquet footers); close it, or use it in `with`."""
        with storage_errors(key):
            return self.fs.open_input_file(self.path(key))

    def open_stream(self, key: str) -> pa.NativeFile:
        """A buffered sequential stream, for copying an object out."""
        with storage_errors(key):
            return self.fs.open_input_stream(self.path(key), buffer_size=STREAM_BUFFER_BYTES)

    def iter_chunks(self, key: str, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]:
        """The object's bytes in chunks, for a streamed download; opened now, so a missing key raises here."""
        stream = self.open_stream(key)

        def chunks() -> Iterator[bytes]:
            with stream, storage_errors(key):
                while chunk := stream.read(chunk_size):
                    yield chunk

        return chunks()

    def read_bytes(self, key: str) -> bytes:
        """The whole object."""
        with self.open_stream(key) as stream, storage_errors(key):
            return stream.read()

    def read_parquet(self, key: str, columns: list[str] | None = None) -> pd.DataFrame:
        """A Parquet object as a DataFrame."""
        with storage_errors(key):
            return pd.read_parquet(self.path(key), filesystem=self.fs, columns=columns)

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        with storage_errors(key):
            return self.fs.get_file_info(self.path(key)).type == pafs.FileType.File

    def delete(self, key: str) -> bool:
        """Delete one object; False if there was none."""
        try:
            with storage_errors(key):
                self.fs.delete_file(self.path(key))
        except ObjectNotFound:
            return False
        return True

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object under the folder `prefix` (`user_3` never touches `user_30`); nothing there is fine."""
        try:
            with storage_errors(prefix):
                self.fs.delete_dir(self.path(prefix))
        except ObjectNotFound:
            pass

    def list(self, prefix: str = "") -> list[StoredObject]:
        """Every object under the folder `prefix` (all objects when empty), with size and modification time."""
        base = self.path(prefix) if prefix else self.root
        selector = pafs.FileSelector(base, recursive=True, allow_not_found=True)
        with storage_errors(prefix or "/"):
            infos = self.fs.get_file_info(selector)
        start = len(self.root) + 1
        return [StoredObject(info.path[start:], info.size, _utc(info.mtime))
                for info in infos if info.type == pafs.FileType.File]

    def health(self) -> dict:
        """{backend, location, reachable, free_bytes, detail}; never raises."""
        raise NotImplementedError

    def _health(self, reachable: bool, detail: str = "", free_bytes: int | None = None) -> dict:
        return {"backend": self.backend, "location": self.location, "reachable": reachable,
                "free_bytes": free_bytes, "detail": detail}

    def presign_get(self, key: str, download_name: str, expires_seconds: int | None = None) -> str:
        """A short-lived URL that downloads the object as `download_name`; PresignUnavailable where unsupported."""
        raise PresignUnavailable(f"{self.backend} storage cannot hand out download URLs")

    def _pending_path(self, final: str) -> str:
        return final

    def _make_parent(self, final: str) -> None:
        """Backends with real folders create the parent folder here."""

    def _discard(self, stream: pa.NativeFile, pending: str, key: str) -> None:
        # pyarrow cannot abort an S3 upload: closing commits what was written, so delete it right after.
        try:
            if not stream.closed:
                stream.close()
            self.fs.delete_file(pending)
        except FileNotFoundError:
            pass
        except OSError as exc:
            logger.warning("could not remove the partial object %s (housekeeping will): %s", key, exc)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class LocalStore(ObjectStore):
    """A folder on a local (or mounted, shared) disk; writes go to a hidden sibling and are renamed into place."""

    backend = "file"

    def __init__(self, root: Path) -> None:
        super().__init__(pafs.LocalFileSystem(), str(root), str(root))

    def health(self) -> dict:
        """Reachable when the root is a writable folder; free_bytes from the disk."""
        root = Path(self.root)
        if not root.is_dir() or not os.access(root, os.W_OK):
            return self._health(False, "the storage folder is missing or not writable")
        return self._health(True, free_bytes=shutil.disk_usage(root).free)

    def _pending_path(self, final: str) -> str:
        head, _, name = final.rpartition("/")
        return f"{head}/.{name}.{secrets.token_hex(6)}{PARTIAL_SUFFIX}"

    def _make_parent(self, final: str) -> None:
        self.fs.create_dir(final.rpartition("/")[0], recursive=True)


def open_store(url: str, s3: S3Options | None = None) -> ObjectStore:
    """The store named by STORAGE_URL (file:///abs/path or s3://bucket/prefix); StorageConfigError if unusable.

    A file:// root is created when missing. An s3:// bucket must exist already: it is checked here, at boot.
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        root = Path(unquote(parts.path))
        if parts.netloc not in ("", "localhost") or not root.is_absolute():
            raise StorageConfigError(f"STORAGE_URL {url!r} must be file:///absolute/path")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageConfigError(f"cannot create the storage folder {root}: {exc}") from exc
        return LocalStore(root)
    if parts.scheme != "s3" or not parts.netloc:
        raise StorageConfigError(f"STORAGE_URL {url!r} must start with file:/// or s3://bucket")
    from services.runtime.s3store import S3Options, S3Store  # imported here: s3store builds on this module

    prefix = parts.path.strip("/")
    if prefix:
        check_key(prefix)
    store = S3Store(parts.netloc, prefix, s3 or S3Options())
    try:
        kind = store.fs.get_file_info(store.bucket).type
    except OSError as exc:
        raise StorageConfigError(f"S3 storage {store.location} is not usable: {exc}") from exc
    if kind != pafs.FileType.Directory:
        raise StorageConfigError(f"S3 bucket {store.bucket!r} does not exist at {store.endpoint}; create it first")
    return store
