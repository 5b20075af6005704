// The Consigliere and the Head of Security in the page: "What if" previews with a fan chart,
// "why?" explanations, the directive assessment, scheduled changes (proposals) and the holds
// (lockdowns, blocked deliveries). Every number shown comes from the server's model.
import uPlot from "../vendor/uPlot.esm.js";
import { get, post } from "./api.js";
import { $, el, humanRole, humanState, replaceChildren, setText } from "./dom.js";
import { nameOf, round } from "./words.js";

const POLL_MS = 1500; // only a fallback: progress comes over Socket.IO
// an assessment is a quick look: enough futures for its percentiles, a horizon of weeks
const ASSESS_FUTURES = 16;
const ASSESS_DAYS = 20;
const CAPABILITY = {
  compiler: "build", test_framework: "test", security_scanner: "scan", doc_generator: "docs", linter: "lint",
};
const SETTINGS = [
  ["settings.walk_speed", "Walk speed (tiles per hour)"],
  ["arrivals.max_open", "WIP limit (open directives)"],
  ["arrivals.rate_per_day", "Arrival rate (directives per day)"],
];
const ARM_COLOURS = { without: "#9aa5b4", with: "#3dbb5c" };

/** Words for ids inside a server sentence: "D-0001" -> "“Add login”", "floor python" -> "floor Python department". */
export function humanize(store, text) {
  return String(text || "")
    .replace(/\b[A-Z]{1,2}-\d{3,}\b/g, (id) => nameOf(store, id))
    .replace(/\b(floor|on) ([a-z][a-z0-9_+-]*)\b/g, (all, word, id) => {
      const floor = store.floorById(id);
      return floor ? `${word} ${floor.name || id}` : all;
    })
    .replace(/\bdoc_agent(\(s\))?/g, "DocAgent$1")
    .replace(/ \(\)/g, "")
    .replace(/\b(hire_agent|add_tool|set_setting|lockdown|lift_lockdown|block_delivery|unblock_delivery)\b/g, (k) => humanState(k));
}

/** One command in words ("hire a Verifier on Python department"). */
export function describeCommand(store, command) {
  const p = command.payload || {};
  const floor = (id) => (id === "building" ? "the whole building" : store.floorById(id)?.name || id);
  switch (command.kind) {
    case "hire_agent": return `hire a ${humanRole(p.role || "")} on ${floor(p.floor)}`;
    case "add_tool": return `add a ${humanState(p.kind || "tool")} slot on ${floor(p.floor)}`;
    case "set_setting": return `set ${(SETTINGS.find(([k]) => k === p.path) || [0, humanState(p.path)])[1]} to ${p.value}`;
    case "lockdown": return `lock down ${floor(p.scope)}`;
    case "lift_lockdown": return `lift the lockdown on ${floor(p.scope)}`;
    case "block_delivery": return `block the delivery of ${nameOf(store, p.directive_id)}`;
    case "unblock_delivery": return `unblock the delivery of ${nameOf(store, p.directive_id)}`;
    case "override_vote": return `override the vote ${p.vote_id || ""}`.trim();
    default: return humanState(command.kind);
  }
}

/** "2.3 days", or "beyond the horizon". */
function days(point) {
  if (!point || point.beyond_horizon || point.days === null || point.days === undefined) return "beyond the horizon";
  return `${round(point.days, 1)} days`;
}

const FINAL = (job) => !["running", "queued", "pending"].includes(job.state);
const listeners = new Map(); // job id -> callback for its Socket.IO "consigliere_job" events

/** Hear every job's progress pushed over the live connection (each future, then the result). */
export function listenForJobs(socket) {
  socket.on("consigliere_job", (job) => listeners.get(job?.id)?.(job));
}

/**
 * Wait for a job to end, reporting progress; resolves with the finished job. Progress arrives
 * over Socket.IO; a slow poll of the job's URL covers a dropped connection.
 */
