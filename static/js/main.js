// Wires the page together: the live store, the canvas, board, panels, charts and controls.
import { api, get, post } from "./api.js";
import { initAuth } from "./auth.js";
import { AgentPanel, renderStaffList } from "./agent-panel.js";
import { AuditStream } from "./audit.js";
import { Board, openTaskDialog } from "./board.js";
import { Charts } from "./charts.js";
import { $, $$, el, isTypingTarget, replaceChildren, setText } from "./dom.js";
import { initForms, prepareDismiss, refreshFormOptions } from "./forms.js";
import { connectLive } from "./live.js";
import { OfficeView } from "./office.js";
import { WorldStore } from "./store.js";

const live = new WorldStore();
const ui = {
  view: live, // the live store, or a replayed one while time travelling
  replayTick: null,
  floorId: null,
  selectedAgent: null,
  dirty: true,
  liveRows: null, // the live flow history, kept aside while time travelling
  connection: "connecting",
};

const agentName = (id) => {
  const agent = ui.view.agents.get(id) || live.agents.get(id);
  return agent ? `${agent.name} (${id})` : id;
};

const office = new OfficeView($("#office-canvas"), { onAgentClick: (id) => selectAgent(id) });
const board = new Board($("#board-columns"), {
  onOpenTask: (id) => openTaskDialog(id, ui.view, agentName),
  agentName,
});
const panel = new AgentPanel($("#agent-panel"), {
  onOpenTask: (id) => openTaskDialog(id, ui.view, agentName),
  onDismiss: (agent) => prepareDismiss(agent),
  onClose: () => {
    ui.selectedAgent = null;
    office.select(null);
    ui.dirty = true;
  },
});
const audit = new AuditStream($("#audit"));
const charts = new Charts($("#charts"));

function selectAgent(id) {
  ui.selectedAgent = id;
  office.select(id);
  panel.show(id, ui.view);
  ui.dirty = true;
}

// ---- floors ---------------------------------------------------------------------------------

function pickFloor(floorId) {
  ui.floorId = floorId;
  office.setFloor(floorId);
  board.setFloor(floorId);
  for (const button of $$("#floor-picker button")) {
    button.setAttribute("aria-pressed", String((button.dataset.floor || null) === floorId));
  }
  setText($("#office-heading"), floorId ? `Floor: ${live.floorById(floorId)?.name || floorId}` : "The building: every floor");
  ui.dirty = true;
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
      text: `${i + 1} ${floor.name || floor.id}`,
    });
    b.addEventListener("click", () => pickFloor(floor.id));
    return b;
  });
  replaceChildren(picker, [all, ...buttons]);
  if (ui.floorId && !live.floorById(ui.floorId)) pickFloor(null);
  else pickFloor(ui.floorId);
}

// ---- header: clock, run state, connection -------------------------------------------------

function clockText(store) {
  const perDay = store.header.ticks_per_day || 8;
  const tick = store.tick;
  const day = Math.floor(tick / perDay) + 1;
  const hour = 9 + (tick % perDay);
  return `Day ${day}, ${String(hour).padStart(2, "0")}:00`;
}

function renderHeader() {
  const clock = $("#clock");
  setText($("#clock-time"), clockText(ui.view));
  setText($("#clock-tick"), `tick ${ui.view.tick}`);
  clock.dataset.tick = String(ui.view.tick);
  const running = Boolean(live.header.running);
  const state = $("#run-state");
  setText(state, running ? `Running ×${live.header.speed}` : "Paused");
  state.dataset.state = running ? "running" : "paused";
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
  slider.max = String(live.tick);
  if (ui.replayTick === null) slider.value = String(live.tick);
  slider.setAttribute("aria-valuetext", ui.replayTick === null ? `live, tick ${live.tick}` : `tick ${ui.replayTick}`);
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
}

// ---- rendering ----------------------------------------------------------------------------

let leadsCharted = null; // [store, version] whose lead times the charts show

