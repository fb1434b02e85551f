"""Seed 001's dashboard and results views: headline numbers of one file, computed from its cleaned rows."""
from __future__ import annotations

from sqlalchemy import Engine

from models import analyses as analysis_dao
from models import files as file_dao
from models.pagination import Page
from services.analysis.cleaning import clean
from services.analysis.frame import canonical, has_money
from services.analysis.kinds import get_kind
from services.analysis.statistical import StatsParams, statistical_summary
from services.files import FileService
from services.results import describe_analysis

EMPTY_KPIS = {"total_revenue": 0, "total_orders": 0, "unique_customers": 0, "avg_order_value": None}


class DashboardService:
    """Reads only: the owner's files and analyses."""

    def __init__(self, engine: Engine, files: FileService) -> None:
        self.engine = engine
        self.files = files

    def dashboard(self, owner_id: int, file_id: int | None) -> dict:
        """KPIs and monthly revenue of a file (default: the newest), with counts and recent analyses."""
        summary = self._summary(owner_id, file_id)
        kpis = summary["kpis"] if summary else EMPTY_KPIS
        with self.engine.connect() as conn:
            files_uploaded = file_dao.count_files(conn, owner_id)
            analyses_run = analysis_dao.count_analyses(conn, owner_id)
            _total, recent = analysis_dao.list_analyses(conn, owner_id, Page(per_page=5, sort="id", order="desc"))
        return {**{key: kpis.get(key) for key in EMPTY_KPIS}, "files_uploaded": files_uploaded,
                "analyses_run": analyses_run, "file_id": summary["file_id"] if summary else None,
                "by_month": summary["by_month"] if summary else [],
                "recent_analyses": [describe_analysis(row) for row in recent]}

    def results(self, owner_id: int, file_id: int | None) -> dict:
        """Revenue summary, revenue by country, top products and revenue over time of a file."""
        summary = self._summary(owner_id, file_id)
        if summary is None:
            return {"summary": EMPTY_KPIS, "by_country": [], "top_products": [], "over_time": [], "file_id": None}
        return {"summary": {key: summary["kpis"].get(key) for key in EMPTY_KPIS},
                "by_country": summary["top_countries"], "top_products": summary["top_products"],
                "over_time": summary["by_month"], "file_id": summary["file_id"]}

    def _newest_transactions_file(self, owner_id: int) -> int | None:
        """The newest file with money in it (basket-layout files have none)."""
        with self.engine.connect() as conn:
            candidates = file_dao.transaction_files(conn, owner_id)
        return next((f["id"] for f in candidates if has_money(f["roles"])), None)

    def _summary(self, owner_id: int, file_id: int | None) -> dict | None:
        if file_id is None:
            file_id = self._newest_transactions_file(owner_id)
            if file_id is None:
                return None
        file_row, frame = self.files.load_frame(owner_id, file_id)
        view = canonical(frame, file_row["roles"])
        kept = clean(view, frame, get_kind("statistical").parse({}).cleaning, alerts=False,
                     repeated=self.files.duplicate_rows(owner_id, file_row)).kept()
        return {**statistical_summary(kept, StatsParams()), "file_id": file_id}
