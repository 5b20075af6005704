"""Text from users is shown as text: a directive titled with markup appears literally and
runs nothing."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import PageProblems, Server, call, wait_until

pytestmark = pytest.mark.browser

PAYLOAD = (
    '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    "<b id=injected>bold</b>"
)


def test_a_directive_titled_with_markup_is_shown_literally_and_runs_nothing(
    page: Any, server: Server, problems: PageProblems
) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector("#connection[data-state=connected]")
    call(server, "POST", "/api/directives", {"title": PAYLOAD, "floor": "python", "ambiguity": 0.1})
    wait_until(
        page,
        "(text) => [...document.querySelectorAll('.card-directive')]"
        ".some(e => e.textContent.includes(text))",
        PAYLOAD,
        timeout=30,
    )
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('#injected, img[src=\"x\"]').length") == 0
    scripts = page.evaluate("[...document.scripts].map(s => s.textContent)")
    assert not any("__pwned" in text for text in scripts)
    assert not problems.exceptions
