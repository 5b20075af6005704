"""A token revoked while the page is open is dropped from the live connection and the tab."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import PageProblems, Server, call, wait_until

pytestmark = pytest.mark.browser


def test_revoking_the_pages_token_asks_for_another_and_forgets_it(
    browser: Any, server: Server, problems: PageProblems
) -> None:
    created = call(
        server, "POST", "/api/tokens", {"name": "revoked-in-browser", "role": "operator"}
    )
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.add_init_script(
        f"sessionStorage.setItem('miniatureOffice.apiToken', {json.dumps(created['token'])})"
    )
    page = context.new_page()
    problems.attach(page)  # as the shared page fixture does: uncaught exceptions fail the test
    try:
        page.goto(server.url + "/")
        page.wait_for_selector("#connection[data-state=connected]")
        call(server, "DELETE", f"/api/tokens/{created['id']}", {})
        # the server re-checks live connections' tokens every 5 s
        page.wait_for_selector("#token-dialog[open]", timeout=15000)
        assert "revoked" in page.text_content("#token-reason")
        assert page.evaluate("sessionStorage.getItem('miniatureOffice.apiToken')") is None
        # reads are open in development: the page reconnects as an anonymous viewer
        page.click("#token-dialog button[value=cancel]")
        page.wait_for_selector("#connection[data-state=connected]")
        wait_until(page, "Number(document.querySelector('#clock').dataset.tick) > 0")
    finally:
        context.close()
    assert not problems.exceptions, problems.exceptions