async function follow(started, onProgress) {
  let done = null;
  let wake = () => {};
  listeners.set(started.id, (job) => {
    onProgress(job);
    if (FINAL(job) && job.result !== undefined) {
      done = job;
      wake();
    }
  });
  try {
    for (;;) {
      const job = await get(started.url);
      if (done) return done;
      onProgress(job);
      if (FINAL(job)) return job;
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, POLL_MS);
      });
      if (done) return done;
    }
  } finally {
    listeners.delete(started.id);
  }
}

/** The share of futures whose backlog has deployed, by day, from the arm's percentiles. */
function cdfPoints(arm, futures, horizonDays) {
  const points = [[0, 0]];
  for (const [key, share] of [["p50", 0.5], ["p85", 0.85], ["p95", 0.95]]) {
    const p = arm.backlog?.[key];
    if (p && !p.beyond_horizon && p.days !== null) points.push([p.days, share]);
  }
  const done = (arm.backlog?.finished_by_horizon ?? 0) / Math.max(1, futures);
  points.push([horizonDays, Math.max(done, points[points.length - 1][1])]);
  return points.sort((a, b) => a[0] - b[0]);
}

/** "Manager in 6 of 12 futures, Verifier in 5" (the role that limited the flow at the horizon). */
function bottleneck(rows, futures) {
  const named = (rows || []).filter((row) => row.role && row.role !== "none");
  if (!named.length) return "none";
  return named.slice(0, 2).map((row, i) => `${humanRole(row.role)} in ${row.futures}${i ? "" : ` of ${futures}`}`).join(", ");
}

/** The commands a preview tried (its result names them; a pushed job carries no params). */
function commandsOf(job) {
  return job.result?.commands || job.params?.commands || [];
}

function status(node, text, kind = "info") {
  node.className = `form-status ${kind}`;
  setText(node, text);
}

/** Ask for confirmation in the action dialog (with a reason when ``reason`` is set). */
export function confirmAction({ title, text, yes, reason = false }) {
  const dialog = $("#action-dialog");
  setText($("#action-title"), title);
  setText($("#action-text"), text);
  setText($("#action-yes"), yes);
  const field = $("#action-reason-field");
  field.hidden = reason === false;
  const input = $("#action-reason");
  input.value = typeof reason === "string" ? reason : "";
  setText($("#action-error"), "");
  return new Promise((resolve) => {
    const onClose = () => {
      dialog.removeEventListener("close", onClose);
      resolve(dialog.returnValue === "yes" ? { reason: input.value.trim() } : null);
    };
    dialog.returnValue = "";
    dialog.addEventListener("close", onClose);
    dialog.showModal();
  });
}

export class Consigliere {
  constructor({ store, toast, announce, onChange = () => {} }) {
    this.store = store; // () => the live store
    this.toast = toast;
    this.announce = announce;
    this.onChange = onChange;
    this.chosen = null; // a command picked from an explanation's options
    this.preview = null; // the last finished preview job
    this.chart = null;
    this.renderedKey = "";
  }

