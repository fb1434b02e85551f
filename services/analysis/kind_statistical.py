"""The statistical kind: the summary holds every section; its result rows are that summary as long rows."""
from __future__ import annotations

import pandas as pd

from services.analysis import param_fields as pf
from services.analysis.kind_base import AnalysisFrame, AnalysisKind, Computed, ResultStorage
from services.analysis.statistical import StatsParams, statistical_summary

LIST_SECTIONS = ("by_month", "by_weekday", "by_hour", "top_products", "top_customers", "top_countries")


class StatsParamsSchema(pf.ParamsSchema):
    """See statistical.StatsParams."""

    top_n = pf.Integer()
    bins = pf.Integer()


class StatisticalKind(AnalysisKind):
    """KPIs, describe, time buckets, top lists, histograms, cohorts; guests' revenue is still revenue."""

    name = "statistical"
    purpose = "statistics"
    roles = ("amount",)
    params_schema = StatsParamsSchema
    params_type = StatsParams
    cleaning_defaults = {"missing_customer": False, "outliers": "off"}
    storage = ResultStorage.SUMMARY

    def compute(self, frame: AnalysisFrame, params: StatsParams) -> Computed:
        """Every section of the kept rows."""
        return Computed(statistical_summary(frame.kept, params))

    def summary_rows(self, summary: dict) -> list[dict]:
        """Rows of (section, label, value, ...): kpis, the list sections, then describe."""
        rows = [{"section": "kpis", "label": key, "value": value} for key, value in summary.get("kpis", {}).items()]
        for section in LIST_SECTIONS:
            rows.extend({"section": section, **entry} for entry in summary.get(section, []))
        for column, stats in summary.get("describe", {}).items():
            rows.extend({"section": "describe", "label": f"{column}.{name}", "value": value}
                        for name, value in stats.items())
        return rows

    def sheets(self, table: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """One sheet per section, without the columns that section does not use."""
        return {section: part.drop(columns="section").dropna(axis=1, how="all")
                for section, part in table.groupby("section", sort=False)}


KIND = StatisticalKind()
