// Team history: import a CSV of real work items, see it described, fit an office to it,
// backtest the office's forecasts against throughput resampling, and ask the fitted office a
// what-if. Everything comes from /api/history (the server does the work; this draws it).
import uPlot from "../vendor/uPlot.esm.js";
import { api, post } from "./api.js";
import { getToken, requestToken } from "./auth.js";
import { describeCommand, humanize } from "./consigliere.js";
import { $, el, humanRole, replaceChildren, setText } from "./dom.js";

const AXIS = { stroke: "#c8d0da", grid: { stroke: "#2d3340", width: 1 }, ticks: { stroke: "#2d3340" } };
const ROLES = ["builder", "verifier", "architect", "doc_agent"];
// The fitted office's one floor (sim/history/office.py FLOOR), named for the Steer tab's
// phrasing helpers, which look floors up in a live world's store.
const FITTED = {
  agents: new Map(), tasks: new Map(), directives: new Map(), tools: new Map(), offices: new Map(),
  floorById: (id) => (id === "team" ? { name: "the team" } : null),
};
const days = (d) => {
  if (d === null || d === undefined) return "—";
  if (d < 1 / 24) return `${Math.max(1, Math.round(d * 1440))} min`;
  return d < 1 ? `${Math.round(d * 24)} h` : `${d.toFixed(1)} d`;
};

function axes(y, x) {
  return [{ ...AXIS, label: x }, { ...AXIS, label: y, size: 60 }];
}

/** POST a CSV body (the JSON client sends only JSON); asks for a token once on 401/403. */
async function sendCsv(path, text) {
  const attempt = (token) => fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "text/csv", Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: text,
  });
  let response = await attempt(getToken());
  if (response.status === 401 || response.status === 403) {
    let accepted = null;
    await requestToken("Importing a history needs an operator token.", async (token) => {
      const retry = await attempt(token);
      if (retry.status === 401 || retry.status === 403) return { ok: false, message: "That token may not import." };
      accepted = retry;
      return { ok: true };
    });
    if (!accepted) throw new Error("Importing needs an operator token.");
    response = accepted;
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = body?.error;
    const lines = error?.details?.problems?.map((p) => `line ${p.line}: ${p.problem}`) || [];
    throw new Error([error?.message || `HTTP ${response.status}`, ...lines.slice(0, 5)].join("\n"));
  }
  return body;
}

/** "builder=3, verifier=2" as the fit's body (a manager is added when none is given). */
function staffBody(text) {
  const pairs = text.split(",").map((part) => part.trim()).filter(Boolean).map((part) => part.split("="));
  if (!pairs.length) return {};
  const staff = {};
  for (const [role, count] of pairs) {
    const n = Number(count);
    if (!role || !Number.isInteger(n)) throw new Error(`staff: "${role}=${count}" is not like builder=3`);
    staff[role.trim()] = n;
  }
  if (!("manager" in staff)) staff.manager = 1;
  return { staff };
}

export class HistoryPanel {
  constructor(root) {
    this.root = root;
    this.name = "team";
    this.plots = {};
    this.status = $("#history-status", root);
    $("#history-form", root).addEventListener("submit", (event) => {
      event.preventDefault();
      this.importFile();
    });
    $("#history-fit", root).addEventListener("click", () => this.fit());
    $("#history-backtest", root).addEventListener("click", () => this.backtest());
    $("#history-whatif", root).addEventListener("click", () => this.whatif());
    replaceChildren($("#history-role", root), ROLES.map((role) => el("option", { value: role, text: humanRole(role) })));
    new ResizeObserver(() => this.resize()).observe(root);
  }

  say(text) {
    setText(this.status, text);
  }

  async importFile() {
    const file = $("#history-file", this.root).files[0];
    if (!file) return this.say("Choose a CSV file first.");
    this.say(`Importing ${file.name}…`);
    try {
      const answer = await sendCsv(`/api/history?name=${this.name}`, await file.text());
      this.describe(answer.description);
      this.say(`Imported ${answer.description.items} items from ${file.name}. Next: fit an office.`);
      for (const id of ["history-fit", "history-backtest", "history-whatif"]) $(`#${id}`, this.root).disabled = false;
    } catch (err) {
      this.say(`Not imported: ${err.message}`);
    }
  }

