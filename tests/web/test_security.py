"""Security headers on every kind of response; CORS only for configured origins."""

from __future__ import annotations

import pytest

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "0",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@pytest.fixture
def static_client(make_client, tmp_path):
    (tmp_path / "js").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>UI</title>")
    (tmp_path / "js" / "app.js").write_text("export const x = 1;\n")
    return make_client(static_dir=tmp_path)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/", 200),
        ("get", "/api/world/state", 200),
        ("get", "/api/docs", 200),
        ("get", "/api/nothing", 404),
        ("delete", "/api/world/state", 405),
        ("get", "/static/js/app.js", 200),
        ("get", "/static/missing.js", 404),
        ("get", "/metrics", 200),
        ("get", "/health", 200),
    ],
)
def test_every_response_carries_the_security_headers(static_client, method, path, status):
    response = getattr(static_client, method)(path)
    assert response.status_code == status
    for name, value in EXPECTED.items():
        assert response.headers[name] == value, name
    assert response.headers["Referrer-Policy"]
    assert "camera=()" in response.headers["Permissions-Policy"]
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "default-src 'self'" in csp
    # The page's own origin (ws/wss included, CSP Level 3); nothing taken from the Host header.
    assert "connect-src 'self';" in csp
    assert "Strict-Transport-Security" not in response.headers


def test_index_serves_static_index_html(static_client):
    assert b"<title>UI</title>" in static_client.get("/").data


def test_index_falls_back_to_a_minimal_page_without_a_ui(make_client, tmp_path):
    response = make_client(static_dir=tmp_path).get("/")
    assert response.status_code == 200 and b"/api/docs" in response.data


def test_hsts_only_on_https_requests(client):
    response = client.get("/health", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_hsts_can_be_switched_off(make_client):
    response = make_client(hsts=False).get("/health", base_url="https://localhost")
    assert "Strict-Transport-Security" not in response.headers


def test_forwarded_proto_is_ignored_without_proxy_fix(client):
    response = client.get("/health", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_forwarded_proto_is_honoured_behind_a_proxy_but_the_host_never_reaches_the_csp(
    make_client,
):
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "office.example"}
    response = make_client(proxy_fix=1).get("/health", headers=headers)
    assert "Strict-Transport-Security" in response.headers
    assert "office.example" not in response.headers["Content-Security-Policy"]


def test_the_csp_names_only_configured_origins(make_client):
    response = make_client(cors_origins="https://ui.example").get("/health")
    assert (
        "connect-src 'self' https://ui.example wss://ui.example;"
        in response.headers["Content-Security-Policy"]
    )


def test_a_host_header_never_reaches_the_csp(client):
    for host in ("evil.example; script-src *", "evil.example:1"):
        response = client.get("/health", headers={"Host": host})
        assert "evil" not in response.headers["Content-Security-Policy"]


def test_a_slash_redirect_is_relative_whatever_the_host_header(app):
    app.add_url_rule("/probe/", "probe", lambda: "ok")  # a rule Werkzeug redirects "/probe" to
    response = app.test_client().get("/probe?x=1", headers={"Host": "evil.example:1"})
    assert response.status_code == 308
    assert response.headers["Location"] == "/probe/?x=1"


def test_cors_is_same_origin_by_default(client):
    response = client.get("/api/floors", headers={"Origin": "https://other.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_allows_exactly_the_configured_origins(make_client):
    client = make_client(cors_origins="https://ui.example")
    allowed = client.get("/api/floors", headers={"Origin": "https://ui.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://ui.example"
    other = client.get("/api/floors", headers={"Origin": "https://other.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize(
    "path",
    [
        "/static/../pyproject.toml",
        "/static/..%2f..%2fpyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/js/../../index.html/../../../../etc/passwd",
        "/static//etc/passwd",
        "/static/..\\..\\pyproject.toml",
    ],
)
def test_paths_that_climb_out_of_the_static_folder_find_nothing(static_client, path):
    answer = static_client.get(path, follow_redirects=True)  # "//" redirects to one slash
    assert answer.status_code == 404, (path, answer.status_code)
    assert b"root:" not in answer.data and b"[project]" not in answer.data
