"""Who may call what: the role table, proven over every route in the URL map."""

from __future__ import annotations

import re
from typing import Iterator

import pytest

from miniature_office.store.tokens import AccessRole
from miniature_office.web.auth import get_authenticator

from .conftest import Secured, secured

#: The routes that need the admin role; every other mutating route needs an operator and every
#: other API read a viewer (when reads need a token).
ADMIN_ROUTES = {
    ("POST", "/api/votes/<vote_id>/override"),
    ("POST", "/api/world/reset"),
    ("POST", "/api/tokens"),
    ("GET", "/api/tokens"),
    ("DELETE", "/api/tokens/<token_id>"),
    ("GET", "/api/security/events"),
    ("GET", "/api/security/verify"),
    ("GET", "/api/runs/<int:run>/export"),
    # the Head of Security and the proposal policy (issue 15)
    ("POST", "/api/consigliere/policy"),
    ("POST", "/api/security/lockdown"),
    ("POST", "/api/security/lift"),
    ("POST", "/api/security/block"),
    ("POST", "/api/security/unblock"),
    ("POST", "/api/security/audit"),
    ("POST", "/api/security/grant"),
    ("POST", "/api/security/revoke/<token_id>"),
    ("GET", "/api/security/permissions"),
}
#: Never need a token: probes, the metrics scrape, the page itself and its static files.
PUBLIC_ROUTES = {"/health", "/health/live", "/health/ready", "/metrics", "/"}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
_ARG = re.compile(r"<(?:([^:<>]+):)?([^<>]+)>")


def expected_role(method: str, rule: str) -> AccessRole | None:
    if rule in PUBLIC_ROUTES or rule.startswith(("/static", "/assets")):
        return None
    if (method, rule) in ADMIN_ROUTES:
        return AccessRole.ADMIN
    return AccessRole.VIEWER if method == "GET" else AccessRole.OPERATOR


def routes(app) -> Iterator[tuple[str, str, str, str]]:
    """(method, rule, endpoint, a concrete URL) for every route and method."""
    for rule in app.url_map.iter_rules():
        url = _ARG.sub(lambda m: "1" if m.group(1) == "int" else "x", rule.rule)
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            yield method, rule.rule, rule.endpoint, url


def mutating(app) -> list[tuple[str, str, str, str]]:
    return [r for r in routes(app) if r[0] not in ("GET", "HEAD", "OPTIONS")]


def call(client, method: str, url: str):
    return client.open(url, method=method, json={})


@pytest.fixture(scope="module")
def app_once() -> Secured:
    return secured(auth_reads=True)


def test_every_route_needs_the_role_the_table_gives_it(app_once: Secured) -> None:
    auth = get_authenticator(app_once.app)
    seen = set()
    with app_once.app.test_request_context():
        for method, rule, endpoint, _ in routes(app_once.app):
            assert auth.policy(endpoint, method) == expected_role(method, rule), (method, rule)
            seen.add((method, rule))
    assert ADMIN_ROUTES <= seen, ADMIN_ROUTES - seen


def test_there_are_mutating_routes_to_walk(app_once: Secured) -> None:
    assert len(mutating(app_once.app)) >= 15


def test_no_mutating_route_answers_without_a_token(app_once: Secured) -> None:
    client = app_once.client(None)
    for method, rule, _, url in mutating(app_once.app):
        response = call(client, method, url)
        assert response.status_code == 401, (method, rule, response.status_code)
        assert response.get_json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_mutating_route_answers_to_a_viewer_token(app_once: Secured) -> None:
    client = app_once.client("viewer")
    for method, rule, _, url in mutating(app_once.app):
        response = call(client, method, url)
        assert response.status_code == 403, (method, rule, response.status_code)
        error = response.get_json()["error"]
        assert error["code"] == "forbidden" and error["details"]["role"] == "viewer"


def test_admin_routes_refuse_an_operator_token(app_once: Secured) -> None:
    client = app_once.client("operator")
    for method, rule, _, url in routes(app_once.app):
        if (method, rule) in ADMIN_ROUTES:
            response = call(client, method, url)
            assert response.status_code == 403, (method, rule)
            assert response.get_json()["error"]["details"]["required_role"] == "admin"


def test_operator_routes_let_an_operator_through(app_once: Secured) -> None:
    client = app_once.client("operator")
    for method, rule, _, url in mutating(app_once.app):
        if expected_role(method, rule) is AccessRole.OPERATOR:
            assert call(client, method, url).status_code not in (401, 403), (method, rule)


def test_with_closed_reads_every_api_read_needs_a_token(app_once: Secured) -> None:
    anonymous, viewer = app_once.client(None), app_once.client("viewer")
    for method, rule, _, url in routes(app_once.app):
        if method != "GET" or not rule.startswith("/api"):
            continue
        assert anonymous.get(url).status_code == 401, rule
        wanted = 403 if (method, rule) in ADMIN_ROUTES else None
        status = viewer.get(url).status_code
        assert status == wanted if wanted else status not in (401, 403), (rule, status)


