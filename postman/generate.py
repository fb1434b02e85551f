"""Write postman/retail-analytics.postman_collection.json from this build's OpenAPI spec (`make postman`).

The walk through the API (register, log in, upload, every analysis, download, a job, log out) is listed here;
each request's method, path, name, description, expected status and the fields its tests check are taken from
the spec, and generation fails when a step names a route, status or field that the spec does not document.
usage: python postman/generate.py [--check]   (--check: exit 1 if the committed collection is out of date)
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

logger = logging.getLogger(__name__)

COLLECTION = ROOT / "postman" / "retail-analytics.postman_collection.json"
SAMPLE = "postman/sample_sales.csv"  # relative to the repository root, where newman is run
SCHEMA_ID = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
# A JavaScript test of a value `v` for each JSON schema type.
JS_TYPE_TESTS = {"integer": "Number.isInteger(v)", "number": 'typeof v === "number"', "string": 'typeof v === "string"',
                 "boolean": 'typeof v === "boolean"', "array": "Array.isArray(v)",
                 "object": 'v !== null && typeof v === "object" && !Array.isArray(v)'}
ANALYSIS_TYPES = ("cleaning", "rfm", "basket", "statistical")
POLL_LIMIT = 120


@dataclass
class Step:
    """One request of the walk: which operation, what it sends, which answer fields it checks and keeps."""

    name: str
    method: str
    path: str
    status: int
    check: tuple[str, ...] = ()
    body: dict | None = None
    form_file: str | None = None
    headers: dict = field(default_factory=dict)
    public: bool = False
    keep: dict = field(default_factory=dict)  # collection variable -> answer field
    extra_tests: tuple[str, ...] = ()
    prerequest: tuple[str, ...] = ()


def walk() -> list[Step]:
    """The requests in the order a client makes them; logout comes last."""
    credentials = {"username": "{{username}}", "email": "{{username}}@example.com", "password": "{{password}}"}
    steps = [
        Step("Readiness", "get", "/api/health", 200, ("status", "database", "version"), public=True,
             extra_tests=('pm.test("database ok", () => pm.expect(body.status).to.eql("ok"));',)),
        Step("Register a random user", "post", "/api/auth/register", 201, ("message", "user_id", "token"),
             body=credentials, public=True, prerequest=(
                 'pm.collectionVariables.set("username", "pm_" + Date.now() + "_" + Math.floor(Math.random() * 1e6));',
                 'pm.collectionVariables.set("password", "postman " + pm.variables.replaceIn("{{$randomUUID}}"));')),
        Step("Log in", "post", "/api/auth/login", 200, ("token", "token_type", "expires_in", "user"),
             body={"identifier": "{{username}}", "password": "{{password}}"}, public=True, keep={"token": "token"}),
        Step("Who am I", "get", "/api/auth/me", 200, ("user_id", "username", "role")),
        Step("Upload the sample file", "post", "/api/upload", 201, ("file_id", "filename", "rows", "columns"),
             form_file=SAMPLE, keep={"file_id": "file_id"}),
    ]
    for kind in ANALYSIS_TYPES:
        steps.append(Step(f"Run {kind}", "post", "/api/process", 200, ("analysis_id", "type", "status", "summary"),
                          body={"file_id": "{{file_id}}", "type": kind, "params": {}},
                          keep={f"{kind}_id": "analysis_id", f"{kind}_download": "download"},
                          extra_tests=('pm.test("finished", () => pm.expect(body.status).to.eql("finished"));',)))
        steps.append(Step(f"Results of {kind}", "get", f"/api/analyses/{{{{{kind}_id}}}}/results", 200,
                          ("total", "page", "per_page", "items")))
    steps += [
        Step("Download the rfm rows as CSV", "get", "/api/analyses/{{rfm_id}}/download", 200, extra_tests=(
            'pm.test("csv attachment", () => {',
            '    pm.expect(pm.response.headers.get("Content-Type")).to.include("text/csv");',
            '    pm.expect(pm.response.headers.get("Content-Disposition")).to.include("attachment");',
            '    pm.expect(pm.response.text().split("\\n")[0]).to.include("customer_id");',
            '});')),
        Step("Download the cleaned rows by name", "get", "/api/download/{{cleaning_download}}", 200, extra_tests=(
            'pm.test("named attachment", () => pm.expect(pm.response.headers.get("Content-Disposition"))'
            '.to.include(pm.collectionVariables.get("cleaning_download")));',)),
        Step("Start an rfm job", "post", "/api/process", 202, ("job_id", "status", "analysis_id"),
             body={"file_id": "{{file_id}}", "type": "rfm", "params": {"n_clusters": 3}},
             headers={"Prefer": "respond-async"}, keep={"job_id": "job_id"}, extra_tests=(
                 'pm.test("Location of the job", () => pm.expect(pm.response.headers.get("Location"))'
                 '.to.eql("/api/jobs/" + body.job_id));',
                 'pm.collectionVariables.set("polls", 0);')),
        Step("Poll the job until it ends", "get", "/api/jobs/{{job_id}}", 200, ("job_id", "status", "progress"),
             prerequest=('if (Number(pm.collectionVariables.get("polls")) > 0) { setTimeout(() => {}, 500); }',),
             extra_tests=(
                 'const polls = Number(pm.collectionVariables.get("polls")) + 1;',
                 'pm.collectionVariables.set("polls", polls);',
                 f'if (["queued", "running"].includes(body.status) && polls < {POLL_LIMIT}) {{',
                 '    pm.execution.setNextRequest(pm.info.requestName);',
                 '} else {',
                 '    pm.test("job finished", () => pm.expect(body.status).to.eql("finished"));',
                 '}')),
        Step("Log out", "post", "/api/auth/logout", 200, ("message",), extra_tests=(
            'pm.sendRequest({url: pm.variables.get("baseUrl") + "/api/auth/me",',
            '                header: {Authorization: "Bearer " + pm.collectionVariables.get("token")}},',
            '    (err, res) => pm.test("the token is refused after logout", () => pm.expect(res.code).to.eql(401)));',
        )),
    ]
    return steps


def load_spec() -> dict:
    """The spec of this build, from an app on a throwaway SQLite file (nothing is served)."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(DATABASE_URL=f"sqlite:///{tmp}/spec.sqlite3", UPLOAD_DIR=f"{tmp}/uploads",
                          RETENTION_THREAD="false", REDIS_URL="", LOG_LEVEL="WARNING")
        from app import create_app

        app = create_app()
        spec = app.test_client().get("/api/openapi.json").get_json()
        app.extensions["db_engine"].dispose()
        return spec


