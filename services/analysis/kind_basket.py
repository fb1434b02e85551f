"""The basket kind: rules in basket_rules, frequent itemsets in frequent_itemsets, recommendations from the rules."""
from __future__ import annotations

import numpy as np
import pandas as pd

from services.analysis import param_fields as pf
from services.analysis.basket import BasketParams, basket_analysis, recommendations
from services.analysis.kind_base import AnalysisFrame, AnalysisKind, Computed, ResultSource, present_roles
from services.ingest.roles import require_roles

RULE_COLUMNS = ("antecedents", "consequents", "count", "support", "confidence", "lift", "leverage", "conviction")
ITEMSET_SORT_FIELDS = ("size", "count", "support")
RULES, ITEMSETS = "basket_rules", "frequent_itemsets"


class BasketParamsSchema(pf.ParamsSchema):
    """See basket.BasketParams."""

    min_support = pf.Number()
    min_confidence = pf.Number()
    min_lift = pf.Number()
    max_len = pf.Integer()
    item = pf.Text()
    max_rules = pf.Integer()
    country = pf.Text(allow_none=True)
    max_itemsets = pf.Integer()


def itemsets(source: ResultSource, page, item: str | None) -> dict:
    """One page of the frequent itemsets (those holding `item`)."""
    return source.page(ITEMSETS, page, {"item": item})


def recommended(source: ResultSource, item: str, limit: int) -> dict:
    """Items bought with `item`, ranked by the rules that have it on the left."""
    rules = pd.DataFrame(source.rows(RULES, item=item), columns=list(RULE_COLUMNS))
    rules["antecedents"] = rules["antecedents"].map(tuple)
    rules["consequents"] = rules["consequents"].map(tuple)
    return {"item": item, "recommendations": recommendations(rules, item, limit)}


class BasketKind(AnalysisKind):
    """Association rules between items of a basket (an invoice, else a customer's day); guests' baskets count."""

    name = "basket"
    purpose = "basket analysis"
    reads = ("invoice", "customer", "date", "item", "description", "country")
    params_schema = BasketParamsSchema
    params_type = BasketParams
    cleaning_defaults = {"missing_customer": False, "outliers": "off"}
    result_table = RULES
    total_in_summary = "rules"
    sort_fields = ("count", "support", "confidence", "lift", "leverage", "conviction")
    filters = ("item",)
    extras = {"itemsets": itemsets, "recommendations": recommended}

    def check_roles(self, roles: dict[str, str], columns: list[str]) -> None:
        """Baskets need an invoice (or customer and date), and items need a code or a description."""
        present = {role: role for role in present_roles(roles)}
        if "invoice" not in present and not {"customer", "date"} <= present.keys():
            require_roles(present, ("invoice",), columns, self.purpose)
        if not {"item", "description"} & present.keys():
            require_roles(present, ("item",), columns, self.purpose)

    def compute(self, frame: AnalysisFrame, params: BasketParams) -> Computed:
        """Rules and itemsets of the kept rows, with the counts that explain them."""
        result = basket_analysis(frame.kept, params)
        summary = {"transactions": result.transactions, "items": result.items, "itemsets": len(result.itemsets),
                   "rules": len(result.rules), "rules_total": result.rules_total, "truncated": result.truncated,
                   "min_count": result.min_count, "no_rules": result.no_rules}
        return Computed(summary, rows={RULES: _rule_rows(result.rules), ITEMSETS: _itemset_rows(result.itemsets)})

    def download_table(self, table: pd.DataFrame) -> pd.DataFrame:
        """Rules with their item lists written as "a, b"."""
        if not table.empty:
            table["antecedents"] = table["antecedents"].map(", ".join)
            table["consequents"] = table["consequents"].map(", ".join)
        return table


def _rule_rows(rules: pd.DataFrame) -> list[dict]:
    records = rules.to_dict("records")
    for record in records:
        record["antecedents"] = list(record["antecedents"])
        record["consequents"] = list(record["consequents"])
        if record["conviction"] is not None and not np.isfinite(record["conviction"]):
            record["conviction"] = None
    return records


def _itemset_rows(found: pd.DataFrame) -> list[dict]:
    return [{"items": list(items), "size": int(size), "count": int(count), "support": float(support)}
            for items, size, count, support in found[["items", "size", "count", "support"]].itertuples(index=False)]


KIND = BasketKind()
