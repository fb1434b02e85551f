"""The registry of analysis kinds: the pipeline, the results reader and the routes look a kind up here by name.

A kind is one module (`kind_<name>.py`) defining a subclass of `kind_base.AnalysisKind` and `KIND`, its
instance; adding one is that module, its entry in `KINDS` below, and (for rows in SQL) its result table in
models/tables.py with a migration (models/results.py needs a line only for a table filtered by segment-like
columns or by item). Nothing else switches on the kind. A kind declares:

- `name` (the API's `type`), `purpose` (how a 422 names it), `roles` it needs (or `check_roles` for a rule
  such as basket's "an invoice, or customer and date"), `reads` (the canonical columns compute reads of the
  kept rows; None reads them all, cheaper the fewer);
- its params: `params_schema` (marshmallow, fields from param_fields.py: JSON types as they are) and
  `params_type` (the dataclass built from them, which checks ranges and holds the defaults);
  `cleaning_defaults` (rule switches that differ for this kind, e.g. guests kept for baskets), and
  `reports_cleaning` for the one kind whose params are the cleaning rules and whose result is their report;
- `compute(frame, params) -> Computed(summary, rows={result table: [row dicts]}, artifacts={file: writer})`:
  pure, on an `AnalysisFrame` (the canonical view, the cleaning result, the kept rows);
- where its result rows live (`storage`: TABLE with `result_table`, SUMMARY with `summary_rows`, or the
  cleaning's REMOVED_ROWS), `sort_fields` and `filters` of /results, `download_table` and `sheets` for
  downloads;
- `extras`: name -> handler(source, **args), where `source` (kind_base.ResultSource) reads the finished
  analysis' summary, parsed params, result rows, pages and artifacts; the routes /elbow, /clusters, /predict,
  /itemsets and /recommendations call the extra of that name, and a kind without it answers 422 (the routes'
  body schemas are rfm's and basket's: a kind whose extra takes other arguments adds its fields there).

CLV, for instance, would be `kind_clv.py`: roles ("customer", "date", "amount"), a params schema for the
horizon, compute fitting clv.py's models and returning per-customer rows for a `clv_rows` table with the
fitted model as an artifact, and a `predict` extra reading that artifact.
"""
from __future__ import annotations

from services.analysis import kind_basket, kind_cleaning, kind_rfm, kind_statistical
from services.analysis.kind_base import AnalysisKind
from services.errors import Invalid

KINDS: dict[str, AnalysisKind] = {module.KIND.name: module.KIND
                                  for module in (kind_cleaning, kind_rfm, kind_basket, kind_statistical)}
ANALYSIS_TYPES = tuple(KINDS)


def get_kind(name: str) -> AnalysisKind:
    """The kind called `name`; any other name is a 422 on `type`."""
    kind = KINDS.get(name)
    if kind is None:
        raise Invalid.field("type", f"must be one of {', '.join(ANALYSIS_TYPES)}")
    return kind


def kinds_with(attribute: str, name: str) -> list[str]:
    """Names of the kinds whose `filters` or `extras` hold `name` (to say where a filter or an extra applies)."""
    return [kind.name for kind in KINDS.values() if name in getattr(kind, attribute)]
