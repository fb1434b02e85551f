"""The analysis pipeline: load a file, clean it, run one analysis, and persist everything in one transaction.

A route calls `process` (synchronous) or `submit` (a job); a worker calls `run_job` with the same ids.
"""
from __future__ import annotations

import logging
import re
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from models import analyses as analysis_dao
from models import files as file_dao
from models import jobs as job_dao
from models import results as result_dao
from models.database import utc_now
from models.pagination import Page
from models.tables import basket_rules, frequent_itemsets, rfm_rows
from services.analysis import rfm as rfm_module
from services.analysis.basket import basket_analysis, recommendations
from services.analysis.cleaning import clean
from services.analysis.frame import canonical, need
from services.analysis.params import AnalysisRequest, parse_request
from services.analysis.stats import statistical_summary
from services.errors import AppError, Conflict, Invalid, NotFound, ServiceUnavailable
from services.exports import csv_bytes, xlsx_bytes
from services.files import FileService
from services.ingest.reader import json_records
from services.ingest.roles import apply_overrides, check_role_types
from services.jobs import RqQueue, ThreadQueue
from services.storage import file_storage_dir
from services.transactions import sort_rows

logger = logging.getLogger(__name__)
REMOVED_NAME, MODEL_NAME = "removed.parquet", "model.joblib"
# The canonical columns each analysis reads (statistical reads them all): copying fewer rows is cheaper.
NEEDED_COLUMNS = {"rfm": ["invoice", "customer", "date", "amount"],
                  "basket": ["invoice", "customer", "date", "item", "description", "country"]}
DOWNLOAD_FORMATS = ("csv", "xlsx")


class Cancelled(Exception):
    """The job was cancelled between two stages; nothing was written."""


