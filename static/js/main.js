// Wires the page together: the live store, the map, board, panels, charts and controls, the
// view kept in the URL, replay of the past and the engine's health.
import { api, get, post } from "./api.js";
import { initAuth } from "./auth.js";
import { AgentPanel, renderStaffList } from "./agent-panel.js";
import { AuditStream } from "./audit.js";
import { Board, openTaskDialog } from "./board.js";
import { Charts } from "./charts.js";
import { Consigliere, listenForJobs } from "./consigliere.js";
import { $, $$, el, humanRole, isTypingTarget, replaceChildren, setText } from "./dom.js";
import { initForms, prepareDismiss, refreshFormOptions } from "./forms.js";
import { EngineHealth } from "./health.js";
import { HistoryPanel } from "./history.js";
import { connectLive } from "./live.js";
import { OfficeView } from "./office.js";
import { STATUS_COLOURS, statusIcon } from "./sprites.js";
import { WorldStore } from "./store.js";
import { describeAgent, eventSentence, kindOf, nameOf } from "./words.js";

const live = new WorldStore();
const ui = {
  view: live, // the live store, or a replayed one while time travelling
  replayTick: null,
  floorId: null,
  selectedAgent: null,
  openTask: null,
  tab: "now",
  liveRows: null, // the live flow history, kept aside while time travelling
  connection: "connecting",
};
const VIEWS = ["office", "now", "board", "charts", "audit", "steer", "history"];
const FEED_KEEP = 40;
const PAN_STEP = 48; // CSS pixels per arrow key press

const agentName = (id) => nameOf(ui.view, id);
const openTask = (id) => {
  ui.openTask = id;
  saveUrl();
  openTaskDialog(id, ui.view, agentName, { onAgent: selectAgent });
};

const office = new OfficeView($("#office-canvas"), {
  onAgentClick: (id) => selectAgent(id),
  onViewChange: () => renderFollow(),
  tooltip: $("#office-tooltip"),
  describe: (agent) => describeAgent(ui.view, agent),
});
const consigliere = new Consigliere({
  store: () => live,
  toast: (text, kind) => toast(text, kind),
  announce: (text) => announce(text),
  onChange: () => office.invalidate(),
});
const board = new Board($("#board-columns"), { onOpenTask: openTask, agentName, onWhy: (id) => consigliere.explain(id) });
const panel = new AgentPanel($("#agent-panel"), {
  onOpenTask: openTask,
  onDismiss: (agent) => {
    showTab("steer");
    prepareDismiss(agent);
  },
  onClose: () => {
    ui.selectedAgent = null;
    office.select(null);
    renderFollow();
    saveUrl();
    invalidate();
  },
  announce: (text) => announce(text),
});
const audit = new AuditStream($("#audit"), {
  store: () => ui.view,
  onAgent: (id) => selectAgent(id),
  onTask: openTask,
});
const charts = new Charts($("#charts"));
new HistoryPanel($("#history"));
const health = new EngineHealth($("#engine-banner"), {
  live,
  connection: () => ui.connection,
  onChange: () => invalidate(),
});

function selectAgent(id) {
  ui.selectedAgent = id;
  office.select(id);
  panel.show(id, ui.view);
  if (id && ui.tab !== "now" && ui.tab !== "office") showTab("now");
  renderFollow();
  saveUrl();
  invalidate();
}

function announce(text) {
  setText($("#announcer"), text);
}

// ---- tabs and the URL ---------------------------------------------------------------------

function showTab(view) {
  if (!VIEWS.includes(view)) view = "now";
  ui.tab = view;
  document.body.dataset.view = view;
  for (const tab of $$("[role=tab]")) tab.setAttribute("aria-selected", String(tab.dataset.view === view));
  if (view === "charts") charts.resize();
  if (view === "office") office.resize();
  saveUrl();
}

