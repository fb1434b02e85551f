"""The analysis kind interface (documented in services/analysis/kinds.py) and what a kind takes and returns."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pandas as pd
from marshmallow import Schema

from services.analysis import param_fields as pf
from services.analysis.cleaning import CleaningParams, CleaningResult
from services.analysis.frame import has_money
from services.errors import Invalid
from services.ingest.roles import require_roles

logger = logging.getLogger(__name__)


class ResultStorage(StrEnum):
    """Where a kind's result rows live, which decides how /results pages them and what a download holds."""

    TABLE = "table"  # rows in the kind's result table (models/results.py), paged and sorted by SQL
    SUMMARY = "summary"  # rows derived from the stored summary by `summary_rows`, kept in their own order
    REMOVED_ROWS = "removed_rows"  # the file's rows the cleaning removed (an artifact of positions and reasons)


@dataclass(frozen=True)
class AnalysisRequest:
    """Everything one run needs besides the data: role overrides, whether to clean, the rules, the kind's params."""

    kind: AnalysisKind
    columns: dict
    clean: bool
    cleaning: CleaningParams
    specific: object | None


@dataclass(frozen=True)
class AnalysisFrame:
    """What `compute` reads: the canonical view, the cleaning's outcome (None with clean=false) and the kept
    rows of the columns the kind reads (None for a kind that reports the cleaning itself)."""

    view: pd.DataFrame
    cleaning: CleaningResult | None
    kept: pd.DataFrame | None


@dataclass
class Computed:
    """What `compute` returns: the summary, result rows by result table, and artifacts by file name (each a
    function writing that file to the path it is given; the pipeline picks the folder)."""

    summary: dict
    rows: dict[str, list[dict]] = field(default_factory=dict)
    artifacts: dict[str, Callable[[Path], None]] = field(default_factory=dict)


class ResultSource(Protocol):
    """One finished analysis as an extra reads it (services/results.py implements it on the DAO)."""

    summary: dict
    params: Any

    def rows(self, table: str, item: str | None = None) -> list[dict]:
        """Every row of one of its result tables (those mentioning `item`), in the order written."""

    def page(self, table: str, page: Any, filters: Mapping[str, object]) -> dict:
        """One page envelope {total, page, per_page, items} of a result table."""

    def artifact(self, name: str, reader: Callable[[Path], Any]) -> Any:
        """An artifact the run wrote, read by `reader` (404 when it is gone)."""


class AnalysisKind:
    """One kind of analysis; subclasses set the attributes and `compute`, and override the hooks they need."""

    name: ClassVar[str]
    purpose: ClassVar[str]  # how a 422 about missing roles names the analysis ("RFM", "statistics")
    roles: ClassVar[tuple[str, ...]] = ()  # canonical roles the file must have ("amount" may be quantity x price)
    reads: ClassVar[tuple[str, ...] | None] = None  # canonical columns compute reads of the kept rows; None: all
    params_schema: ClassVar[type[Schema] | None] = None  # the kind's own params (marshmallow)
    params_type: ClassVar[type | None] = None  # the dataclass those params build (it checks ranges)
    cleaning_defaults: ClassVar[Mapping[str, object]] = {}  # rule switches that differ from CleaningParams'
    reports_cleaning: ClassVar[bool] = False  # the kind is the cleaning report: its params are the rules
    storage: ClassVar[ResultStorage] = ResultStorage.TABLE
    result_table: ClassVar[str | None] = None  # with TABLE storage: the table /results pages
    # the summary key holding result_table's row count: an unfiltered page then needs no COUNT (results never
    # change once finished)
    total_in_summary: ClassVar[str | None] = None
    sort_fields: ClassVar[tuple[str, ...]] = ()  # what /results may sort by (REMOVED_ROWS: any column)
    filters: ClassVar[tuple[str, ...]] = ()  # /results query filters the kind takes (segment, item...)
    extras: ClassVar[Mapping[str, Callable[..., dict]]] = {}  # name -> handler(source: ResultSource, **args)

    def compute(self, frame: AnalysisFrame, params: Any) -> Computed:
        """Run the analysis on the prepared frame with the parsed params."""
        raise NotImplementedError

    def check_roles(self, roles: dict[str, str], columns: list[str]) -> None:
        """422 before anything runs when a file with these roles cannot feed this kind."""
        require_roles({role: role for role in present_roles(roles)}, self.roles, columns, self.purpose)

    def summary_rows(self, summary: dict) -> list[dict]:
        """With SUMMARY storage: the summary as rows, for paging and downloads."""
        raise NotImplementedError

    def download_table(self, table: pd.DataFrame) -> pd.DataFrame:
        """Result rows as a download writes them (lists joined, say)."""
        return table

    def sheets(self, table: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """The sheets of an xlsx download."""
        return {self.name: table}

    def parse(self, params: object) -> AnalysisRequest:
        """Validate a client's `params` for this kind; unknown or mistyped fields are a 422 naming them."""
        if not isinstance(params, dict):
            raise Invalid.field("params", "must be an object")
        loaded = pf.load(self._request_schema, params, "params")
        columns = loaded.pop("columns", None) or {}
        clean = loaded.pop("clean", True)
        rules = loaded if self.reports_cleaning else (loaded.pop("cleaning", None) or {})
        cleaning = _build(CleaningParams, {**self.cleaning_defaults, **rules},
                          "params" if self.reports_cleaning else "params.cleaning")
        specific = None if self.params_type is None or self.reports_cleaning else \
            _build(self.params_type, loaded, "params")
        return AnalysisRequest(self, columns, clean, cleaning, specific)

    @cached_property
    def _request_schema(self) -> Schema:
        """columns and clean, then the rules (at the top for the cleaning report, else under `cleaning`) and the
        kind's own params."""
        own: dict = {"columns": pf.RoleColumns(allow_none=True), "clean": pf.Boolean()}
        if self.reports_cleaning:
            own.update(CleaningRulesSchema._declared_fields)
        else:
            own["cleaning"] = pf.Rules(CleaningRulesSchema)
            if self.params_schema is not None:
                own.update(self.params_schema._declared_fields)
        return pf.ParamsSchema.from_dict(own, name=f"{self.name.title()}RequestSchema")()


class CleaningRulesSchema(pf.ParamsSchema):
    """The cleaning rule switches (see services/analysis/cleaning.py)."""

    missing_customer = pf.Boolean()
    missing_item = pf.Boolean()
    unparseable_dates = pf.Boolean()
    excluded_statuses = pf.Boolean()
    exclude_statuses = pf.Texts(allow_none=True)
    cancellations = pf.Boolean()
    non_positive_quantity = pf.Boolean()
    non_positive_price = pf.Boolean()
    duplicates = pf.Boolean()
    outliers = pf.Text()
    outlier_method = pf.Text()
    outlier_threshold = pf.Number(allow_none=True)


def present_roles(roles: dict[str, str]) -> set[str]:
    """The roles a file has, with `amount` when quantity and unit price make one."""
    return set(roles) | ({"amount"} if has_money(roles) else set())


def _build(cls: type, values: dict, prefix: str):
    """The params dataclass; its own range checks name fields relative to `prefix`."""
    try:
        return cls(**values)
    except Invalid as exc:
        raise pf.prefixed(exc, prefix) from None