  describe(d) {
    const lt = d.lead_time_days;
    const tp = d.throughput_per_week;
    setText($("#history-summary", this.root),
      `${d.items} items (${d.done} done, ${d.open} open) from ${d.from.slice(0, 10)} to ${d.to.slice(0, 10)}. ` +
      `Throughput ${tp.mean} a week (nothing done in ${Math.round(d.zero_weeks_share * 100)}% of weeks). ` +
      `Lead time p50 ${days(lt.p50)}, p85 ${days(lt.p85)}, p95 ${days(lt.p95)}. ` +
      `Arrivals are ${d.arrival_dispersion.overall}x as variable as a steady (Poisson) stream.`);
    const weeks = d.weeks;
    this.plot("history-throughput", {
      scales: { x: { time: true } },
      axes: axes("items per week", "week"),
      series: [{}, { label: "done", stroke: "#3dbb5c", fill: "#3dbb5c66", paths: uPlot.paths.bars({ size: [0.9, 20] }), points: { show: false } },
        { label: "in progress", stroke: "#f08c2e", width: 1, points: { show: false } }],
    }, [weeks, d.throughput, d.wip]);
    const bins = d.lead_time_histogram.filter((b) => b.count > 0);
    this.plot("history-lead", {
      scales: { x: { time: false, distr: 3 } },
      axes: axes("items", "lead time (days, log)"),
      series: [{}, { label: "items", stroke: "#9b6ee8", fill: "#9b6ee866", paths: uPlot.paths.bars({ size: [0.8, 40] }), points: { show: false } }],
    }, [bins.map((b) => Math.max(b.from_days, 1 / 48)), bins.map((b) => b.count)]);
    this.plot("history-season", {
      scales: { x: { time: false } },
      axes: axes("arrivals (1 = average)", "month"),
      series: [{}, { label: "index", stroke: "#3d8ef0", fill: "#3d8ef066", paths: uPlot.paths.bars({ size: [0.7, 40] }), points: { show: false } }],
    }, [d.seasonality.map((m) => m.month), d.seasonality.map((m) => m.index)]);
  }

  async fit() {
    this.say("Fitting an office to the history…");
    try {
      const { fit } = await post(`/api/history/${this.name}/fit`, staffBody($("#history-staff", this.root).value));
      const staff = Object.entries(fit.shape.staff).map(([role, n]) => `${n} ${humanRole(role)}`).join(", ");
      const mix = fit.leads;
      setText($("#history-verdict", this.root), `Verdict: ${fit.verdict}. Office: ${staff}; ` +
        `weekly throughput ${fit.throughput.sim_mean} vs ${fit.throughput.real_mean} (KS ${fit.throughput.ks}); ` +
        `lead times KS ${fit.lead_time.ks}: ${Math.round(mix.fast_share * 100)}% fast items (median ${days(mix.fast_median_days)}, ` +
        `no office work), the rest wait (median ${days(mix.slow_median_days)}) and take ${days(mix.office_work_days)} of office work.`);
      $("#history-verdict", this.root).dataset.good = String(fit.good);
      $("#history-fit-table", this.root).hidden = false; // empty headings until there is a fit
      replaceChildren($("#history-fit-table tbody", this.root), fit.lead_time.quantiles.map((row) =>
        el("tr", {}, [el("th", { scope: "row", text: `p${row.q}` }), el("td", { text: days(row.real_days) }),
          el("td", { text: days(row.sim_days) }), el("td", { text: `×${row.factor}` })])));
      this.say("Fitted. The verdict says how close the office comes; a backtest shows how well it forecasts.");
    } catch (err) {
      this.say(`Fit failed: ${err.message}`);
    }
  }

