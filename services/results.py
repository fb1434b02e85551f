"""Reading analyses: summaries, paged result rows, downloads, and the rfm and basket extras. Every read is
scoped to the owner; result rows are read by an analysis id loaded with its owner just before."""
from __future__ import annotations

import logging
import re
import shutil

import joblib
import pandas as pd
from sqlalchemy import Engine

from models import analyses as analysis_dao
from models import files as file_dao
from models import results as result_dao
from models.pagination import Page, page_slice
from services.analysis import rfm as rfm_module
from services.analysis.basket import recommendations
from services.analysis.params import ANALYSIS_TYPES, parse_request
from services.errors import Conflict, Invalid, NotFound
from services.exports import csv_bytes, xlsx_bytes
from services.files import FileService
from services.ingest.reader import json_records
from services.ingest.rows import sort_rows
from services.runtime.storage import MODEL_FILE, REMOVED_ROWS_FILE

DOWNLOAD_FORMATS = ("csv", "xlsx")
_DOWNLOAD_NAME = re.compile(rf"analysis-([1-9]\d{{0,9}})-({'|'.join(ANALYSIS_TYPES)})\.({'|'.join(DOWNLOAD_FORMATS)})")
ANALYSIS_SORT_FIELDS = tuple(analysis_dao.ANALYSIS_SORT_COLUMNS)
ITEMSET_SORT_FIELDS = tuple(result_dao.ITEMSET_SORT)
logger = logging.getLogger(__name__)