def test_public_routes_answer_without_a_token(app_once: Secured) -> None:
    client = app_once.client(None)
    for path in ("/health", "/health/live", "/health/ready", "/metrics", "/"):
        assert client.get(path).status_code == 200, path


def test_in_development_reads_are_open_but_admin_reads_are_not(open_reads: Secured) -> None:
    client = open_reads.client(None)
    assert client.get("/api/world/state").status_code == 200
    assert client.get("/api/world/replay?tick=0").status_code == 200  # viewers may time-travel
    assert client.get("/api/tokens").status_code == 401


def test_a_stale_token_on_an_open_read_is_ignored(open_reads: Secured) -> None:
    client = open_reads.app.test_client(token="mo_gone0000_" + "x" * 43)
    assert client.get("/api/world/state").status_code == 200
    assert client.post("/api/world/step", json={}).status_code == 401


def test_an_operator_steps_the_world(open_reads: Secured) -> None:
    response = open_reads.client("operator").post("/api/world/step", json={"count": 2})
    assert response.status_code == 200 and response.get_json()["ticks"] == 2


def test_commands_name_the_token_that_sent_them(open_reads: Secured) -> None:
    client = open_reads.client("operator")
    answer = client.post("/api/directives", json={"title": "Who", "floor": "python"})
    assert answer.get_json()["command"]["actor"] == "token:test-operator"


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer mo_short",
        "Bearer " + "x" * 500,
        "Token mo_testadmin_" + "A" * 43,
    ],
)
def test_garbled_or_foreign_credentials_are_refused(open_reads: Secured, header: str) -> None:
    client = open_reads.app.test_client(token=None)
    response = client.post("/api/world/step", json={}, headers={"Authorization": header})
    assert response.status_code == 401


def test_a_token_in_the_query_string_is_not_accepted(open_reads: Secured) -> None:
    client = open_reads.client(None)
    token = open_reads.tokens["operator"]
    assert client.post(f"/api/world/step?token={token}", json={}).status_code == 401
    assert client.post(f"/api/world/step?access_token={token}", json={}).status_code == 401


def test_a_revoked_token_is_refused_at_once(open_reads: Secured) -> None:
    admin, operator = open_reads.client("admin"), open_reads.client("operator")
    assert operator.post("/api/world/step", json={}).status_code == 200
    ident = open_reads.tokens["operator"].split("_")[1]
    assert admin.delete(f"/api/tokens/{ident}").get_json()["active"] is False
    assert operator.post("/api/world/step", json={}).status_code == 401


def test_the_openapi_document_states_the_role_each_operation_really_needs(closed: Secured) -> None:
    paths = closed.client("viewer").get("/api/openapi.json").get_json()["paths"]
    for public in ("/health", "/metrics", "/"):
        assert paths[public]["get"]["security"] == [], public
        assert "x-required-role" not in paths[public]["get"]
    assert paths["/api/world/state"]["get"]["security"] == [{"bearerAuth": []}]
    assert paths["/api/world/state"]["get"]["x-required-role"] == "viewer"
    assert paths["/api/tokens"]["get"]["x-required-role"] == "admin"
    assert paths["/api/world/step"]["post"]["x-required-role"] == "operator"


JOB_READS = ("/api/consigliere", "/api/consigliere/jobs", "/api/consigliere/jobs/nosuchjob")


def test_in_production_job_details_need_a_token_even_with_open_reads() -> None:
    """Jobs record who asked for them (``actor``): production never shows that anonymously."""
    prod = secured(env="production", auth_reads=False, secret_key="s" * 40)
    anonymous = prod.client(None)
    assert anonymous.get("/api/world/state").status_code == 200  # reads really are open
    for path in JOB_READS:
        answer = anonymous.get(path)
        assert answer.status_code == 401, path
        assert answer.get_json()["error"]["details"]["required_role"] == "viewer", path
    viewer = prod.client("viewer")
    assert viewer.get("/api/consigliere/jobs").status_code == 200
    assert viewer.get("/api/consigliere/jobs/nosuchjob").status_code == 404
    spec = viewer.get("/api/openapi.json").get_json()["paths"]
    assert spec["/api/consigliere/jobs"]["get"]["security"] == [{"bearerAuth": []}]
    assert spec["/api/world/state"]["get"]["security"] == [{}, {"bearerAuth": []}]


def test_in_development_open_reads_include_job_details(open_reads: Secured) -> None:
    anonymous = open_reads.client(None)
    for path in JOB_READS[:2]:
        assert anonymous.get(path).status_code == 200, path