  init() {
    const form = $("#whatif-form");
    form.elements.change.addEventListener("change", () => this.showFields());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.runPreview();
    });
    $("#whatif-clear-choice").addEventListener("click", () => this.choose(null));
    $("#whatif-schedule").addEventListener("submit", (event) => {
      event.preventDefault();
      this.schedule();
    });
    const settings = form.elements.setting;
    replaceChildren(settings, SETTINGS.map(([value, text]) => el("option", { value, text })));
    replaceChildren(form.elements.tool_kind, Object.keys(CAPABILITY).map((k) => el("option", { value: k, text: humanState(k) })));
    this.showFields();
    $("#d-assess").addEventListener("click", () => this.assess());
    $("#forecast-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.forecast();
    });
    $("#why-dialog-close").addEventListener("click", () => $("#why-dialog").close());
    $("#security-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.security(event.submitter?.value || "lockdown");
    });
    $("#block-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.block(event.submitter?.value || "block");
    });
    $("#action-form").addEventListener("submit", (event) => {
      // a reason is needed for lockdowns, blocks and revocations: keep the dialog open until given
      if (event.submitter?.value === "yes" && !$("#action-reason-field").hidden && $("#action-reason").value.trim().length < 3) {
        event.preventDefault();
        setText($("#action-error"), "Give a reason of at least 3 characters.");
        $("#action-reason").focus();
      }
    });
  }

  showFields() {
    const form = $("#whatif-form");
    const kind = form.elements.change.value;
    for (const node of form.querySelectorAll("[data-for]")) node.hidden = !node.dataset.for.split(" ").includes(kind);
  }

  /** The command the What-if form describes (or the option chosen from an explanation). */
  command() {
    if (this.chosen) return this.chosen;
    const form = $("#whatif-form");
    const floor = form.elements.floor.value;
    switch (form.elements.change.value) {
      case "hire": return { kind: "hire_agent", payload: { floor, role: form.elements.role.value } };
      case "tool": {
        const kind = form.elements.tool_kind.value;
        return { kind: "add_tool", payload: { floor, name: `Extra ${humanState(kind)}`, kind, capabilities: [CAPABILITY[kind]], slots: 1 } };
      }
      case "setting": {
        const value = Number(form.elements.value.value);
        return { kind: "set_setting", payload: { path: form.elements.setting.value, value } };
      }
      default: return { kind: "lockdown", payload: { scope: floor, reason: form.elements.reason.value.trim() || "what if" } };
    }
  }

  /** Put a command from an explanation's options into the panel and preview it at once. */
  choose(command, { run = false } = {}) {
    this.chosen = command;
    const box = $("#whatif-choice");
    box.hidden = !command;
    $("#whatif-custom").disabled = Boolean(command);
    if (command) setText($("#whatif-choice-text"), `Chosen change: ${describeCommand(this.store(), command)}.`);
    if (run) this.runPreview();
  }

  async runPreview() {
    const form = $("#whatif-form");
    const store = this.store();
    const command = this.command();
    const out = $("#whatif-status");
    const value = Number(form.elements.value.value);
    if (command.kind === "set_setting" && !(value > 0)) {
      status(out, "Give the new value as a positive number.", "error");
      form.elements.value.focus();
      return;
    }
    const body = {
      commands: [command],
      futures: Number(form.elements.futures.value),
      ticks: Math.round(Number(form.elements.horizon.value) * (store.header.ticks_per_day || 8)),
      label: describeCommand(store, command),
    };
    const button = $("button[type=submit]", form);
    const bar = $("#whatif-progress");
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    $("#whatif-result").hidden = true;
    status(out, `Previewing “${body.label}”: starting…`);
    try {
      const started = await post("/api/consigliere/preview", body);
      const live = $("#whatif-live");
      const job = await follow(started, (j) => {
        bar.max = j.progress?.total || body.futures;
        bar.value = j.progress?.done || 0;
        status(out, `Previewing “${body.label}”: ${bar.value} of at most ${bar.max} futures run.`);
        // a sequential preview answers after every look: show the answer so far as it firms up
        const answer = j.progress?.answer;
        if (answer?.sentence) {
          live.hidden = false;
          setText(live, `So far, after ${answer.futures} futures: ${humanize(store, answer.sentence).replace(/^[^:]*:\s*/, "")}`);
        }
      });
      live.hidden = true;
      // a job past its deadline keeps the answer of its last look: shown, with the reason
      const partial = job.state === "timed_out" && job.result;
      if ((job.state !== "done" && !partial) || !job.result) throw new Error(job.error || `the preview ended ${humanState(job.state)}`);
      this.preview = job;
      const days = round(job.result.ticks / (job.result.ticks_per_day || 8), 1);
      status(out, partial ? `Preview stopped at its deadline; ${job.error}.` : `Preview finished: ${job.result.futures} paired futures of ${days} days.`, partial ? "error" : "ok");
      this.showPreview(job);
    } catch (err) {
      status(out, `The preview failed: ${err.message}`, "error");
    } finally {
      button.disabled = false;
      bar.hidden = true;
    }
  }

  /** A progressive forecast job: each look's answer shows as it firms up, then the final one. */
  async forecast() {
    const form = $("#forecast-form");
    const button = $("button[type=submit]", form);
    const bar = $("#forecast-progress");
    const out = $("#forecast-status");
    const said = $("#forecast-sentence");
    const body = { futures: Math.min(1000, Math.max(1, Math.round(Number(form.elements.futures.value) || 200))) };
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    setText(said, "");
    status(out, "Forecasting: starting…");
    try {
      const started = await post("/api/consigliere/forecast", body);
      const job = await follow(started, (j) => {
        bar.max = j.progress?.total || body.futures;
        bar.value = j.progress?.done || 0;
        const answer = j.progress?.answer;
        status(out, `Forecasting: ${bar.value} of at most ${bar.max} futures run.`);
        if (answer?.sentence) setText(said, `So far: ${answer.sentence}`);
      });
      const partial = job.state === "timed_out" && job.result;
      if ((job.state !== "done" && !partial) || !job.result) throw new Error(job.error || `the forecast ended ${humanState(job.state)}`);
      const text = job.result.sentence;
      setText(said, text.charAt(0).toUpperCase() + text.slice(1));
      status(out, partial ? `Forecast stopped at its deadline; ${job.error}.` : "Forecast finished.", partial ? "error" : "ok");
      this.announce(`Forecast finished. ${text}`);
    } catch (err) {
      status(out, `The forecast failed: ${err.message}`, "error");
    } finally {
      button.disabled = false;
      bar.hidden = true;
    }
  }

  /** The two answers, named apart: the range for this office and the expected (average) effect. */
  showAnswers(r) {
    const run = r.sequential || {};
    const metric = run.metric || "throughput";
    const diff = r.difference?.[metric];
    const perDay = r.ticks_per_day || 8;
    const word = (value) => {
      if (metric !== "backlog_done") return `${value > 0 ? "+" : ""}${round(value, 1)} directives`;
      const d = -value / perDay;
      // toFixed as the server's sentence formats it, so both show the same figure
      return Math.abs(d) < 0.05 ? "no change" : `${Math.abs(d).toFixed(1)} days ${d > 0 ? "sooner" : "later"}`;
    };
    const pair = (ends) => {
      if (!ends || ends[0] === null) return "not enough futures";
      const [low, high] = ends.map(word);
      return low === high ? `${low} in every one` : `${low} to ${high}`; // as the server's sentence
    };
    const what = metric === "backlog_done" ? "backlog done" : "directives deployed";
    // the prediction interval for this one office (0.1.0's servers send only the p5-p95 spread)
    const range = diff?.range_in_this_office || diff?.range_in_this_office_p5_p95;
    const share = diff?.range_coverage ? ` (${Math.round(diff.range_coverage * 100)}% prediction interval)` : "";
    setText($("#whatif-range"), diff ? `${what}: ${pair(range)}${share}` : "");
    setText($("#whatif-expected"), diff ? `${what}: ${word(diff.mean_difference)} (${pair(diff.expected_effect_ci95)})` : "");
    setText($("#whatif-run"), run.futures_run
      ? `Ran ${run.futures_run} of at most ${run.cap} futures; stopped: ${run.stopped_because}.`
      : `Ran ${r.futures} futures.`);
  }

  showPreview(job) {
    const store = this.store();
    const r = job.result;
    const perDay = r.ticks_per_day || 8;
    const horizon = r.ticks / perDay;
    $("#whatif-result").hidden = false;
    const sentence = humanize(store, r.sentence).replace(/^[^:]*:/, `${describeCommand(store, commandsOf(job)[0])}:`);
    setText($("#whatif-sentence"), sentence.charAt(0).toUpperCase() + sentence.slice(1));
    this.announce(`Preview finished. ${sentence}`);
    this.showAnswers(r);
    const rows = ["without", "with"].map((arm) => {
      const a = r[arm];
      return el("tr", {}, [
        el("th", { scope: "row", text: arm === "with" ? "With the change" : "Without (as it is)" }),
        el("td", { text: days(a.backlog.p50) }),
        el("td", { text: days(a.backlog.p85) }),
        el("td", { text: days(a.backlog.p95) }),
        el("td", { text: `${a.backlog.finished_by_horizon} of ${r.futures}` }),
        el("td", { class: "wide", text: `${round(a.throughput.mean, 1)} directives` }),
        el("td", { class: "wide", text: bottleneck(a.bottleneck, r.futures) }),
      ]);
    });
    replaceChildren($("#whatif-table tbody"), rows);
    // on a phone the table drops its two widest columns; the same facts as a sentence
    setText($("#whatif-narrow"), ["without", "with"].map((arm) =>
      `${arm === "with" ? "With the change" : "Without"}: ${round(r[arm].throughput.mean, 1)} directives deployed on average, bottleneck ${bottleneck(r[arm].bottleneck, r.futures)}.`).join(" "));
    const arms = ["without", "with"].map((arm) => cdfPoints(r[arm], r.futures, horizon));
    const xs = [...new Set(arms.flatMap((pts) => pts.map((p) => p[0])))].sort((a, b) => a - b);
    const series = arms.map((pts) => xs.map((x) => {
      let y = 0;
      for (const [px, py] of pts) if (px <= x) y = py;
      return y * 100;
    }));
    const holder = $("#whatif-chart");
    const width = Math.max(280, holder.clientWidth || 560);
    const opts = {
      width,
      height: Math.round(Math.min(320, Math.max(220, width * 0.5))),
      scales: { x: { time: false, range: [0, horizon] }, y: { range: [0, 100] } },
      axes: [
        { stroke: "#c8d0da", grid: { stroke: "#2d3340" }, label: "days from now" },
        { stroke: "#c8d0da", grid: { stroke: "#2d3340" }, label: "% of futures done", size: 60 },
      ],
      series: [
        {},
        { label: "Without", stroke: ARM_COLOURS.without, width: 2, paths: uPlot.paths.stepped({ align: 1 }), points: { show: true } },
        { label: "With the change", stroke: ARM_COLOURS.with, width: 3, dash: [6, 3], fill: "rgba(61,187,92,0.12)", paths: uPlot.paths.stepped({ align: 1 }), points: { show: true } },
      ],
    };
    this.chart?.destroy();
    replaceChildren(holder, []);
    this.chart = new uPlot(opts, [xs, ...series], holder);
    holder.setAttribute("aria-label", `Backlog completion by day, with and without the change. ${sentence}`);
    const schedule = $("#whatif-schedule");
    schedule.hidden = false;
    schedule.elements.tick.min = String(store.tick + 1);
    schedule.elements.tick.value = String(store.tick + perDay);
    setText($("#whatif-schedule-status"), "");
  }

  async schedule() {
    const job = this.preview;
    const form = $("#whatif-schedule");
    const out = $("#whatif-schedule-status");
    const tick = Number(form.elements.tick.value);
    if (!job) return;
    if (!(tick > this.store().tick)) {
      status(out, `Pick a tick after now (tick ${this.store().tick}).`, "error");
      return;
    }
    const commands = commandsOf(job);
    try {
      await post("/api/consigliere/proposals", {
        title: describeCommand(this.store(), commands[0]), commands, activate_tick: tick, preview_id: job.id,
      });
      status(out, `Scheduled for tick ${tick}; it appears under “Scheduled changes” once the office applies the command.`, "ok");
    } catch (err) {
      status(out, `Refused: ${err.message}`, "error");
    }
  }

  async revoke(proposal) {
    const answer = await confirmAction({
      title: `Revoke “${proposal.title}”?`,
      text: `It would apply at tick ${proposal.activate_tick}. A revoked change never applies.`,
      yes: "Revoke",
      reason: "no longer needed",
    });
    if (!answer) return;
    try {
      await post(`/api/consigliere/proposals/${encodeURIComponent(proposal.id)}/revoke`, { reason: answer.reason });
      this.toast(`“${proposal.title}” revoked.`);
    } catch (err) {
      this.toast(`Could not revoke: ${err.message}`, "error");
    }
  }

  // ---- why? ------------------------------------------------------------------------------------

  async explain(subject) {
    const store = this.store();
    const dialog = $("#why-dialog");
    const body = $("#why-dialog-body");
    setText($("#why-dialog-title"), `What holds up ${nameOf(store, subject)}?`);
    replaceChildren(body, [el("p", { class: "muted", text: "Asking the Consigliere…" })]);
    if (!dialog.open) dialog.showModal();
    let answer;
    try {
      answer = await post("/api/consigliere/explain", { subject });
    } catch (err) {
      replaceChildren(body, [el("p", { class: "error", role: "alert", text: err.message })]);
      return;
    }
    const seen = new Set();
    const causes = (answer.causes || []).filter((c) => !seen.has(c.sentence) && seen.add(c.sentence));
    if (!causes.length) {
      replaceChildren(body, [el("p", { class: "why-cause", text: humanize(store, answer.sentence || "Nothing holds it: it is moving.") })]);
      return;
    }
    const items = causes.map((cause) => {
      const options = (cause.options || []).map((option) => {
        const button = el("button", { type: "button", class: "small", text: `Preview: ${humanize(store, option.label)}` });
        button.addEventListener("click", () => {
          dialog.close();
          this.openWhatIf();
          this.choose(option.command, { run: true });
        });
        return el("li", {}, [button]);
      });
      return el("li", { class: "why-item" }, [
        el("p", { class: "why-cause", text: humanize(store, cause.sentence) }),
        options.length ? el("ul", { class: "why-options", "aria-label": "What could be done" }, options) : null,
      ]);
    });
    replaceChildren(body, [el("ul", { class: "why-list" }, items)]);
  }

  openWhatIf() {
    document.querySelector('[role=tab][data-view="steer"]')?.click();
    const details = $("#whatif").closest("details");
    details.open = true;
    details.scrollIntoView({ block: "start" });
  }

  // ---- the directive assessment ------------------------------------------------------------

  async assess() {
    const form = $("#directive-form");
    const out = $("#d-assessment");
    const title = form.elements.title.value.trim();
    if (!title) {
      status(out, "Give the directive a title first.", "error");
      form.elements.title.focus();
      return;
    }
    const store = this.store();
    const directive = {
      title,
      floor: form.elements.floor.value,
      priority: Number(form.elements.priority.value),
      ambiguity: Number(form.elements.ambiguity.value),
      sensitivity: Number(form.elements.sensitivity.value),
      complexity: Number(form.elements.complexity.value),
      depends_on_floor: form.elements.depends_on_floor.value || null,
    };
    const button = $("#d-assess");
    button.disabled = true;
    status(out, "Assessing: running futures…");
    try {
      const started = await post("/api/consigliere/assess", { directive, futures: ASSESS_FUTURES, ticks: ASSESS_DAYS * (store.header.ticks_per_day || 8) });
      const job = await follow(started, (j) => status(out, `Assessing: ${j.progress?.done || 0} of ${j.progress?.total || ASSESS_FUTURES} futures run.`));
      if (job.state !== "done" || !job.result) throw new Error(job.error || `the assessment ended ${humanState(job.state)}`);
      const r = job.result;
      const delay = (r.slowest_stage || [])[0];
      const text = `Created now, it would deploy in ${days(r.deployed.p50)} (half the futures), ` +
        `${days(r.deployed.p85)} (85%) and ${days(r.deployed.p95)} (95%); ` +
        `deployed within the horizon in ${r.deployed_by_horizon} of ${r.futures} futures. ` +
        (delay ? `What delays it most: ${humanState(delay.stage)} (longest wait in ${delay.futures} of ${r.futures} futures).` : "");
      status(out, text, "ok");
      drawAssessment(r, ASSESS_DAYS);
    } catch (err) {
      $("#d-assessment-bar").hidden = true;
      status(out, `No assessment: ${err.message}`, "error");
    } finally {
      button.disabled = false;
    }
  }

  // ---- the Head of Security --------------------------------------------------------------------

  async security(action) {
    const form = $("#security-form");
    const store = this.store();
    const scope = form.elements.scope.value;
    const where = scope === "building" ? "the whole building" : store.floorById(scope)?.name || scope;
    const out = $(".form-status", form);
    const lock = action === "lockdown";
    const answer = await confirmAction({
      title: lock ? `Lock down ${where}?` : `Lift the lockdown on ${where}?`,
      text: lock ? "Nothing there deploys until the lockdown is lifted; work goes on meanwhile." : "Work held by it deploys on the next tick.",
      yes: lock ? "Lock down" : "Lift",
      reason: lock ? form.elements.reason.value.trim() : false,
    });
    if (!answer) return;
    try {
      await post(lock ? "/api/security/lockdown" : "/api/security/lift", lock ? { scope, reason: answer.reason } : { scope });
      status(out, lock ? `Lockdown of ${where} sent.` : `Lifting the lockdown on ${where} sent.`, "ok");
    } catch (err) {
      status(out, `Refused: ${err.message}`, "error");
    }
  }

  async block(action) {
    const form = $("#block-form");
    const store = this.store();
    const id = form.elements.directive.value;
    const out = $(".form-status", form);
    if (!id) {
      status(out, "Choose a directive.", "error");
      return;
    }
    const name = nameOf(store, id);
    const blocking = action === "block";
    const answer = await confirmAction({
      title: blocking ? `Block the delivery of ${name}?` : `Unblock ${name}?`,
      text: blocking ? "Its work goes on but it will not deploy until unblocked." : "It deploys as soon as its work is merged.",
      yes: blocking ? "Block" : "Unblock",
      reason: blocking ? form.elements.reason.value.trim() : false,
    });
    if (!answer) return;
    try {
      await post(blocking ? "/api/security/block" : "/api/security/unblock", blocking ? { directive_id: id, reason: answer.reason } : { directive_id: id });
      status(out, `${blocking ? "Block" : "Unblock"} of ${name} sent.`, "ok");
    } catch (err) {
      status(out, `Refused: ${err.message}`, "error");
    }
  }

  // ---- rendering from the world header -----------------------------------------------------

  render(store, live) {
    const header = live.header;
    // holds as at the moment shown (a replayed tick draws that tick's); proposals are always live
    const key = JSON.stringify([store.header.lockdowns, store.header.blocked, header.proposals, live.layoutVersion, live.directives.size, store === live]);
    if (key === this.renderedKey) return;
    this.renderedKey = key;
    this.onChange(); // the map redraws its lockdown tape
    this.renderProposals(live);
    this.renderHolds(store, live);
    this.renderDirectivePicker(live);
  }

  renderProposals(live) {
    const proposals = live.header.proposals || [];
    const list = $("#proposal-list");
    const rows = proposals.map((p) => {
      const revoke = el("button", { type: "button", class: "small danger", text: "Revoke" });
      revoke.addEventListener("click", () => this.revoke(p));
      const inTicks = p.activate_tick - live.tick;
      return el("li", { dataset: { proposal: p.id } }, [
        el("span", { text: `${humanize(live, p.title)} — at tick ${p.activate_tick} (in ${inTicks} h)${p.preview_id ? ", judged on a preview" : ""}` }),
        " ",
        revoke,
      ]);
    });
    replaceChildren(list, rows.length ? rows : [el("li", { class: "muted", text: "Nothing scheduled." })]);
    // markers on the time-travel slider, at their activation tick
    const slider = $("#timeline");
    const max = Math.max(live.tick, ...proposals.map((p) => p.activate_tick));
    slider.max = String(max);
    const marks = proposals.map((p) => {
      const mark = el("span", {
        class: "timeline-mark",
        dataset: { tick: String(p.activate_tick), proposal: p.id },
        title: `${humanize(live, p.title)} at tick ${p.activate_tick}`,
      });
      mark.style.left = `${(100 * p.activate_tick) / Math.max(1, max)}%`;
      return mark;
    });
    replaceChildren($("#timeline-marks"), marks);
    const names = proposals.map((p) => `${humanize(live, p.title)} at tick ${p.activate_tick}`);
    setText($("#timeline-marks-text"), names.length ? `Scheduled changes: ${names.join("; ")}.` : "");
  }

  renderHolds(store, live) {
    const lockdowns = store.header.lockdowns || [];
    const blocked = store.header.blocked || [];
    const where = (scope) => (scope === "building" ? "The whole building" : live.floorById(scope)?.name || scope);
    const lines = [
      ...lockdowns.map((l) => `${where(l.scope)} is locked down (for ${l.age} h): ${l.reason}. Nothing there deploys.`),
      ...blocked.map((b) => `Delivery of ${nameOf(live, b.directive_id)} is blocked: ${b.reason}.`),
    ];
    for (const id of ["#lockdown-banner", "#board-holds"]) {
      const node = $(id);
      node.hidden = !lines.length;
      replaceChildren(node, lines.map((line) => el("p", { text: line })));
    }
    const lifts = $("#security-open");
    replaceChildren(lifts, lockdowns.length || blocked.length
      ? [...lockdowns.map((l) => el("li", { text: `${where(l.scope)}: locked down since tick ${l.since_tick} — ${l.reason}` })),
        ...blocked.map((b) => el("li", { text: `${nameOf(live, b.directive_id)}: blocked since tick ${b.since_tick} — ${b.reason}` }))]
      : [el("li", { class: "muted", text: "No lockdowns and no blocked deliveries." })]);
  }

  renderDirectivePicker(live) {
    const scope = $("#security-form").elements.scope;
    const picked = scope.value;
    replaceChildren(scope, [
      ...live.floors.map((f) => el("option", { value: f.id, text: `${f.level + 1}: ${f.name || f.id}` })),
      el("option", { value: "building", text: "The whole building" }),
    ]);
    if ([...scope.options].some((o) => o.value === picked)) scope.value = picked;
    const select = $("#block-form").elements.directive;
    const current = select.value;
    const open = [...live.directives.values()].filter((d) => d.state !== "deployed");
    const options = open.map((d) => el("option", { value: d.id, text: `${d.title} (${live.floorById(d.floor_id)?.name || d.floor_id})` }));
    replaceChildren(select, [el("option", { value: "", text: "Choose a directive…" }), ...options]);
    if (open.some((d) => d.id === current)) select.value = current;
  }
}

