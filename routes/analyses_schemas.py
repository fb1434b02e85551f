"""Request and response schemas of the analyses blueprint (routes/analyses.py)."""
from __future__ import annotations

from marshmallow import fields, validate

from routes.schemas import BaseSchema, Id, PageArgsSchema, UTCDateTime, page_schema
from services.analysis.kind_basket import ITEMSET_SORT_FIELDS
from services.analysis.kinds import ANALYSIS_TYPES
from services.results import ANALYSIS_SORT_FIELDS, DOWNLOAD_FORMATS, STATUSES


class ProcessSchema(BaseSchema):
    file_id = Id(required=True)
    type = fields.String(required=True, validate=validate.OneOf(ANALYSIS_TYPES))
    params = fields.Dict(load_default=dict, metadata={
        "description": "columns (role->column), clean (bool), cleaning (rule switches) and the type's own "
                       "parameters; see README 'Analyses'. A 422 names the field when a parameter does not apply "
                       "to the type, is out of its range, or a role the type needs is missing or mistyped",
        "example": {"min_support": 0.01}})


class AnalysisSchema(BaseSchema):
    analysis_id = fields.Integer()
    file_id = fields.Integer()
    type = fields.String()
    status = fields.String(metadata={"enum": STATUSES})
    params = fields.Dict()
    summary = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)
    download = fields.String(allow_none=True, metadata={"description": "name for GET /api/download/<filename>"})
    created_at = UTCDateTime()
    finished_at = UTCDateTime(allow_none=True)


class JobSchema(BaseSchema):
    job_id = fields.String()
    cancel_requested = fields.Boolean(metadata={"description": "a running job stops at its next stage"})
    status = fields.String(metadata={"enum": STATUSES})
    progress = fields.Integer()
    stage = fields.String()
    analysis_id = fields.Integer()
    error = fields.String(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class AnalysisListArgsSchema(PageArgsSchema):
    sort = fields.String(load_default=None, validate=validate.OneOf(ANALYSIS_SORT_FIELDS))
    file_id = Id()
    type = fields.String(validate=validate.OneOf(ANALYSIS_TYPES))


class ResultArgsSchema(PageArgsSchema):
    sort = fields.String(load_default=None, metadata={"description": "a column of the result rows"})
    segment = fields.String(validate=validate.Length(max=64), metadata={"description": "rfm only (else a 422)"})
    cluster = fields.Integer(validate=validate.Range(min=0, max=100), metadata={"description": "rfm only (else a 422)"})
    item = fields.String(validate=validate.Length(max=500), metadata={"description": "basket only (else a 422)"})


class ItemsetArgsSchema(PageArgsSchema):
    sort = fields.String(load_default=None, validate=validate.OneOf(ITEMSET_SORT_FIELDS))
    item = fields.String(validate=validate.Length(max=500))


class DownloadArgsSchema(BaseSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(DOWNLOAD_FORMATS))


class PredictSchema(BaseSchema):
    recency = fields.Float(required=True, validate=validate.Range(min=0, max=1e6), allow_nan=False)
    frequency = fields.Float(required=True, validate=validate.Range(min=0, max=1e9), allow_nan=False)
    monetary = fields.Float(required=True, validate=validate.Range(min=-1e15, max=1e15), allow_nan=False)


class PredictionSchema(BaseSchema):
    cluster = fields.Integer()
    cluster_label = fields.String()
    segment = fields.String()
    r_score = fields.Integer()
    f_score = fields.Integer()
    m_score = fields.Integer()
    rfm_score = fields.String()


class RecommendationArgsSchema(BaseSchema):
    item = fields.String(required=True, validate=validate.Length(min=1, max=500))
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class RecommendationsSchema(BaseSchema):
    item = fields.String()
    recommendations = fields.List(fields.Dict())


class ElbowSchema(BaseSchema):
    k = fields.List(fields.Integer())
    inertia = fields.List(fields.Float())
    silhouette = fields.List(fields.Float())
    knee_k = fields.Integer()
    suggested_k = fields.Integer()


class ClustersSchema(BaseSchema):
    clusters = fields.Integer()
    total_customers = fields.Integer()
    cluster_profiles = fields.List(fields.Dict())


class ResultPageSchema(BaseSchema):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    items = fields.List(fields.Dict())


AnalysisPageSchema = page_schema("AnalysisPageSchema", AnalysisSchema)
FILE_RESPONSE = {"type": "string", "format": "binary"}
