"""The page as a newcomer meets it: it fits the screen, speaks in names, replays honestly, warns
when the engine stops, steers safely, idles quietly and passes axe-core."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any, Callable, Iterator

import pytest

from .conftest import API_TOKEN, Server, axe_violations, call, wait_until
from .test_office_ui import open_office, show

pytestmark = pytest.mark.browser


@pytest.fixture
def context_factory(browser: Any) -> Iterator[Callable[..., Any]]:
    """New pages with their own viewport (and options such as reduced motion or touch)."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 720, token: bool = True, **options: Any) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        if token:
            context.add_init_script(
                f"sessionStorage.setItem('miniatureOffice.apiToken', '{API_TOKEN}')"
            )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.errors = errors  # type: ignore[attr-defined]
        return page

    yield make
    for context in contexts:
        errors = [e for p in context.pages for e in p.errors]
        context.close()
        assert not errors, errors


def box(page: Any, selector: str) -> dict[str, float]:
    return page.locator(selector).bounding_box()


def hire(server: Server, floor: str, role: str, name: str) -> str:
    """Hire through the API and wait for the next tick to apply it; the new agent's id."""
    call(server, "POST", "/api/agents", {"floor": floor, "role": role, "name": name})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        agents = call(server, "GET", "/api/world/state")["agents"]
        found = [a["id"] for a in agents if a["name"] == name]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"{name} was not hired")


# ---- fit, zoom, follow ------------------------------------------------------------------------


@pytest.mark.parametrize("width,height", [(1280, 720), (3840, 2160)])
def test_whole_building_and_controls_fit_the_viewport_at_an_integer_scale(
    context_factory: Callable[..., Any], server: Server, width: int, height: int
) -> None:
    page = context_factory(width, height)
    open_office(page, server)
    wait_until(page, "window.miniatureOffice.office.draws > 0")
    canvas = box(page, "#office-canvas")
    assert canvas["x"] >= 0 and canvas["y"] >= 0
    assert canvas["x"] + canvas["width"] <= width and canvas["y"] + canvas["height"] <= height
    art_width = page.evaluate("document.querySelector('#office-canvas').width")
    scale = canvas["width"] / art_width
    assert scale == int(scale) and scale >= 1  # crisp pixels
    if width >= 3840:
        assert scale >= 3  # the 4K map uses the room it has
    # nothing below the fold: the page itself does not scroll, the side tabs are on screen
    assert page.evaluate("document.documentElement.scrollHeight") <= height
    for tab in ("now", "board", "charts", "audit", "steer"):
        tab_box = box(page, f"[role=tab][data-view={tab}]")
        assert tab_box["y"] + tab_box["height"] <= height
    show(page, "board")
    board = box(page, "#board")
    assert board["y"] + board["height"] <= height


def test_keys_zoom_and_pan_and_follow_keeps_an_agent_in_view(page: Any, server: Server) -> None:
    open_office(page, server)
    wait_until(page, "window.miniatureOffice.office.draws > 0")
    fitted = box(page, "#office-canvas")["width"]
    page.focus("#office-canvas")
    page.keyboard.press("+")
    wait_until(
        page, f"document.querySelector('#office-canvas').getBoundingClientRect().width > {fitted}"
    )
    zoomed = box(page, "#office-canvas")
    page.keyboard.press("ArrowLeft")
    wait_until(
        page, f"document.querySelector('#office-canvas').getBoundingClientRect().x > {zoomed['x']}"
    )
    page.keyboard.press("-")
    wait_until(
        page, f"document.querySelector('#office-canvas').getBoundingClientRect().width === {fitted}"
    )
    # follow: the chosen agent stays near the middle of the map while the office runs
    agent = page.evaluate("window.miniatureOffice.agentIds()[3]")
    page.evaluate(
        f"document.querySelector('#staff-list button[data-agent-id=\"{agent}\"]').click()"
    )
    page.focus("#office-canvas")
    for key in ("+", "+", "+", "+"):  # five times the fitted size: most of the map is off-screen
        page.keyboard.press(key)
    page.click("#agent-follow")
    assert page.get_attribute("#agent-follow", "aria-pressed") == "true"
    assert box(page, "#office-canvas")["width"] >= fitted * 4
    wrap = box(page, "#canvas-wrap")
    start = page.evaluate("window.miniatureOffice.live.tick")
    # over several ticks of walking the followed agent never leaves the map's box
    while page.evaluate("window.miniatureOffice.live.tick") < start + 4:
        spot = page.evaluate(f"window.miniatureOffice.locateAgent('{agent}')")
        assert spot is not None
        assert wrap["x"] <= spot["x"] <= wrap["x"] + wrap["width"], (spot, wrap)
        assert wrap["y"] <= spot["y"] <= wrap["y"] + wrap["height"], (spot, wrap)
        page.wait_for_timeout(100)


