"""The rfm kind: one row per customer in rfm_rows, a KMeans model for /predict, the elbow and cluster extras."""
from __future__ import annotations

import joblib
import pandas as pd

from services.analysis import param_fields as pf
from services.analysis import rfm
from services.analysis.kind_base import AnalysisFrame, AnalysisKind, Computed, ResultSource

MODEL_FILE = "model.joblib"  # scaler, centroids and score distributions: what /predict needs
ROW_COLUMNS = ("customer_id", "recency", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_score",
               "segment", "cluster")


class RfmParamsSchema(pf.ParamsSchema):
    """See rfm.RfmParams."""

    as_of = pf.IsoDate(allow_none=True)
    n_clusters = pf.WholeNumberOrText()
    k_min = pf.Integer()
    k_max = pf.Integer()


def elbow(source: ResultSource) -> dict:
    """Inertia and silhouette per k over k_min..k_max; worked out from the stored rows for a fixed-k analysis."""
    if "elbow" in source.summary:
        return source.summary["elbow"]
    features, _mean, _scale = rfm.scaled_features(pd.DataFrame(source.rows(RfmKind.result_table)))
    return rfm.elbow_curve(features, source.params.k_min, source.params.k_max)


def clusters(source: ResultSource) -> dict:
    """Cluster statistics of the analysis."""
    summary = source.summary
    return {"clusters": summary["clusters"], "total_customers": summary["total_customers"],
            "cluster_profiles": summary["cluster_profiles"]}


def predict(source: ResultSource, recency: float, frequency: float, monetary: float) -> dict:
    """Scores, segment and cluster of a hypothetical customer under the analysis' model."""
    return rfm.predict(source.artifact(MODEL_FILE, joblib.load), recency, frequency, monetary)


class RfmKind(AnalysisKind):
    """Recency, frequency and monetary value per customer; guests are dropped, outliers kept unless asked."""

    name = "rfm"
    purpose = "RFM"
    roles = ("customer", "date", "amount")
    reads = ("invoice", "customer", "date", "amount")
    params_schema = RfmParamsSchema
    params_type = rfm.RfmParams
    cleaning_defaults = {"outliers": "off"}
    result_table = "rfm_rows"
    total_in_summary = "total_customers"
    sort_fields = ROW_COLUMNS
    filters = ("segment", "cluster")
    extras = {"elbow": elbow, "clusters": clusters, "predict": predict}

    def compute(self, frame: AnalysisFrame, params: rfm.RfmParams) -> Computed:
        """Customers scored, segmented and clustered; the model as an artifact."""
        result = rfm.rfm_analysis(frame.kept, params)
        rows = result.customers[list(ROW_COLUMNS)].to_dict("records")
        return Computed(result.summary, rows={self.result_table: rows},
                        artifacts={MODEL_FILE: lambda path: joblib.dump(result.model, path)})


KIND = RfmKind()
