"""The OpenAPI document matches the URL map, and /api/docs renders it without scripts."""

from __future__ import annotations

from miniature_office.web.openapi import IGNORED_METHODS, openapi_path


def _routes(app):
    return {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - IGNORED_METHODS
    }


def test_openapi_document_lists_exactly_the_real_routes(app, client):
    spec = client.get("/api/openapi.json").get_json()
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert documented == _routes(app)


def test_every_operation_has_a_summary_responses_and_its_path_parameters(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert op["summary"], (method, path)
            assert op["responses"], (method, path)
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}


def test_mutating_operations_document_their_body(client):
    spec = client.get("/api/openapi.json").get_json()
    create = spec["paths"]["/api/directives"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert {"title", "floor"} <= set(schema["properties"]) and create["x-mutating"]
    override = spec["paths"]["/api/votes/{vote_id}/override"]["post"]
    assert (
        "vote_id"
        not in override["requestBody"]["content"]["application/json"]["schema"]["properties"]
    )


def test_docs_page_is_static_html_without_inline_script_or_style(client):
    response = client.get("/api/docs")
    html = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert "<script" not in html and "<style" not in html and "style=" not in html
    assert "/api/world/replay" in html


def test_api_index_lists_every_endpoint(client):
    index = client.get("/api").get_json()
    assert index["endpoints"]["GET /api/world/state"] and index["endpoints"]["POST /api/world/step"]
    spec = client.get("/api/openapi.json").get_json()
    listed = {f"{m.upper()} {p}" for p, item in spec["paths"].items() for m in item}
    assert set(index["endpoints"]) == listed


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_every_reference_in_the_document_resolves(client):
    spec = client.get("/api/openapi.json").get_json()
    refs = set(_refs(spec))
    assert "#/components/schemas/Role" in refs  # the agent role enum, from a query model
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in spec["components"]["schemas"], ref
    agent_roles = spec["components"]["schemas"]["Role"]["enum"]
    token_roles = spec["components"]["schemas"]["AccessRole"]["enum"]
    assert "builder" in agent_roles and token_roles == ["viewer", "operator", "admin"]


def test_every_successful_api_answer_has_a_real_schema(client):
    spec = client.get("/api/openapi.json").get_json()
    for path, item in spec["paths"].items():
        if not path.startswith(("/api", "/health")):
            continue
        for method, op in item.items():
            for status, answer in op["responses"].items():
                if not status.startswith("2"):
                    continue
                for kind, content in answer.get("content", {}).items():
                    schema = content["schema"]
                    assert schema, (method, path, status)
                    if kind == "application/json":
                        assert schema.get("type") == "object", (method, path)