/** The URL holds what is on screen: ?view=&floor=&agent=&task=&tick= (open it to restore). */
function saveUrl() {
  if (!ui.started) return; // until the first snapshot restored the view the URL asked for
  const params = new URLSearchParams();
  if (ui.tab !== "now") params.set("view", ui.tab);
  if (ui.floorId) params.set("floor", ui.floorId);
  if (ui.selectedAgent) params.set("agent", ui.selectedAgent);
  if (ui.openTask) params.set("task", ui.openTask);
  if (ui.replayTick !== null) params.set("tick", String(ui.replayTick));
  const query = params.toString();
  const url = `${location.pathname}${query ? `?${query}` : ""}`;
  if (url !== `${location.pathname}${location.search}`) history.replaceState(null, "", url);
}

function restoreFromUrl() {
  const params = new URLSearchParams(location.search);
  ui.started = true; // from now on the URL follows the view
  const floor = params.get("floor");
  if (floor && live.floorById(floor)) pickFloor(floor);
  const agent = params.get("agent");
  if (agent && live.agents.has(agent)) selectAgent(agent);
  const tick = params.get("tick");
  if (tick !== null && /^\d+$/.test(tick) && Number(tick) < live.tick) scrubTo(Number(tick), { immediate: true });
  showTab(params.get("view") || "now");
  const task = params.get("task");
  if (task) openTask(task);
}

// ---- floors ---------------------------------------------------------------------------------

function pickFloor(floorId) {
  ui.floorId = floorId;
  office.setFloor(floorId);
  board.setFloor(floorId);
  for (const button of $$("#floor-picker button")) {
    button.setAttribute("aria-pressed", String((button.dataset.floor || null) === floorId));
  }
  setText($("#office-heading"), floorId ? `Floor: ${live.floorById(floorId)?.name || floorId}` : "The building");
  saveUrl();
  invalidate();
}

/** "Python department" -> "Python", " department" (the rest is hidden on a phone). */
function splitName(name) {
  const [first, ...rest] = String(name).split(" ");
  return rest.length ? [first, el("span", { class: "name-rest", text: ` ${rest.join(" ")}` })] : [first];
}

function renderFloorPicker() {
  const picker = $("#floor-picker");
  const key = live.floors.map((f) => f.id).join("|");
  if (picker.dataset.key === key) return;
  picker.dataset.key = key;
  const all = el("button", { type: "button", "aria-pressed": "true", "aria-keyshortcuts": "0", text: "All floors" });
  all.addEventListener("click", () => pickFloor(null));
  const buttons = live.floors.map((floor, i) => {
    const b = el("button", {
      type: "button", dataset: { floor: floor.id }, "aria-pressed": "false",
      "aria-keyshortcuts": i < 9 ? String(i + 1) : undefined,
    }, [`${i + 1} `, ...splitName(floor.name || floor.id)]);
    b.addEventListener("click", () => pickFloor(floor.id));
    return b;
  });
  replaceChildren(picker, [all, ...buttons]);
  if (ui.floorId && !live.floorById(ui.floorId)) pickFloor(null);
  else pickFloor(ui.floorId);
}

function renderFollow() {
  const button = $("#agent-follow");
  const on = Boolean(ui.selectedAgent) && office.followed === ui.selectedAgent;
  button.setAttribute("aria-pressed", String(on));
  setText(button, on ? "Stop following" : "Follow");
}

// ---- header: clock, run state, connection -------------------------------------------------

function dayOf(store, tick) {
  return Math.floor(tick / (store.header.ticks_per_day || 8)) + 1;
}

function clockText(store) {
  const perDay = store.header.ticks_per_day || 8;
  const tick = store.tick;
  const hour = 9 + (tick % perDay);
  return `Day ${dayOf(store, tick)}, ${String(hour).padStart(2, "0")}:00`;
}

