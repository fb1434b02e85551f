"""/api/openapi.json describes every route, its security and its responses; /api/docs serves it."""
from __future__ import annotations

import re

import pytest

from tests.conftest import assert_problem

IGNORED_METHODS = {"HEAD", "OPTIONS"}
UNDOCUMENTED_BLUEPRINTS = ("static", "api-docs", "swagger-ui")
FLASK_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
BODY_METHODS = {"POST", "PUT", "PATCH"}


@pytest.fixture
def spec(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.json


def spec_path(rule: str) -> str:
    """Flask's /users/<int:user_id> is OpenAPI's /users/{user_id}."""
    return FLASK_PARAM.sub(r"{\1}", rule)


def documented_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in UNDOCUMENTED_BLUEPRINTS:
            continue
        yield rule


def operations(app):
    """(spec path, method, endpoint, concrete url) for every route and method of the app."""
    for rule in documented_rules(app):
        url = FLASK_PARAM.sub("1", rule.rule)
        for method in sorted(rule.methods - IGNORED_METHODS):
            yield spec_path(rule.rule), method, rule.endpoint, url


def test_spec_is_public_openapi_3_with_bearer_auth(client, spec):
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"]
    assert spec["info"]["version"]
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert scheme.get("bearerFormat") == "JWT"
    assert spec["security"] == [{"bearerAuth": []}]
    # no token was sent: the spec itself is public, even with a bad token
    bad_token = client.get("/api/openapi.json", headers={"Authorization": "Bearer not.a.jwt"})
    assert bad_token.status_code == 200


def test_the_app_has_the_routes_this_test_expects(app):
    found = {(path, method) for path, method, _endpoint, _url in operations(app)}
    for expected in [("/", "GET"), ("/api/auth/login", "POST"), ("/api/admin/users/{user_id}", "DELETE"),
                     ("/api/user/profile/password", "PUT"), ("/api/health", "GET")]:
        assert expected in found


def test_every_route_is_in_the_spec_with_its_methods(app, spec):
    missing = []
    for path, method, endpoint, _url in operations(app):
        if method.lower() not in spec["paths"].get(path, {}):
            missing.append(f"{method} {path} ({endpoint})")
    assert not missing, missing


def test_every_spec_operation_is_a_route(app, spec):
    routes = {(path, method.lower()) for path, method, _endpoint, _url in operations(app)}
    documented = {(path, method) for path, item in spec["paths"].items() for method in item
                  if method in {"get", "put", "post", "delete", "patch"}}
    assert documented
    assert documented <= routes, documented - routes


def test_path_parameters_are_declared(spec):
    for path, item in spec["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        if not names:
            continue
        for method, operation in item.items():
            if method == "parameters":
                continue
            declared = {p["name"] for p in item.get("parameters", []) + operation.get("parameters", [])
                        if p.get("in") == "path"}
            assert names <= declared, f"{method.upper()} {path}"


def test_public_operations_and_public_views_are_the_same(app, spec):
    for path, method, endpoint, _url in operations(app):
        operation = spec["paths"][path][method.lower()]
        view = app.view_functions[endpoint]
        marked_public = operation.get("security") == []
        assert marked_public == bool(getattr(view, "is_public", False)), f"{method} {path} ({endpoint})"


def test_the_public_set_is_what_the_contract_says(app, spec):
    public = {(path, method) for path, method, _endpoint, _url in operations(app)
              if spec["paths"][path][method.lower()].get("security") == []}
    assert public == {("/", "GET"), ("/health", "GET"), ("/api/health", "GET"), ("/api/services-status", "GET"),
                      ("/api/auth/register", "POST"), ("/api/auth/login", "POST")}


def test_every_non_public_operation_answers_401_without_a_token(app, client, spec):
    checked = 0
    for path, method, endpoint, url in operations(app):
        operation = spec["paths"][path][method.lower()]
        if operation.get("security") == []:
            continue
        assert operation.get("security", spec["security"]) == [{"bearerAuth": []}], f"{method} {path}"
        kwargs = {"json": {}} if method in BODY_METHODS else {}
        response = client.open(url, method=method, **kwargs)
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), f"{method} {url} ({endpoint})"
        checked += 1
    assert checked >= 10


def test_every_operation_has_a_2xx_response_with_a_schema(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            success = {code: r for code, r in operation["responses"].items() if str(code).startswith("2")}
            assert success, f"{method.upper()} {path} has no 2xx response"
            with_schema = [r for r in success.values()
                           if any("schema" in media for media in r.get("content", {}).values())]
            assert with_schema, f"{method.upper()} {path} has no 2xx schema"


def test_referenced_schemas_exist(spec):
    schemas = spec["components"]["schemas"]
    text = str(spec["paths"])
    for name in re.findall(r"#/components/schemas/([A-Za-z0-9_.-]+)", text):
        assert name in schemas, name


def test_docs_page_is_served(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "openapi.json" in response.get_data(as_text=True)


def test_error_responses_are_documented_as_served_problem_json(spec, client):
    documented = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if status != "default" and status < "400":
                    continue
                if "$ref" in response:
                    response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
                assert set(response["content"]) == {"application/problem+json"}, (method, path, status)
                documented += 1
    assert documented > 38
    assert client.get("/api/files").mimetype == "application/problem+json"


def test_id_path_parameters_are_bounded_in_the_spec(spec):
    parameters = [parameter for item in spec["paths"].values() for parameter in item.get("parameters", [])
                  if parameter["name"].endswith("_id")
                  and parameter["in"] == "path" and parameter["schema"]["type"] == "integer"]
    assert parameters and all(p["schema"]["minimum"] == 1 and p["schema"]["maximum"] == 2**31 - 1
                              for p in parameters)


def test_profile_update_without_a_body_is_422(client, auth):
    alice = auth.register("alice")
    assert_problem(client.put("/api/user/profile", headers=alice.headers), 422)
    assert_problem(client.put("/api/user/profile", headers=alice.headers, json={}), 422)
    assert client.put("/api/user/profile", headers=alice.headers, json={"username": "alice2"}).status_code == 200


def test_docs_page_loads_every_asset_from_this_server(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(assets) >= 3, assets
    for asset in assets:
        assert asset.startswith("/api/docs/assets/"), asset  # no CDN: the page works offline
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.get_data()) > 1000
    assert "SwaggerUIBundle" in client.get("/api/docs/assets/swagger-ui-bundle.js").get_data(as_text=True)


def test_spec_names_its_servers(spec):
    urls = [server["url"] for server in spec["servers"]]
    assert urls[0] == "/"
    assert all(url.startswith(("/", "http://", "https://")) for url in urls)