def test_hovering_an_agent_shows_who_they_are_and_what_they_do(page: Any, server: Server) -> None:
    open_office(page, server)
    wait_until(page, "window.miniatureOffice.office.draws > 0")
    call(server, "POST", "/api/world/stop")
    wait_until(page, "!window.miniatureOffice.office.isMoving(performance.now())")
    agent = page.evaluate("window.miniatureOffice.agentIds()[0]")
    point = page.evaluate(f"window.miniatureOffice.locateAgent('{agent}')")
    page.mouse.move(point["x"], point["y"])
    page.wait_for_selector("#office-tooltip:not([hidden])")
    name = page.evaluate(f"window.miniatureOffice.live.agents.get('{agent}').name")
    role = page.evaluate(f"window.miniatureOffice.roleOf('{agent}')")
    tip = page.text_content("#office-tooltip")
    assert name in tip and role in tip and len(tip.splitlines()) >= 2
    page.mouse.move(0, 0)
    page.wait_for_selector("#office-tooltip", state="hidden")
    # the keyboard way: focusing a person in the staff list shows the same tooltip
    page.click("summary:has-text('Staff list')")
    page.focus(f"#staff-list button[data-agent-id='{agent}']")
    page.wait_for_selector("#office-tooltip:not([hidden])")
    assert name in page.text_content("#office-tooltip")
    call(server, "POST", "/api/world/resume")


# ---- safe steering ----------------------------------------------------------------------------


def test_dismiss_never_falls_back_to_another_person_and_confirms_by_name(
    page: Any, server: Server
) -> None:
    hired = hire(server, "python", "verifier", "Newly Hired")
    open_office(page, server)
    deletes: list[str] = []
    page.on("request", lambda r: r.method == "DELETE" and deletes.append(r.url))
    show(page, "steer")
    page.click("summary:has-text('Dismiss an agent')")
    assert page.input_value("#x-agent") == ""  # nobody is preselected
    wait_until(
        page, f"[...document.querySelectorAll('#x-agent option')].some(o => o.value === '{hired}')"
    )
    page.select_option("#x-agent", hired)
    page.click("#dismiss-form button[type=submit]")
    page.wait_for_selector("#confirm-dialog[open]")
    assert "Newly Hired" in page.text_content("#confirm-title")
    assert "Verifier" in page.text_content("#confirm-text")
    page.click("#confirm-yes")
    page.wait_for_selector("#dismiss-form .form-status.ok")
    wait_until(page, f"!window.miniatureOffice.live.agents.has('{hired}')")
    assert len(deletes) == 1 and deletes[0].endswith(hired)
    # pressing Dismiss again must not dismiss whoever is listed first
    assert page.input_value("#x-agent") == ""
    page.click("#dismiss-form button[type=submit]")
    assert page.get_attribute("#x-agent", "aria-invalid") == "true"
    assert not page.locator("#confirm-dialog").is_visible()
    assert len(deletes) == 1


def test_dismissing_a_manager_warns_what_auto_staffing_will_do(page: Any, server: Server) -> None:
    open_office(page, server)
    manager = page.evaluate(
        "[...window.miniatureOffice.live.agents.values()].find(a => a.role === 'manager').id"
    )
    deletes: list[str] = []
    page.on("request", lambda r: r.method == "DELETE" and deletes.append(r.url))
    show(page, "steer")
    page.click("summary:has-text('Dismiss an agent')")
    page.select_option("#x-agent", manager)
    page.click("#dismiss-form button[type=submit]")
    page.wait_for_selector("#confirm-dialog[open]")
    warnings = page.text_content("#confirm-warnings")
    assert "manages" in warnings
    assert "Manager" in page.text_content("#confirm-text")
    page.click("#confirm-dialog button[value=no]")
    page.wait_for_selector("#dismiss-form .form-status:has-text('stays')")
    assert deletes == []


