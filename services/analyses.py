"""The analysis pipeline: load a file, clean it, run one analysis, and persist everything in one transaction.

A route calls `process` (synchronous); a job (services/jobs.py) calls `run` with the same ids in a worker.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from models import analyses as analysis_dao
from models import jobs as job_dao
from models import results as result_dao
from models.database import is_database_unavailable, utc_now
from models.status import Status
from services.analysis.cleaning import clean
from services.analysis.frame import canonical
from services.analysis.kind_base import AnalysisFrame, Computed
from services.analysis.kinds import get_kind
from services.errors import AnalysisNotFound, AppError, Conflict, FileNotFound, StorageFull
from services.files import FileService
from services.ingest.roles import apply_overrides, check_role_types
from services.results import describe_analysis
from services.runtime.heartbeat import Heartbeat
from services.runtime.retry import in_transaction
from services.runtime.storage import is_storage_full

logger = logging.getLogger(__name__)
STORAGE_FULL = "storage is full: the analysis could not keep its files; free some space and run it again"


class Cancelled(Exception):
    """The job was cancelled between two stages; nothing was written."""


class AnalysisService:
    """Runs analyses and records how each ended, on the analysis and on its job if it has one."""

    def __init__(self, engine: Engine, files: FileService, heartbeat: Heartbeat) -> None:
        self.engine = engine
        self.files = files
        self.heartbeat = heartbeat

    def process(self, owner_id: int, file_id: int, analysis_type: str, params: dict) -> dict:
        """Run an analysis now and return its description (a 4xx if the data or params do not allow it)."""
        analysis_id = self.create(owner_id, file_id, analysis_type, params, status=Status.RUNNING)
        self.run(analysis_id)
        with self.engine.connect() as conn:
            row = analysis_dao.get_analysis(conn, analysis_id, owner_id)
        if row is None:
            raise AnalysisNotFound(analysis_id, "was deleted while it ran")
        return describe_analysis(row)

    def create(self, owner_id: int, file_id: int, analysis_type: str, params: dict, status: str,
               conn: Connection | None = None) -> int:
        """Check the params and the file's roles, then insert the analysis (on `conn` if given); returns its id."""
        request = get_kind(analysis_type).parse(params)  # refuse bad params before anything is stored
        if conn is None:
            with self.engine.begin() as own_conn:
                return self.create(owner_id, file_id, analysis_type, params, status, own_conn)
        file_row = self.files.owned_row(owner_id, file_id, conn)
        column_types = {column["name"]: column["type"] for column in file_row["columns"]}
        roles = apply_overrides(file_row["roles"], request.columns, list(column_types))
        check_role_types(roles, column_types)
        request.kind.check_roles(roles, list(column_types))
        return analysis_dao.insert_analysis(conn, owner_id, file_id, analysis_type, params, status, utc_now())

    def run(self, analysis_id: int, job_id: str | None = None) -> None:
        """Compute and persist one analysis, beating its heartbeat; on any failure it (and its job) is marked
        failed and no result row remains. If even that cannot be written, the sweep fails it once the beat stops."""
        with self.engine.connect() as conn:
            analysis = analysis_dao.get_analysis_unscoped(conn, analysis_id)
        if analysis is None:  # deleted (with its file or account) before it started
            raise AnalysisNotFound(analysis_id)
        with self.heartbeat.holding(analysis_id, job_id):
            self._run(analysis, job_id)

    def _run(self, analysis: dict, job_id: str | None) -> None:
        analysis_id, owner_id = analysis["id"], analysis["owner_id"]
        workdir: Path | None = None
        try:
            self._checkpoint(analysis_id, job_id, "loading", 5)
            request = get_kind(analysis["type"]).parse(analysis["params"])
            kind = request.kind
            file_row, frame = self.files.load_frame(owner_id, analysis["file_id"])
            roles = apply_overrides(file_row["roles"], request.columns, list(frame.columns))
            view = canonical(frame, roles)
            self._checkpoint(analysis_id, job_id, "cleaning", 20)
            cleaned = clean(view, frame, request.cleaning, alerts=kind.reports_cleaning,
                            repeated=self.files.duplicate_rows(owner_id, file_row)) if request.clean else None
            kept = None  # the cleaning report reads the cleaning itself; the others read the kept rows
            if not kind.reports_cleaning:
                kept = cleaned.kept(list(kind.reads) if kind.reads else None) if cleaned else view
            self._checkpoint(analysis_id, job_id, "analysing", 40)
            workdir = self.files.analysis_dir(owner_id, file_row, analysis_id)
            computed = kind.compute(AnalysisFrame(view, cleaned, kept), request.specific)
            self._write_artifacts(workdir, computed)
            summary = computed.summary
            if cleaned and not kind.reports_cleaning:
                summary["cleaning"] = cleaned.brief()
                summary["warnings"] = [*summary.get("warnings", []), *cleaned.summary["warnings"]]
            self._checkpoint(analysis_id, job_id, "saving", 80)
            try:
                in_transaction(self.engine, lambda conn: self._save(conn, analysis_id, job_id, summary, computed.rows))
            except IntegrityError as exc:  # the analysis row went with its file or account meanwhile
                raise FileNotFound.during_run() from exc
        except Cancelled:
            self._fail(analysis_id, job_id, Status.CANCELLED, "cancelled by the user", workdir)
            raise
        except AppError as exc:
            self._fail(analysis_id, job_id, Status.FAILED, exc.detail, workdir)
            raise
        except Exception as exc:
            if is_storage_full(exc):
                self._fail(analysis_id, job_id, Status.FAILED, STORAGE_FULL, workdir)
                raise StorageFull(STORAGE_FULL) from exc
            reason = ("the database connection was lost" if is_database_unavailable(exc)
                      else f"internal error: {type(exc).__name__}")
            self._fail(analysis_id, job_id, Status.FAILED, reason, workdir)
            raise

    @staticmethod
    def _save(conn: Connection, analysis_id: int, job_id: str | None, summary: dict, rows: dict) -> None:
        """The one write transaction. A fresh analysis has no rows to delete, so nothing here takes the gap
        locks that deadlocked concurrent writers on MariaDB; the status moves from running only, so a run
        the sweep already failed (or the user cancelled) cannot come back as finished."""
        for table, table_rows in rows.items():
            result_dao.insert_results(conn, table, analysis_id, table_rows)
        now = utc_now()
        if not analysis_dao.set_status(conn, analysis_id, Status.FINISHED, now, summary=summary,
                                       only_from=(Status.RUNNING,)):
            current = analysis_dao.get_analysis_unscoped(conn, analysis_id)
            if current is None:
                raise FileNotFound.during_run()
            raise Conflict(f"analysis {analysis_id} was marked {current['status']} while it ran: {current['error']}")
        if job_id:
            job_dao.update_job(conn, job_id, now, status=Status.FINISHED, stage=Status.FINISHED, progress=100)

    @classmethod
    def _write_artifacts(cls, workdir: Path, computed: Computed) -> None:
        if computed.artifacts:
            cls._make_artifact_dir(workdir)
        for name, write in computed.artifacts.items():
            write(workdir / name)

    @staticmethod
    def _make_artifact_dir(workdir: Path) -> None:
        """Create the analysis folder only inside an existing file folder: never resurrect a deleted file's."""
        try:
            workdir.parent.mkdir(exist_ok=True)  # .../<file key>/analyses, never its parents
            workdir.mkdir(exist_ok=True)
        except FileNotFoundError as exc:
            raise FileNotFound.during_run() from exc

    def _checkpoint(self, analysis_id: int, job_id: str | None, stage: str, progress: int) -> None:
        """Beat at each stage; a job stops here when its user cancelled it (or it went with its file)."""
        with self.engine.begin() as conn:
            if job_id is None:
                analysis_dao.touch(conn, [analysis_id], utc_now())
                return
            job = job_dao.get_job_for_worker(conn, job_id)
            if job is None or job["cancel_requested"]:
                raise Cancelled()
            job_dao.update_job(conn, job_id, utc_now(), stage=stage, progress=progress)
            analysis_dao.touch(conn, [analysis_id], utc_now())

    def _fail(self, analysis_id: int, job_id: str | None, status: Status, reason: str, workdir: Path | None) -> None:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        try:
            with self.engine.begin() as conn:
                analysis_dao.set_status(conn, analysis_id, status, utc_now(), error=reason)
                if job_id:
                    job_dao.update_job(conn, job_id, utc_now(), status=status, stage=status,
                                       error=reason if status == Status.FAILED else None)
        except SQLAlchemyError:  # the database is away: once the heartbeat is stale, the sweep records it
            logger.warning("could not record that analysis %s %s (%s); the housekeeping sweep will", analysis_id,
                           status, reason)

