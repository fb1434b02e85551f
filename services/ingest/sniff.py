"""Decide what a file really is from its bytes, not its name, and refuse what we must not parse."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from services.errors import Invalid, Unsupported

TEXT_EXTENSIONS = {".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson"}
ARCHIVE_EXTENSIONS = {".zip", ".gz"}
EXCEL_EXTENSIONS = {".xlsx", ".xlsm", ".xls"}
ALLOWED_EXTENSIONS = TEXT_EXTENSIONS | ARCHIVE_EXTENSIONS | EXCEL_EXTENSIONS

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
GZIP_MAGIC = b"\x1f\x8b"
# Signatures of executables and common binary formats that are never sales data.
REFUSED_MAGIC = {
    b"MZ": "a Windows executable",
    b"\x7fELF": "a Linux executable",
    b"\xfe\xed\xfa\xce": "a macOS executable",
    b"\xfe\xed\xfa\xcf": "a macOS executable",
    b"\xcf\xfa\xed\xfe": "a macOS executable",
    b"\xca\xfe\xba\xbe": "a Java class or macOS binary",
    b"#!": "a script",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"PAR1": "a Parquet file",
    b"SQLite format 3": "a SQLite database",
}


@dataclass(frozen=True)
class FileKind:
    """What the bytes are: csv (any delimited text), json, xlsx, xls, zip or gzip."""

    kind: str
    extension: str


def extension_of(filename: str) -> str:
    """The lower-case last suffix of a client file name, refusing types we do not read."""
    suffix = Path(filename).suffix.lower()
    if suffix not in ALLOWED_EXTENSIONS:
        allowed = ", ".join(sorted(ALLOWED_EXTENSIONS))
        raise Unsupported(f"file type {suffix or '(none)'} is not supported; use one of {allowed}")
    return suffix


def sniff(path: Path, filename: str) -> FileKind:
    """Classify the file by its magic bytes and check that they agree with its extension."""
    extension = extension_of(filename)
    with path.open("rb") as handle:
        head = handle.read(8192)
    if not head.strip():
        raise Invalid("the file is empty")
    for magic, what in REFUSED_MAGIC.items():
        if head.startswith(magic):
            raise Unsupported(f"the file is {what}, not a sales table")
    if head.startswith(OLE2_MAGIC):
        return FileKind(_ole2_kind(path, extension), extension)
    if head.startswith(ZIP_MAGIC):
        return FileKind(_zip_kind(path, extension), extension)
    if head.startswith(GZIP_MAGIC):
        if extension != ".gz":
            raise Unsupported(f"the file is gzip-compressed but named {extension}")
        return FileKind("gzip", extension)
    if not looks_like_text(head):
        raise Unsupported(f"the file is named {extension} but its content is binary, not text")
    if extension in (".xlsx", ".xlsm"):
        raise Unsupported(f"the file is named {extension} but is plain text: save it as .csv and upload that")
    if extension in ARCHIVE_EXTENSIONS:
        raise Unsupported(f"the file is named {extension} but is not an archive")
    if extension in (".json", ".jsonl", ".ndjson"):
        return FileKind("json", extension)
    # .xls exports of many shop systems are really tab- or comma-separated text.
    return FileKind("csv", extension)


def looks_like_text(sample: bytes) -> bool:
    """No NUL bytes and almost no control characters (UTF-16 with a BOM counts as text)."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in sample:
        return False
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13, 27))
    return controls <= len(sample) // 100


def _ole2_kind(path: Path, extension: str) -> str:
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    if "EncryptedPackage".encode("utf-16-le") in head or "EncryptionInfo".encode("utf-16-le") in head:
        raise Invalid("the workbook is password-protected: remove the password and upload it again")
    if extension != ".xls":
        raise Unsupported(f"the file is an old-style Excel/Office document but named {extension}: name it .xls")
    return "xls"


def _zip_kind(path: Path, extension: str) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Invalid(f"the file is a damaged or truncated zip/xlsx: {exc}") from exc
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        if "xl/workbook.bin" in names:
            raise Unsupported("binary Excel workbooks (.xlsb) are not supported: save as .xlsx")
        if extension not in (".xlsx", ".xlsm", ".xls"):
            raise Unsupported(f"the file is an Excel workbook but named {extension}: name it .xlsx")
        return "xlsx"
    if extension != ".zip":
        raise Unsupported(f"the file is a zip archive but named {extension}")
    return "zip"
