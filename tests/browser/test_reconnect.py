"""The page survives a server restart: it shows the outage, reconnects and resyncs."""

from __future__ import annotations

import re
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
    wait_until(page, "Number(document.querySelector('#clock').dataset.tick) >= 6")
    synced_before = page.text_content("#sync-state")
    server.stop()
    page.wait_for_selector(
        "#connection[data-state=reconnecting], #connection[data-state=disconnected]"
    )
    assert "Disconnected" in page.text_content("#connection")
    stopped_at = int(page.get_attribute("#clock", "data-tick"))
    server.start()
    page.wait_for_selector("#connection[data-state=connected]", timeout=20000)
    # a fresh snapshot from the restarted server (recovered from its store or begun anew)
    wait_until(page, f"document.querySelector('#sync-state').textContent !== {synced_before!r}")
    # Read the snapshot's tick from the text itself: live ticks may already have moved on.
    synced = re.fullmatch(r"Last full snapshot: tick (\d+)\.", page.text_content("#sync-state"))
    assert synced is not None
    resynced_at = int(synced.group(1))
    assert resynced_at >= stopped_at  # the restarted server recovered the run, not a new one
    wait_until(page, f"Number(document.querySelector('#clock').dataset.tick) > {resynced_at}")
