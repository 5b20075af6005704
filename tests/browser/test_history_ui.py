"""The History tab: import the flask fixture through the page, see its charts, fit an office,
backtest it (bands against what happened) and preview a hire on the fitted office."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import Server, axe_violations, wait_until
from .test_office_ui import open_office, show

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).parents[1] / "history" / "data" / "flask.csv"


@pytest.mark.parametrize("width,height", [(1280, 800), (1920, 1080)])
def test_import_fit_backtest_and_whatif_through_the_page(
    page: Any, server: Server, artifacts: Path, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    open_office(page, server)
    show(page, "history")
    page.set_input_files("#history-file", str(FIXTURE))
    page.click("#history-form button[type=submit]")
    wait_until(page, "document.querySelector('#history-status').textContent.startsWith('Imported')")
    assert page.inner_text("#history-summary").startswith("643 items (643 done, 0 open)")
    for chart in ("history-throughput", "history-lead", "history-season"):
        assert page.locator(f"#{chart} canvas").count() == 1
    page.fill("#history-staff", "builder=2, verifier=1, architect=1, doc_agent=1")
    page.click("#history-fit")
    wait_until(
        page, "document.querySelector('#history-verdict').textContent.length > 0", timeout=60
    )
    verdict = page.inner_text("#history-verdict")
    assert verdict.startswith("Verdict: poor fit: lead-time p95 off") and "2 Builder" in verdict
    assert "% fast items" in verdict, verdict
    assert page.locator("#history-fit-table tbody tr").count() == 4
    # the page asks for 40 cut dates; a smaller backtest keeps this test short
    page.route(
        "**/api/history/team/backtest",
        lambda route: (
            route.continue_(post_data='{"cuts": 3, "futures": 4}')
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    page.click("#history-backtest")
    wait_until(
        page, "document.querySelectorAll('#history-bt-table tbody tr').length == 2", timeout=90
    )
    assert page.locator("#history-bt canvas").count() == 1
    # both methods' coverage of p15, p50, p85 and the p50 error, for both questions
    assert page.locator("#history-bt-table tbody tr:first-child td").count() == 8
    legend = page.locator("#history-bt .u-legend .u-series").all_inner_texts()
    assert any("office p50" in t for t in legend) and any("actual" in t for t in legend)
    page.select_option("#history-role", "verifier")
    page.click("#history-whatif")
    wait_until(
        page, "document.querySelector('#history-whatif-result').textContent.length > 0", timeout=60
    )
    # the sentence reads as words, as on the Steer tab: no command name or floor id
    result = page.inner_text("#history-whatif-result")
    assert result.startswith("Hire a Verifier on the team: "), result
    assert "hire_agent" not in result
    assert axe_violations(page) == []
    _assert_usable_layout(page, width)
    page.evaluate("document.querySelector('#history').scrollTop = 0")
    page.screenshot(path=str(artifacts / f"history-{width}x{height}.png"))
    page.evaluate("document.querySelector('#history-bt-heading').scrollIntoView()")
    page.screenshot(path=str(artifacts / f"history-{width}x{height}-backtest.png"))


def _assert_usable_layout(page: Any, width: int) -> None:
    """The tab takes most of the width, nothing in it is cut off sideways, the charts and the
    backtest table are wide enough to read, and the buttons are on screen when scrolled to."""
    box = page.locator("#history").bounding_box()
    assert box["width"] >= 0.6 * width, box
    overflow = page.evaluate(
        "(() => { const h = document.querySelector('#history');"
        " return h.scrollWidth - h.clientWidth; })()"
    )
    assert overflow <= 1, overflow
    for chart in ("history-throughput", "history-bt"):
        assert page.locator(f"#{chart} canvas").bounding_box()["width"] >= 300
    table = page.locator("#history-bt-table").bounding_box()
    assert table["x"] + table["width"] <= box["x"] + box["width"] + 1, (table, box)
    for button in ("#history-fit", "#history-backtest", "#history-whatif"):
        page.locator(button).scroll_into_view_if_needed()
        shown = page.locator(button).bounding_box()
        assert box["x"] <= shown["x"] and shown["x"] + shown["width"] <= box["x"] + box["width"]


def test_a_bad_file_is_refused_with_its_line(page: Any, server: Server, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,created,done\n1,2024-01-01,2024-01-02\n2,never,2024-01-03\n")
    open_office(page, server, "?view=history")
    page.set_input_files("#history-file", str(bad))
    page.click("#history-form button[type=submit]")
    wait_until(page, "document.querySelector('#history-status').textContent.startsWith('Not')")
    assert "line 3: created: not a date: 'never'" in page.inner_text("#history-status")