def test_a_refused_token_is_cleared_and_the_dialog_stays_open(page: Any, server: Server) -> None:
    open_office(page, server)
    seen: list[str | None] = []

    def guard(route: Any) -> None:
        auth = route.request.headers.get("authorization")
        seen.append(auth)
        if auth != "Bearer right-one":
            body = {"error": {"code": "unauthorized", "message": "unknown token", "details": {}}}
            route.fulfill(status=401, content_type="application/json", body=json.dumps(body))
        else:
            route.fulfill(status=202, content_type="application/json", body="{}")

    page.route("**/api/world/speed", guard)
    page.select_option("#speed", "2")
    page.wait_for_selector("#token-dialog[open]")
    # the page's own token was refused: it is forgotten, not kept for the next request
    assert page.evaluate("sessionStorage.getItem('miniatureOffice.apiToken')") is None
    page.fill("#token-input", "wrong-one")
    page.click("#token-dialog button[value=save]")
    page.wait_for_selector("#token-error:has-text('refused')")
    assert page.locator("#token-dialog").is_visible()
    assert page.input_value("#token-input") == ""
    assert page.evaluate("sessionStorage.getItem('miniatureOffice.apiToken')") is None
    page.fill("#token-input", "right-one")
    page.click("#token-dialog button[value=save]")
    wait_until(page, "!document.querySelector('#token-dialog').open")
    assert seen[-1] == "Bearer right-one"


# ---- words, not ids ---------------------------------------------------------------------------


def test_audit_speaks_in_names_links_people_and_offers_every_kind(
    page: Any, server: Server
) -> None:
    open_office(page, server)
    show(page, "audit")
    page.wait_for_selector("#audit-list .audit-link")
    # kinds that have not happened yet can still be picked
    assert page.locator("#audit-kind option[value='agent.dismissed']").count() == 1
    texts = page.locator("#audit-list .audit-what").all_text_contents()
    assert texts and not any("=null" in t or "justification=" in t for t in texts)
    # an event opens too: its sentence, its facts in names, and its lineage
    page.locator("#audit-list button.audit-seq").first.click()
    page.wait_for_selector("#task-dialog .lineage h3:has-text('Audit lineage of event')")
    assert page.text_content("#task-dialog-title").startswith("Event #")
    page.keyboard.press("Escape")
    agent_link = page.locator("#audit-list .audit-link").filter(has_text="(").first
    name = agent_link.text_content().split(" (")[0]
    agent_link.click()
    page.wait_for_selector("body[data-view=now]")
    page.locator("#agent-body .agent-name", has_text=name).wait_for()


def test_waiting_cards_say_why_and_ages_carry_units(page: Any, server: Server) -> None:
    open_office(page, server)
    show(page, "board")
    page.wait_for_selector(".column[data-state=scheduled] .card", timeout=20000)
    cards = page.evaluate(
        """[...document.querySelectorAll('.column[data-state=scheduled] .card')].map(c => ({
            meta: c.querySelector('.card-meta').textContent,
            why: c.querySelector('.card-why').hidden
                ? '' : c.querySelector('.card-why').textContent,
        }))"""
    )
    for card in cards:
        if "unassigned" in card["meta"]:
            assert card["why"].startswith("waits"), card
        assert " h" in card["meta"] or " d" in card["meta"], card
    page.locator(".card-open").first.click()
    progress = page.locator("#task-dialog dt:text-is('Progress') + dd").text_content()
    assert "%" in progress and "effort hours" in progress


def test_now_feed_tells_what_happens_in_sentences(page: Any, server: Server) -> None:
    open_office(page, server)
    page.wait_for_selector("#now-feed li", timeout=20000)
    first = page.text_content("#now-feed li")
    assert "Day " in first and not first.strip().startswith("A-")
    # a sentence about a task opens that task
    link = page.locator("#now-feed .feed-link", has_text="“").first
    link.click()
    page.wait_for_selector("#task-dialog[open]")
    assert "task=T-" in page.url


# ---- the URL, replay, engine health --------------------------------------------------------


def test_url_restores_floor_agent_view_and_replay_tick(
    context_factory: Callable[..., Any], server: Server
) -> None:
    agent = call(server, "GET", "/api/world/state")["agents"][2]
    page = context_factory()
    open_office(page, server, f"?view=board&floor={agent['floor_id']}&agent={agent['id']}")
    page.wait_for_selector("body[data-view=board]")
    pressed = page.get_attribute(
        f"#floor-picker button[data-floor={agent['floor_id']}]", "aria-pressed"
    )
    assert pressed == "true"
    assert page.evaluate("window.miniatureOffice.ui.selectedAgent") == agent["id"]
    # the page keeps the URL current as the view changes
    show(page, "audit")
    assert "view=audit" in page.url and f"agent={agent['id']}" in page.url
    replay = context_factory()
    open_office(replay, server, "?tick=4")
    wait_until(replay, "Number(document.querySelector('#clock').dataset.tick) === 4")
    assert replay.get_attribute("#run-state", "data-state") == "replay"