class AnalysisService:
    """Runs and reads analyses; every read is scoped to the owner."""

    def __init__(self, engine: Engine, files: FileService, redis_url: str | None = None) -> None:
        self.engine = engine
        self.files = files
        self.queue = RqQueue(redis_url) if redis_url else ThreadQueue(self.run_job)

    # ---- running ----------------------------------------------------------------------------------------
    def process(self, owner_id: int, file_id: int, analysis_type: str, params: dict) -> dict:
        """Run an analysis now and return its description (a 4xx if the data or params do not allow it)."""
        analysis_id = self._create(owner_id, file_id, analysis_type, params, status="running")
        self.run(analysis_id)
        return self.get(owner_id, analysis_id)

    def submit(self, owner_id: int, file_id: int, analysis_type: str, params: dict) -> dict:
        """Queue an analysis as a job; returns the job."""
        analysis_id = self._create(owner_id, file_id, analysis_type, params, status="queued")
        job_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            job_dao.insert_job(conn, job_id, owner_id, analysis_id, utc_now())
        try:
            self.queue.enqueue(job_id)
        except Exception as exc:
            logger.exception("could not queue job %s", job_id)
            self._job_update(job_id, status="failed", stage="failed", error="the job queue is unavailable")
            self._fail(analysis_id, "failed", "the job queue is unavailable", None)
            raise ServiceUnavailable("the job queue is unavailable; try again, or run without Prefer: respond-async") \
                from exc
        return self.job(owner_id, job_id)

    def fail_abandoned(self, older_than: timedelta) -> int:
        """Fail analyses and jobs still queued or running long after any run could last (their worker died)."""
        now = utc_now()
        with self.engine.begin() as conn:
            jobs = job_dao.fail_stale(conn, now - older_than, now)
            analyses = analysis_dao.fail_stale(conn, now - older_than, now)
        if jobs or analyses:
            logger.warning("marked %s abandoned analyses and %s jobs failed", analyses, jobs)
        return analyses

    def run_job(self, job_id: str) -> None:
        """Worker entry: run the job's analysis unless it was cancelled; never raises."""
        with self.engine.connect() as conn:
            job = job_dao.get_job_for_worker(conn, job_id)
        if job is None or job["status"] != "queued":
            return
        self._job_update(job_id, status="running", stage="starting", progress=1)
        try:
            self.run(job["analysis_id"], job_id=job_id)
        except Cancelled:
            self._job_update(job_id, status="cancelled", stage="cancelled")
        except AppError as exc:
            self._job_update(job_id, status="failed", stage="failed", error=exc.detail)
        except Exception as exc:  # noqa: BLE001 - recorded on the job; the worker must survive
            logger.exception("job %s failed", job_id)
            self._job_update(job_id, status="failed", stage="failed", error=f"internal error: {type(exc).__name__}")
        else:
            self._job_update(job_id, status="finished", stage="finished", progress=100)

    def run(self, analysis_id: int, job_id: str | None = None) -> None:
        """Compute and persist one analysis; on any failure it is marked failed and no result row remains."""
        with self.engine.connect() as conn:
            analysis = analysis_dao.get_analysis_unscoped(conn, analysis_id)
        owner_id = analysis["owner_id"]
        workdir: Path | None = None
        try:
            self._checkpoint(job_id, "loading", 5)
            request = parse_request(analysis["type"], analysis["params"])
            file_row, frame = self.files.load_frame(owner_id, analysis["file_id"])
            roles = apply_overrides(file_row["roles"], request.columns, list(frame.columns))
            view = canonical(frame, roles)
            self._checkpoint(job_id, "cleaning", 20)
            cleaned = clean(view, frame, request.cleaning, alerts=analysis["type"] == "cleaning",
                            repeated=self.files.duplicate_rows(owner_id, file_row)) if request.clean else None
            kept = None  # the cleaning analysis only reports; the others read the kept rows
            if request.analysis_type != "cleaning":
                kept = cleaned.kept(NEEDED_COLUMNS.get(request.analysis_type)) if cleaned else view
            self._checkpoint(job_id, "analysing", 40)
            workdir = self._artifact_dir(owner_id, file_row["storage_key"], analysis_id)
            summary, rows = self._analyse(request, frame, view, kept, cleaned, workdir, list(frame.columns))
            if cleaned and request.analysis_type != "cleaning":
                summary["cleaning"] = {k: cleaned.summary[k] for k in ("rows_in", "rows_out", "removed")}
            self._checkpoint(job_id, "saving", 80)
            try:
                with self.engine.begin() as conn:
                    result_dao.clear_results(conn, analysis_id)
                    for table, table_rows in rows.items():
                        result_dao.bulk_insert(conn, table, analysis_id, table_rows)
                    analysis_dao.set_status(conn, analysis_id, "finished", utc_now(), summary=summary)
            except IntegrityError as exc:  # the analysis row went with its file or account meanwhile
                raise NotFound("the file was deleted while the analysis ran") from exc
        except Cancelled:
            self._fail(analysis_id, "cancelled", "cancelled by the user", workdir)
            raise
        except AppError as exc:
            self._fail(analysis_id, "failed", exc.detail, workdir)
            raise
        except Exception as exc:
            self._fail(analysis_id, "failed", f"internal error: {type(exc).__name__}", workdir)
            raise

    def _analyse(self, request: AnalysisRequest, frame, view, kept, cleaned, workdir: Path, columns: list) -> tuple:
        kind = request.analysis_type
        if kind == "cleaning":
            # Only the removed rows' positions and reasons are stored; the rows themselves stay in the file's copy.
            self._make_artifact_dir(workdir)
            reasons = cleaned.reasons.dropna() if cleaned else pd.Series([], dtype="string")
            pd.DataFrame({"row": reasons.index.to_numpy() + 1, "reason": reasons.to_numpy()}) \
                .to_parquet(workdir / REMOVED_NAME, index=False)
            return (cleaned.summary if cleaned else {"rows_in": len(view), "rows_out": len(view), "removed": {}},
                    {})
        if kind == "rfm":
            need(kept, ("customer", "date", "amount"), "RFM", columns)
            result = rfm_module.rfm_analysis(kept, request.specific)
            self._make_artifact_dir(workdir)
            joblib.dump(result.model, workdir / MODEL_NAME)
            return result.summary, {rfm_rows: _rfm_rows(result.customers)}
        if kind == "basket":
            result = basket_analysis(kept, request.specific)
            summary = {"transactions": result.transactions, "items": result.items, "itemsets": len(result.itemsets),
                       "rules": len(result.rules), "rules_total": result.rules_total, "truncated": result.truncated,
                       "min_count": result.min_count}
            return summary, {basket_rules: _rule_rows(result.rules), frequent_itemsets: _itemset_rows(result.itemsets)}
        need(kept, ("amount",), "statistics", columns)
        return statistical_summary(kept, request.specific), {}

    # ---- reading ----------------------------------------------------------------------------------------
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
            shutil.rmtree(self._artifact_dir(owner_id, file_row["storage_key"], analysis_id), ignore_errors=True)

    def results(self, owner_id: int, analysis_id: int, page: Page, segment: str | None = None,
                cluster: int | None = None, item: str | None = None) -> dict:
        """One page of result rows: customers (rfm), rules (basket), removed rows (cleaning), tables (statistical)."""
        analysis = self._finished(owner_id, analysis_id)
        kind = analysis["type"]
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
            start = (page.page - 1) * page.per_page
            total, rows = len(table), table[start:start + page.per_page]
        return {"total": total, "page": page.page, "per_page": page.per_page, "items": rows}

    def rfm_rows_of_latest(self, owner_id: int, file_id: int) -> list[dict]:
        """Seed 002: every customer row of the file's newest finished rfm analysis."""
        with self.engine.connect() as conn:
            if file_dao.get_file(conn, file_id, owner_id) is None:
                raise NotFound(f"file {file_id} not found")
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
        rules = pd.DataFrame(rows, columns=["antecedents", "consequents", "count", "support", "confidence", "lift",
                                            "leverage", "conviction"])
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
        model = joblib.load(self._model_path(owner_id, analysis))
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

    def job(self, owner_id: int, job_id: str) -> dict:
        """A job's state."""
        with self.engine.connect() as conn:
            job = job_dao.get_job(conn, job_id, owner_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        return describe_job(job)

    def cancel_job(self, owner_id: int, job_id: str) -> dict:
        """Cancel a queued job at once, or a running one at its next stage."""
        with self.engine.begin() as conn:
            job = job_dao.get_job(conn, job_id, owner_id)
            if job is None:
                raise NotFound(f"job {job_id} not found")
            if job["status"] in ("finished", "failed", "cancelled"):
                raise Conflict(f"job {job_id} is already {job['status']}")
            if job["status"] == "queued":
                job_dao.update_job(conn, job_id, utc_now(), status="cancelled", stage="cancelled",
                                   cancel_requested=True)
                analysis_dao.set_status(conn, job["analysis_id"], "cancelled", utc_now(), error="cancelled by the user")
            else:
                job_dao.update_job(conn, job_id, utc_now(), cancel_requested=True)
        return self.job(owner_id, job_id)

    # ---- helpers ----------------------------------------------------------------------------------------
    def _create(self, owner_id: int, file_id: int, analysis_type: str, params: dict, status: str) -> int:
        request = parse_request(analysis_type, params)  # refuse bad params before anything is stored
        with self.engine.begin() as conn:
            file_row = file_dao.get_file(conn, file_id, owner_id)
            if file_row is None:
                raise NotFound(f"file {file_id} not found")
            column_types = {column["name"]: column["type"] for column in file_row["columns"]}
            roles = apply_overrides(file_row["roles"], request.columns, list(column_types))
            check_role_types(roles, column_types)
            return analysis_dao.insert_analysis(conn, owner_id, file_id, analysis_type, params, status, utc_now())

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

    def _artifact_dir(self, owner_id: int, storage_key: str, analysis_id: int) -> Path:
        return file_storage_dir(self.files.settings.storage_root, owner_id, storage_key) / "analyses" / str(analysis_id)

    @staticmethod
    def _make_artifact_dir(workdir: Path) -> None:
        """Create the analysis folder only inside an existing file folder: never resurrect a deleted file's."""
        try:
            workdir.parent.mkdir(exist_ok=True)  # .../<file key>/analyses, never its parents
            workdir.mkdir(exist_ok=True)
        except FileNotFoundError as exc:
            raise NotFound("the file was deleted while the analysis ran") from exc

    def _artifact(self, owner_id: int, analysis: dict, name: str) -> Path:
        with self.engine.connect() as conn:
            file_row = file_dao.get_file(conn, analysis["file_id"], owner_id)
        path = self._artifact_dir(owner_id, file_row["storage_key"], analysis["id"]) / name
        if not path.exists():
            raise NotFound(f"the stored results of analysis {analysis['id']} are missing; run it again")
        return path

    def _model_path(self, owner_id: int, analysis: dict) -> Path:
        return self._artifact(owner_id, analysis, MODEL_NAME)

    def _removed_rows(self, owner_id: int, analysis: dict, page: Page | None = None) -> tuple[int, pd.DataFrame]:
        """How many rows the cleaning removed, and those rows (one page of them unless sorting needs all) with
        `row` (1-based position among the file's data rows) and `reason`."""
        reasons = pd.read_parquet(self._artifact(owner_id, analysis, REMOVED_NAME))
        _file, frame = self.files.load_frame(owner_id, analysis["file_id"])
        chosen = _page_frame(reasons, page) if page and not page.sort else reasons
        rows = frame.iloc[chosen["row"].to_numpy() - 1].reset_index(drop=True)
        rows = rows.assign(row=chosen["row"].to_numpy(), reason=chosen["reason"].to_numpy())
        if page and page.sort:
            rows = _page_frame(sort_rows(rows, page.sort, page.order), page)
        return len(reasons), rows

    def _result_table(self, owner_id: int, analysis: dict) -> pd.DataFrame:
        """All result rows of an analysis as one table (what a download holds)."""
        kind, analysis_id = analysis["type"], analysis["id"]
        if kind == "cleaning":
            reasons = pd.read_parquet(self._artifact(owner_id, analysis, REMOVED_NAME))
            _file, frame = self.files.load_frame(owner_id, analysis["file_id"])
            return frame.drop(index=frame.index[reasons["row"].to_numpy() - 1])
        if kind == "statistical":
            return stats_long_table(analysis["summary"])
        with self.engine.connect() as conn:
            if kind == "rfm":
                return pd.DataFrame(result_dao.all_rfm_rows(conn, analysis_id))
            rules = pd.DataFrame(result_dao.all_rules(conn, analysis_id))
        if not rules.empty:
            rules["antecedents"] = rules["antecedents"].map(", ".join)
            rules["consequents"] = rules["consequents"].map(", ".join)
        return rules

    def _checkpoint(self, job_id: str | None, stage: str, progress: int) -> None:
        if job_id is None:
            return
        with self.engine.begin() as conn:
            job = job_dao.get_job_for_worker(conn, job_id)
            if job is None or job["cancel_requested"]:  # cancelled, or deleted with its file or account
                raise Cancelled()
            job_dao.update_job(conn, job_id, utc_now(), stage=stage, progress=progress)

    def _job_update(self, job_id: str, **values) -> None:
        with self.engine.begin() as conn:
            job_dao.update_job(conn, job_id, utc_now(), **values)

    def _fail(self, analysis_id: int, status: str, reason: str, workdir: Path | None) -> None:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        with self.engine.begin() as conn:
            result_dao.clear_results(conn, analysis_id)
            analysis_dao.set_status(conn, analysis_id, status, utc_now(), error=reason)


def describe_analysis(row: dict) -> dict:
    """An analysis as the API shows it."""
    return {"analysis_id": row["id"], "file_id": row["file_id"], "type": row["type"], "status": row["status"],
            "params": row["params"], "summary": row.get("summary"), "error": row["error"],
            "download": download_name(row["id"], row["type"]) if row["status"] == "finished" else None,
            "created_at": row["created_at"], "finished_at": row["finished_at"]}


def describe_job(row: dict) -> dict:
    """A job as the API shows it."""
    return {"job_id": row["id"], "status": row["status"], "progress": row["progress"], "stage": row["stage"],
            "analysis_id": row["analysis_id"], "error": row["error"], "created_at": row["created_at"],
            "updated_at": row["updated_at"]}


def download_name(analysis_id: int, analysis_type: str, fmt: str = "csv") -> str:
    """The name clients pass to /api/download/<filename>."""
    return f"analysis-{analysis_id}-{analysis_type}.{fmt}"


def parse_download_name(filename: str) -> tuple[int, str, str]:
    """(analysis id, type, format) from a download name; anything else is a 404, and no path is built from it."""
    match = re.fullmatch(r"analysis-(\d{1,10})-(cleaning|rfm|basket|statistical)\.(csv|xlsx)", filename)
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


def _page_frame(frame: pd.DataFrame, page: Page) -> pd.DataFrame:
    start = (page.page - 1) * page.per_page
    return frame.iloc[start:start + page.per_page]


def _rfm_rows(customers: pd.DataFrame) -> list[dict]:
    columns = ["customer_id", "recency", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_score",
               "segment", "cluster"]
    return customers[columns].to_dict("records")


def _rule_rows(rules: pd.DataFrame) -> list[dict]:
    records = rules.to_dict("records")
    for record in records:
        record["antecedents"] = list(record["antecedents"])
        record["consequents"] = list(record["consequents"])
        record["items_key"] = result_dao.items_key([*record["antecedents"], *record["consequents"]])
        if record["conviction"] is not None and not np.isfinite(record["conviction"]):
            record["conviction"] = None
    return records


def _itemset_rows(itemsets: pd.DataFrame) -> list[dict]:
    return [{"items": list(items), "items_key": result_dao.items_key(items), "size": int(size), "count": int(count),
             "support": float(support)}
            for items, size, count, support in itemsets[["items", "size", "count", "support"]].itertuples(index=False)]