function renderHeader() {
  const clock = $("#clock");
  setText($("#clock-time"), clockText(ui.view));
  setText($("#clock-tick"), `tick ${ui.view.tick}`);
  clock.dataset.tick = String(ui.view.tick);
  const running = Boolean(live.header.running);
  const state = $("#run-state");
  if (ui.replayTick !== null) {
    setText(state, `Viewing tick ${ui.replayTick} (day ${dayOf(live, ui.replayTick)}) — the past`);
    state.dataset.state = "replay";
  } else if (health.down) {
    setText(state, "Engine stopped");
    state.dataset.state = "stopped";
  } else {
    setText(state, running ? `Running ×${live.header.speed}` : "Paused");
    state.dataset.state = running ? "running" : "paused";
  }
  const toggle = $("#btn-toggle");
  setText(toggle, running ? "Pause" : "Resume");
  toggle.setAttribute("aria-pressed", String(!running));
  $("#btn-step").disabled = running;
  const speed = $("#speed");
  if (document.activeElement !== speed) {
    const value = String(live.header.speed);
    if (![...speed.options].some((o) => o.value === value)) speed.append(el("option", { value, text: `×${value}` }));
    speed.value = value;
  }
  const slider = $("#timeline");
  // the slider reaches the last scheduled change (marked on it); past the live tick it is the future
  slider.max = String(Math.max(live.tick, ...(live.header.proposals || []).map((p) => p.activate_tick)));
  if (ui.replayTick === null) slider.value = String(live.tick);
  slider.setAttribute("aria-valuetext", ui.replayTick === null ? `live, tick ${live.tick}` : `tick ${ui.replayTick}, day ${dayOf(live, ui.replayTick)}`);
  $("#btn-replay-play").disabled = ui.replayTick === null;
}

function setConnection(state, detail = "") {
  ui.connection = state;
  const node = $("#connection");
  node.dataset.state = state;
  const text = {
    connected: "Live",
    connecting: "Connecting…",
    reconnecting: "Disconnected: reconnecting…",
    disconnected: "Disconnected",
  }[state] || state;
  setText(node, text);
  node.title = detail ? String(detail) : "";
  health.update();
}

// ---- rendering: only when something changed, at most about seven times a second -----------

let renderTimer = 0;
let lastRender = 0;
let leadsCharted = null; // [store, version] whose lead times the charts show

function invalidate() {
  if (renderTimer) return;
  const wait = Math.max(0, 150 - (performance.now() - lastRender));
  renderTimer = setTimeout(() => {
    renderTimer = 0;
    lastRender = performance.now();
    renderAll();
  }, wait);
}

function renderAll() {
  const store = ui.view;
  renderFloorPicker();
  renderHeader();
  board.render(store);
  panel.render(store);
  renderStaffList($("#staff-list"), store, ui.floorId, ui.selectedAgent, selectAgent, {
    onFocus: (id) => office.showTooltipFor(id),
    onBlur: () => office.hideTooltip(),
  });
  refreshFormOptions(live);
  consigliere.render(store, live);
  if (!leadsCharted || leadsCharted[0] !== store || leadsCharted[1] !== store.version) {
    charts.setLeadTimes([...store.leadTimes.values()], store.header.ticks_per_day || 8);
    leadsCharted = [store, store.version];
  }
  setText($("#canvas-summary"), summary(store));
}

function summary(store) {
  const floors = store.floors.map((f) => {
    const agents = store.agentsOn(f.id);
    const busy = agents.filter((a) => ["working", "reviewing", "in_meeting"].includes(a.status)).length;
    return `${f.name || f.id}: ${agents.length} people, ${busy} busy`;
  });
  const elevator = store.elevator;
  const lift = elevator ? `Lift at floor ${elevator.level + 1}${elevator.cargo ? ", carrying a contract" : ""}.` : "";
  return `${floors.join("; ")}. ${lift}`;
}

// ---- the "now" feed: the newest events as sentences ----------------------------------------

const FEED_KINDS = /^(task\.assigned|review\.(assigned|completed)|directive\.(created|deployed|designed|assigned)|agent\.|vote\.closed|command\.rejected|task\.transition$)/;

