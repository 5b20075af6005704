"""Tokens: random, stored only as hashes, managed by admins and the CLI, audited in a chain."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa

from miniature_office.cli import main as cli
from miniature_office.service.config import ConfigError, load_config
from miniature_office.store import Store
from miniature_office.store.schema import api_tokens, security_events
from miniature_office.store.tokens import AccessRole, TokenError, TokenStore, hash_token
from miniature_office.web.auth import covers, get_authenticator

from .conftest import Secured


@pytest.fixture
def store(tmp_path) -> TokenStore:
    return TokenStore(Store(f"sqlite:///{tmp_path / 'db.sqlite'}").db)


def test_a_token_is_random_and_only_its_hash_is_stored(store: TokenStore) -> None:
    record, token = store.create("ci", AccessRole.OPERATOR, actor="test")
    _, other = store.create("ci-2", AccessRole.OPERATOR, actor="test")
    assert token != other and token.startswith(f"mo_{record.id}_") and len(token) > 50
    with store.db.connect() as conn:
        row = conn.execute(sa.select(api_tokens)).first()
    assert row.hash == hash_token(token)
    assert token.split("_", 2)[2] not in " ".join(str(v) for v in row)


def test_authenticate_knows_the_token_and_its_role(store: TokenStore) -> None:
    record, token = store.create("ops", "operator", actor="test")
    assert store.authenticate(token).role is AccessRole.OPERATOR
    assert store.authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert store.authenticate(f"mo_{record.id}_" + "x" * 43) is None


def test_roles_include_the_ones_below() -> None:
    assert covers(AccessRole.ADMIN, AccessRole.OPERATOR)
    assert covers(AccessRole.OPERATOR, AccessRole.VIEWER)
    assert not covers(AccessRole.VIEWER, AccessRole.OPERATOR)
    assert not covers(AccessRole.OPERATOR, AccessRole.ADMIN)


def test_a_revoked_token_no_longer_authenticates(store: TokenStore) -> None:
    record, token = store.create("gone", AccessRole.ADMIN, actor="test")
    assert store.authenticate(token) is not None
    assert store.revoke(record.id, actor="test").revoked_at is not None
    assert store.authenticate(token) is None


def test_names_are_checked(store: TokenStore) -> None:
    with pytest.raises(TokenError):
        store.create("<script>", AccessRole.VIEWER, actor="test")


def test_creation_and_revocation_are_chained_security_events(store: TokenStore) -> None:
    record, _ = store.create("audited", AccessRole.VIEWER, actor="cli:alice")
    store.revoke(record.id, actor="cli:bob")
    events, total = store.events()
    assert total == 2
    assert [e["kind"] for e in events] == ["token.revoked", "token.created"]
    assert events[1]["actor"] == "cli:alice" and events[1]["data"]["role"] == "viewer"
    assert events[0]["prev"] == events[1]["hash"]
    assert store.verify_events().ok


def test_tampering_with_a_security_event_is_found(store: TokenStore) -> None:
    for n in range(3):
        store.create(f"t{n}", AccessRole.VIEWER, actor="test")
    with store.db.begin() as conn:
        conn.execute(
            security_events.update()
            .where(security_events.c.seq == 2)
            .values(data=json.dumps({"role": "admin"}))
        )
    verdict = store.verify_events()
    assert (
        not verdict.ok
        and verdict.first_broken == 2
        and verdict.reason == "hash does not match contents"
    )


def test_a_deleted_security_event_breaks_the_chain_where_it_was(store: TokenStore) -> None:
    for n in range(3):
        store.create(f"t{n}", AccessRole.VIEWER, actor="test")
    with store.db.begin() as conn:
        conn.execute(security_events.delete().where(security_events.c.seq == 2))
    verdict = store.verify_events()
    assert not verdict.ok and verdict.count == 1 and verdict.first_broken == 2
    assert verdict.reason == "expected event 2, found 3"


def test_the_security_chain_is_not_part_of_the_world_chain(open_reads: Secured) -> None:
    admin = open_reads.client("admin")
    before = admin.get("/api/audit/events?limit=500").get_json()["total"]
    admin.post("/api/tokens", json={"name": "another", "role": "viewer"})
    assert admin.get("/api/audit/events?limit=500").get_json()["total"] == before
    assert admin.get("/api/security/verify").get_json()["ok"] is True


def test_admins_create_list_and_revoke_tokens_over_the_api(open_reads: Secured) -> None:
    admin = open_reads.client("admin")
    created = admin.post("/api/tokens", json={"name": "robot", "role": "operator"})
    assert created.status_code == 201
    token = created.get_json()["token"]
    listed = admin.get("/api/tokens").get_json()["tokens"]
    assert "robot" in [t["name"] for t in listed]
    assert token not in json.dumps(listed) and "hash" not in listed[0]
    robot = open_reads.app.test_client(token=token)
    assert robot.post("/api/world/step", json={}).status_code == 200
    admin.delete(f"/api/tokens/{created.get_json()['id']}")
    assert robot.post("/api/world/step", json={}).status_code == 401
    kinds = [e["kind"] for e in admin.get("/api/security/events").get_json()["events"]]
    assert kinds[:2] == ["token.revoked", "token.created"]


def test_revoking_an_unknown_token_is_a_404(open_reads: Secured) -> None:
    assert open_reads.client("admin").delete("/api/tokens/nope").status_code == 404


def test_failed_authentications_are_logged_as_json_without_secrets(
    open_reads: Secured, caplog: pytest.LogCaptureFixture
) -> None:
    secret_part = "S" * 43
    client = open_reads.app.test_client(token=f"mo_abcd1234_{secret_part}")
    with caplog.at_level(logging.INFO, logger="miniature_office.security"):
        client.post("/api/world/step", json={})
    entries = [json.loads(r.getMessage()) for r in caplog.records if r.name.endswith("security")]
    refused = [e for e in entries if e["event"] == "auth.refused"]
    assert refused and refused[-1]["reason"] == "unknown_or_revoked_token"
    assert refused[-1]["token_id"] == "abcd1234" and refused[-1]["path"] == "/api/world/step"
    assert secret_part not in caplog.text


def test_the_bootstrap_token_is_registered_once(tmp_path) -> None:
    from web.conftest import ADMIN_TOKEN, build_app

    build_app(data_dir=tmp_path)
    app = build_app(data_dir=tmp_path)  # the same token again at the next start
    tokens = get_authenticator(app).tokens.list()
    assert [t.name for t in tokens] == ["bootstrap"]
    assert get_authenticator(app).tokens.authenticate(ADMIN_TOKEN).role is AccessRole.ADMIN


def test_development_prints_an_operator_token_once_and_production_never(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    from web.conftest import build_app

    app = build_app(data_dir=tmp_path, dev_token=True)
    printed = [w for w in capsys.readouterr().out.split() if w.startswith("mo_")]
    assert len(printed) == 1
    assert get_authenticator(app).tokens.authenticate(printed[0]).role is AccessRole.OPERATOR
    again = build_app(data_dir=tmp_path, dev_token=True)
    assert get_authenticator(again).tokens.authenticate(printed[0]) is None  # replaced
    with pytest.raises(ConfigError):
        load_config({"MINIOFFICE_ENV": "production", "SECRET_KEY": "k" * 40}, dev_token=True)
    production = load_config({"MINIOFFICE_ENV": "production", "SECRET_KEY": "k" * 40})
    assert not production.prints_dev_token and production.reads_need_token


def test_reads_need_a_token_by_default_only_in_production() -> None:
    assert not load_config({}).reads_need_token
    assert load_config({"MINIOFFICE_AUTH_READS": "true"}).reads_need_token
    env = {"MINIOFFICE_ENV": "production", "SECRET_KEY": "k" * 40}
    assert not load_config({**env, "MINIOFFICE_AUTH_READS": "false"}).reads_need_token


def test_a_malformed_bootstrap_token_stops_the_start() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"MINIOFFICE_BOOTSTRAP_TOKEN": "letmein"})
    assert caught.value.variable == "MINIOFFICE_BOOTSTRAP_TOKEN" and "letmein" not in str(
        caught.value
    )


def test_the_cli_creates_lists_and_revokes_tokens(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert cli(["token", "create", "--name", "deploy", "--role", "admin", "--database", url]) == 0
    token = capsys.readouterr().out.split()[-1]
    assert cli(["token", "list", "--json", "--database", url]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(t["name"], t["role"], t["active"]) for t in listed] == [("deploy", "admin", True)]
    assert token not in json.dumps(listed)
    assert cli(["token", "revoke", listed[0]["id"], "--database", url]) == 0
    assert cli(["token", "revoke", "missing", "--database", url]) == 1
    store = TokenStore(Store(url).db)
    assert store.authenticate(token) is None and store.verify_events().count == 2


def test_inactive_names_the_revoked_and_unknown_ids_among_those_asked(store: TokenStore) -> None:
    kept, _ = store.create("kept", AccessRole.VIEWER, actor="test")
    gone, _ = store.create("gone", AccessRole.OPERATOR, actor="test")
    store.revoke(gone.id, actor="test")
    assert store.inactive([kept.id, gone.id, "nosuchtoken0"]) == {gone.id, "nosuchtoken0"}
    assert store.inactive([]) == set()
