"""Reading analyses: summaries, paged result rows, downloads, and each kind's extras (elbow, predict,
recommendations...). Every read is scoped to the owner; result rows are read by an analysis id loaded with its
owner just before. What a kind's rows are and where they live comes from its entry in analysis/kinds.py."""
from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from models import analyses as analysis_dao
from models import files as file_dao
from models import results as result_dao
from models.pagination import Page, page_slice
from models.status import Status
from services.analysis.kind_base import AnalysisKind, ResultStorage
from services.analysis.kind_cleaning import REMOVED_ROWS_FILE
from services.analysis.kinds import ANALYSIS_TYPES, get_kind, kinds_with
from services.errors import AnalysisNotFound, Conflict, DownloadNotFound, FileNotFound, Invalid, NotFound
from services.exports import csv_bytes, xlsx_bytes
from services.files import FileService
from services.ingest.reader import json_records
from services.ingest.rows import sort_rows

DOWNLOAD_FORMATS = ("csv", "xlsx")
_DOWNLOAD_NAME = re.compile(rf"analysis-([1-9]\d{{0,9}})-({'|'.join(ANALYSIS_TYPES)})\.({'|'.join(DOWNLOAD_FORMATS)})")
ANALYSIS_SORT_FIELDS = tuple(analysis_dao.ANALYSIS_SORT_COLUMNS)
STATUSES = [status.value for status in Status]  # of analyses and jobs, for the OpenAPI enums
logger = logging.getLogger(__name__)


