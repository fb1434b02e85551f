"""A kind added to the registry alone runs through the pipeline, the results reader and its extras: no switch
elsewhere names the kinds (the acceptance test of services/analysis/kinds.py)."""
from __future__ import annotations

import pytest

from services.analysis import kinds
from services.analysis import param_fields as pf
from services.analysis.kind_base import AnalysisFrame, AnalysisKind, Computed, ResultSource, ResultStorage
from services.errors import Invalid


class TopParamsSchema(pf.ParamsSchema):
    top = pf.Integer()


class TopParams:
    def __init__(self, top: int = 2) -> None:
        if top < 1:
            raise Invalid.field("top", "must be at least 1")
        self.top = top


def biggest(source: ResultSource, n: int) -> dict:
    return {"lines": source.summary["lines"][:n]}


class BiggestLinesKind(AnalysisKind):
    """The `top` largest line amounts, kept in the summary."""

    name = "biggest"
    purpose = "the biggest lines"
    roles = ("amount",)
    reads = ("amount",)
    params_schema = TopParamsSchema
    params_type = TopParams
    cleaning_defaults = {"missing_customer": False}
    storage = ResultStorage.SUMMARY
    extras = {"biggest": biggest}

    def compute(self, frame: AnalysisFrame, params: TopParams) -> Computed:
        amounts = sorted(frame.kept["amount"].tolist(), reverse=True)[:params.top]
        return Computed({"lines": amounts, "columns": sorted(frame.kept.columns)})

    def summary_rows(self, summary: dict) -> list[dict]:
        return [{"rank": rank, "amount": amount} for rank, amount in enumerate(summary["lines"], 1)]


@pytest.fixture
def biggest_kind(monkeypatch):
    monkeypatch.setitem(kinds.KINDS, "biggest", BiggestLinesKind())


def test_a_registered_kind_runs_stores_pages_downloads_and_answers_its_extra(services, auth, seed_file, biggest_kind):
    alice = auth.register("alice")
    file_id = seed_file(alice)["file_id"]
    analysis = services.analyses.process(alice.user_id, file_id, "biggest", {"top": 3})
    # SALES kept rows (guests kept by this kind's default, cancellations, zero quantity and the duplicate removed):
    # amounts 3.0 (1 x 3.00 jug), 3.0, 6.0, 10.0, 3.0 (the guest's jug), 4.5, 20.0 -> the three biggest
    assert analysis["status"] == "finished" and analysis["summary"]["lines"] == [20.0, 10.0, 6.0]
    assert analysis["summary"]["columns"] == ["amount"]  # only what the kind reads
    assert analysis["summary"]["cleaning"]["removed"]["duplicates"] == 1
    page = services.results.results(alice.user_id, analysis["analysis_id"], {"page": 2, "per_page": 2}, {})
    assert page == {"total": 3, "page": 2, "per_page": 2, "items": [{"rank": 3, "amount": 6.0}]}
    name, body, _mimetype = services.results.download(alice.user_id, analysis["analysis_id"], "csv")
    assert name.endswith("-biggest.csv") and body.decode().splitlines()[1:] == ["1,20.0", "2,10.0", "3,6.0"]
    assert services.results.kind_extra(alice.user_id, analysis["analysis_id"], "biggest", n=1) == {"lines": [20.0]}
    with pytest.raises(Invalid, match="not biggest"):
        rfm = services.analyses.process(alice.user_id, file_id, "rfm", {"n_clusters": 2})
        services.results.kind_extra(alice.user_id, rfm["analysis_id"], "biggest", n=1)
    with pytest.raises(Invalid) as caught:
        services.analyses.process(alice.user_id, file_id, "biggest", {"top": 0})
    assert caught.value.errors[0]["field"] == "params.top"
