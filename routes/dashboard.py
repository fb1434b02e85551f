"""Seed 001's dashboard and results endpoints."""
from __future__ import annotations

from marshmallow import fields

from middlewares.auth import current_user
from routes.schemas import BaseSchema, Blueprint, Id
from services.registry import current_services

blp = Blueprint("dashboard", __name__, url_prefix="/api", description="Headline numbers (seed 001)")


class FileArgsSchema(BaseSchema):
    file_id = Id(metadata={"description": "default: your newest file"})


class DashboardSchema(BaseSchema):
    total_revenue = fields.Float(allow_none=True)
    total_orders = fields.Integer(allow_none=True)
    unique_customers = fields.Integer(allow_none=True)
    avg_order_value = fields.Float(allow_none=True)
    files_uploaded = fields.Integer()
    analyses_run = fields.Integer()
    file_id = fields.Integer(allow_none=True)
    by_month = fields.List(fields.Dict())
    recent_analyses = fields.List(fields.Dict())


class ResultsSchema(BaseSchema):
    summary = fields.Dict()
    by_country = fields.List(fields.Dict())
    top_products = fields.List(fields.Dict())
    over_time = fields.List(fields.Dict())
    file_id = fields.Integer(allow_none=True)


@blp.route("/dashboard", methods=["GET"])
@blp.arguments(FileArgsSchema, location="query")
@blp.response(200, DashboardSchema)
def dashboard(args):
    """KPIs, monthly revenue, counts of your files and analyses, and your latest analyses."""
    return current_services().dashboard.dashboard(current_user()["id"], args.get("file_id"))


@blp.route("/results", methods=["GET"])
@blp.arguments(FileArgsSchema, location="query")
@blp.response(200, ResultsSchema)
def results(args):
    """Revenue summary, by country, top products and revenue over time of one file."""
    return current_services().dashboard.results(current_user()["id"], args.get("file_id"))