class ResultService:
    """Read-side of analyses."""

    def __init__(self, engine: Engine, files: FileService) -> None:
        self.engine = engine
        self.files = files

    def get(self, owner_id: int, analysis_id: int) -> dict:
        """One analysis with its summary."""
        return describe_analysis(self._owned(owner_id, analysis_id))

    def list(self, owner_id: int, page_args: Mapping, file_id: int | None, analysis_type: str | None) -> dict:
        """One page of the owner's analyses."""
        page = Page.of(page_args)
        with self.engine.connect() as conn:
            total, rows = analysis_dao.list_analyses(conn, owner_id, page, file_id, analysis_type)
        return page.envelope(total, [describe_analysis(row) for row in rows])

    def delete(self, owner_id: int, analysis_id: int) -> None:
        """Delete an analysis, its rows and its stored artifacts."""
        with self.engine.begin() as conn:
            analysis = self._owned(owner_id, analysis_id, conn)
            file_row = file_dao.get_file(conn, analysis["file_id"], owner_id)
            analysis_dao.delete_analysis(conn, analysis_id, owner_id)
        if file_row:
            shutil.rmtree(self.files.analysis_dir(owner_id, file_row, analysis_id), ignore_errors=True)

    def results(self, owner_id: int, analysis_id: int, page_args: Mapping, filters: Mapping[str, object]) -> dict:
        """One page of result rows: customers (rfm), rules (basket), removed rows (cleaning), tables (statistical)."""
        # The analysis row and its page share one connection: one checkout (and pre-ping) fewer.
        with self.engine.connect() as conn:
            analysis = self._check_finished(self._owned(owner_id, analysis_id, conn))
            kind, page = get_kind(analysis["type"]), Page.of(page_args)
            for name, value in filters.items():
                if value is not None and name not in kind.filters:
                    raise Invalid.field(name, f"filters {', '.join(kinds_with('filters', name))} results; "
                                              f"this is a {kind.name} analysis")
            if kind.storage is ResultStorage.TABLE:
                if page.sort and page.sort not in kind.sort_fields:
                    raise Invalid.field("sort", f"must be one of {', '.join(kind.sort_fields)}")
                unfiltered = all(value is None for value in filters.values())
                known = analysis["summary"].get(kind.total_in_summary) if unfiltered and kind.total_in_summary \
                    else None
                total, rows = result_dao.result_page(conn, kind.result_table, analysis_id, page, filters, known)
                return page.envelope(total, rows)
        if kind.storage is ResultStorage.REMOVED_ROWS:
            total, removed = self._removed_rows(owner_id, analysis, page)
            return page.envelope(total, json_records(removed))
        if page.sort:
            raise Invalid.field("sort", f"{kind.name} tables keep their own order")
        table = kind.summary_rows(analysis["summary"])
        return page.envelope(len(table), page_slice(table, page))

    def rfm_rows_of_latest(self, owner_id: int, file_id: int) -> list[dict]:
        """Seed 002: every customer row of the file's newest finished rfm analysis."""
        with self.engine.connect() as conn:
            self.files.owned_row(owner_id, file_id, conn)
            latest = analysis_dao.latest_analysis(conn, owner_id, file_id, "rfm")
            if latest is None:
                raise NotFound(f"file {file_id} has no finished RFM analysis yet: POST /api/rfm/process/{file_id}")
            return result_dao.all_results(conn, get_kind("rfm").result_table, latest["id"])

    def kind_extra(self, owner_id: int, analysis_id: int, name: str, **args) -> dict:
        """The extra `name` (elbow, clusters, predict, itemsets, recommendations...) of a finished analysis whose
        kind offers it; another kind's analysis is a 422."""
        analysis = self._owned(owner_id, analysis_id)
        handler = get_kind(analysis["type"]).extras.get(name)
        if handler is None:
            raise Invalid(f"analysis {analysis_id} is a {analysis['type']} analysis, not "
                          f"{' or '.join(kinds_with('extras', name))}")
        self._check_finished(analysis)
        if "page" in args:
            args["page"] = Page.of(args["page"])
        return handler(self._source(owner_id, analysis), **args)

    def download(self, owner_id: int, analysis_id: int, fmt: str) -> tuple[str, bytes, str]:
        """(file name, bytes, mimetype) of an analysis' results as CSV or XLSX."""
        if fmt not in DOWNLOAD_FORMATS:
            raise Invalid.field("format", "must be csv or xlsx")
        analysis = self._finished(owner_id, analysis_id)
        kind = get_kind(analysis["type"])
        table = self._result_table(owner_id, analysis, kind)
        name = download_name(analysis_id, analysis["type"], fmt)
        if fmt == "csv":
            return name, csv_bytes(table), "text/csv"
        return name, xlsx_bytes(kind.sheets(table)), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def download_by_name(self, owner_id: int, filename: str) -> tuple[str, bytes, str]:
        """Seed 000: the download named in a process answer, e.g. analysis-12-rfm.csv."""
        analysis_id, analysis_type, fmt = parse_download_name(filename)
        if self._owned(owner_id, analysis_id)["type"] != analysis_type:
            raise DownloadNotFound(filename)
        return self.download(owner_id, analysis_id, fmt)

    def _owned(self, owner_id: int, analysis_id: int, conn=None) -> dict:
        if conn is None:
            with self.engine.connect() as own:
                return self._owned(owner_id, analysis_id, own)
        analysis = analysis_dao.get_analysis(conn, analysis_id, owner_id)
        if analysis is None:
            raise AnalysisNotFound(analysis_id)
        return analysis

    def _finished(self, owner_id: int, analysis_id: int) -> dict:
        return self._check_finished(self._owned(owner_id, analysis_id))

    @staticmethod
    def _check_finished(analysis: dict) -> dict:
        if analysis["status"] != Status.FINISHED:
            raise Conflict(f"analysis {analysis['id']} is {analysis['status']}, not finished")
        return analysis

    def _artifact(self, owner_id: int, analysis: dict, name: str) -> Path:
        with self.engine.connect() as conn:
            file_row = file_dao.get_file(conn, analysis["file_id"], owner_id)
        if file_row is None:
            raise AnalysisNotFound(analysis["id"])
        return self.files.analysis_dir(owner_id, file_row, analysis["id"]) / name

    def _source(self, owner_id: int, analysis: dict) -> _Source:
        return _Source(self, owner_id, analysis)

    def _removed_rows(self, owner_id: int, analysis: dict, page: Page) -> tuple[int, pd.DataFrame]:
        """How many rows the cleaning removed, and one page of them with `removed_row` (1-based position among
        the file's data rows) and `removed_reason` (names no column of an upload can collide with)."""
        reasons = _read_artifact(pd.read_parquet, self._artifact(owner_id, analysis, REMOVED_ROWS_FILE))
        _file, frame = self.files.load_frame(owner_id, analysis["file_id"])
        chosen = reasons if page.sort else page_slice(reasons, page)
        rows = frame.iloc[chosen["row"].to_numpy() - 1].reset_index(drop=True)
        rows = rows.assign(removed_row=chosen["row"].to_numpy(), removed_reason=chosen["reason"].to_numpy())
        if page.sort:
            rows = page_slice(sort_rows(rows, page.sort, page.order), page)
        return len(reasons), rows

    def _result_table(self, owner_id: int, analysis: dict, kind: AnalysisKind) -> pd.DataFrame:
        """All result rows of an analysis as one table (what a download holds)."""
        if kind.storage is ResultStorage.REMOVED_ROWS:
            reasons = _read_artifact(pd.read_parquet, self._artifact(owner_id, analysis, REMOVED_ROWS_FILE))
            _file, frame = self.files.load_frame(owner_id, analysis["file_id"])
            return frame.drop(index=frame.index[reasons["row"].to_numpy() - 1])
        if kind.storage is ResultStorage.SUMMARY:
            return pd.DataFrame(kind.summary_rows(analysis["summary"]))
        rows = self._source(owner_id, analysis).rows(kind.result_table)
        return kind.download_table(pd.DataFrame(rows, columns=result_dao.result_columns(kind.result_table)))


