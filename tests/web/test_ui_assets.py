"""The page's files: compressed, cached for a year under a build hash, revalidated with ETags;
and a flow history thinned to the points a chart can show."""

from __future__ import annotations

import gzip
import json
import re

from flask.testing import FlaskClient

GZIP = {"Accept-Encoding": "gzip"}


def build_prefix(client: FlaskClient) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'"(/assets/[0-9a-f]{12}/)js/main\.js"', page)
    assert match, "index.html names its files under /assets/<build>/"
    return match.group(1)


def test_index_points_at_build_hashed_urls_and_is_revalidated(client: FlaskClient) -> None:
    response = client.get("/", headers=GZIP)
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "no-cache"
    page = gzip.decompress(response.get_data()).decode()
    assert '"/static/' not in page and "/assets/" in page


def test_assets_are_gzipped_and_cached_for_a_year(client: FlaskClient) -> None:
    prefix = build_prefix(client)
    response = client.get(prefix + "js/main.js", headers=GZIP)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "Accept-Encoding" in response.headers["Vary"]
    assert response.mimetype == "application/javascript"
    plain = client.get(prefix + "js/main.js")
    assert "Content-Encoding" not in plain.headers
    assert gzip.decompress(response.get_data()) == plain.get_data()
    assert len(response.get_data()) < len(plain.get_data()) / 2


def test_an_unchanged_asset_answers_304(client: FlaskClient) -> None:
    prefix = build_prefix(client)
    etag = client.get(prefix + "css/app.css").headers["ETag"]
    again = client.get(prefix + "css/app.css", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""


def test_an_old_build_url_is_served_but_not_cached(client: FlaskClient) -> None:
    response = client.get("/assets/000000000000/js/main.js")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert client.get(build_prefix(client) + "js/nope.js").status_code == 404


def test_flow_history_is_thinned_to_the_points_asked_for(client: FlaskClient) -> None:
    for _ in range(3):
        client.post("/api/world/step", json={"count": 40})
    full = client.get("/api/flow/history?limit=5000").get_json()["history"]
    assert len(full) == 120
    thin = client.get("/api/flow/history?points=25").get_json()["history"]
    assert len(thin) <= 25
    assert thin[-1]["tick"] == full[-1]["tick"]  # the newest tick is always a point
    # counts per tick are summed over each point's span, so totals survive the thinning
    assert sum(r["throughput"] for r in thin) == sum(r["throughput"] for r in full)
    assert sum(r["span"] for r in thin) == len(full)


def test_flow_history_until_stops_at_a_past_tick_and_large_answers_are_gzipped(
    client: FlaskClient,
) -> None:
    client.post("/api/world/step", json={"count": 30})
    response = client.get("/api/flow/history?until=10&limit=5000", headers=GZIP)
    assert response.headers["Content-Encoding"] == "gzip"
    rows = json.loads(gzip.decompress(response.get_data()))["history"]
    assert [r["tick"] for r in rows] == list(range(1, 11))
