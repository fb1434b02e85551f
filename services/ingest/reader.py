"""Turn one uploaded file into a typed table with column roles: the pure heart of ingest."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from services.errors import Invalid
from services.ingest import archives, excel, text
from services.ingest.archives import ArchiveLimits
from services.ingest.columns import check_headers, type_columns
from services.ingest.jsonfile import read_json_records
from services.ingest.roles import ID_ROLES, ROLES, apply_overrides, content_roles, detect_roles
from services.ingest.sniff import extension_of, sniff
from services.ingest.timeofday import fold_time_of_day

LAYOUTS = ("transactions", "baskets")
PARQUET_NAME = "data.parquet"
PREVIEW_ROWS = 5
BASKET_ROLES = {"invoice": "basket", "item": "item", "description": "item"}


@dataclass(frozen=True)
class IngestOptions:
    """What the client may say about a file: which sheet, which column has which role, which layout, and
    whether ambiguous dates are day first."""

    sheet: str | None = None
    columns: dict = field(default_factory=dict)
    layout: str | None = None
    dayfirst: bool | None = None
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)


@dataclass
class IngestedTable:
    """The canonical table and what was learnt about it."""

    frame: pd.DataFrame
    roles: dict[str, str]
    layout: str
    warnings: list[str]
    source: dict


def read_upload(path: Path, filename: str, workdir: Path, options: IngestOptions) -> IngestedTable:
    """Read any supported upload (after checking its bytes) into an IngestedTable."""
    kind = sniff(path, filename).kind
    source: dict = {"format": kind}
    if kind == "zip":
        path, filename = archives.extract_zip_member(path, workdir, options.limits)
        source["inner_file"], kind = filename, "csv"
    elif kind == "gzip":
        path, filename = archives.extract_gzip(path, filename[:-3], workdir, options.limits)
        source["inner_file"], kind = filename, "csv"
    if kind in ("xlsx", "xls"):
        return _read_workbook(path, kind, options, source)
    if path.stat().st_size > options.limits.max_bytes:
        raise Invalid(f"the file expands past the {options.limits.max_bytes // 2**20} MB limit")
    data = path.read_bytes()
    decoded, encoding = text.decode(data)
    source["encoding"] = encoding
    if kind == "json":
        frame = read_json_records(decoded)
        frame.columns = check_headers(list(frame.columns))
        return _finish(frame, options, source)
    return _read_delimited(data, decoded, extension_of(filename), options, source)


def _read_workbook(path: Path, kind: str, options: IngestOptions, source: dict) -> IngestedTable:
    if kind == "xlsx":
        archives.check_workbook(path, options.limits)
    names = excel.sheet_names(path, kind)
    sheet = excel.choose_sheet(names, options.sheet)
    if options.layout == "baskets":
        raise Invalid.field("layout", "basket layout is read from delimited text files only")
    frame = excel.read_sheet(path, kind, sheet)
    sheets = {sheet: frame}
    if len(names) > 1:
        sheets.update({name: excel.read_sheet_or_none(path, kind, name) for name in names if name != sheet})
    same = [name for name, other in sheets.items()
            if other is not None and list(other.columns) == list(frame.columns)]
    warnings = []
    if options.sheet is None and len(same) > 1:
        frame = pd.concat([sheets[name] for name in same], ignore_index=True)
        warnings.append(f"the sheets {', '.join(same)} have the same columns and were read as one table "
                        f"({len(frame):,} rows); send sheet=<name> to read one of them")
    source.update(sheet=sheet, sheets_read=same if options.sheet is None else [sheet],
                  sheets=names, sheet_rows=[0 if sheets[name] is None else len(sheets[name]) for name in names])
    table = _finish(frame, options, source)
    table.warnings[:0] = warnings
    return table


def _read_delimited(data: bytes, decoded: str, extension: str, options: IngestOptions, source: dict) -> IngestedTable:
    if "\n" not in decoded[: 1 << 20] and "\r" in decoded[: 1 << 20]:
        decoded = decoded.replace("\r", "\n")  # old Mac line endings
        data = decoded.encode("utf-8")
    dialect = text.sniff_dialect(decoded, source["encoding"], extension, options.layout)
    source.update(delimiter=dialect.delimiter, decimal=dialect.decimal, header_line=dialect.header_line + 1)
    if dialect.delimiter == text.SPACES:
        decoded = text.whitespace_to_commas(decoded)
        data, dialect = decoded.encode("utf-8"), replace(dialect, delimiter=",", encoding="utf-8")
    if dialect.layout == "baskets":
        frame = text.read_baskets(decoded, dialect.delimiter)
        source.update(baskets=int(frame["basket"].nunique()), items=int(frame["item"].nunique()), pairs=len(frame))
        return IngestedTable(frame, dict(BASKET_ROLES), "baskets", [], source)
    header, sample = text.header_and_sample(decoded, dialect)
    keep = [i for i, name in enumerate(header) if name.strip() or (sample[i].fillna("").str.strip() != "").any()]
    names = check_headers([header[i] for i in keep])
    sample = sample[keep].set_axis(names, axis=1)
    found = content_roles(sample) if dialect.header_line == text.HEADERLESS else detect_roles(sample)
    roles = apply_overrides(found, options.columns, names)
    text_columns = sorted({roles[r] for r in (*ID_ROLES, "description", "country") if r in roles})
    all_names = [f"__blank_{i}" for i in range(len(header))]
    for position, name in zip(keep, names, strict=True):
        all_names[position] = name
    utf8 = data if source["encoding"] == "utf-8" else decoded.encode("utf-8")
    frame = text.read_table(utf8, dialect, all_names, keep, text_columns).to_pandas()
    return _finish(frame, options, source, roles=roles, decimal=dialect.decimal)


def _finish(frame: pd.DataFrame, options: IngestOptions, source: dict,
            roles: dict | None = None, decimal: str = ".") -> IngestedTable:
    if options.layout == "baskets":
        raise Invalid.field("layout", "this file has a header row; basket layout means one basket per line")
    columns = list(frame.columns)
    if roles is None:
        roles = apply_overrides(detect_roles(frame.head(2000)), options.columns, columns)
    typed, warnings = type_columns(frame, roles, decimal, options.dayfirst)
    typed, folded = fold_time_of_day(typed, roles)
    if folded:
        warnings.append(folded)
    # A status column is optional: most exports have none and that is fine.
    missing = [role for role in ROLES if role not in roles and role != "status" and not _covered(role, roles)]
    if missing:
        warnings.append(f"no column was recognised as {', '.join(missing)}; name them with columns={{role: column}}")
    return IngestedTable(typed, roles, "transactions", warnings, source)


def _covered(role: str, roles: dict[str, str]) -> bool:
    """A line amount can be computed from quantity x unit price, a price from the amount; a code stands for a name."""
    if role == "amount":
        return "quantity" in roles and "unit_price" in roles
    if role == "unit_price":
        return "amount" in roles
    return role == "description" and "item" in roles


def ingest_to_parquet(path: Path, filename: str, workdir: Path, options: IngestOptions) -> dict:
    """Read the upload, write workdir/data.parquet, and return its metadata as plain JSON-able values."""
    table = read_upload(path, filename, workdir, options)
    table.frame.to_parquet(workdir / PARQUET_NAME, index=False)
    for leftover in workdir.glob("extracted.*"):
        leftover.unlink()
    return {
        "format": table.source["format"],
        "layout": table.layout,
        "row_count": table.source["baskets"] if table.layout == "baskets" else len(table.frame),
        "columns": [{"name": name, "type": column_type(table.frame[name])} for name in table.frame.columns],
        "roles": table.roles,
        "warnings": table.warnings,
        "source": table.source,
        "preview": json_records(table.frame.head(PREVIEW_ROWS)),
    }


def column_type(values: pd.Series) -> str:
    """A client-facing type name: text, integer, number, datetime or boolean."""
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_integer_dtype(values):
        return "integer"
    if pd.api.types.is_numeric_dtype(values):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    return "text"


def json_records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-safe dicts: ISO dates, null for missing, no NaN."""
    return json.loads(frame.to_json(orient="records", date_format="iso", date_unit="s", force_ascii=False))
