"""The load benchmark's reference: a bare Flask route answering the same 50-row page from memory."""
from __future__ import annotations

import json
import os

from flask import Flask, jsonify


def create_app() -> Flask:
    """One route, /rows, returning the page stored in BENCH_ROWS (a JSON file)."""
    app = Flask(__name__)
    with open(os.environ["BENCH_ROWS"]) as handle:
        page = json.load(handle)

    @app.get("/rows")
    def rows():
        return jsonify(page)

    return app
