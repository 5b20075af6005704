"""The Consigliere and the Head of Security in the page: a What-if preview with both arms and the
paired difference, "why?" on waiting work, the directive assessment, lockdowns drawn on the map
and the board, scheduled changes on the timeline, all passing axe-core."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import API_TOKEN, Server, axe_violations, call, wait_until
from .test_office_ui import open_office, show

pytestmark = pytest.mark.browser

RAW_ID = re.compile(r"\b[TDA]-\d{4}\b")


def open_steer_box(page: Any, server: Server, box: str) -> None:
    """Open the page on the Steer tab with one of its collapsible boxes open."""
    open_office(page, server, "?view=steer")
    page.click(f"#{box} > summary")
    page.wait_for_selector(f"#{box}[open]")


def run_preview(page: Any, futures: int = 6, days: int = 10) -> None:
    page.fill("#w-futures", str(futures))
    page.fill("#w-horizon", str(days))
    page.click("#whatif-form button[type=submit]")
    wait_until(page, "!document.querySelector('#whatif-result').hidden", timeout=60)


def test_a_preview_shows_both_arms_and_the_paired_difference_in_a_sentence(
    page: Any, server: Server
) -> None:
    open_steer_box(page, server, "whatif-box")
    page.select_option("#w-change", "hire")
    page.select_option("#w-role", "verifier")
    # every answer the page shows while the job runs (each look's, over Socket.IO)
    page.evaluate(
        """() => { window.liveSeen = []; const live = document.querySelector('#whatif-live');
        new MutationObserver(() => live.textContent && window.liveSeen.push(live.textContent))
          .observe(live, {childList: true, characterData: true, subtree: true}); }"""
    )
    run_preview(page)
    seen = page.evaluate("window.liveSeen")
    assert seen and seen[-1].startswith("So far, after 6 futures: "), seen
    assert page.is_hidden("#whatif-live")  # the final answer replaces the running one
    sentence = page.inner_text("#whatif-sentence")
    assert sentence.startswith("Hire a Verifier on "), sentence
    assert "of 6 futures" in sentence
    # two answers under names a reader cannot confuse: the range here and the average effect
    # 6 futures: smallest to largest, which one more future falls between 5 times in 7
    assert "71% prediction interval" in sentence and "expected effect, 95% CI" in sentence
    answers = page.locator("#whatif-answers dt").all_inner_texts()
    assert [a.split(" (")[0] for a in answers] == ["Range in this office", "Expected effect"]
    assert " to " in page.inner_text("#whatif-range")
    assert page.inner_text("#whatif-range").endswith("(71% prediction interval)")
    run = page.inner_text("#whatif-run")
    assert run.startswith("Ran 6 of at most 6 futures; stopped: "), run
    arms = page.locator("#whatif-table tbody th").all_inner_texts()
    assert arms == ["Without (as it is)", "With the change"]
    # the chart has both arms as series (uPlot draws one legend entry per series)
    legend = page.locator("#whatif-chart .u-legend .u-series").all_inner_texts()
    assert any("Without" in t for t in legend) and any("With the change" in t for t in legend)
    assert page.locator("#whatif-chart canvas").count() == 1
    assert axe_violations(page) == []
    # "Schedule this change at tick N" makes a proposal with this preview attached
    tick = call(server, "GET", "/api/world/state")["tick"] + 400
    page.fill("#w-tick", str(tick))
    page.click("#whatif-schedule button[type=submit]")
    page.locator(f"#timeline-marks .timeline-mark[data-tick='{tick}']").wait_for(state="attached")
    scheduled = call(server, "GET", "/api/consigliere")["scheduled"]
    assert [(p["activate_tick"], p["commands"][0]["kind"]) for p in scheduled] == [
        (tick, "hire_agent")
    ]
    assert scheduled[0]["preview_id"]
    call(
        server,
        "POST",
        f"/api/consigliere/proposals/{scheduled[0]['id']}/revoke",
        {"reason": "a test"},
    )


def test_why_on_a_waiting_card_shows_the_real_cause_and_a_preview_option(
    page: Any, server: Server
) -> None:
    open_office(page, server, "?view=board")
    page.locator(".card-ask:visible").first.wait_for(timeout=30000)
    call(server, "POST", "/api/world/stop")  # the page and this test ask about the same moment
    try:
        page.wait_for_selector("#run-state[data-state=paused]")
        explained_card_matches_the_model(page, server)
    finally:
        call(server, "POST", "/api/world/resume")


def explained_card_matches_the_model(page: Any, server: Server) -> None:
    ask = page.locator(".card-ask:visible").first
    ask.wait_for()
    task_id = ask.evaluate("b => b.closest('li').dataset.taskId")
    ask.click()
    page.wait_for_selector("#why-dialog[open] .why-cause, #why-dialog[open] .why-list")
    shown = page.locator("#why-dialog .why-cause").all_inner_texts()
    answer = call(server, "POST", "/api/consigliere/explain", {"subject": task_id})
    assert answer["subject"] == task_id
    distinct = {c["sentence"] for c in answer["causes"]}
    # one line per distinct cause the model names (or its "moving" sentence), in names not ids
    assert len(shown) == max(1, len(distinct)), (shown, answer)
    assert all(not RAW_ID.search(line) for line in shown), shown
    assert axe_violations(page) == []


def held_task(server: Server, timeout: float = 30.0) -> str:
    """A task whose only wait is the lockdown (merged, its directive ready to ship)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for task in call(server, "GET", "/api/world/state")["tasks"]:
            if task["floor_id"] != "python" or task["state"] == "deployed":
                continue
            answer = call(server, "POST", "/api/consigliere/explain", {"subject": task["id"]})
            if any(c["cause"] == "security_hold" for c in answer["causes"]):
                return str(task["id"])
        time.sleep(0.25)
    raise AssertionError("no task was held by the lockdown")