def resolve(spec: dict, node: dict) -> dict:
    """Follow local $refs (#/components/...) to the node they name."""
    while "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operation(spec: dict, step: Step) -> dict:
    """The spec's operation for a step; its path template is the step's path with {{variables}} as {names}."""
    for template, item in spec["paths"].items():
        if step.method in item and _matches(template, step.path):
            return item[step.method]
    raise SystemExit(f"{step.name}: {step.method.upper()} {step.path} is not in the spec")


def _matches(template: str, path: str) -> bool:
    left, right = template.split("/"), path.split("/")
    return len(left) == len(right) and all(
        a == b or (a.startswith("{") and b.startswith("{{")) for a, b in zip(left, right, strict=True))


def response_properties(spec: dict, step: Step, op: dict) -> dict:
    """The documented fields of the step's success answer; every field the step checks must be one of them."""
    response = op["responses"].get(str(step.status))
    if response is None:
        raise SystemExit(f"{step.name}: the spec documents no {step.status} answer")
    content = resolve(spec, response).get("content", {})
    schema = resolve(spec, next(iter(content.values()))["schema"]) if content else {}
    properties = schema.get("properties", {})
    unknown = [name for name in step.check if name not in properties]
    if unknown:
        raise SystemExit(f"{step.name}: {unknown} are not fields of the documented {step.status} answer")
    return {name: resolve(spec, properties[name]) for name in step.check}