class _Source:
    """kind_base.ResultSource over one finished analysis: what a kind's extras may read of it."""

    def __init__(self, service: ResultService, owner_id: int, analysis: dict) -> None:
        self.service, self.owner_id, self.analysis = service, owner_id, analysis
        self.summary = analysis["summary"]

    @property
    def params(self):
        """The kind's own params of this analysis, parsed as the run parsed them."""
        return get_kind(self.analysis["type"]).parse(self.analysis["params"]).specific

    def rows(self, table: str, item: str | None = None) -> list[dict]:
        """Every row of one of its result tables (those holding `item`)."""
        with self.service.engine.connect() as conn:
            return result_dao.all_results(conn, table, self.analysis["id"], item)

    def page(self, table: str, page: Page, filters: Mapping[str, object]) -> dict:
        """One page envelope of a result table."""
        with self.service.engine.connect() as conn:
            total, rows = result_dao.result_page(conn, table, self.analysis["id"], page, filters)
        return page.envelope(total, rows)

    def artifact(self, name: str, reader: Callable[[Path], object]) -> object:
        """An artifact of the run, read by `reader`."""
        return _read_artifact(reader, self.service._artifact(self.owner_id, self.analysis, name))


def describe_analysis(row: dict) -> dict:
    """An analysis as the API shows it."""
    return {"analysis_id": row["id"], "file_id": row["file_id"], "type": row["type"], "status": row["status"],
            "params": row["params"], "summary": row.get("summary"), "error": row["error"],
            "download": download_name(row["id"], row["type"]) if row["status"] == "finished" else None,
            "created_at": row["created_at"], "finished_at": row["finished_at"]}


def download_name(analysis_id: int, analysis_type: str, fmt: str = "csv") -> str:
    """The name clients pass to /api/download/<filename>."""
    return f"analysis-{analysis_id}-{analysis_type}.{fmt}"


def parse_download_name(filename: str) -> tuple[int, str, str]:
    """(analysis id, type, format) from a download name; anything else is a 404, and no path is built from it."""
    match = _DOWNLOAD_NAME.fullmatch(filename)
    if not match:
        raise DownloadNotFound(filename)
    return int(match.group(1)), match.group(2), match.group(3)


def _read_artifact(reader, path):
    """An artifact read that treats a file removed meanwhile (its upload deleted) as not found."""
    try:
        return reader(path)
    except FileNotFoundError as exc:
        raise FileNotFound.results_gone() from exc
