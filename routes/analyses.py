"""Analyses: run (now or as a job), list, inspect, delete, page through results, download, and the rfm and
basket extras (seed 000/002/004 shapes)."""
from __future__ import annotations

import io

from flask import jsonify, request, send_file

from middlewares.auth import current_user
from routes.analyses_schemas import (
    FILE_RESPONSE,
    AnalysisListArgsSchema,
    AnalysisPageSchema,
    AnalysisSchema,
    ClustersSchema,
    DownloadArgsSchema,
    ElbowSchema,
    ItemsetArgsSchema,
    JobSchema,
    PredictionSchema,
    PredictSchema,
    ProcessSchema,
    RecommendationArgsSchema,
    RecommendationsSchema,
    ResultArgsSchema,
    ResultPageSchema,
)
from routes.schemas import Blueprint, MessageSchema
from services.registry import current_services

blp = Blueprint("analyses", __name__, url_prefix="/api", description="Run analyses and read their results")


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
    return current_services().results.list(current_user()["id"], args, args.get("file_id"), args.get("type"))


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
    filters = {name: args.get(name) for name in ("segment", "cluster", "item")}
    return current_services().results.results(current_user()["id"], analysis_id, args, filters)


@blp.route("/analyses/<id:analysis_id>/itemsets", methods=["GET"])
@blp.arguments(ItemsetArgsSchema, location="query")
@blp.response(200, ResultPageSchema)
def itemsets(args, analysis_id):
    """The frequent itemsets of a basket analysis."""
    return current_services().results.kind_extra(current_user()["id"], analysis_id, "itemsets", page=args,
                                                 item=args.get("item"))


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
    return current_services().results.kind_extra(current_user()["id"], analysis_id, "elbow")


@blp.route("/analyses/<id:analysis_id>/clusters", methods=["GET"])
@blp.response(200, ClustersSchema)
def clusters(analysis_id):
    """Cluster statistics of an rfm analysis."""
    return current_services().results.kind_extra(current_user()["id"], analysis_id, "clusters")


@blp.route("/analyses/<id:analysis_id>/predict", methods=["POST"])
@blp.arguments(PredictSchema)
@blp.response(200, PredictionSchema)
def predict(body, analysis_id):
    """Scores, segment and cluster a customer with these R/F/M values would get."""
    return current_services().results.kind_extra(current_user()["id"], analysis_id, "predict", **body)


@blp.route("/analyses/<id:analysis_id>/recommendations", methods=["GET"])
@blp.arguments(RecommendationArgsSchema, location="query")
@blp.response(200, RecommendationsSchema)
def recommendations(args, analysis_id):
    """What is bought with an item, ranked by lift, confidence and count (basket)."""
    return current_services().results.kind_extra(current_user()["id"], analysis_id, "recommendations",
                                                 item=args["item"], limit=args["limit"])


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
