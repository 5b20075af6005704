"""The Consigliere's and the Head of Security's routes: jobs, explanations, proposals, lockdowns."""

from __future__ import annotations

import time
from pathlib import Path

from flask.testing import FlaskClient

from .conftest import build_app


def _wait(client: FlaskClient, url: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(url).get_json()
        if job["state"] != "running":
            return job
        time.sleep(0.1)
    raise AssertionError(f"{url} still running after {timeout}s")


def test_a_preview_job_answers_202_and_its_result_arrives_at_its_url(
    stepped_client: FlaskClient,
) -> None:
    change = {"kind": "hire_agent", "payload": {"floor": "python", "role": "verifier"}}
    answer = stepped_client.post(
        "/api/consigliere/preview",
        json={"commands": [change], "futures": 4, "ticks": 40, "seed": 3},
    )
    assert answer.status_code == 202, answer.get_json()
    started = answer.get_json()
    assert started["state"] == "running" and started["tick"] == 40
    job = _wait(stepped_client, started["url"])
    assert job["state"] == "done", job
    result = job["result"]
    assert result["futures"] == 4 and result["seed"] == 3
    assert "better in" in result["sentence"] or "directives deployed" in result["sentence"]
    # two answers under names that cannot be confused, beside 0.1.0's fields (kept)
    throughput = result["difference"]["throughput"]
    assert throughput["expected_effect_ci95"] == [throughput["ci95_low"], throughput["ci95_high"]]
    p5, p95 = throughput["range_in_this_office_p5_p95"]
    assert p5 <= throughput["likely_effect_here"] <= p95 and throughput["range_share"] == 0.9
    # the range in this office: a prediction interval for one more future, its coverage stated
    low, high = throughput["range_in_this_office"]
    assert low <= p5 and p95 <= high
    assert throughput["range_coverage"] == 0.6  # 4 futures: smallest to largest, 3 in 5
    assert "prediction interval" in throughput["range_method"]
    assert "in this office" in result["sentence"]
    assert "60% prediction interval" in result["sentence"]
    assert result["sequential"]["futures_run"] == 4
    assert result["sequential"]["stopped_because"] == "cap reached"
    assert job["progress"]["answer"]["futures"] == 4  # the last look's answer, as it streamed
    listed = stepped_client.get("/api/consigliere/jobs").get_json()["jobs"]
    assert started["id"] in [j["id"] for j in listed]
    overview = stepped_client.get("/api/consigliere").get_json()
    assert overview["running"] == []


def test_a_preview_of_a_command_the_world_refuses_is_a_422_and_no_job(
    stepped_client: FlaskClient,
) -> None:
    bad = {"kind": "hire_agent", "payload": {"floor": "cobol", "role": "builder"}}
    answer = stepped_client.post("/api/consigliere/preview", json={"commands": [bad]})
    assert answer.status_code == 422
    assert "unknown floor" in answer.get_json()["error"]["message"]
    too_big = stepped_client.post(
        "/api/consigliere/preview", json={"commands": [], "futures": 5000}
    )
    assert too_big.status_code == 422


def test_cancel_ends_a_running_job(stepped_client: FlaskClient) -> None:
    started = stepped_client.post(
        "/api/consigliere/preview", json={"commands": [], "futures": 200, "ticks": 2000}
    ).get_json()
    cancelled = stepped_client.post(f"/api/consigliere/jobs/{started['id']}/cancel", json={})
    assert cancelled.status_code == 200
    assert _wait(stepped_client, started["url"], 20)["state"] == "cancelled"


def test_explain_answers_from_the_model_and_is_remembered(stepped_client: FlaskClient) -> None:
    tasks = stepped_client.get("/api/tasks").get_json()["tasks"]
    answer = stepped_client.post("/api/consigliere/explain", json={"subject": tasks[0]["id"]})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["subject"] == tasks[0]["id"] and "causes" in body
    why = stepped_client.get(f"/api/consigliere/why?subject={tasks[0]['id']}")
    assert why.get_json()["causes"] == body["causes"]
    assert (
        stepped_client.post("/api/consigliere/explain", json={"subject": "T-9999"}).status_code
        == 404
    )
    recent = stepped_client.get("/api/consigliere").get_json()["recent"]
    assert recent[0]["subject"] == tasks[0]["id"]


def test_draft_estimates_a_directive_from_this_runs_work(stepped_client: FlaskClient) -> None:
    answer = stepped_client.post(
        "/api/consigliere/draft", json={"goal": "add login tokens", "floor": "python"}
    )
    assert answer.status_code == 200
    draft = answer.get_json()
    assert draft["payload"]["floor"] == "python"
    assert "login" in draft["basis"]["sensitive_words"]
    assert draft["payload"]["sensitivity"] >= 0.5  # the security review threshold
    created = stepped_client.post("/api/directives", json=draft["payload"])
    assert created.status_code in (200, 202)


def test_lockdown_routes_are_commands_listed_until_lifted(stepped_client: FlaskClient) -> None:
    done = stepped_client.post(
        "/api/security/lockdown", json={"scope": "python", "reason": "incident 7"}
    )
    assert done.status_code == 200 and done.get_json()["command"]["kind"] == "lockdown"
    listed = stepped_client.get("/api/security/lockdowns").get_json()
    assert listed["count"] == 1 and listed["lockdowns"][0]["scope"] == "python"
    assert stepped_client.post("/api/security/lift", json={"scope": "python"}).status_code == 200
    assert stepped_client.get("/api/security/lockdowns").get_json()["count"] == 0


def test_lockdown_needs_an_admin(make_client) -> None:
    anonymous = make_client()
    anonymous.environ_base.pop("HTTP_AUTHORIZATION", None)
    answer = anonymous.post("/api/security/lockdown", json={"scope": "python", "reason": "x y z"})
    assert answer.status_code == 401


def test_a_proposal_is_scheduled_with_its_preview_and_revoked(
    stepped_client: FlaskClient,
) -> None:
    change = {"kind": "set_setting", "payload": {"path": "settings.walk_speed", "value": 300}}
    started = stepped_client.post(
        "/api/consigliere/preview", json={"commands": [change], "futures": 2, "ticks": 10}
    ).get_json()
    _wait(stepped_client, started["url"])
    scheduled = stepped_client.post(
        "/api/consigliere/proposals",
        json={
            "title": "walk faster",
            "commands": [change],
            "in_ticks": 5,
            "preview_id": started["id"],
        },
    )
    assert scheduled.status_code == 200, scheduled.get_json()
    proposals = stepped_client.get("/api/consigliere").get_json()["scheduled"]
    assert proposals[0]["preview_id"] == started["id"] and proposals[0]["activate_tick"] == 45
    revoked = stepped_client.post(
        f"/api/consigliere/proposals/{proposals[0]['id']}/revoke", json={"reason": "not now"}
    )
    assert revoked.status_code == 200
    assert stepped_client.get("/api/consigliere").get_json()["scheduled"] == []


def test_security_audit_job_verifies_both_chains(stepped_client: FlaskClient) -> None:
    started = stepped_client.post("/api/security/audit", json={})
    assert started.status_code == 202
    job = _wait(stepped_client, started.get_json()["url"])
    report = job["result"]
    assert report["chains_ok"] is True
    assert "admin" in report["tokens_by_role"]
    assert "sensitive task(s)" in report["sentence"]
    perms = stepped_client.get("/api/security/permissions").get_json()
    assert "admin" in perms["tokens"]


def test_every_new_route_is_in_the_openapi_document_with_its_role(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    assert paths["/api/consigliere/preview"]["post"]["x-required-role"] == "operator"
    assert paths["/api/security/lockdown"]["post"]["x-required-role"] == "admin"
    assert paths["/api/security/permissions"]["get"]["x-required-role"] == "admin"
    for path in (
        "/api/consigliere",
        "/api/consigliere/jobs/{job_id}",
        "/api/security/blocked",
        "/api/consigliere/explain",
        "/api/security/audit",
        "/api/security/grant",
    ):
        assert path in paths, path
    body = paths["/api/consigliere/preview"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]


def test_job_results_survive_a_restart(tmp_path: Path) -> None:
    first = build_app(data_dir=tmp_path).test_client()
    first.post("/api/world/step", json={"count": 20})
    started = first.post(
        "/api/consigliere/preview", json={"commands": [], "futures": 2, "ticks": 10}
    ).get_json()
    done = _wait(first, started["url"])
    again = build_app(data_dir=tmp_path).test_client()
    kept = again.get(started["url"])
    assert kept.status_code == 200 and kept.get_json()["result"] == done["result"]
    assert kept.get_json()["progress"] == {"done": 2, "total": 2}


def test_job_starts_have_a_budget_per_token() -> None:
    client = build_app(ratelimit_enabled=True).test_client()
    answers = [
        client.post("/api/consigliere/draft", json={"goal": "x" * 5, "floor": "nowhere"})
        for _ in range(2)
    ]
    assert {a.status_code for a in answers} == {422}  # drafts are not jobs: no job budget
    refused = [
        client.post("/api/consigliere/preview", json={"commands": [], "futures": 0}).status_code
        for _ in range(12)
    ]
    assert refused == [422] * 12  # a typo answered 422 spends nothing of the job budget
    from miniature_office.web.api.consigliere import board as board_of

    with client.application.app_context():
        board = board_of()
    # Started jobs do spend it: a board that records jobs without running their futures.
    board.start = lambda kind, params, state, tick, actor: board.record(
        kind, params, tick, actor, total=1
    )
    started = [
        client.post("/api/consigliere/preview", json={"commands": [], "futures": 1}).status_code
        for _ in range(11)
    ]
    assert started[:10] == [202] * 10 and started[10] == 429


def test_stopping_the_server_ends_running_jobs(stepped_client: FlaskClient) -> None:
    from miniature_office.web.app import get_runtime

    started = stepped_client.post(
        "/api/consigliere/preview", json={"commands": [], "futures": 100, "ticks": 3000}
    ).get_json()
    app = stepped_client.application
    child = app.extensions["miniature_office.advice"]._procs[started["id"]]
    get_runtime(app).stop_loop()
    assert child.wait(timeout=10) is not None
    assert _wait(stepped_client, started["url"], 10)["state"] == "interrupted"


def test_progress_and_the_result_arrive_over_socketio(app) -> None:
    from miniature_office.web.app import get_socketio

    client = app.test_client()
    sio = get_socketio(app).test_client(app)
    client.post("/api/world/step", json={"count": 20})
    sio.get_received()
    started = client.post(
        "/api/consigliere/preview", json={"commands": [], "futures": 3, "ticks": 10}
    ).get_json()
    _wait(client, started["url"])
    events = [r["args"][0] for r in sio.get_received() if r["name"] == "consigliere_job"]
    sio.disconnect()
    running = [e["progress"] for e in events if e["state"] == "running"]
    assert [p["done"] for p in running if "answer" not in p][-3:] == [1, 2, 3]
    # the look's answer streams before the job is done: 3 futures, why it stopped
    assert running[-1]["answer"]["futures"] == 3
    assert running[-1]["answer"]["sequential"]["stopped_because"] == "cap reached"
    assert events[-1]["state"] == "done" and events[-1]["result"]["futures"] == 3


def test_a_forecast_job_streams_each_looks_answer_and_says_how_many_futures_ran(app) -> None:
    from miniature_office.web.app import get_socketio

    client = app.test_client()
    sio = get_socketio(app).test_client(app)
    client.post("/api/world/step", json={"count": 40})
    sio.get_received()
    added = {"title": "Export invoices", "floor": "python", "priority": 1}
    started = client.post(
        "/api/consigliere/forecast",
        json={"futures": 20, "ticks": 600, "seed": 4, "add": [added], "by_day": 40},
    )
    assert started.status_code == 202, started.get_json()
    job = _wait(client, started.get_json()["url"])
    events = [r["args"][0] for r in sio.get_received() if r["name"] == "consigliere_job"]
    sio.disconnect()
    assert job["state"] == "done", job
    result = job["result"]
    # looks of 8, 16, then the cap of 20: each look's answer streamed while the job ran
    answers = [e["progress"]["answer"] for e in events if "answer" in e["progress"]]
    looks = [a["futures"] for a in answers]
    assert sorted(set(looks)) == [8, 16, 20] and looks == sorted(looks)  # in order, as run
    assert answers[0]["sequential"]["stopped_because"] is None
    assert "so far 8 of at most 20 futures" in answers[0]["sentence"]
    assert "completion" in answers[0] and "precision" in answers[0]
    run = result["sequential"]
    assert run["futures_run"] == result["futures"] == 20 and run["cap"] == 20
    assert run["stopped_because"] == "cap reached"  # a precision stop needs 32 futures
    assert result["sentence"].startswith("85% chance all ")
    assert result["sentence"].endswith("from 20 of at most 20 futures, stopped: cap reached")
    assert result["targets"]["count"] == result["targets"]["open"] + result["targets"][
        "waiting"
    ] + len(result["targets"]["added"])
    assert result["by"]["tick"] == 320


def test_a_forecast_it_cannot_answer_is_a_422_and_no_job(stepped_client: FlaskClient) -> None:
    def refused(body: dict) -> str:
        answer = stepped_client.post("/api/consigliere/forecast", json=body)
        assert answer.status_code == 422, answer.get_json()
        return answer.get_json()["error"]["message"]

    assert "none are added" in refused({"only_added": True})
    assert "day 1 ends at tick 8" in refused({"by_day": 1})  # the world is at tick 40
    bad = {"title": "x", "floor": "cobol"}
    assert refused({"add": [bad]}).startswith("add.0.")
    assert "futures" in refused({"futures": 0})
    assert stepped_client.get("/api/consigliere").get_json()["running"] == []