function addToFeed(events, store, most = 6) {
  const interesting = (events || []).filter((e) => FEED_KINDS.test(e.kind));
  if (!interesting.length) return;
  const list = $("#now-feed");
  const waitingReview = [...store.tasks.values()].filter((t) => t.state === "in_review").length;
  const items = interesting.slice(-most).reverse().map((event) => {
    let sentence = eventSentence(store, event);
    if (event.kind === "review.assigned") sentence += ` — ${waitingReview} in review`;
    const when = el("span", { class: "when", text: clockText({ tick: event.tick, header: store.header }) });
    // the sentence opens what it is about: the task, else the person
    const about = [event.target, event.data?.agent, event.actor].find((id) => kindOf(store, id));
    if (!about) return el("li", {}, [when, sentence]);
    const open = el("button", { type: "button", class: "link feed-link", text: sentence });
    open.addEventListener("click", () => (kindOf(ui.view, about) === "agent" ? selectAgent(about) : openTask(about)));
    return el("li", {}, [when, open]);
  });
  list.prepend(...items);
  while (list.children.length > FEED_KEEP) list.lastElementChild.remove();
}

// ---- live updates -------------------------------------------------------------------------

/** How many chart points the page can use: one per pixel of the widest chart, no more. */
function chartPoints() {
  const widest = Math.max(320, ...$$(".chart").map((c) => c.clientWidth || 0), window.innerWidth / 2);
  return Math.min(2000, Math.round(widest));
}

async function loadHistory() {
  try {
    const points = chartPoints();
    const data = await get(`/api/flow/history?points=${points}`);
    const rows = data.history || data.rows || [];
    charts.setMaxRows(points);
    if (ui.replayTick === null) charts.setHistory(rows);
    else ui.liveRows = rows;
  } catch (err) {
    toast(`Flow history unavailable: ${err.message}`, "error");
  }
}

function onSnapshot(snapshot) {
  const restarted = snapshot.tick < live.tick || snapshot.seed !== live.header.seed;
  const first = !live.floors.length;
  if (restarted) live.leadTimes.clear();
  live.loadSnapshot(snapshot);
  health.sawTick();
  if (ui.replayTick === null) office.setStore(live);
  if (first || restarted || ui.reconnected) {
    ui.reconnected = false;
    loadHistory();
    if (ui.replayTick === null) {
      audit.reload().then(() => {
        // start the feed with what happened just before the page opened
        if (!$("#now-feed").children.length) addToFeed([...audit.events].reverse(), live, 12);
      });
    }
  }
  setText($("#sync-state"), `Last full snapshot: tick ${live.tick}.`);
  if (first) {
    renderAll();
    restoreFromUrl();
  }
  invalidate();
}

function onTick(message) {
  const tick = message.tick;
  if (tick <= live.tick) return true; // already in the snapshot
  if (tick !== live.tick + 1) return false; // a gap: ask for a resync
  const elevatorBefore = live.elevator;
  const moved = live.applyTick(message);
  health.sawTick();
  if (ui.replayTick === null) {
    office.onTick(moved, elevatorBefore);
    charts.push(message.flow);
    audit.add(message.events);
    addToFeed(message.events, live);
  } else if (ui.liveRows && message.flow) {
    ui.liveRows.push(message.flow);
  }
  invalidate();
  return true;
}

function onCommand(command, applied) {
  if (!applied) toast(`Command ${command.seq} (${command.kind}) was refused: ${command.reason}`, "error");
  else if (!live.header.running) connection.resync();
}

function toast(message, kind = "info") {
  const node = $("#toast");
  node.className = `toast ${kind}`;
  setText(node, message);
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => setText(node, ""), 6000);
}

let connection = null;

// ---- controls -----------------------------------------------------------------------------

async function control(action) {
  try {
    if (action === "toggle") {
      const running = live.header.running;
      await post(running ? "/api/world/stop" : "/api/world/resume");
      live.header.running = !running; // the snapshot that follows confirms it
    } else if (action === "step") {
      if (live.header.running) {
        toast("Pause the office first, then step one tick at a time.");
        return;
      }
      await post("/api/world/step", {});
    } else if (action === "speed") {
      await post("/api/world/speed", { speed: Number($("#speed").value) });
    }
    connection.resync();
    invalidate();
  } catch (err) {
    toast(err.message, "error");
  }
}

