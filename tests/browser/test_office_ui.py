"""The live office at / in headless Chromium: what a newcomer sees and can do."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import PageProblems, Server, call, wait_until

pytestmark = pytest.mark.browser


# ---- helpers ------------------------------------------------------------------------------


#: True once no agent is mid-walk (office.js animations run for a fixed duration from a start).
SETTLED = (
    "[...window.miniatureOffice.office.anims.values()]"
    ".every((a) => performance.now() >= a.start + a.duration)"
)
#: Resolves after two animation frames: whatever was invalidated has been drawn.
NEXT_FRAMES = "new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


def world_state(server: Server) -> dict[str, Any]:
    return call(server, "GET", "/api/world/state")


def open_office(page: Any, server: Server, query: str = "") -> None:
    page.goto(server.url + "/" + query)
    page.wait_for_selector("#connection[data-state=connected]")
    wait_until(page, "Number(document.querySelector('#clock').dataset.tick) > 0")
    page.wait_for_selector(".column[data-state=scheduled]", state="attached")


def show(page: Any, view: str) -> None:
    """Pick a tab of the side panel (now, board, charts, audit, steer)."""
    page.click(f"[role=tab][data-view={view}]")
    page.wait_for_selector(f"body[data-view={view}]")


def shown_tick(page: Any) -> int:
    return int(page.get_attribute("#clock", "data-tick"))


def wait_ticks(page: Any, count: int) -> None:
    """Wait until the page's clock has moved ``count`` ticks on (the world must be running)."""
    target = shown_tick(page) + count
    wait_until(page, f"Number(document.querySelector('#clock').dataset.tick) >= {target}")


def wait_running(page: Any, running: bool) -> None:
    state = "running" if running else "paused"
    page.wait_for_selector(f"#run-state[data-state={state}]")


@pytest.fixture
def live_world(server: Server) -> Any:
    """Leave the shared world running at normal speed whatever a test did to it."""
    yield server
    call(server, "POST", "/api/world/speed", {"speed": 1})
    if not world_state(server)["running"]:
        call(server, "POST", "/api/world/resume")


# ---- loading and rendering ----------------------------------------------------------------


def test_page_loads_cleanly_and_renders_floors_agents_and_board(
    page: Any, server: Server, problems: PageProblems, artifacts: Path
) -> None:
    open_office(page, server)
    floors = world_state(server)["floors"]
    assert page.locator("#floor-picker button").count() == len(floors) + 1
    agents = page.evaluate("window.miniatureOffice.agentIds()")
    assert len(agents) >= 10
    assert page.locator(".column").count() == 7
    show(page, "board")
    page.wait_for_selector(".card")
    canvas = page.locator("#office-canvas").bounding_box()
    assert canvas["width"] >= 400 and canvas["height"] >= 300
    smoothing = page.evaluate(
        "document.querySelector('#office-canvas').getContext('2d').imageSmoothingEnabled"
    )
    assert smoothing is False
    wait_ticks(page, 3)  # a few ticks of walking, charts drawn
    page.screenshot(path=str(artifacts / "main-view.png"))
    assert problems.all() == []


def test_clock_advances_over_the_socket(page: Any, server: Server) -> None:
    open_office(page, server)
    first = shown_tick(page)
    wait_until(page, f"Number(document.querySelector('#clock').dataset.tick) >= {first + 2}")
    assert page.text_content("#clock-time").startswith("Day ")


