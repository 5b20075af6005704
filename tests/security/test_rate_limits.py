"""Rate limits: one budget per token (or client address) on /api; probes are never limited."""

from __future__ import annotations

import secrets

import pytest
from services import redis_db
from web.conftest import build_app

from miniature_office.store.tokens import AccessRole
from miniature_office.web.auth import get_authenticator
from miniature_office.web.limits import REPLAY_LIMIT

REDIS_URL = redis_db(15)  # keys of its own


def limited(limit: str = "5 per minute", **overrides):
    return build_app(ratelimit_default=limit, **overrides)


def spend(client, n: int, path: str = "/api/floors") -> list[int]:
    return [client.get(path).status_code for _ in range(n)]


def test_the_request_over_the_limit_answers_429_json_with_retry_after() -> None:
    client = limited().test_client()
    assert spend(client, 5) == [200] * 5
    refused = client.get("/api/agents")  # the budget is shared by every API route
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.headers["X-RateLimit-Limit"] == "5"


def test_health_and_metrics_are_never_limited() -> None:
    client = limited("2 per minute").test_client()
    for path in ("/health", "/health/live", "/health/ready", "/metrics"):
        assert spend(client, 5, path) == [200] * 5, path


def test_each_token_has_its_own_budget() -> None:
    app = limited("3 per minute")
    other = get_authenticator(app).tokens.create("other", AccessRole.VIEWER, actor="test")[1]
    first, second = app.test_client(), app.test_client(token=other)
    assert spend(first, 4)[-1] == 429
    assert spend(second, 3) == [200] * 3


def test_anonymous_callers_are_limited_by_address() -> None:
    app = limited("3 per minute")
    here = app.test_client(token=None)
    there = app.test_client(token=None)
    there.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert spend(here, 4)[-1] == 429
    assert spend(there, 3) == [200] * 3


def test_refused_credentials_count_against_the_address() -> None:
    client = limited("3 per minute").test_client(token="mo_nobody00_" + "z" * 43)
    statuses = [client.post("/api/world/step", json={}).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_a_bad_limit_setting_is_refused_at_start() -> None:
    from miniature_office.service.config import ConfigError, load_config

    with pytest.raises(ConfigError) as caught:
        load_config({"MINIOFFICE_RATELIMIT_DEFAULT": "lots"})
    assert caught.value.variable == "MINIOFFICE_RATELIMIT_DEFAULT"


@pytest.mark.services
def test_with_redis_two_apps_share_one_budget() -> None:
    token = f"mo_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
    apps = [
        limited("4 per minute", ratelimit_storage_uri=REDIS_URL, bootstrap_token=token)
        for _ in range(2)
    ]
    one, two = (app.test_client(token=token) for app in apps)
    assert spend(one, 2) + spend(two, 2) == [200] * 4
    assert one.get("/api/floors").status_code == 429
    assert two.get("/api/floors").status_code == 429


def test_an_unreachable_redis_does_not_take_the_api_down() -> None:
    client = limited("50 per minute", ratelimit_storage_uri="redis://127.0.0.1:1/0").test_client()
    assert spend(client, 3) == [200] * 3


def test_time_travel_has_a_budget_of_its_own() -> None:
    budget = int(REPLAY_LIMIT.split()[0])
    client = limited("1000 per minute").test_client()
    answers = [client.get("/api/world/replay?tick=0").status_code for _ in range(budget + 1)]
    assert answers[:budget] == [200] * budget
    assert answers[budget] == 429
    assert client.get("/api/floors").status_code == 200  # other reads keep their budget


@pytest.mark.parametrize("token", [None, "default"])
def test_cheap_cached_reads_are_never_limited_in_the_app_but_mutations_are(token) -> None:
    # Issue 17's decision: /health*, /metrics, /api/world/state and static files are exempt in
    # the app (the edge limits them); mutations keep the in-app budget.
    app = limited("2 per minute")
    client = app.test_client() if token else app.test_client(token=None)
    for path in ("/api/world/state", "/health", "/health/ready", "/metrics", "/"):
        assert 429 not in spend(client, 6, path), path
    assert client.head("/api/world/state").status_code == 200  # Flask's path: exempt too
    if token:  # a mutation needs the (operator) token
        steps = [client.post("/api/world/step", json={}).status_code for _ in range(3)]
        assert steps == [200, 200, 429]
    else:
        assert spend(client, 3, "/api/floors") == [200, 200, 429]


def test_a_spoofed_forwarded_for_does_not_buy_a_fresh_budget() -> None:
    """Without MINIOFFICE_PROXY_FIX the client's own X-Forwarded-For is just a header."""
    client = limited("3 per minute").test_client(token=None)
    answers = [
        client.get("/api/floors", headers={"X-Forwarded-For": f"10.9.0.{n}"}).status_code
        for n in range(4)
    ]
    assert answers == [200, 200, 200, 429]
