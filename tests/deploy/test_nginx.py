"""The nginx example proxies WebSockets with sticky sessions and passes `nginx -t`."""

from __future__ import annotations

import re

from ._support import REPO, explain, run, tool

SITE = REPO / "deploy" / "nginx" / "miniature-office.conf"
CERT = "/etc/letsencrypt/live/office.example.com/fullchain.pem"
KEY = "/etc/letsencrypt/live/office.example.com/privkey.pem"


def _self_signed_certificate(directory):
    cert, key = directory / "cert.pem", directory / "key.pem"
    result = run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=office.example.com", "-keyout", str(key), "-out", str(cert),
        ]
    )  # fmt: skip
    assert result.returncode == 0, explain(result)
    return cert, key


def test_nginx_example_passes_nginx_t(tmp_path):
    # The example goes inside http {}; wrap it in a main config whose files all live in
    # tmp_path, with a throw-away certificate in place of the Let's Encrypt paths.
    cert, key = _self_signed_certificate(tmp_path)
    site = tmp_path / "site.conf"
    site.write_text(SITE.read_text().replace(CERT, str(cert)).replace(KEY, str(key)))
    main = tmp_path / "nginx.conf"
    temp_paths = "\n".join(
        f"    {kind}_temp_path {tmp_path / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main.write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n    access_log off;\n{temp_paths}\n    include {site};\n}}\n"
    )
    result = run([tool("nginx"), "-t", "-p", str(tmp_path), "-e", "stderr", "-c", str(main)])
    assert result.returncode == 0, explain(result)
    assert "test is successful" in result.stderr


def _location(name: str) -> str:
    match = re.search(r"location " + re.escape(name) + r" \{(.*?)\n    \}", SITE.read_text(), re.S)
    assert match, name
    return match.group(1)


def test_socketio_location_upgrades_to_websocket():
    block = _location("/socket.io/")
    assert "proxy_http_version 1.1;" in block
    assert "proxy_set_header Upgrade $http_upgrade;" in block
    assert re.search(r"proxy_set_header Connection \$\w+;", block)
    assert "proxy_read_timeout 1h;" in block


def test_upstream_keeps_each_client_on_one_app_process():
    upstream = re.search(r"upstream miniature_office \{(.*?)\}", SITE.read_text(), re.S).group(1)
    assert re.search(r"^\s*(ip_hash|hash \S+ consistent);", upstream, re.M)


def test_proxy_forwards_the_client_address_and_scheme():
    for name in ("/socket.io/", "/"):
        block = _location(name)
        assert "X-Forwarded-For $proxy_add_x_forwarded_for" in block
        assert "X-Forwarded-Proto $scheme" in block


def test_plain_http_redirects_to_https_and_metrics_stay_private():
    text = SITE.read_text()
    assert "return 301 https://$host$request_uri;" in text
    assert "location = /metrics {\n        return 404;" in text


def test_the_api_is_rate_limited_at_the_edge_with_429():
    assert re.search(
        r"limit_req_zone \$binary_remote_addr zone=miniature_office_api:\d+m rate=\d+r/s;",
        SITE.read_text(),
    )
    block = _location("/api/")
    assert re.search(r"limit_req zone=miniature_office_api burst=\d+ nodelay;", block)
    assert "limit_req_status 429;" in block
    assert "proxy_pass http://miniature_office;" in block
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in block


def test_cheap_reads_exempt_in_the_app_are_rate_limited_at_the_edge():
    # The app exempts /health*, /api/world/state and static files from its own limiter
    # (issue 17's decision): the proxy must limit them per client address instead.
    assert re.search(
        r"limit_req_zone \$binary_remote_addr zone=miniature_office_reads:\d+m rate=\d+r/s;",
        SITE.read_text(),
    )
    for location in ("= /api/world/state", "/"):
        block = _location(location)
        assert re.search(r"limit_req zone=miniature_office_reads burst=\d+ nodelay;", block)
        assert "limit_req_status 429;" in block
        assert "proxy_pass http://miniature_office;" in block
