"""The analysis pipeline: load a file, clean it, run one analysis, and persist everything in one transaction.

A route calls `process` (synchronous) or `submit` (a job); a worker calls `run_job` with the same ids.
"""
from __future__ import annotations

import logging
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
from models import jobs as job_dao
from models import results as result_dao
from models.database import utc_now
from models.tables import basket_rules, frequent_itemsets, rfm_rows
from services.analysis import rfm as rfm_module
from services.analysis.basket import basket_analysis
from services.analysis.cleaning import clean
from services.analysis.frame import canonical, check_needed_roles
from services.analysis.params import AnalysisRequest, parse_request
from services.analysis.stats import statistical_summary
from services.errors import AppError, Conflict, NotFound, ServiceUnavailable
from services.files import FileService
from services.ingest.roles import apply_overrides, check_role_types
from services.jobs import RqQueue, ThreadQueue
from services.results import describe_analysis
from services.storage import MODEL_FILE, REMOVED_ROWS_FILE

logger = logging.getLogger(__name__)
# The canonical columns each analysis reads (statistical reads them all): copying fewer rows is cheaper.
NEEDED_COLUMNS = {"rfm": ["invoice", "customer", "date", "amount"],
                  "basket": ["invoice", "customer", "date", "item", "description", "country"]}


class Cancelled(Exception):
    """The job was cancelled between two stages; nothing was written."""


class AnalysisService:
    """Runs analyses, now or as jobs, and reports on jobs."""

    def __init__(self, engine: Engine, files: FileService, redis_url: str | None = None) -> None:
        self.engine = engine
        self.files = files
        self.queue = RqQueue(redis_url) if redis_url else ThreadQueue(self.run_job)

    def process(self, owner_id: int, file_id: int, analysis_type: str, params: dict) -> dict:
        """Run an analysis now and return its description (a 4xx if the data or params do not allow it)."""
        analysis_id = self._create(owner_id, file_id, analysis_type, params, status="running")
        self.run(analysis_id)
        with self.engine.connect() as conn:
            row = analysis_dao.get_analysis(conn, analysis_id, owner_id)
        if row is None:
            raise NotFound(f"analysis {analysis_id} was deleted while it ran")
        return describe_analysis(row)

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
        if analysis is None:  # deleted (with its file or account) before it started
            raise NotFound(f"analysis {analysis_id} not found")
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
            workdir = self.files.analysis_dir(owner_id, file_row, analysis_id)
            summary, rows = self._analyse(request, view, kept, cleaned, workdir)
            if cleaned and request.analysis_type != "cleaning":
                summary["cleaning"] = cleaned.brief()
                summary["warnings"] = [*summary.get("warnings", []), *cleaned.summary["warnings"]]
            self._checkpoint(job_id, "saving", 80)
            try:
                with self.engine.begin() as conn:
                    result_dao.clear_results(conn, analysis_id)
                    for table, table_rows in rows.items():
                        result_dao.bulk_insert(conn, table, analysis_id, table_rows)
                    if not analysis_dao.set_status(conn, analysis_id, "finished", utc_now(), summary=summary):
                        raise NotFound("the file was deleted while the analysis ran")
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

    def _analyse(self, request: AnalysisRequest, view, kept, cleaned, workdir: Path) -> tuple:
        kind = request.analysis_type
        if kind == "cleaning":
            # Only the removed rows' positions and reasons are stored; the rows themselves stay in the file's copy.
            self._make_artifact_dir(workdir)
            reasons = cleaned.reasons.dropna() if cleaned else pd.Series([], dtype="string")
            pd.DataFrame({"row": reasons.index.to_numpy() + 1, "reason": reasons.to_numpy()}) \
                .to_parquet(workdir / REMOVED_ROWS_FILE, index=False)
            return (cleaned.summary if cleaned else {"rows_in": len(view), "rows_out": len(view), "removed": {}},
                    {})
        if kind == "rfm":
            result = rfm_module.rfm_analysis(kept, request.specific)
            self._make_artifact_dir(workdir)
            joblib.dump(result.model, workdir / MODEL_FILE)
            return result.summary, {rfm_rows: _rfm_rows(result.customers)}
        if kind == "basket":
            result = basket_analysis(kept, request.specific)
            summary = {"transactions": result.transactions, "items": result.items, "itemsets": len(result.itemsets),
                       "rules": len(result.rules), "rules_total": result.rules_total, "truncated": result.truncated,
                       "min_count": result.min_count, "no_rules": result.no_rules}
            return summary, {basket_rules: _rule_rows(result.rules), frequent_itemsets: _itemset_rows(result.itemsets)}
        return statistical_summary(kept, request.specific), {}

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
            file_row = self.files.owned_row(owner_id, file_id, conn)
            column_types = {column["name"]: column["type"] for column in file_row["columns"]}
            roles = apply_overrides(file_row["roles"], request.columns, list(column_types))
            check_role_types(roles, column_types)
            check_needed_roles(analysis_type, roles, list(column_types))
            return analysis_dao.insert_analysis(conn, owner_id, file_id, analysis_type, params, status, utc_now())

    @staticmethod
    def _make_artifact_dir(workdir: Path) -> None:
        """Create the analysis folder only inside an existing file folder: never resurrect a deleted file's."""
        try:
            workdir.parent.mkdir(exist_ok=True)  # .../<file key>/analyses, never its parents
            workdir.mkdir(exist_ok=True)
        except FileNotFoundError as exc:
            raise NotFound("the file was deleted while the analysis ran") from exc

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



def describe_job(row: dict) -> dict:
    """A job as the API shows it."""
    return {"job_id": row["id"], "status": row["status"], "progress": row["progress"], "stage": row["stage"],
            "analysis_id": row["analysis_id"], "error": row["error"], "cancel_requested": row["cancel_requested"],
            "created_at": row["created_at"], "updated_at": row["updated_at"]}

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
