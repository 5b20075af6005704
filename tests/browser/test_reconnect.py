"""The page survives a server restart: it shows the outage, reconnects and resyncs."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from .conftest import Server, wait_until

pytestmark = pytest.mark.browser


def test_server_restart_shows_disconnected_then_reconnects_and_resyncs(
    page: Any, server_factory: Callable[[], Server]
) -> None:
    server = server_factory()
    page.goto(server.url + "/")
    page.wait_for_selector("#connection[data-state=connected]")
    wait_until(page, "Number(document.querySelector('#clock').dataset.tick) >= 8")
    server.stop()
    page.wait_for_selector(
        "#connection[data-state=reconnecting], #connection[data-state=disconnected]"
    )
    assert "Disconnected" in page.text_content("#connection")
    server.start()
    page.wait_for_selector("#connection[data-state=connected]", timeout=20000)
    # the restarted world begins again: the page took its fresh snapshot, not stale state
    wait_until(
        page,
        "document.querySelector('#sync-state').textContent.includes('tick ')"
        " && Number(document.querySelector('#clock').dataset.tick) < 8",
    )
    wait_until(page, "Number(document.querySelector('#clock').dataset.tick) >= 2")