async function exportCsv() {
  try {
    const response = await api("GET", "/api/flow/export.csv", undefined, { raw: true });
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: `miniature-office-flow-tick-${live.tick}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) {
    toast(`Export failed: ${err.message}`, "error");
  }
}

// ---- time travel --------------------------------------------------------------------------

let replayTimer = null;
let replayRequest = 0;
let playTimer = null;

function scrubTo(tick, { immediate = false } = {}) {
  if (tick >= live.tick) return backToLive();
  if (ui.replayTick === null) ui.liveRows = charts.rows;
  ui.replayTick = tick;
  document.body.classList.add("is-replaying");
  $("#btn-live").hidden = false;
  $("#timeline").value = String(tick);
  setText($("#replay-state"), `Viewing tick ${tick} (day ${dayOf(live, tick)}): loading…`);
  renderHeader();
  saveUrl();
  clearTimeout(replayTimer);
  // one request in flight at a time, and none while the slider is still moving
  replayTimer = setTimeout(() => loadReplay(tick), immediate ? 0 : 180);
  return undefined;
}

async function loadReplay(tick) {
  const request = ++replayRequest;
  try {
    const data = await get(`/api/world/replay?tick=${tick}`);
    if (request !== replayRequest || ui.replayTick === null) return false;
    const store = new WorldStore();
    store.loadSnapshot(data.snapshot || data);
    ui.view = store;
    office.setStore(store);
    charts.setHistory((ui.liveRows || []).filter((r) => r.tick <= tick));
    audit.showPast(tick);
    replaceChildren($("#now-feed"), []);
    setText($("#replay-state"), `Viewing tick ${tick}: ${clockText(store)}. Map, board, charts and audit show that moment; live is at tick ${live.tick}.`);
    invalidate();
    return true;
  } catch (err) {
    stopPlaying();
    if (request !== replayRequest) return false;
    // never half in the past: back to the tick still shown, or to live if none is
    if (ui.view === live) {
      backToLive();
    } else {
      ui.replayTick = ui.view.tick;
      $("#timeline").value = String(ui.view.tick);
      renderHeader();
      saveUrl();
    }
    toast(`Could not show tick ${tick}: ${err.message}`, "error");
    return false;
  }
}

function stopPlaying() {
  clearTimeout(playTimer);
  playTimer = null;
  const button = $("#btn-replay-play");
  button.setAttribute("aria-pressed", "false");
  setText(button, "Play");
}

/** Play the past forward at the chosen speed, one rebuilt tick at a time. */
function togglePlay() {
  if (playTimer !== null) return stopPlaying();
  const button = $("#btn-replay-play");
  button.setAttribute("aria-pressed", "true");
  setText(button, "Pause");
  const stepForward = async () => {
    if (ui.replayTick === null) return stopPlaying();
    const started = performance.now();
    const next = ui.replayTick + 1;
    if (next >= live.tick) return backToLive();
    ui.replayTick = next;
    $("#timeline").value = String(next);
    renderHeader();
    saveUrl();
    const ok = await loadReplay(next);
    if (!ok || playTimer === null) return undefined;
    const period = 1000 / Number($("#replay-speed").value);
    playTimer = setTimeout(stepForward, Math.max(0, period - (performance.now() - started)));
    return undefined;
  };
  playTimer = setTimeout(stepForward, 0);
  return undefined;
}

function backToLive() {
  stopPlaying();
  replayRequest += 1;
  clearTimeout(replayTimer);
  ui.replayTick = null;
  ui.view = live;
  office.setStore(live);
  if (ui.liveRows) charts.setHistory(ui.liveRows);
  ui.liveRows = null;
  document.body.classList.remove("is-replaying");
  $("#btn-live").hidden = true;
  setText($("#replay-state"), "Live: drag the slider to see an earlier tick.");
  audit.reload();
  if (ui.selectedAgent) panel.show(ui.selectedAgent, live);
  saveUrl();
  renderHeader();
  invalidate();
}

// ---- keyboard -----------------------------------------------------------------------------

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTypingTarget(event.target) || document.querySelector("dialog[open]")) return;
  const onButton = event.target instanceof Element && event.target.closest("button, a, summary, [role=button], [role=tab]");
  const onMap = event.target === $("#office-canvas") || event.target === document.body;
  const arrows = { ArrowLeft: [PAN_STEP, 0], ArrowRight: [-PAN_STEP, 0], ArrowUp: [0, PAN_STEP], ArrowDown: [0, -PAN_STEP] };
  if (event.key === " " && !onButton) {
    event.preventDefault();
    control("toggle");
  } else if (event.key === ".") {
    event.preventDefault();
    control("step");
  } else if (event.key === "+" || event.key === "=") {
    event.preventDefault();
    office.zoomBy(1);
  } else if (event.key === "-" || event.key === "_") {
    event.preventDefault();
    office.zoomBy(-1);
  } else if (arrows[event.key] && onMap) {
    event.preventDefault();
    office.panBy(...arrows[event.key]);
  } else if (/^[0-9]$/.test(event.key)) {
    const index = Number(event.key);
    if (index === 0) pickFloor(null);
    else if (live.floors[index - 1]) pickFloor(live.floors[index - 1].id);
    else return;
    event.preventDefault();
  }
}

// ---- legend -------------------------------------------------------------------------------

function renderStatusLegend() {
  const items = Object.keys(STATUS_COLOURS).filter((s) => s !== "off_duty").map((status) => {
    const icon = statusIcon(status);
    let mark;
    if (icon) {
      mark = el("canvas", { width: String(icon.width), height: String(icon.height), "aria-hidden": "true" });
      mark.getContext("2d").drawImage(icon, 0, 0);
    } else {
      mark = el("span", { class: `light status-dot-${status}`, "aria-hidden": "true" });
      mark.style.background = STATUS_COLOURS[status];
    }
    return el("li", {}, [mark, ` ${status.replace("_", " ")}`]);
  });
  replaceChildren($("#status-legend"), items);
}

// ---- start --------------------------------------------------------------------------------

function start() {
  initAuth();
  initForms(() => live);
  consigliere.init();
  $("#agent-why").addEventListener("click", () => ui.selectedAgent && consigliere.explain(ui.selectedAgent));
  renderStatusLegend();
  $("#btn-toggle").addEventListener("click", () => control("toggle"));
  $("#btn-step").addEventListener("click", () => control("step"));
  $("#speed").addEventListener("change", () => control("speed"));
  $("#btn-export").addEventListener("click", exportCsv);
  $("#timeline").addEventListener("input", (event) => {
    stopPlaying();
    scrubTo(Number(event.target.value));
  });
  $("#btn-live").addEventListener("click", backToLive);
  $("#btn-replay-play").addEventListener("click", togglePlay);
  $("#zoom-in").addEventListener("click", () => office.zoomBy(1));
  $("#zoom-out").addEventListener("click", () => office.zoomBy(-1));
  $("#zoom-fit").addEventListener("click", () => office.resetView());
  $("#agent-follow").addEventListener("click", () => {
    office.follow(office.followed === ui.selectedAgent ? null : ui.selectedAgent);
  });
  $("#task-dialog").addEventListener("close", () => {
    ui.openTask = null;
    saveUrl();
  });
  $("#task-dialog-close").addEventListener("click", () => $("#task-dialog").close());
  for (const tab of $$("[role=tab]")) tab.addEventListener("click", () => showTab(tab.dataset.view));
  document.addEventListener("keydown", onKey);
  panel.show(null);
  setConnection("connecting");
  connection = connectLive({
    onConnection: (state, detail) => {
      if (state !== "connected" && ui.connection === "connected") ui.reconnected = true;
      setConnection(state, detail);
    },
    onSnapshot,
    onTick,
    onCommand,
  });
  listenForJobs(connection.socket);
  office.setStore(live);
  office.start();
  health.start();
  // a handle for tests, the benchmark and poking at the office from the devtools console
  window.miniatureOffice = {
    live,
    ui,
    office,
    health,
    consigliere,
    locateAgent: (id) => office.locate(id),
    agentIds: (floorId = null) => [...ui.view.agents.values()].filter((a) => !floorId || a.floor_id === floorId).map((a) => a.id),
    roleOf: (id) => humanRole(ui.view.agents.get(id)?.role || ""),
  };
}

start();