def test_pause_stops_the_clock_and_step_advances_exactly_one_tick(
    page: Any, live_world: Server
) -> None:
    open_office(page, live_world)
    page.click("#btn-toggle")
    wait_running(page, False)
    # The pause applies at the next tick boundary, so one tick may still be in flight (and the
    # server's cached state may not show it yet): let it land, then no tick may arrive.
    page.wait_for_timeout(600)
    paused_at = shown_tick(page)
    page.wait_for_timeout(1200)  # a window in which no tick may arrive
    assert shown_tick(page) == paused_at
    page.click("#btn-step")
    wait_until(page, f"Number(document.querySelector('#clock').dataset.tick) === {paused_at + 1}")
    page.wait_for_timeout(800)  # a window in which no second tick may arrive
    assert shown_tick(page) == paused_at + 1
    page.keyboard.press(".")  # the step shortcut
    wait_until(page, f"Number(document.querySelector('#clock').dataset.tick) === {paused_at + 2}")
    page.evaluate("document.activeElement.blur()")  # space on a focused button presses it
    page.keyboard.press(" ")  # space resumes
    wait_running(page, True)
    wait_until(page, f"Number(document.querySelector('#clock').dataset.tick) > {paused_at + 3}")


def test_floor_shortcuts_pick_a_floor_and_all_floors(page: Any, server: Server) -> None:
    open_office(page, server)
    page.keyboard.press("2")
    second = page.locator("#floor-picker button").nth(2)
    assert second.get_attribute("aria-pressed") == "true"
    page.keyboard.press("0")
    assert page.locator("#floor-picker button").first.get_attribute("aria-pressed") == "true"


# ---- steering -----------------------------------------------------------------------------


def test_created_directive_appears_on_the_board_and_reaches_deployed(
    page: Any, live_world: Server
) -> None:
    open_office(page, live_world)
    title = f"Browser probe {int(time.time() * 1000) % 100000}"
    show(page, "steer")
    page.fill("#d-title", title)
    page.select_option("#d-floor", "python")
    page.fill("#d-priority", "1")
    for name, value in (("ambiguity", "0"), ("sensitivity", "0"), ("complexity", "0.1")):
        page.fill(f"#d-{name}", value)
    page.click("#directive-form button[type=submit]")
    page.wait_for_selector("#directive-form .form-status.ok")
    show(page, "board")
    page.wait_for_selector(f".card:has-text('{title}')", timeout=20000)
    page.select_option("#speed", "16")
    deployed = f".column[data-state=deployed] .card:has-text('{title}')"
    page.wait_for_selector(deployed, timeout=60000)
    wait_until(
        page,
        """title => [...document.querySelectorAll('.card')]
            .filter(c => c.textContent.includes(title))
            .every(c => c.closest('.column').dataset.state === 'deployed')""",
        arg=title,
        timeout=60,
    )


def test_forms_validate_before_sending_and_show_the_servers_refusal(
    page: Any, server: Server
) -> None:
    open_office(page, server)
    show(page, "steer")
    sent: list[str] = []
    page.on("request", lambda r: r.method == "POST" and sent.append(r.url))
    page.click("#directive-form button[type=submit]")  # empty title
    assert page.get_attribute("#d-title", "aria-invalid") == "true"
    assert page.text_content("[data-error-for=title]").strip()
    assert sent == []
    # get past the page's own checks so the server has to refuse it
    page.fill("#d-title", "Out of range")
    page.evaluate("document.querySelector('#d-priority').max = '9'")
    page.fill("#d-priority", "9")
    page.click("#directive-form button[type=submit]")
    page.wait_for_selector("#directive-form .form-status.error")
    assert page.get_attribute("#d-priority", "aria-invalid") == "true"
    # the server's reason sits beside its field, without the field's name repeated in front
    reason = page.text_content("[data-error-for=priority]").strip()
    assert reason and not reason.lower().startswith("priority")