def test_why_offers_lifting_a_lockdown_and_previews_it_in_one_click(
    page: Any, server: Server
) -> None:
    call(server, "POST", "/api/security/lockdown", {"scope": "python", "reason": "a leak drill"})
    try:
        held = held_task(server)
        open_steer_box(page, server, "whatif-box")
        page.fill("#w-futures", "4")  # the option previews with the panel's size: keep it quick
        page.fill("#w-horizon", "5")
        show(page, "board")
        page.locator(f"li.card[data-task-id='{held}'] .card-ask").click()
        page.wait_for_selector("#why-dialog[open] .why-options button")
        assert "locked down" in page.inner_text("#why-dialog-body")
        option = page.locator("#why-dialog .why-options button").first
        assert "lift the lockdown on Python" in option.inner_text()
        option.click()
        page.wait_for_selector("body[data-view=steer]")
        assert "lift the lockdown on Python" in page.inner_text("#whatif-choice-text")
        wait_until(page, "!document.querySelector('#whatif-result').hidden", timeout=60)
    finally:
        call(server, "POST", "/api/security/lift", {"scope": "python"})


def test_the_directive_form_shows_the_assessment_before_creating_it(
    page: Any, server: Server
) -> None:
    open_office(page, server, "?view=steer")
    page.fill("#d-title", "Add a search box")
    page.click("#d-assess")
    wait_until(
        page,
        "document.querySelector('#d-assessment').textContent.includes('would deploy')",
        timeout=60,
    )
    text = page.inner_text("#d-assessment")
    assert re.search(r"in (\d+(\.\d)? days|beyond the horizon) \(half the futures\)", text), text
    # a sequential assessment of at most 16 futures stops at a look of 8 or at 16
    assert re.search(r"in \d+ of (8|16) futures", text), text
    # and at a glance: a bar with the half, 85% and 95% marks
    marks = page.locator("#d-assessment-bar .assess-mark")
    assert [marks.nth(i).get_attribute("data-label") for i in range(3)] == ["half", "85%", "95%"]
    assert re.search(
        r"half by [\d.]+ d · 85% by [\d.]+ d · 95% by [\d.]+ d",
        page.inner_text("#d-assessment-bar"),
    )
    # nothing was created by assessing
    titles = [d["title"] for d in call(server, "GET", "/api/world/state")["directives"]]
    assert "Add a search box" not in titles


#: How many pixels of the lockdown tape's yellow (#f5d90a) the map shows now.
TAPE_PIXELS = """(() => {
    const c = document.querySelector('#office-canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
        if (d[i] === 245 && d[i + 1] === 217 && d[i + 2] === 10) n++;
    }
    return n;
})()"""


def test_why_on_the_agent_panel_answers_for_that_person(page: Any, server: Server) -> None:
    agent = call(server, "GET", "/api/world/state")["agents"][0]
    open_office(page, server, f"?agent={agent['id']}")
    page.click("#agent-why")
    page.wait_for_selector("#why-dialog[open] .why-cause")
    assert agent["name"] in page.text_content("#why-dialog-title")
    assert all(not RAW_ID.search(t) for t in page.locator(".why-cause").all_inner_texts())
    assert axe_violations(page) == []


def confirm(page: Any, reason: str | None = None) -> None:
    page.wait_for_selector("#action-dialog[open]")
    if reason is not None:
        page.fill("#action-reason", reason)
    assert axe_violations(page) == []
    page.click("#action-yes")
    page.wait_for_selector("#action-dialog:not([open])", state="attached")