def test_replay_works_for_a_viewer_and_everything_shows_that_tick(
    context_factory: Callable[..., Any], server: Server
) -> None:
    page = context_factory(token=False)  # a viewer: development servers leave reads open
    open_office(page, server)
    wait_until(page, "window.miniatureOffice.live.tick > 12")
    slider_width = box(page, "#timeline")["width"]
    page.fill("#timeline", "6")
    wait_until(page, "window.miniatureOffice.ui.view.tick === 6")
    assert not page.locator("#token-dialog").is_visible()
    assert page.text_content("#run-state").startswith("Viewing tick 6 (day 1)")
    assert box(page, "#timeline")["width"] == slider_width
    show(page, "audit")
    wait_until(page, "document.querySelectorAll('#audit-list .audit-event').length > 0")
    ticks = page.evaluate("""[...document.querySelectorAll('#audit-list .audit-tick')]
            .map(t => Number(t.textContent.slice(1)))""")
    assert max(ticks) <= 6
    live_tick = page.evaluate("window.miniatureOffice.live.tick")
    wait_until(page, f"window.miniatureOffice.live.tick > {live_tick}")  # live goes on
    assert page.evaluate("Number(document.querySelector('#clock').dataset.tick)") == 6
    page.select_option("#replay-speed", "2")
    page.click("#btn-replay-play")
    wait_until(page, "window.miniatureOffice.ui.view.tick >= 8")
    page.click("#btn-replay-play")  # pause
    paused = page.evaluate("window.miniatureOffice.ui.replayTick")
    page.click("#btn-live")
    wait_until(page, "document.querySelector('#run-state').dataset.state === 'running'")
    assert paused >= 8 and "tick=" not in page.url


@pytest.mark.parametrize(
    "state,words", [("stopped", "Engine stopped"), ("store_unavailable", "Store unavailable")]
)
def test_engine_banner_from_health_says_what_happened_and_what_to_do(
    context_factory: Callable[..., Any], server: Server, state: str, words: str
) -> None:
    page = context_factory()
    body = {
        "status": "unhealthy", "service": "miniature-office", "version": "x",
        "simulation": "running",
        "engine": {"state": state, "reason": "disk said no", "seconds_since_tick": 30.0,
                   "advice": "Restart the service.", "tick": 5},
    }  # fmt: skip
    page.route(
        "**/health",
        lambda route: route.fulfill(
            status=503, content_type="application/json", body=json.dumps(body)
        ),
    )
    open_office(page, server)
    page.wait_for_selector(f"#engine-banner[data-state={state}]:not([hidden])")
    text = page.text_content("#engine-banner")
    assert words in text and "disk said no" in text and "Restart the service." in text
    wait_until(page, "document.querySelector('#run-state').textContent === 'Engine stopped'")


def test_tick_silence_shows_a_stalled_banner_until_ticks_return(page: Any, server: Server) -> None:
    open_office(page, server)
    assert page.locator("#engine-banner").is_hidden()
    pid = server.process.pid
    os.kill(pid, signal.SIGSTOP)  # the engine freezes; the socket stays open but silent
    try:
        page.wait_for_selector("#engine-banner[data-state=stalled]:not([hidden])", timeout=15000)
        assert "stalled" in page.text_content("#engine-banner")
    finally:
        os.kill(pid, signal.SIGCONT)
    page.wait_for_selector("#engine-banner", state="hidden", timeout=20000)


# ---- quiet when idle, phone, motion, accessibility ------------------------------------------


def test_a_paused_office_draws_no_frames(page: Any, server: Server) -> None:
    open_office(page, server)
    call(server, "POST", "/api/world/stop")
    try:
        wait_until(page, "document.querySelector('#run-state').dataset.state === 'paused'")
        wait_until(page, "!window.miniatureOffice.office.isMoving(performance.now())")
        before = page.evaluate("window.miniatureOffice.office.draws")
        page.wait_for_timeout(1500)  # the window in which nothing may be drawn
        assert page.evaluate("window.miniatureOffice.office.draws") == before
    finally:
        call(server, "POST", "/api/world/resume")


def test_reduced_motion_moves_people_without_animating_them(
    context_factory: Callable[..., Any], server: Server
) -> None:
    page = context_factory(reduced_motion="reduce")
    open_office(page, server)
    start = page.evaluate("window.miniatureOffice.live.tick")
    samples = []
    while page.evaluate("window.miniatureOffice.live.tick") < start + 4:
        samples.append(page.evaluate("window.miniatureOffice.office.anims.size"))
        page.wait_for_timeout(50)
    assert samples and max(samples) == 0