def test_hire_add_tool_and_dismiss_change_the_office(page: Any, server: Server) -> None:
    open_office(page, server)
    staff = len(page.evaluate("window.miniatureOffice.agentIds()"))
    show(page, "steer")
    page.click("summary:has-text('Hire an agent')")
    page.select_option("#h-floor", "javascript")
    page.select_option("#h-role", "verifier")
    page.fill("#h-name", "Vera Browser")
    page.click("#hire-form button[type=submit]")
    page.wait_for_selector("#hire-form .form-status.ok")
    wait_until(page, f"window.miniatureOffice.agentIds().length === {staff + 1}")
    hired = page.evaluate(
        "[...window.miniatureOffice.live.agents.values()].find(a => a.name === 'Vera Browser').id"
    )

    page.click("summary:has-text('Add a tool')")
    page.select_option("#t-floor", "javascript")
    page.select_option("#t-kind", "test_framework")
    page.fill("#t-name", "Jest")
    page.fill("#t-version", "29.7.0")
    page.check("#tool-form input[name=capabilities][value=test]")
    page.fill("#t-slots", "2")
    page.click("#tool-form button[type=submit]")
    page.wait_for_selector("#tool-form .form-status.ok")
    wait_until(page, "[...window.miniatureOffice.live.tools.values()].some(t => t.name === 'Jest')")

    show(page, "now")
    page.click("summary:has-text('Staff list')")
    page.click(f"#staff-list button[data-agent-id='{hired}']")
    page.click("#agent-body button.danger")
    page.click("#dismiss-form button[type=submit]")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-yes")
    page.wait_for_selector("#dismiss-form .form-status.ok")
    wait_until(page, f"!window.miniatureOffice.live.agents.has('{hired}')")


def test_clicking_an_agent_on_the_map_opens_its_panel(page: Any, live_world: Server) -> None:
    open_office(page, live_world)
    page.click("#btn-toggle")
    wait_running(page, False)
    wait_until(page, SETTLED)  # every walking animation has reached its end
    agent_id = page.evaluate("window.miniatureOffice.agentIds()[0]")
    point = page.evaluate(f"window.miniatureOffice.locateAgent('{agent_id}')")
    page.mouse.click(point["x"], point["y"])
    agent = next(a for a in world_state(live_world)["agents"] if a["id"] == agent_id)
    body = page.locator("#agent-body")
    body.locator(".agent-name", has_text=agent["name"]).wait_for()
    text = body.text_content()
    for label in ("Role", "Now", "Status", "Clearance", "Held tool", "Attention left", "Skills"):
        assert label in text


def test_task_card_opens_history_reviews_and_lineage(page: Any, server: Server) -> None:
    open_office(page, server)
    show(page, "board")
    page.locator(".card-open").first.click()
    dialog = page.locator("#task-dialog")
    dialog.locator("caption", has_text="History").wait_for()
    dialog.locator(".lineage h3", has_text="Audit lineage of event").wait_for()
    page.keyboard.press("Escape")
    assert not dialog.is_visible()


def test_cards_in_review_name_their_reviewers_not_the_builder(
    page: Any, live_world: Server
) -> None:
    call(live_world, "POST", "/api/world/speed", {"speed": 4})
    open_office(page, live_world)
    show(page, "board")
    card = ".column[data-state=in_review] .card .card-meta"
    page.wait_for_selector(card, timeout=30000)
    review = re.compile(
        r"(verification|security|documentation): [^,;]+, (pending|in progress|passed|failed)"
        r"|awaiting reviewers"
    )
    metas = page.locator(card).all_text_contents()
    assert metas and all(review.search(meta) for meta in metas), metas


def test_audit_verify_button_reports_a_valid_chain(page: Any, server: Server) -> None:
    open_office(page, server)
    show(page, "audit")
    page.wait_for_selector("#audit-list .audit-event")
    page.click("#audit-verify")
    page.wait_for_selector("#audit-verify-result.ok")
    assert page.text_content("#audit-verify-result").startswith("Chain valid")


def test_audit_stream_filters_by_kind(page: Any, server: Server) -> None:
    open_office(page, server)
    show(page, "audit")
    page.wait_for_selector("#audit-kind option[value='task.transition']", state="attached")
    page.select_option("#audit-kind", "task.transition")
    wait_until(
        page,
        """() => {
            const kinds = [...document.querySelectorAll('#audit-list .audit-kind')]
                .map(k => k.textContent);
            return kinds.length > 0 && kinds.every(k => k === 'task.transition');
        }""",
    )


