"""Seed 002's RFM endpoints, kept for its clients: process a file, read the latest rows as a bare array."""
from __future__ import annotations

from flask import jsonify
from marshmallow import fields

from middlewares.auth import current_user
from routes.schemas import BaseSchema, Blueprint
from services.registry import current_services

blp = Blueprint("rfm", __name__, url_prefix="/api/rfm", description="Seed 002 RFM shortcuts")


class RfmProcessedSchema(BaseSchema):
    message = fields.String(metadata={"example": "RFM processing complete"})
    total_customers = fields.Integer()
    clusters = fields.Integer()
    analysis_id = fields.Integer()


class RfmRowSchema(BaseSchema):
    customer_id = fields.String()
    recency = fields.Integer()
    frequency = fields.Integer()
    monetary = fields.Float()
    r_score = fields.Integer()
    f_score = fields.Integer()
    m_score = fields.Integer()
    rfm_score = fields.String()
    segment = fields.String()
    cluster = fields.Integer()


@blp.route("/process/<id:file_id>", methods=["POST"])
@blp.response(200, RfmProcessedSchema)
def process(file_id):
    """RFM with the default parameters (cleaning as seed 002: customer present, quantity and price > 0)."""
    analysis = current_services().analyses.process(current_user()["id"], file_id, "rfm", {})
    summary = analysis["summary"]
    return {"message": "RFM processing complete", "total_customers": summary["total_customers"],
            "clusters": summary["clusters"], "analysis_id": analysis["analysis_id"]}


@blp.route("/results/<id:file_id>", methods=["GET"])
@blp.response(200, RfmRowSchema(many=True))
def results(file_id):
    """Every customer row of the file's newest RFM analysis, as a bare JSON array."""
    rows = current_services().results.rfm_rows_of_latest(current_user()["id"], file_id)
    return jsonify(RfmRowSchema(many=True).dump(rows))