/**
 * The assessment at a glance: a bar from now to the horizon with the range in which the
 * directive deploys (half of the futures by the first mark, 85% and 95% by the next).
 */
function drawAssessment(result, horizonDays) {
  const bar = $("#d-assessment-bar");
  const at = (point) => (point && !point.beyond_horizon && point.days !== null ? Math.min(point.days, horizonDays) : horizonDays);
  const pct = (d) => `${(100 * d) / horizonDays}%`;
  const [p50, p85, p95] = ["p50", "p85", "p95"].map((k) => at(result.deployed[k]));
  const band = el("span", { class: "assess-band" });
  band.style.left = pct(p50);
  band.style.width = pct(Math.max(0.05, p95 - p50));
  const marks = [[p50, "half"], [p85, "85%"], [p95, "95%"]].map(([d, label]) => {
    const mark = el("span", { class: "assess-mark", dataset: { label } });
    mark.style.left = pct(d);
    return mark;
  });
  const legend = [["half", p50], ["85%", p85], ["95%", p95]].map(([label, d]) => `${label} by ${round(d, 1)} d`).join(" · ");
  replaceChildren(bar, [
    el("span", { class: "assess-track" }, [band, ...marks]),
    el("span", { class: "assess-scale" }, [el("span", { text: "now" }), el("span", { text: `${horizonDays} days` })]),
    el("span", { class: "assess-legend", text: `Deployed: ${legend}` }),
  ]);
  bar.hidden = false;
}

/** The lockdown covering ``floorId`` (its own, or the building's), or null. */
export function lockdownOf(store, floorId) {
  const all = store.header.lockdowns || [];
  return all.find((l) => l.scope === floorId) || all.find((l) => l.scope === "building") || null;
}

/** Why a directive cannot ship (blocked delivery or a lockdown of its floor), or "". */
export function holdOf(store, directive) {
  if (!directive) return "";
  const block = (store.header.blocked || []).find((b) => b.directive_id === directive.id);
  if (block) return `delivery blocked: ${block.reason}`;
  const lockdown = lockdownOf(store, directive.floor_id);
  return lockdown ? `floor locked down: ${lockdown.reason}` : "";
}
