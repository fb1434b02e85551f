"""Analyses: run (now or as a job), list, inspect, delete, page through results, download, and the rfm and
basket extras (seed 000/002/004 shapes)."""
from __future__ import annotations

import io

from flask import jsonify, request, send_file
from marshmallow import fields, validate

from middlewares.auth import current_user
from models.pagination import Page
from routes.schemas import BaseSchema, Blueprint, Id, MessageSchema, PageArgsSchema, UTCDateTime, page_schema
from services.analysis.params import ANALYSIS_TYPES
from services.registry import current_services
from services.results import ANALYSIS_SORT_FIELDS, DOWNLOAD_FORMATS, ITEMSET_SORT_FIELDS

blp = Blueprint("analyses", __name__, url_prefix="/api", description="Run analyses and read their results")


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
    status = fields.String(metadata={"enum": ["queued", "running", "finished", "failed", "cancelled"]})
    params = fields.Dict()
    summary = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)
    download = fields.String(allow_none=True, metadata={"description": "name for GET /api/download/<filename>"})
    created_at = UTCDateTime()
    finished_at = UTCDateTime(allow_none=True)


class JobSchema(BaseSchema):
    job_id = fields.String()
    cancel_requested = fields.Boolean(metadata={"description": "a running job stops at its next stage"})
    status = fields.String(metadata={"enum": ["queued", "running", "finished", "failed", "cancelled"]})
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


def _prefers_async(headers: list[str]) -> bool:
    """RFC 7240: Prefer is a comma-separated list of preferences, names case-insensitive, maybe with ;params."""
    return any(token.split(";")[0].split("=")[0].strip().lower() == "respond-async"
               for header in headers for token in header.split(","))


def _send(name: str, body: bytes, mimetype: str):
    return send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=name)


@blp.route("/process", methods=["POST"])
@blp.arguments(ProcessSchema)
@blp.response(200, AnalysisSchema)
@blp.alt_response(202, schema=JobSchema, description="with `Prefer: respond-async`: the queued job; "
                                                     "Location points at /api/jobs/<id>")
def process(body):
    """Run an analysis on one of your files; with `Prefer: respond-async` it is queued as a job instead."""
    owner = current_user()["id"]
    if _prefers_async(request.headers.getlist("Prefer")):
        job = current_services().jobs.submit(owner, body["file_id"], body["type"], body["params"])
        response = jsonify(JobSchema().dump(job))
        response.status_code = 202
        response.headers["Location"] = f"/api/jobs/{job['job_id']}"
        response.headers["Preference-Applied"] = "respond-async"
        return response
    return current_services().analyses.process(owner, body["file_id"], body["type"], body["params"])


@blp.route("/analyses", methods=["GET"])
@blp.arguments(AnalysisListArgsSchema, location="query")
@blp.response(200, AnalysisPageSchema)
def list_analyses(args):
    """Your analyses, optionally of one file and/or type (summaries are left out of the list)."""
    page = Page(page=args["page"], per_page=args["per_page"], sort=args["sort"], order=args["order"])
    return current_services().results.list(current_user()["id"], page, args.get("file_id"), args.get("type"))


@blp.route("/analyses/<id:analysis_id>", methods=["GET"])
@blp.response(200, AnalysisSchema)
def get_analysis(analysis_id):
    """One analysis with its summary."""
    return current_services().results.get(current_user()["id"], analysis_id)


@blp.route("/analyses/<id:analysis_id>", methods=["DELETE"])
@blp.response(200, MessageSchema)
def delete_analysis(analysis_id):
    """Delete an analysis and its results."""
    current_services().results.delete(current_user()["id"], analysis_id)
    return {"message": "analysis deleted"}


@blp.route("/analyses/<id:analysis_id>/results", methods=["GET"])
@blp.arguments(ResultArgsSchema, location="query")
@blp.response(200, ResultPageSchema)
def results(args, analysis_id):
    """Result rows page by page: customers (rfm; ?segment= ?cluster=), rules (basket; ?item=), removed rows
    with their reason (cleaning), summary tables (statistical)."""
    page = Page(page=args["page"], per_page=args["per_page"], sort=args["sort"], order=args["order"])
    return current_services().results.results(current_user()["id"], analysis_id, page, args.get("segment"),
                                       args.get("cluster"), args.get("item"))


@blp.route("/analyses/<id:analysis_id>/itemsets", methods=["GET"])
@blp.arguments(ItemsetArgsSchema, location="query")
@blp.response(200, ResultPageSchema)
def itemsets(args, analysis_id):
    """The frequent itemsets of a basket analysis."""
    page = Page(page=args["page"], per_page=args["per_page"], sort=args["sort"], order=args["order"])
    return current_services().results.itemsets(current_user()["id"], analysis_id, page, args.get("item"))


@blp.route("/analyses/<id:analysis_id>/download", methods=["GET"])
@blp.arguments(DownloadArgsSchema, location="query")
@blp.response(200, FILE_RESPONSE, content_type="text/csv")
def download(args, analysis_id):
    """All result rows as CSV or XLSX (formula-safe)."""
    return _send(*current_services().results.download(current_user()["id"], analysis_id, args["format"]))


@blp.route("/download/<string:filename>", methods=["GET"])
@blp.response(200, FILE_RESPONSE, content_type="text/csv")
def download_by_name(filename):
    """Seed 000: the file named by `download` in a process answer."""
    return _send(*current_services().results.download_by_name(current_user()["id"], filename))


@blp.route("/analyses/<id:analysis_id>/elbow", methods=["GET"])
@blp.response(200, ElbowSchema)
def elbow(analysis_id):
    """Inertia and silhouette for k in k_min..k_max, and the suggested k (rfm)."""
    return current_services().results.elbow(current_user()["id"], analysis_id)


@blp.route("/analyses/<id:analysis_id>/clusters", methods=["GET"])
@blp.response(200, ClustersSchema)
def clusters(analysis_id):
    """Cluster statistics of an rfm analysis."""
    return current_services().results.clusters(current_user()["id"], analysis_id)


@blp.route("/analyses/<id:analysis_id>/predict", methods=["POST"])
@blp.arguments(PredictSchema)
@blp.response(200, PredictionSchema)
def predict(body, analysis_id):
    """Scores, segment and cluster a customer with these R/F/M values would get."""
    return current_services().results.predict(current_user()["id"], analysis_id, **body)


@blp.route("/analyses/<id:analysis_id>/recommendations", methods=["GET"])
@blp.arguments(RecommendationArgsSchema, location="query")
@blp.response(200, RecommendationsSchema)
def recommendations(args, analysis_id):
    """What is bought with an item, ranked by lift, confidence and count (basket)."""
    return current_services().results.recommendations(current_user()["id"], analysis_id, args["item"], args["limit"])


@blp.route("/jobs/<string:job_id>", methods=["GET"])
@blp.response(200, JobSchema)
def get_job(job_id):
    """State and progress of a queued analysis."""
    return current_services().jobs.job(current_user()["id"], job_id)


@blp.route("/jobs/<string:job_id>", methods=["DELETE"])
@blp.response(200, JobSchema)
def cancel_job(job_id):
    """Cancel a job: at once if queued, at its next stage if running."""
    return current_services().jobs.cancel_job(current_user()["id"], job_id)