function renderAll() {
  const store = ui.view;
  renderFloorPicker();
  renderHeader();
  board.render(store);
  panel.render(store);
  renderStaffList($("#staff-list"), store, ui.floorId, ui.selectedAgent, selectAgent);
  refreshFormOptions(live);
  if (!leadsCharted || leadsCharted[0] !== store || leadsCharted[1] !== store.version) {
    charts.setLeadTimes([...store.leadTimes.values()]); // marks every chart for a redraw
    leadsCharted = [store, store.version];
  }
  $("#canvas-summary").textContent = summary(store);
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

let lastUi = 0;
function frame(now) {
  if (ui.dirty && now - lastUi > 150) {
    ui.dirty = false;
    lastUi = now;
    renderAll();
  }
  charts.maybeDraw(now);
  requestAnimationFrame(frame);
}

// ---- live updates -------------------------------------------------------------------------

async function loadHistory() {
  try {
    const data = await get("/api/flow/history?limit=2000");
    const rows = data.history || data.rows || [];
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
  if (ui.replayTick === null) office.setStore(live);
  if (first || restarted || ui.reconnected) {
    ui.reconnected = false;
    loadHistory();
    audit.reload();
  }
  setText($("#sync-state"), `Last full snapshot: tick ${live.tick}.`);
  ui.dirty = true;
}

function onTick(message) {
  const tick = message.tick;
  if (tick <= live.tick) return true; // already in the snapshot
  if (tick !== live.tick + 1) return false; // a gap: ask for a resync
  const elevatorBefore = live.elevator;
  const moved = live.applyTick(message);
  if (ui.replayTick === null) {
    office.onTick(moved, elevatorBefore);
    charts.push(message.flow);
  } else if (ui.liveRows && message.flow) {
    ui.liveRows.push(message.flow);
  }
  audit.add(message.events);
  ui.dirty = true;
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
    ui.dirty = true;
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

function scrubTo(tick) {
  if (tick >= live.tick) return backToLive();
  if (ui.replayTick === null) ui.liveRows = charts.rows;
  ui.replayTick = tick;
  document.body.classList.add("is-replaying");
  $("#btn-live").hidden = false;
  setText($("#replay-state"), `Viewing tick ${tick} (loading…)`);
  clearTimeout(replayTimer);
  replayTimer = setTimeout(() => loadReplay(tick), 180);
  return undefined;
}

async function loadReplay(tick) {
  const request = ++replayRequest;
  try {
    const data = await get(`/api/world/replay?tick=${tick}`);
    if (request !== replayRequest || ui.replayTick === null) return;
    const store = new WorldStore();
    store.loadSnapshot(data.snapshot || data);
    ui.view = store;
    office.setStore(store);
    charts.setHistory(data.flow_history || []);
    setText($("#replay-state"), `Viewing tick ${tick}: ${clockText(store)} (the past; live continues at tick ${live.tick})`);
    ui.dirty = true;
  } catch (err) {
    setText($("#replay-state"), `Could not rebuild tick ${tick}: ${err.message}`);
  }
}

function backToLive() {
  replayRequest += 1;
  clearTimeout(replayTimer);
  ui.replayTick = null;
  ui.view = live;
  office.setStore(live);
  if (ui.liveRows) charts.setHistory(ui.liveRows);
  ui.liveRows = null;
  document.body.classList.remove("is-replaying");
  $("#btn-live").hidden = true;
  setText($("#replay-state"), "Live");
  ui.dirty = true;
}

// ---- keyboard -----------------------------------------------------------------------------

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTypingTarget(event.target) || document.querySelector("dialog[open]")) return;
  const onButton = event.target instanceof Element && event.target.closest("button, a, summary, [role=button]");
  if (event.key === " " && !onButton) {
    event.preventDefault();
    control("toggle");
  } else if (event.key === ".") {
    event.preventDefault();
    control("step");
  } else if (/^[0-9]$/.test(event.key)) {
    const index = Number(event.key);
    if (index === 0) pickFloor(null);
    else if (live.floors[index - 1]) pickFloor(live.floors[index - 1].id);
    else return;
    event.preventDefault();
  }
}

// ---- start --------------------------------------------------------------------------------

function start() {
  initAuth();
  initForms(() => live);
  $("#btn-toggle").addEventListener("click", () => control("toggle"));
  $("#btn-step").addEventListener("click", () => control("step"));
  $("#speed").addEventListener("change", () => control("speed"));
  $("#btn-export").addEventListener("click", exportCsv);
  $("#timeline").addEventListener("input", (event) => scrubTo(Number(event.target.value)));
  $("#btn-live").addEventListener("click", backToLive);
  $("#task-dialog-close").addEventListener("click", () => $("#task-dialog").close());
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
  office.setStore(live);
  office.start();
  requestAnimationFrame(frame);
  // a handle for tests and for poking at the office from the devtools console
  window.miniatureOffice = {
    live,
    ui,
    locateAgent: (id) => office.locate(id),
    agentIds: (floorId = null) => [...ui.view.agents.values()].filter((a) => !floorId || a.floor_id === floorId).map((a) => a.id),
  };
}

start();