def request_fields(spec: dict, step: Step, op: dict) -> None:
    """A JSON body may only send fields the spec documents."""
    if step.body is None:
        return
    schema = resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])
    unknown = sorted(set(step.body) - set(schema.get("properties", {})))
    if unknown:
        raise SystemExit(f"{step.name}: {unknown} are not fields of the request body")


def tests(step: Step, properties: dict) -> list[str]:
    """Status, media type, then each checked field's presence and JSON type as documented."""
    lines = [f'pm.test("status {step.status}", () => pm.response.to.have.status({step.status}));']
    if properties:
        lines += ['pm.test("JSON answer", () => pm.expect(pm.response.headers.get("Content-Type"))'
                  '.to.include("application/json"));',
                  "const body = pm.response.json();"]
        for name, prop in properties.items():
            check = JS_TYPE_TESTS.get(prop.get("type"), "v !== undefined")
            nullable = " || v === null" if prop.get("nullable") else ""
            lines.append(f'pm.test("field {name}: {prop.get("type", "any")}", () => {{ '
                         f'const v = body[{json.dumps(name)}]; '
                         f'pm.expect(v !== undefined && ({check}{nullable})).to.be.true; }});')
    for variable, source in step.keep.items():
        lines.append(f"pm.collectionVariables.set({json.dumps(variable)}, body[{json.dumps(source)}]);")
    return lines + list(step.extra_tests)


def item(spec: dict, step: Step) -> dict:
    """One Postman request item with its pre-request and test scripts."""
    op = operation(spec, step)
    request_fields(spec, step, op)
    request = {
        "method": step.method.upper(),
        "header": [{"key": key, "value": value} for key, value in step.headers.items()],
        "url": {"raw": "{{baseUrl}}" + step.path, "host": ["{{baseUrl}}"], "path": step.path.strip("/").split("/")},
        "description": op.get("summary", ""),
    }
    if step.public:
        request["auth"] = {"type": "noauth"}
    if step.body is not None:
        request["header"].append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {"mode": "raw", "raw": json.dumps(step.body, indent=2)}
    if step.form_file:
        request["body"] = {"mode": "formdata", "formdata": [{"key": "file", "type": "file", "src": step.form_file}]}
    events = [{"listen": "test", "script": {"type": "text/javascript",
                                             "exec": tests(step, response_properties(spec, step, op))}}]
    if step.prerequest:
        events.insert(0, {"listen": "prerequest", "script": {"type": "text/javascript", "exec": list(step.prerequest)}})
    return {"name": step.name, "event": events, "request": request}


def collection(spec: dict) -> dict:
    """The whole collection: bearer auth from the stored token, baseUrl from the spec's servers."""
    base_url = next(s["url"] for s in spec["servers"] if s["url"].startswith("http"))
    return {
        "info": {"name": spec["info"]["title"], "schema": SCHEMA_ID,
                 "description": f"Generated by postman/generate.py from the OpenAPI spec of version "
                                f"{spec['info']['version']}; run from the repository root: newman run "
                                f"postman/{COLLECTION.name} --env-var baseUrl=http://127.0.0.1:PORT"},
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]},
        "variable": [{"key": "baseUrl", "value": base_url}, {"key": "token", "value": ""}],
        "item": [item(spec, step) for step in walk()],
    }


def render(spec: dict) -> str:
    """The collection as committed: stable key order, two-space indent, final newline."""
    return json.dumps(collection(spec), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed collection is out of date")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    text = render(load_spec())
    if args.check:
        if not COLLECTION.exists() or COLLECTION.read_text() != text:
            logger.error("%s is out of date: run make postman", COLLECTION)
            return 1
        return 0
    COLLECTION.write_text(text)
    logger.info("wrote %s", COLLECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())