def test_phone_layout_has_tabs_big_targets_and_no_sideways_scrolling(
    context_factory: Callable[..., Any], server: Server
) -> None:
    page = context_factory(390, 844, has_touch=True, is_mobile=True, device_scale_factor=3)
    open_office(page, server)
    header = box(page, ".topbar")
    assert header["height"] <= 100
    for view in ("office", "now", "board", "charts", "audit", "steer"):
        show(page, view)
        small = page.evaluate(
            """[...document.querySelectorAll('button, select, summary, [role=tab]')]
                .filter(e => e.offsetParent !== null && !e.closest('.uplot, dialog'))
                .map(e => [e.textContent.trim().slice(0, 20), e.getBoundingClientRect().height])
                .filter(([, h]) => h > 0 && h < 44)"""
        )
        assert small == [], (view, small)
        overflow = page.evaluate("""[...document.querySelectorAll('body *')].filter(e => {
                const s = getComputedStyle(e);
                return e.offsetParent !== null && ['auto', 'scroll'].includes(s.overflowX)
                    && e.scrollWidth > e.clientWidth + 1 && !e.closest('.canvas-wrap');
            }).map(e => e.id || e.className)""")
        assert overflow == [], (view, overflow)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, view


def test_axe_finds_no_violations_on_any_view_or_dialog(page: Any, server: Server) -> None:
    open_office(page, server)
    page.wait_for_selector("#now-feed li", timeout=20000)
    problems: dict[str, list[str]] = {}
    for view in ("now", "board", "charts", "audit", "steer"):
        show(page, view)
        if view == "board":
            page.wait_for_selector(".card")
        if view == "steer":
            for summary in page.locator("#steer summary").all():
                summary.click()
        problems[view] = axe_violations(page)
    show(page, "board")
    page.locator(".card-open").first.click()
    page.wait_for_selector("#task-dialog .lineage h3:has-text('Audit lineage')")
    problems["task dialog"] = axe_violations(page)
    page.keyboard.press("Escape")
    page.click("#token-button")
    page.wait_for_selector("#token-dialog[open]")
    problems["token dialog"] = axe_violations(page)
    page.keyboard.press("Escape")
    show(page, "steer")
    page.select_option("#x-agent", index=1)
    page.click("#dismiss-form button[type=submit]")
    page.wait_for_selector("#confirm-dialog[open]")
    problems["confirm dialog"] = axe_violations(page)
    page.click("#confirm-dialog button[value=no]")
    page.fill("#timeline", "3")
    wait_until(page, "window.miniatureOffice.ui.view.tick === 3")
    problems["replay"] = axe_violations(page)
    assert {k: v for k, v in problems.items() if v} == {}


def test_agent_panel_announces_changes_not_rerenders(page: Any, server: Server) -> None:
    open_office(page, server)
    agent = page.evaluate("window.miniatureOffice.agentIds()[4]")
    page.evaluate(
        f"document.querySelector('#staff-list button[data-agent-id=\"{agent}\"]').click()"
    )
    name = page.evaluate(f"window.miniatureOffice.live.agents.get('{agent}').name")
    page.locator("#agent-body .agent-name", has_text=name).wait_for()
    # the panel re-renders on every change of the agent; none of it sits in a live region
    assert page.locator("#agent-panel [aria-live], #agent-panel [role=status]").count() == 0
    page.evaluate("""() => { window.announced = [];
            new MutationObserver(() => window.announced.push(
                document.querySelector('#announcer').textContent))
                .observe(document.querySelector('#announcer'), { childList: true, subtree: true,
                                                                 characterData: true }); }""")
    start = page.evaluate("window.miniatureOffice.live.tick")
    wait_until(page, f"window.miniatureOffice.live.tick >= {start + 6}")
    announced = [a for a in page.evaluate("window.announced") if a]
    # only changes of what the selected agent does are spoken, each once, naming them
    assert all(a.startswith(name) for a in announced), announced
    assert all(a != b for a, b in zip(announced, announced[1:])), announced
    assert page.get_attribute("#audit-list", "tabindex") == "0"


def test_a_refused_replay_returns_to_live_instead_of_half_in_the_past(
    page: Any, server: Server
) -> None:
    open_office(page, server)
    body = {"error": {"code": "rate_limited", "message": "too many replays", "details": {}}}
    page.route(
        "**/api/world/replay*",
        lambda route: route.fulfill(
            status=429, content_type="application/json", body=json.dumps(body)
        ),
    )
    page.fill("#timeline", "2")
    page.wait_for_selector("#toast:has-text('too many replays')")
    wait_until(page, "document.querySelector('#run-state').dataset.state !== 'replay'")
    assert page.evaluate("window.miniatureOffice.ui.replayTick") is None
    assert not page.evaluate("document.body.classList.contains('is-replaying')")