class ResultService:
    """Read-side of analyses."""

    def __init__(self, engine: Engine, files: FileService) -> None:
        self.engine = engine
        self.files = files

    def get(self, owner_id: int, analysis_id: int) -> dict:
        """One analysis with its summary."""
        return describe_analysis(self._owned(owner_id, analysis_id))

    def list(self, owner_id: int, page: Page, file_id: int | None, analysis_type: str | None) -> dict:
        """One page of the owner's analyses."""
        with self.engine.connect() as conn:
            total, rows = analysis_dao.list_analyses(conn, owner_id, page, file_id, analysis_type)
        return {"total": total, "page": page.page, "per_page": page.per_page,
                "items": [describe_analysis(row) for row in rows]}

    def delete(self, owner_id: int, analysis_id: int) -> None:
        """Delete an analysis, its rows and its stored artifacts."""
        with self.engine.begin() as conn:
            analysis = self._owned(owner_id, analysis_id, conn)
            file_row = file_dao.get_file(conn, analysis["file_id"], owner_id)
            analysis_dao.delete_analysis(conn, analysis_id, owner_id)
        if file_row:
            shutil.rmtree(self.files.analysis_dir(owner_id, file_row, analysis_id), ignore_errors=True)

    def results(self, owner_id: int, analysis_id: int, page: Page, segment: str | None = None,
                cluster: int | None = None, item: str | None = None) -> dict:
        """One page of result rows: customers (rfm), rules (basket), removed rows (cleaning), tables (statistical)."""
        analysis = self._finished(owner_id, analysis_id)
        kind = analysis["type"]
        for name, value, applies_to in (("segment", segment, "rfm"), ("cluster", cluster, "rfm"),
                                         ("item", item, "basket")):
            if value is not None and kind != applies_to:
                raise Invalid.field(name, f"filters {applies_to} results; this is a {kind} analysis")
        if kind in ("rfm", "basket"):
            sortable = result_dao.RFM_SORT if kind == "rfm" else result_dao.RULE_SORT
            if page.sort and page.sort not in sortable:
                raise Invalid.field("sort", f"must be one of {', '.join(sortable)}")
            with self.engine.connect() as conn:
                if kind == "rfm":
                    total, rows = result_dao.rfm_page(conn, analysis_id, page, segment, cluster)
                else:
                    total, rows = result_dao.rules_page(conn, analysis_id, page, item)
        elif kind == "cleaning":
            total, removed = self._removed_rows(owner_id, analysis, page)
            rows = json_records(removed)
        else:
            if page.sort:
                raise Invalid.field("sort", "statistical tables keep their own order")
            table = stats_long_rows(analysis["summary"])
            total, rows = len(table), page_slice(table, page)
        return {"total": total, "page": page.page, "per_page": page.per_page, "items": rows}

    def rfm_rows_of_latest(self, owner_id: int, file_id: int) -> list[dict]:
        """Seed 002: every customer row of the file's newest finished rfm analysis."""
        with self.engine.connect() as conn:
            self.files.owned_row(owner_id, file_id, conn)
            latest = analysis_dao.latest_analysis(conn, owner_id, file_id, "rfm")
            if latest is None:
                raise NotFound(f"file {file_id} has no finished RFM analysis yet: POST /api/rfm/process/{file_id}")
            return result_dao.all_rfm_rows(conn, latest["id"])

    def itemsets(self, owner_id: int, analysis_id: int, page: Page, item: str | None) -> dict:
        """One page of a basket analysis' frequent itemsets."""
        self._finished(owner_id, analysis_id, "basket")
        with self.engine.connect() as conn:
            total, rows = result_dao.itemsets_page(conn, analysis_id, page, item)
        return {"total": total, "page": page.page, "per_page": page.per_page, "items": rows}

    def recommendations(self, owner_id: int, analysis_id: int, item: str, limit: int) -> dict:
        """Items bought with `item`, ranked by the rules that have it on the left."""
        self._finished(owner_id, analysis_id, "basket")
        with self.engine.connect() as conn:
            rows = result_dao.rules_with_antecedent_item(conn, analysis_id, item)
        rules = pd.DataFrame(rows, columns=list(result_dao.RULE_COLUMNS))
        rules["antecedents"] = rules["antecedents"].map(tuple)
        rules["consequents"] = rules["consequents"].map(tuple)
        return {"item": item, "recommendations": recommendations(rules, item, limit)}

    def elbow(self, owner_id: int, analysis_id: int) -> dict:
        """Inertia and silhouette per k over k_min..k_max; worked out from the stored rows for a fixed-k analysis."""
        analysis = self._finished(owner_id, analysis_id, "rfm")
        if "elbow" in analysis["summary"]:
            return analysis["summary"]["elbow"]
        params = parse_request("rfm", analysis["params"]).specific
        with self.engine.connect() as conn:
            rows = pd.DataFrame(result_dao.all_rfm_rows(conn, analysis_id))
        features, _mean, _scale = rfm_module.scaled_features(rows)
        return rfm_module.elbow_curve(features, params.k_min, params.k_max)

    def clusters(self, owner_id: int, analysis_id: int) -> dict:
        """Cluster statistics of an rfm analysis."""
        summary = self._finished(owner_id, analysis_id, "rfm")["summary"]
        return {"clusters": summary["clusters"], "total_customers": summary["total_customers"],
                "cluster_profiles": summary["cluster_profiles"]}

    def predict(self, owner_id: int, analysis_id: int, recency: float, frequency: float, monetary: float) -> dict:
        """Scores, segment and cluster of a hypothetical customer under a finished rfm analysis."""
        analysis = self._finished(owner_id, analysis_id, "rfm")
        model = _read_artifact(joblib.load, self._artifact(owner_id, analysis, MODEL_FILE))
        return rfm_module.predict(model, recency, frequency, monetary)

    def download(self, owner_id: int, analysis_id: int, fmt: str) -> tuple[str, bytes, str]:
        """(file name, bytes, mimetype) of an analysis' results as CSV or XLSX."""
        if fmt not in DOWNLOAD_FORMATS:
            raise Invalid.field("format", "must be csv or xlsx")
        analysis = self._finished(owner_id, analysis_id)
        table = self._result_table(owner_id, analysis)
        name = download_name(analysis_id, analysis["type"], fmt)
        if fmt == "csv":
            return name, csv_bytes(table), "text/csv"
        if analysis["type"] == "statistical":
            sheets = {section: part.drop(columns="section").dropna(axis=1, how="all")
                      for section, part in table.groupby("section", sort=False)}
        else:
            sheets = {analysis["type"]: table}
        return name, xlsx_bytes(sheets), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def download_by_name(self, owner_id: int, filename: str) -> tuple[str, bytes, str]:
        """Seed 000: the download named in a process answer, e.g. analysis-12-rfm.csv."""
        analysis_id, analysis_type, fmt = parse_download_name(filename)
        if self._owned(owner_id, analysis_id)["type"] != analysis_type:
            raise NotFound(f"no download named {filename}")
        return self.download(owner_id, analysis_id, fmt)

    def _owned(self, owner_id: int, analysis_id: int, conn=None) -> dict:
        if conn is None:
            with self.engine.connect() as own:
                return self._owned(owner_id, analysis_id, own)
        analysis = analysis_dao.get_analysis(conn, analysis_id, owner_id)
        if analysis is None:
            raise NotFound(f"analysis {analysis_id} not found")
        return analysis

    def _finished(self, owner_id: int, analysis_id: int, analysis_type: str | None = None) -> dict:
        analysis = self._owned(owner_id, analysis_id)
        if analysis_type and analysis["type"] != analysis_type:
            raise Invalid(f"analysis {analysis_id} is a {analysis['type']} analysis, not {analysis_type}")
        if analysis["status"] != "finished":
            raise Conflict(f"analysis {analysis_id} is {analysis['status']}, not finished")
        return analysis

    def _artifact(self, owner_id: int, analysis: dict, name: str):
        with self.engine.connect() as conn:
            file_row = file_dao.get_file(conn, analysis["file_id"], owner_id)
        if file_row is None:
            raise NotFound(f"analysis {analysis['id']} not found")
        return self.files.analysis_dir(owner_id, file_row, analysis["id"]) / name

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

    def _result_table(self, owner_id: int, analysis: dict) -> pd.DataFrame:
        """All result rows of an analysis as one table (what a download holds)."""
        kind, analysis_id = analysis["type"], analysis["id"]
        if kind == "cleaning":
            reasons = _read_artifact(pd.read_parquet, self._artifact(owner_id, analysis, REMOVED_ROWS_FILE))
            _file, frame = self.files.load_frame(owner_id, analysis["file_id"])
            return frame.drop(index=frame.index[reasons["row"].to_numpy() - 1])
        if kind == "statistical":
            return stats_long_table(analysis["summary"])
        with self.engine.connect() as conn:
            if kind == "rfm":
                return pd.DataFrame(result_dao.all_rfm_rows(conn, analysis_id))
            rules = pd.DataFrame(result_dao.all_rules(conn, analysis_id), columns=list(result_dao.RULE_COLUMNS))
        if not rules.empty:
            rules["antecedents"] = rules["antecedents"].map(", ".join)
            rules["consequents"] = rules["consequents"].map(", ".join)
        return rules


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
        raise NotFound(f"no download named {filename[:100]!r}")
    return int(match.group(1)), match.group(2), match.group(3)


def stats_long_rows(summary: dict) -> list[dict]:
    """A statistical summary as rows of (section, label, value, ...), for paging."""
    rows = [{"section": "kpis", "label": key, "value": value} for key, value in summary.get("kpis", {}).items()]
    for section in ("by_month", "by_weekday", "by_hour", "top_products", "top_customers", "top_countries"):
        rows.extend({"section": section, **entry} for entry in summary.get(section, []))
    for column, stats in summary.get("describe", {}).items():
        rows.extend({"section": "describe", "label": f"{column}.{name}", "value": value}
                    for name, value in stats.items())
    return rows


def stats_long_table(summary: dict) -> pd.DataFrame:
    """The same rows as one table, for downloads."""
    return pd.DataFrame(stats_long_rows(summary))


def _read_artifact(reader, path):
    """An artifact read that treats a file removed meanwhile (its upload deleted) as not found."""
    try:
        return reader(path)
    except FileNotFoundError as exc:
        raise NotFound("the results of this analysis are gone (was its file deleted?)") from exc