  async backtest() {
    this.say("Backtesting at 40 past dates (about a minute)…");
    try {
      await post(`/api/history/${this.name}/backtest`, { cuts: 40, futures: 30 });
      let job;
      do {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        job = await api("GET", `/api/history/${this.name}/backtest`);
      } while (job.state === "running");
      if (job.state !== "done") throw new Error(job.error || job.state);
      if (!job.result.summary.cuts) throw new Error("the history is too short (two years, and 30 items after a cut date, are needed)");
      this.showBacktest(job.result);
      this.say("Backtest done: the bands are each method's p15–p85 forecast at each past date; the dots what happened.");
    } catch (err) {
      this.say(`Backtest failed: ${err.message}`);
    }
  }

  showBacktest(result) {
    const rows = result.cuts;
    const x = rows.map((r) => r.cut);
    const band = (method, q) => rows.map((r) => r[method].count[q]);
    // Shown before plotting: uPlot sizes the chart from its container, which hidden has none.
    $("#history-bt-figure", this.root).hidden = false;
    $("#history-bt-table", this.root).hidden = false;
    this.plot("history-bt", {
      scales: { x: { time: true } },
      axes: axes("items in 4 weeks", "cut date"),
      bands: [{ series: [2, 3], fill: "#3d8ef033" }, { series: [5, 6], fill: "#f08c2e22" }],
      series: [{},
        { label: "office p50", stroke: "#3d8ef0", width: 2 },
        { label: "office p85", stroke: "#3d8ef088", width: 1 },
        { label: "office p15", stroke: "#3d8ef088", width: 1 },
        { label: "resampling p50", stroke: "#f08c2e", width: 2, dash: [4, 4] },
        { label: "resampling p85", stroke: "#f08c2e66", width: 1 },
        { label: "resampling p15", stroke: "#f08c2e66", width: 1 },
        { label: "actual", stroke: "#e8e8e8", width: 0, points: { show: true, size: 6, fill: "#e8e8e8" } }],
    }, [x, band("office", "p50"), band("office", "p85"), band("office", "p15"),
      band("resampling", "p50"), band("resampling", "p85"), band("resampling", "p15"), rows.map((r) => r.actual.count)]);
    const s = result.summary;
    const pct = (v) => el("td", { text: `${v}%` });
    replaceChildren($("#history-bt-table tbody", this.root), ["office", "resampling"].map((m) => {
      const count = s[m].count;
      const wait = s[m].days;
      return el("tr", {}, [el("th", { scope: "row", text: m }),
        pct(count.at_or_above.p15), pct(count.at_or_above.p50), pct(count.at_or_above.p85),
        el("td", { text: `${count.p50_error_items} items` }),
        pct(wait.at_or_below.p15), pct(wait.at_or_below.p50), pct(wait.at_or_below.p85),
        el("td", { text: `${wait.p50_error_days} days` })]);
    }));
  }

  async whatif() {
    const role = $("#history-role", this.root).value;
    this.say(`Previewing one more ${humanRole(role)} on the fitted office…`);
    try {
      const command = { kind: "hire_agent", payload: { floor: "team", role } };
      const answer = await post(`/api/history/${this.name}/whatif`, { commands: [command], futures: 20, ticks: 400 });
      // the server's sentence opens with a raw label ("hire_agent verifier team: ..."): the
      // Steer tab's words instead ("Hire a Verifier on the team: ...")
      const text = humanize(FITTED, answer.preview.sentence).replace(/^[^:]*:/, `${describeCommand(FITTED, command)}:`);
      setText($("#history-whatif-result", this.root), text.charAt(0).toUpperCase() + text.slice(1));
      this.say("What-if done (paired futures of the fitted office, with and without the hire).");
    } catch (err) {
      this.say(`What-if failed: ${err.message}`);
    }
  }

  plot(id, opts, data) {
    const host = $(`#${id}`, this.root);
    this.plots[id]?.destroy();
    host.replaceChildren();
    const width = Math.max(260, host.clientWidth || 320);
    this.plots[id] = new uPlot({ width, height: 200, legend: { live: false }, ...opts }, data, host);
  }

  resize() {
    for (const [id, plot] of Object.entries(this.plots)) {
      const width = Math.max(260, $(`#${id}`, this.root).clientWidth || 320);
      if (Math.abs(width - plot.width) > 4) plot.setSize({ width, height: 200 });
    }
  }
}
