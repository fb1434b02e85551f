"""Safe decompression: one CSV out of a .zip or .gz, and size/ratio/dimension checks on .xlsx, before parsing."""
from __future__ import annotations

import gzip
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from services.errors import Invalid

INNER_TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
_CHUNK = 1 << 20
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')


@dataclass(frozen=True)
class ArchiveLimits:
    """How far a compressed upload may expand, and how big a sheet may declare itself."""

    max_bytes: int = 256 * 1024 * 1024
    max_ratio: int = 200
    max_cells: int = 50_000_000


def extract_zip_member(path: Path, dest: Path, limits: ArchiveLimits) -> tuple[Path, str]:
    """Unpack the single CSV/TSV/TXT inside a zip into `dest`; returns the file and its inner name."""
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not _is_junk(m.filename)]
        if len(members) != 1:
            names = ", ".join(m.filename for m in members[:10]) or "nothing"
            raise Invalid(f"a zip upload must hold exactly one CSV file; this one holds {len(members)}: {names}")
        member = members[0]
        if not member.filename.lower().endswith(INNER_TEXT_SUFFIXES):
            raise Invalid(f"the zip holds {PurePosixPath(member.filename).name!r}, not a .csv/.tsv/.txt file")
        if member.flag_bits & 0x1:
            raise Invalid("the zip is password-protected")
        _check_expansion(member.file_size, max(member.compress_size, 1), limits)
        target = dest / "extracted.csv"
        with archive.open(member) as source, target.open("wb") as sink:
            _copy_capped(source, sink, member.compress_size, limits)
    return target, PurePosixPath(member.filename).name


def extract_gzip(path: Path, inner_name: str, dest: Path, limits: ArchiveLimits) -> tuple[Path, str]:
    """Decompress a .gz holding one CSV into `dest`, stopping at the size and ratio caps."""
    if not inner_name.lower().endswith(INNER_TEXT_SUFFIXES):
        raise Invalid(f"a .gz upload must hold a .csv/.tsv/.txt file, not {inner_name!r}")
    target = dest / "extracted.csv"
    try:
        with gzip.open(path, "rb") as source, target.open("wb") as sink:
            _copy_capped(source, sink, path.stat().st_size, limits)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise Invalid(f"the .gz file is damaged or truncated: {exc}") from exc
    return target, inner_name


def check_workbook(path: Path, limits: ArchiveLimits) -> None:
    """Refuse an xlsx that would expand too far or whose sheets declare an absurd cell range."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if any(m.flag_bits & 0x1 for m in members):
                raise Invalid("the workbook is password-protected")
            total = sum(m.file_size for m in members)
            packed = sum(m.compress_size for m in members) or 1
            _check_expansion(total, packed, limits)
            for member in members:
                if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                    with archive.open(member) as sheet:
                        _check_dimension(sheet.read(4096), member.filename, limits)
    except zipfile.BadZipFile as exc:
        raise Invalid(f"the workbook is damaged or truncated: {exc}") from exc


def column_number(letters: bytes | str) -> int:
    """Excel column letters to a 1-based number (A=1, XFD=16384)."""
    number = 0
    for char in letters if isinstance(letters, str) else letters.decode():
        number = number * 26 + ord(char) - 64
    return number


def _check_dimension(head: bytes, sheet_name: str, limits: ArchiveLimits) -> None:
    match = _DIMENSION.search(head)
    if not match or not match.group(3):
        return
    first_col, first_row, last_col, last_row = match.groups()
    cells = (column_number(last_col) - column_number(first_col) + 1) * (int(last_row) - int(first_row) + 1)
    if cells > limits.max_cells:
        raise Invalid(
            f"{PurePosixPath(sheet_name).stem} declares a range of {cells:,} cells "
            f"({match.group(0).decode(errors='replace')}), over the limit of {limits.max_cells:,}"
        )


def _check_expansion(unpacked: int, packed: int, limits: ArchiveLimits) -> None:
    if unpacked > limits.max_bytes:
        raise Invalid(f"the archive expands to {unpacked // 2**20} MB, over the {limits.max_bytes // 2**20} MB limit")
    if unpacked > _CHUNK and unpacked / packed > limits.max_ratio:
        raise Invalid(f"the archive's compression ratio {unpacked // packed}:1 looks like a zip bomb")


def _copy_capped(source, sink, packed_size: int, limits: ArchiveLimits) -> None:
    """Copy while counting: headers can lie about sizes, the bytes cannot."""
    cap = min(limits.max_bytes, max(packed_size, 1) * limits.max_ratio + _CHUNK)
    written = 0
    while chunk := source.read(_CHUNK):
        written += len(chunk)
        if written > cap:
            raise Invalid(f"the archive expands past {cap // 2**20} MB: refused as a possible zip bomb")
        sink.write(chunk)


def _is_junk(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and (parts[0] == "__MACOSX" or parts[-1].startswith("."))
