"""Socket.IO connections authenticate with the API tokens, and lose them when revoked."""

from __future__ import annotations

from typing import Any

from flask_socketio import SocketIOTestClient

from miniature_office.web.app import get_runtime, get_socketio, office
from miniature_office.web.auth import get_authenticator

from .conftest import Secured


def _connect(secured: Secured, who: str | None = None, **kwargs: Any) -> SocketIOTestClient:
    auth = {"token": secured.tokens[who]} if who else None
    return get_socketio(secured.app).test_client(secured.app, auth=auth, **kwargs)


def _events(client: SocketIOTestClient, name: str) -> list[Any]:
    return [r["args"][0] for r in client.get_received() if r["name"] == name]


def _revoke(secured: Secured, who: str) -> str:
    store = get_authenticator(secured.app).tokens
    ident = next(t.id for t in store.list() if t.name == f"test-{who}")
    store.revoke(ident, actor="test")
    return ident


def test_closed_reads_refuse_a_connection_without_a_token(closed: Secured) -> None:
    assert not _connect(closed).is_connected()


def test_closed_reads_accept_a_viewer_token_in_the_connect_packet(closed: Secured) -> None:
    client = _connect(closed, "viewer")
    assert client.is_connected()
    assert _events(client, "state_update")[0]["tick"] == 0


def test_closed_reads_accept_the_token_in_the_handshake_header(closed: Secured) -> None:
    headers = {"Authorization": f"Bearer {closed.tokens['viewer']}"}
    client = get_socketio(closed.app).test_client(closed.app, headers=headers)
    assert client.is_connected()


def test_closed_reads_refuse_an_unknown_or_revoked_token(closed: Secured) -> None:
    _revoke(closed, "viewer")
    assert not _connect(closed, "viewer").is_connected()
    unknown = {"token": "mo_0123456789ab_" + "x" * 43}
    assert not get_socketio(closed.app).test_client(closed.app, auth=unknown).is_connected()


def test_open_reads_accept_anonymous_viewers_and_ignore_a_stale_token(open_reads: Secured) -> None:
    assert _connect(open_reads).is_connected()
    stale = {"token": "mo_0123456789ab_" + "x" * 43}
    assert get_socketio(open_reads.app).test_client(open_reads.app, auth=stale).is_connected()


def test_a_revoked_token_closes_its_live_connection_where_reads_need_one(closed: Secured) -> None:
    client = _connect(closed, "operator")
    other = _connect(closed, "viewer")
    client.get_received()
    other.get_received()
    _revoke(closed, "operator")
    lost = office(closed.app).token_watch.check()
    assert len(lost) == 1
    assert not client.is_connected()
    assert other.is_connected() and not _events(other, "auth_revoked")
    assert get_runtime(closed.app).clients == 1


def test_a_revoked_token_demotes_its_connection_to_anonymous_where_reads_are_open(
    open_reads: Secured,
) -> None:
    client = _connect(open_reads, "operator")
    client.get_received()
    ident = _revoke(open_reads, "operator")
    watch = office(open_reads.app).token_watch
    assert len(watch.check()) == 1
    [event] = _events(client, "auth_revoked")
    assert event["token_id"] == ident and "revoked" in event["message"]
    assert client.is_connected()
    client.emit("resync")  # still an open viewer
    assert _events(client, "state_update")
    assert watch.check() == []  # nothing left to revoke: told once


def test_the_watch_leaves_valid_and_anonymous_connections_alone(open_reads: Secured) -> None:
    clients = [_connect(open_reads, who) for who in ("viewer", "operator", "admin", None)]
    watch = office(open_reads.app).token_watch
    assert watch.check() == []
    assert all(c.is_connected() for c in clients)
