"""Delimited text: encoding, delimiter, decimal comma, title rows above the header, ragged rows, basket lines."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, replace

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from services.errors import Invalid
from services.ingest.columns import PLACEHOLDERS

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_LINES = 200
SPACES = " "  # Dialect.delimiter of a space-aligned table; the reader rewrites it with commas first
HEADERLESS = -1  # Dialect.header_line of a file whose first line is already data
NULL_TEXTS = ["", "NULL", "null", "NaN", "nan", "N/A", "n/a", "#N/A", "None"]
_NUMBER = re.compile(r"^[-+]?[$€£]?\d[\d.,\s]*$")
_COMMA_DECIMAL = re.compile(r"^[-+]?\d{1,3}(\.\d{3})*,\d+$|^[-+]?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^[-+]?\d{1,3}(,\d{3})*\.\d+$|^[-+]?\d+\.\d+$")


@dataclass(frozen=True)
class Dialect:
    """How a delimited text file is written."""

    encoding: str
    delimiter: str
    header_line: int  # 0-based physical line of the header; lines above it are titles
    decimal: str
    layout: str  # "transactions" or "baskets"


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: UTF-8 (with or without BOM), UTF-16 with BOM, cp1252 or latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode_or_422(data[3:], "utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode_or_422(data, "utf-16"), "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def sniff_dialect(text: str, encoding: str, extension: str, layout: str | None) -> Dialect:
    """Find the delimiter, the header line, the decimal mark and whether lines are baskets."""
    lines = [line for line in _head_lines(text)[:SAMPLE_LINES] if line.strip()]
    if not lines:
        raise Invalid("the file has no rows")
    delimiter = _pick_delimiter(lines, prefer="\t" if extension == ".tsv" else ",")
    rows = list(csv.reader(lines, delimiter=delimiter))
    counts = [len(row) for row in rows]
    mode, mode_count = Counter(counts).most_common(1)[0]
    if mode == 1 and _whitespace_aligned(lines):
        return replace(sniff_dialect(whitespace_to_commas(text), encoding, extension, layout), delimiter=SPACES)
    if layout is None:
        layout = "baskets" if _looks_like_baskets(rows, mode_count / len(rows)) else "transactions"
    if layout == "baskets":
        return Dialect(encoding, delimiter, 0, ".", "baskets")
    header_line = _header_line(text, rows, counts, mode)
    return Dialect(encoding, delimiter, header_line, _decimal_mark(rows, delimiter), "transactions")


def header_and_sample(text: str, dialect: Dialect) -> tuple[list[str], pd.DataFrame]:
    """The raw header names and the first data rows as text, for role detection before the full read
    (column_1, column_2... for a file without a header)."""
    start = max(dialect.header_line, 0)
    lines = _head_lines(text)[start: start + SAMPLE_LINES + 1]
    rows = [row for row in csv.reader(lines, delimiter=dialect.delimiter) if any(cell.strip() for cell in row)]
    if not rows:
        raise Invalid("the file has no header row")
    if dialect.header_line == HEADERLESS:
        rows.insert(0, [f"column_{i}" for i in range(1, max(map(len, rows)) + 1)])
    header, body = rows[0], rows[1:]
    if not body:
        raise Invalid("the file has a header but no data rows")
    width = len(header)
    sample = pd.DataFrame([(row + [""] * width)[:width] for row in body], columns=range(width), dtype="string")
    return header, sample


def read_table(data: bytes, dialect: Dialect, names: list[str], keep: list[int], text_columns: list[str]) -> pa.Table:
    """Read every data row with pyarrow; `keep` are the column positions to return, `text_columns` stay strings."""
    body = _after_line(data, dialect.header_line)
    bad_rows: list[str] = []

    def on_bad_row(row) -> str:
        bad_rows.append(row.text)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names, block_size=8 << 20),
            # Quoted line breaks need the slower serial scan; files without quotes cannot have them.
            parse_options=pacsv.ParseOptions(delimiter=dialect.delimiter, invalid_row_handler=on_bad_row,
                                              newlines_in_values=data.find(b'"') >= 0),
            convert_options=pacsv.ConvertOptions(
                include_columns=[names[i] for i in keep],
                column_types={name: pa.string() for name in text_columns},
                decimal_point=dialect.decimal, null_values=NULL_TEXTS, strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise Invalid(f"the file could not be read as {dialect.delimiter!r}-separated text: {exc}") from exc
    if bad_rows:
        raise _ragged_rows_error(data, dialect, len(names), len(bad_rows))
    if table.num_rows == 0:
        raise Invalid("the file has a header but no data rows")
    return table


def read_baskets(text: str, delimiter: str) -> pd.DataFrame:
    """One basket per line: long format (basket = line number, item), duplicates within a line removed."""
    baskets, items = [], []
    for line_number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        for item in dict.fromkeys(cell.strip() for cell in row):
            if item and item.casefold() not in PLACEHOLDERS:
                baskets.append(line_number)
                items.append(item)
    if not items:
        raise Invalid("the basket file has no items")
    return pd.DataFrame({"basket": pd.array(baskets, dtype="int64"), "item": pd.array(items, dtype="string")})


def _head_lines(text: str) -> list[str]:
    """The first lines, split on \\n only (as the full reader splits), without their \\r."""
    return [line.rstrip("\r") for line in text[: 1 << 20].split("\n")]


def _decode_or_422(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise Invalid(f"the file says it is {encoding} but is not valid {encoding}: {exc.reason} "
                      f"at byte {exc.start}") from exc


def _pick_delimiter(lines: list[str], prefer: str) -> str:
    best, best_score = prefer, 0.0
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        mode, mode_count = Counter(counts).most_common(1)[0]
        if mode <= 1:
            continue
        multi = sum(1 for count in counts if count > 1) / len(counts)
        score = mode_count / len(counts) + multi + min(mode, 50) / 1000 + (0.001 if delimiter == prefer else 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _looks_like_baskets(rows: list[list[str]], mode_share: float) -> bool:
    """Lines of many different lengths, made of words rather than numbers: one basket per line."""
    cells = [cell.strip() for row in rows for cell in row if cell.strip()]
    if mode_share >= 0.8 or not cells:
        return False
    numeric = sum(1 for cell in cells if _NUMBER.match(cell)) / len(cells)
    return numeric < 0.1


def _header_line(text: str, rows: list[list[str]], counts: list[int], mode: int) -> int:
    """The first full-width row is the header; title rows above it are skipped. Returns a physical line index."""
    for index, (row, count) in enumerate(zip(rows, counts, strict=True)):
        if count == mode and sum(1 for cell in row if cell.strip()) >= max(1, mode // 2):
            wordy = sum(1 for cell in row if cell.strip() and not _NUMBER.match(cell.strip()))
            if wordy == 0 and index == 0:
                return HEADERLESS  # numbers from the first line on (CDNOW-style logs): no header at all
            if wordy < max(1, (mode + 1) // 2):
                raise Invalid(f"no header row found: the first full row looks like data ({', '.join(row[:5])})")
            return _physical_line(text, row_index=index)
    raise Invalid("no header row found")


def _whitespace_aligned(lines: list[str]) -> bool:
    """Columns separated by runs of spaces, the same number on (nearly) every line, and no quotes."""
    counts = Counter(len(line.split()) for line in lines)
    mode, mode_count = counts.most_common(1)[0]
    return mode > 1 and mode_count >= 0.9 * len(lines) and not any('"' in line for line in lines)


def whitespace_to_commas(text: str) -> str:
    """A space-aligned table rewritten with commas between its fields (none of them can hold a comma or quote
    that matters: the sniffer only takes this path when no line has a quote)."""
    return "\n".join(",".join(line.split()) for line in text.splitlines())


def _physical_line(text: str, row_index: int) -> int:
    """Index among all lines (blank ones included) of the row_index-th non-blank line."""
    seen = -1
    for line_number, line in enumerate(_head_lines(text)):
        if line.strip():
            seen += 1
            if seen == row_index:
                return line_number
    return 0


def _decimal_mark(rows: list[list[str]], delimiter: str) -> str:
    if delimiter == ",":
        return "."
    cells = [cell.strip() for row in rows[1:] for cell in row]
    comma = sum(1 for cell in cells if _COMMA_DECIMAL.match(cell))
    dot = sum(1 for cell in cells if _DOT_DECIMAL.match(cell))
    return "," if comma > dot else "."


def _after_line(data: bytes, header_line: int) -> memoryview:
    """The bytes after the header line (data is UTF-8 here), without copying."""
    offset = 0
    for _ in range(header_line + 1):
        newline = data.find(b"\n", offset)
        if newline < 0:
            return memoryview(b"")
        offset = newline + 1
    return memoryview(data)[offset:]


def _ragged_rows_error(data: bytes, dialect: Dialect, width: int, how_many: int) -> Invalid:
    """Find the first line whose field count differs from the header's, for a message a person can act on."""
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text), delimiter=dialect.delimiter)
    for row in reader:
        if reader.line_num <= dialect.header_line + 1 or not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            line = reader.line_num
            return Invalid(
                f"line {line} has {len(row)} fields but the header has {width} "
                f"({how_many:,} such row(s) in all)",
                errors=[{"field": f"line {line}", "message": f"{len(row)} fields, expected {width}"}],
            )
    return Invalid(f"{how_many:,} row(s) do not have {width} fields")
