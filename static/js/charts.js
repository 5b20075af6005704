// Flow charts (uPlot): cumulative flow, throughput per day, lead time distribution,
// utilisation and queue length per role, and the current bottleneck named in text.
import uPlot from "../vendor/uPlot.esm.js";
import { $, el, humanRole, humanState, percent, replaceChildren, setText } from "./dom.js";
import { ROLE_COLOURS, ROLE_LETTERS, ROLES } from "./sprites.js";
import { hours } from "./words.js";

const MAX_ROWS = 2000; // the most points any chart gets (one per pixel is enough)
const CFD_ORDER = ["deployed", "merged", "approval", "in_review", "in_progress", "scheduled", "blocked"];
const STATE_COLOURS = {
  scheduled: "#7f8c8d", in_progress: "#f08c2e", in_review: "#3d8ef0", approval: "#9b6ee8",
  merged: "#1abc9c", deployed: "#3dbb5c", blocked: "#e0463f",
};
const AXIS = { stroke: "#c8d0da", grid: { stroke: "#2d3340", width: 1 }, ticks: { stroke: "#2d3340" } };

function remPx() {
  return parseFloat(getComputedStyle(document.documentElement).fontSize) || 14;
}

/** Axes whose lettering follows the page's font size (readable on a 4K screen too). */
function axes(yLabel, xLabel = "tick") {
  const rem = remPx();
  const font = `${Math.round(rem * 0.8)}px ui-monospace, monospace`;
  const labelFont = `bold ${Math.round(rem * 0.85)}px ui-monospace, monospace`;
  const common = { ...AXIS, font, labelFont, labelSize: Math.round(rem * 1.3) };
  return [
    { ...common, label: xLabel, size: Math.round(rem * 2.2) },
    { ...common, label: yLabel, size: Math.round(rem * 3.4) },
  ];
}

const SMOOTHING = 24; // ticks: three working days

/** Mean of the last ``window`` values at each point (utilisation flickers tick to tick). */
function rollingMean(values, window) {
  const out = [];
  let sum = 0;
  let count = 0;
  values.forEach((v, i) => {
    if (v !== null) { sum += v; count += 1; }
    const old = i - window >= 0 ? values[i - window] : null;
    if (old !== null && i - window >= 0) { sum -= old; count -= 1; }
    out.push(count ? sum / count : null);
  });
  return out;
}

function histogram(values) {
  if (!values.length) return [[], []];
  const max = Math.max(...values);
  const width = Math.max(1, Math.ceil((max + 1) / 16));
  const bins = Math.floor(max / width) + 1;
  const xs = Array.from({ length: bins }, (_, i) => i * width);
  const ys = new Array(bins).fill(0);
  for (const v of values) ys[Math.floor(v / width)] += 1;
  return [xs, ys];
}

/**
 * Merge every ``factor`` consecutive rows into one, as the server's ``?points=`` does: the last
 * row of each group, with the group's throughput summed and utilisation averaged.
 */
export function thinRows(rows, factor) {
  if (factor <= 1) return rows;
  const out = [];
  for (let i = 0; i < rows.length; i += factor) {
    const group = rows.slice(i, i + factor);
    const last = group[group.length - 1];
    const utilisation = {};
    for (const role of Object.keys(last.utilisation || {})) {
      utilisation[role] = group.reduce((sum, r) => sum + (r.utilisation?.[role] ?? 0), 0) / group.length;
    }
    out.push({
      ...last,
      throughput: group.reduce((sum, r) => sum + (r.throughput || 0), 0),
      utilisation,
      span: group.reduce((sum, r) => sum + (r.span || 1), 0),
    });
  }
  return out;
}

export class Charts {
  constructor(root) {
    this.root = root;
    this.rows = [];
    this.leadTimes = [];
    this.plots = {};
    this.dirty = true;
    this.lastDraw = 0;
    this.maxRows = MAX_ROWS;
    this.timer = 0;
    this.perDay = 8;
    this.bottleneck = $("#bottleneck");
    this.nowTable = $("#roles-now tbody");
    this.leadSummary = $("#lead-summary");
    this.build();
    new ResizeObserver(() => this.resize()).observe(root);
  }

  make(id, opts, data) {
    const host = $(`#${id}`, this.root);
    const width = Math.max(240, host.clientWidth || 320);
    const plot = new uPlot({ width, height: this.height(), legend: { live: true }, cursor: { drag: { x: false, y: false } }, ...opts }, data, host);
    this.plots[id] = plot;
    return plot;
  }

  height() {
    return Math.round(remPx() * 11);
  }

  build() {
    const cfdSeries = [...CFD_ORDER].reverse().map((state) => ({
      label: humanState(state),
      stroke: STATE_COLOURS[state],
      fill: STATE_COLOURS[state] + "cc",
      width: 1,
      points: { show: false },
      value: (u, v, si, di) => (di === null || di === undefined ? "—" : String(this.rawState(state, di))),
    }));
    this.make("chart-cfd", { scales: { x: { time: false } }, axes: axes("tasks"), series: [{ label: "tick" }, ...cfdSeries] },
      [[], ...cfdSeries.map(() => [])]);
    const bars = uPlot.paths.bars({ size: [0.7, 60] });
    this.make("chart-throughput", {
      scales: { x: { time: false } },
      axes: axes("tasks deployed", "day"),
      series: [{ label: "day" }, { label: "deployed", stroke: "#3dbb5c", fill: "#3dbb5caa", paths: bars, points: { show: false } }],
    }, [[], []]);
    this.make("chart-lead", {
      scales: { x: { time: false } },
      axes: axes("directives", "lead time (hours)"),
      series: [{ label: "lead time ≥" }, { label: "directives", stroke: "#9b6ee8", fill: "#9b6ee8aa", paths: bars, points: { show: false } }],
    }, [[], []]);
    const roleSeries = ROLES.map((role) => ({ label: humanRole(role), stroke: ROLE_COLOURS[role], width: 2, points: { show: false } }));
    this.make("chart-util", {
      scales: { x: { time: false }, y: { range: [0, 1] } },
      axes: axes("utilisation"),
      series: [{ label: "tick" }, ...roleSeries.map((s) => ({ ...s, value: (u, v) => (v === null ? "—" : percent(v)) }))],
    }, [[], ...ROLES.map(() => [])]);
    this.make("chart-queue", {
      scales: { x: { time: false } },
      axes: axes("queued items"),
      series: [{ label: "tick" }, ...roleSeries],
    }, [[], ...ROLES.map(() => [])]);
  }