def test_export_downloads_the_flow_csv(page: Any, server: Server) -> None:
    open_office(page, server)
    with page.expect_download() as info:
        page.click("#btn-export")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    header = Path(download.path()).read_text().splitlines()[0]
    assert header.startswith("tick,day,")


def test_time_travel_shows_a_past_tick_then_returns_to_live(page: Any, server: Server) -> None:
    open_office(page, server)
    page.fill("#timeline", "3")
    wait_until(page, "document.querySelector('#replay-state').textContent.includes('Map, board')")
    assert page.text_content("#replay-state").startswith("Viewing tick 3")
    wait_until(page, "Number(document.querySelector('#clock').dataset.tick) === 3")
    assert page.text_content("#clock-time") == "Day 1, 12:00"
    page.click("#btn-live")
    wait_until(page, "document.querySelector('#replay-state').textContent.startsWith('Live')")
    wait_until(page, "Number(document.querySelector('#clock').dataset.tick) > 3")


def test_refused_request_asks_for_a_token_and_retries_with_it(page: Any, server: Server) -> None:
    open_office(page, server)
    seen: list[str | None] = []

    def guard(route: Any) -> None:
        auth = route.request.headers.get("authorization")
        seen.append(auth)
        if auth != "Bearer s3cret":
            body = {"error": {"code": "unauthorized", "message": "token required", "details": {}}}
            route.fulfill(status=401, content_type="application/json", body=json.dumps(body))
        else:
            route.fulfill(status=202, content_type="application/json", body='{"status":"accepted"}')

    page.route("**/api/world/speed", guard)
    page.select_option("#speed", "2")
    page.wait_for_selector("#token-dialog[open]")
    assert "token required" in page.text_content("#token-reason")
    page.fill("#token-input", "s3cret")
    page.click("#token-dialog button[value=save]")
    wait_until(page, "!document.querySelector('#token-dialog').open")
    assert seen[-1] == "Bearer s3cret"
    assert page.evaluate("sessionStorage.getItem('miniatureOffice.apiToken')") == "s3cret"
    assert all(
        "s3cret" not in url for url in page.evaluate("performance.getEntries().map(e => e.name)")
    )


def test_charts_draw_and_name_the_bottleneck(page: Any, server: Server, artifacts: Path) -> None:
    open_office(page, server)
    show(page, "charts")
    wait_until(page, "document.querySelector('#bottleneck').textContent.includes(':')")
    page.wait_for_selector("#chart-cfd canvas")
    assert page.locator("#charts .uplot").count() == 5
    page.wait_for_selector("#roles-now tbody tr")
    charts = page.locator("#charts")
    charts.scroll_into_view_if_needed()
    page.evaluate(NEXT_FRAMES)  # the scrolled charts are painted
    charts.screenshot(path=str(artifacts / "charts.png"))


def test_wide_view_shows_office_and_each_side_panel(
    page: Any, server: Server, artifacts: Path
) -> None:
    """The README pictures (docs/office.png, board.png, flow.png are copies of these)."""
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_office(page, server)
    page.wait_for_selector("#now-feed li")
    wait_ticks(page, 2)  # a few ticks: people walking
    page.screenshot(path=str(artifacts / "office.png"))
    show(page, "board")
    page.wait_for_selector(".column[data-state=in_progress] .card")
    page.screenshot(path=str(artifacts / "board.png"))
    show(page, "charts")
    page.wait_for_selector("#chart-cfd canvas")
    wait_until(page, "document.querySelector('#bottleneck').textContent.includes(':')")
    page.screenshot(path=str(artifacts / "flow.png"))
    assert page.locator("#office-canvas").is_visible()  # the office stays on screen