def test_a_lockdown_shows_on_the_map_and_board_and_goes_when_lifted(
    page: Any, server: Server
) -> None:
    open_steer_box(page, server, "security-box")
    page.select_option("#s-scope", "python")
    page.click("#security-form button[value=lockdown]")
    confirm(page, "incident review")
    page.wait_for_selector("#lockdown-banner:visible")
    assert "Python department is locked down" in page.inner_text("#lockdown-banner")
    assert "incident review" in page.inner_text("#lockdown-banner")
    # the map draws red-and-yellow tape on that floor only
    locked = page.evaluate("() => miniatureOffice.live.header.lockdowns.map(l => l.scope)")
    assert locked == ["python"]
    wait_until(page, TAPE_PIXELS)
    show(page, "board")
    assert "incident review" in page.inner_text("#board-holds")
    show(page, "steer")
    page.click("#security-form button[value=lift]")
    confirm(page)
    page.wait_for_selector("#lockdown-banner", state="hidden")
    page.wait_for_selector("#board-holds", state="attached")
    assert page.locator("#board-holds").is_hidden()
    assert not page.locator(".card-hold:visible").count()
    wait_until(page, f"!({TAPE_PIXELS})")


def test_a_scheduled_change_is_marked_on_the_timeline_and_revoking_removes_it(
    page: Any, server: Server
) -> None:
    open_steer_box(page, server, "whatif-box")
    tick = call(server, "GET", "/api/world/state")["tick"] + 500
    call(
        server,
        "POST",
        "/api/consigliere/proposals",
        {
            "title": "Hire a verifier on Python",
            "commands": [
                {"kind": "hire_agent", "payload": {"floor": "python", "role": "verifier"}}
            ],
            "activate_tick": tick,
        },
    )
    mark = page.locator(f"#timeline-marks .timeline-mark[data-tick='{tick}']")
    mark.wait_for(state="attached")
    assert int(page.get_attribute("#timeline", "max")) >= tick
    assert f"at tick {tick}" in page.inner_text("#timeline-marks-text")
    row = page.locator("#proposal-list li", has_text=f"at tick {tick}")
    row.locator("button", has_text="Revoke").click()
    confirm(page, "changed our mind")
    mark.wait_for(state="detached")
    assert f"at tick {tick}" not in page.inner_text("#proposal-list")


def test_whatif_panel_at_1920_shows_a_finished_preview(
    browser: Any, server: Server, artifacts: Path
) -> None:
    """The What-if panel at 1920x1080 after a preview (test-artifacts/whatif.png; docs/whatif.png
    is a copy of it)."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    context.add_init_script(f"sessionStorage.setItem('miniatureOffice.apiToken', '{API_TOKEN}')")
    page = context.new_page()
    try:
        open_steer_box(page, server, "whatif-box")
        page.select_option("#w-role", "verifier")
        run_preview(page, futures=10, days=15)
        page.locator("#whatif").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "whatif.png"))
        assert page.is_visible("#whatif-sentence")
        assert page.locator("#whatif-chart").bounding_box()["width"] >= 300
    finally:
        context.close()


def test_a_blocked_delivery_marks_its_cards_with_the_reason_until_unblocked(
    page: Any, server: Server
) -> None:
    open_steer_box(page, server, "security-box")
    # Stopped, the directive chosen cannot ship between the choice and the block.
    call(server, "POST", "/api/world/stop")
    try:
        blocked_delivery_is_marked_until_unblocked(page, server)
    finally:
        call(server, "POST", "/api/world/resume")


def blocked_delivery_is_marked_until_unblocked(page: Any, server: Server) -> None:
    directive = next(
        d["id"]
        for d in call(server, "GET", "/api/world/state")["directives"]
        if d["state"] != "deployed" and d["task_ids"]
    )
    wait_until(page, f"document.querySelector('#b-directive option[value=\"{directive}\"]')")
    page.select_option("#b-directive", directive)
    page.click("#block-form button[value=block]")
    confirm(page, "licence check pending")
    show(page, "board")
    page.wait_for_selector("#board-holds:visible")
    assert "licence check pending" in page.inner_text("#board-holds")
    # every card of that directive still on the board says why it will not ship
    card = page.locator(".card.is-held").first
    card.wait_for()
    assert "delivery blocked: licence check pending" in card.inner_text()
    show(page, "steer")
    page.click("#block-form button[value=unblock]")
    confirm(page)
    page.wait_for_selector("#board-holds", state="hidden")


def test_a_forecast_shows_each_looks_answer_then_how_many_futures_ran(
    page: Any, server: Server
) -> None:
    open_steer_box(page, server, "forecast-box")
    page.evaluate("""() => { window.seenForecast = [];
        const said = document.querySelector('#forecast-sentence');
        new MutationObserver(() => said.textContent && window.seenForecast.push(said.textContent))
          .observe(said, {childList: true, characterData: true, subtree: true}); }""")
    page.fill("#f-futures", "16")
    page.click("#forecast-form button[type=submit]")
    wait_until(
        page,
        "document.querySelector('#forecast-status').textContent.startsWith('Forecast finished')",
        timeout=90,
    )
    seen = page.evaluate("window.seenForecast")
    assert any(text.startswith("So far: ") for text in seen), seen  # a look's answer, streamed
    sentence = page.inner_text("#forecast-sentence")
    assert sentence.startswith("85% chance "), sentence
    assert sentence.endswith("from 16 of at most 16 futures, stopped: cap reached"), sentence
    assert axe_violations(page) == []