  rawState(state, index) {
    const row = this.rows[index];
    return row ? row.states?.[state] ?? 0 : 0;
  }

  /** Charts in a hidden tab are not drawn; they catch up when shown. */
  visible() {
    return this.root.offsetParent !== null;
  }

  resize() {
    if (!this.visible()) return;
    for (const [id, plot] of Object.entries(this.plots)) {
      const host = $(`#${id}`, this.root);
      const width = Math.max(240, host.clientWidth);
      if (Math.abs(plot.width - width) > 2) plot.setSize({ width, height: this.height() });
    }
    this.markDirty();
  }

  setMaxRows(points) {
    this.maxRows = Math.max(100, Math.min(MAX_ROWS, points));
  }

  setHistory(rows) {
    this.rows = rows || [];
    this.trim();
    this.markDirty();
  }

  /** Keep at most ``maxRows`` points: halve the resolution when twice that many arrived. */
  trim() {
    if (this.rows.length > this.maxRows * 2) this.rows = thinRows(this.rows, 2);
  }

  markDirty() {
    this.dirty = true;
    if (this.timer || !this.visible()) return;
    const wait = Math.max(0, 250 - (performance.now() - this.lastDraw));
    this.timer = setTimeout(() => {
      this.timer = 0;
      if (this.dirty && this.visible()) this.draw();
    }, wait);
  }

  push(row) {
    if (!row) return;
    const last = this.rows[this.rows.length - 1];
    if (last && row.tick <= last.tick) {
      // a restarted server or a replay: keep only rows before this tick
      this.rows = this.rows.filter((r) => r.tick < row.tick);
    }
    this.rows.push(row);
    this.trim();
    this.markDirty();
  }

  setLeadTimes(values, perDay = 8) {
    this.leadTimes = values;
    this.perDay = perDay;
    this.markDirty();
  }

  draw() {
    this.dirty = false;
    this.lastDraw = performance.now();
    const rows = this.rows;
    const ticks = rows.map((r) => r.tick);
    // cumulative flow: stack from deployed upwards, drawn top band first
    const cumulative = [];
    let running = rows.map(() => 0);
    for (const state of CFD_ORDER) {
      running = running.map((sum, i) => sum + (rows[i].states?.[state] ?? 0));
      cumulative.push(running);
    }
    this.plots["chart-cfd"].setData([ticks, ...cumulative.reverse()]);
    const perDay = new Map();
    for (const r of rows) perDay.set(r.day + 1, (perDay.get(r.day + 1) || 0) + (r.throughput || 0));
    const days = [...perDay.keys()].sort((a, b) => a - b);
    this.plots["chart-throughput"].setData([days, days.map((d) => perDay.get(d))]);
    this.plots["chart-lead"].setData(histogram(this.leadTimes));
    this.plots["chart-util"].setData([ticks, ...ROLES.map((role) => rollingMean(rows.map((r) => r.utilisation?.[role] ?? null), SMOOTHING))]);
    this.plots["chart-queue"].setData([ticks, ...ROLES.map((role) => rows.map((r) => r.queue?.[role] ?? null))]);
    this.renderNow(rows[rows.length - 1]);
  }

  renderNow(row) {
    if (!row) {
      setText(this.bottleneck, "Bottleneck: not enough data yet");
      replaceChildren(this.nowTable, []);
      return;
    }
    setText(this.bottleneck, row.bottleneck ? `Bottleneck: ${humanRole(row.bottleneck)}` : "Bottleneck: none");
    this.bottleneck.dataset.role = row.bottleneck || "";
    replaceChildren(this.nowTable, ROLES.map((role) => el("tr", { class: role === row.bottleneck ? "is-bottleneck" : "" }, [
      el("th", { scope: "row" }, [el("span", { class: `role-badge role-${role}`, "aria-hidden": "true", text: ROLE_LETTERS[role] }), " ", humanRole(role)]),
      el("td", { text: percent(row.utilisation?.[role]) }),
      el("td", { text: `${row.queue?.[role] ?? 0} items` }),
    ])));
    const median = row.lead_time_median;
    const p85 = row.lead_time_p85;
    // the same count the "Tasks deployed per day" chart shows, over the last working day
    const lastDay = this.rows.filter((r) => r.tick > row.tick - this.perDay).reduce((sum, r) => sum + (r.throughput || 0), 0);
    const flow = `${row.wip} tasks in progress, ${row.blocked} blocked, ${lastDay} tasks deployed in the last day`;
    setText(this.leadSummary, median === null || median === undefined
      ? `Lead time: nothing deployed yet. ${flow}.`
      : `Lead time of directives: median ${hours(median, this.perDay)}, 85th percentile ${hours(p85, this.perDay)}. ${flow}.`);
  }
}
