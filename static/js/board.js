// The task board: one column per lifecycle state, one card per task, updated in place.
import { get } from "./api.js";
import { holdOf } from "./consigliere.js";
import { $, el, humanState, replaceChildren, setText } from "./dom.js";
import { hours, nameOf, round, waitReason } from "./words.js";

const DEPLOYED_SHOWN = 12;

function splitTitle(task, directive) {
  const prefix = directive ? `${directive.title}: ` : "";
  if (prefix && task.title.startsWith(prefix)) return [task.title.slice(prefix.length), directive.title];
  return [task.title, directive ? directive.title : task.directive_id];
}

export class Board {
  constructor(root, { onOpenTask, agentName, onWhy = null }) {
    this.root = root;
    this.onWhy = onWhy;
    this.onOpenTask = onOpenTask;
    this.agentName = agentName;
    this.columns = new Map();
    this.cards = new Map();
    this.floorId = null;
  }

  setFloor(floorId) {
    this.floorId = floorId;
  }

  ensureColumns(states) {
    if (this.columns.size === states.length && states.every((s) => this.columns.has(s))) return;
    this.columns.clear();
    this.cards.clear();
    const nodes = states.map((state) => {
      const count = el("span", { class: "count", text: "0" });
      const list = el("ol", { class: "cards", "aria-label": `${humanState(state)} tasks` });
      const more = el("p", { class: "more", hidden: true });
      const column = el("section", { class: `column state-${state}`, dataset: { state } }, [
        el("h3", {}, [el("span", { text: humanState(state) }), " ", count]),
        list,
        more,
      ]);
      this.columns.set(state, { column, list, count, more });
      return column;
    });
    replaceChildren(this.root, nodes);
  }

  render(store) {
    this.ensureColumns(store.states);
    const byState = new Map(store.states.map((s) => [s, []]));
    for (const task of store.tasks.values()) {
      if (this.floorId && task.floor_id !== this.floorId) continue;
      (byState.get(task.state) || byState.get("blocked"))?.push(task);
    }
    const seen = new Set();
    for (const [state, tasks] of byState) {
      const { list, count, more } = this.columns.get(state);
      if (state === "deployed") tasks.sort((a, b) => (b.deployed_tick ?? 0) - (a.deployed_tick ?? 0));
      else tasks.sort((a, b) => a.created_tick - b.created_tick || a.id.localeCompare(b.id));
      setText(count, tasks.length);
      const shown = state === "deployed" ? tasks.slice(0, DEPLOYED_SHOWN) : tasks;
      more.hidden = shown.length === tasks.length;
      setText(more, `and ${tasks.length - shown.length} older`);
      let previous = null;
      for (const task of shown) {
        seen.add(task.id);
        const card = this.card(task, store);
        const expected = previous ? previous.nextSibling : list.firstChild;
        if (card !== expected) list.insertBefore(card, expected);
        previous = card;
      }
      while (previous ? previous.nextSibling : list.firstChild) {
        const extra = previous ? previous.nextSibling : list.firstChild;
        if (!seen.has(extra.dataset.taskId)) extra.remove();
        else break;
      }
    }
    for (const [id, entry] of this.cards) {
      if (!seen.has(id)) {
        entry.li.remove();
        this.cards.delete(id);
      }
    }
  }

  card(task, store) {
    let entry = this.cards.get(task.id);
    if (!entry) {
      const button = el("button", { type: "button", class: "card-open" });
      const title = el("span", { class: "card-title" });
      const directive = el("span", { class: "card-directive" });
      const meta = el("span", { class: "card-meta" });
      const bar = el("progress", { max: "1", value: "0" });
      const blocked = el("span", { class: "card-blocked", hidden: true });
      const why = el("span", { class: "card-why", hidden: true });
      const hold = el("span", { class: "card-hold", hidden: true });
      button.append(title, directive, bar, meta, blocked, hold, why);
      button.addEventListener("click", () => this.onOpenTask(task.id));
      // "why?" asks the Consigliere (a sibling of the card's button: buttons do not nest)
      const ask = el("button", { type: "button", class: "small card-ask", text: "why?", hidden: true });
      ask.addEventListener("click", () => this.onWhy?.(task.id));
      const li = el("li", { class: "card", dataset: { taskId: task.id } }, [button, ask]);
      entry = { li, button, title, directive, meta, bar, blocked, why, hold, ask };
      this.cards.set(task.id, entry);
    }
    const directive = store.directives.get(task.directive_id);
    const [step, directiveTitle] = splitTitle(task, directive);
    setText(entry.title, step);
    setText(entry.directive, `for ${directiveTitle}`);
    const perDay = store.header.ticks_per_day || 8;
    const age = `age ${hours(store.taskAge(task), perDay)}`;
    let who = task.assignee ? this.agentName(task.assignee) : "unassigned";
    if (task.state === "in_review") who = reviewSummary(task, this.agentName);
    else if (["approval", "merged", "deployed"].includes(task.state)) who = "";
    setText(entry.meta, who ? `${who} · ${age}` : age);
    const fraction = task.effort ? Math.min(1, task.progress / task.effort) : 0;
    entry.bar.value = fraction;
    entry.bar.setAttribute("aria-label", `progress ${Math.round(fraction * 100)}%`);
    const isBlocked = task.state === "blocked";
    entry.blocked.hidden = !isBlocked;
    if (isBlocked) setText(entry.blocked, `blocked: ${humanState(task.blocked_reason || "unknown reason")} (was ${humanState(task.blocked_from || "?")})`);
    const why = isBlocked || task.state === "deployed" || (task.assignee && task.state === "in_progress") ? "" : waitReason(store, task);
    entry.why.hidden = !why;
    setText(entry.why, why);
    const held = task.state === "deployed" ? "" : holdOf(store, directive);
    entry.hold.hidden = !held;
    setText(entry.hold, held);
    entry.li.classList.toggle("is-held", Boolean(held));
    const waiting = task.state !== "deployed" && !(task.assignee && task.state === "in_progress");
    entry.ask.hidden = !waiting || !this.onWhy;
    entry.ask.setAttribute("aria-label", `why is “${step}” waiting?`);
    entry.li.classList.toggle("is-blocked", isBlocked);
    return entry.li;
  }
}

/** Who reviews a task in review, and how far each review is ("verification: Ada, passed"). */
export function reviewSummary(task, agentName) {
  const reviews = Object.entries(task.reviews || {});
  if (!reviews.length) return "awaiting reviewers";
  const reviewers = task.reviewers || {};
  return reviews
    .map(([kind, status]) => `${kind}: ${reviewers[kind] ? agentName(reviewers[kind]) : "unassigned"}, ${humanState(status)}`)
    .join("; ");
}

// ---- the task dialog ---------------------------------------------------------------------------

function row(cells, header = false) {
  return el("tr", {}, cells.map((c) => el(header ? "th" : "td", { scope: header ? "col" : undefined, text: c ?? "—" })));
}

function table(caption, headers, rows) {
  const body = rows.length
    ? rows.map((r) => row(r))
    : [el("tr", {}, [el("td", { colspan: String(headers.length), class: "muted", text: "none yet" })])];
  return el("table", {}, [
    el("caption", { text: caption }),
    el("thead", {}, [row(headers, true)]),
    el("tbody", {}, body),
  ]);
}

function dl(pairs) {
  return el("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [
    el("dt", { text: k }),
    el("dd", {}, [v instanceof Node ? v : String(v ?? "—")]),
  ]));
}

function lineageEvents(data) {
  const sections = [];
  if (!data || typeof data !== "object") return sections;
  for (const key of ["ancestors", "parents", "event", "descendants", "children", "events"]) {
    const value = data[key];
    if (Array.isArray(value)) sections.push([key, value]);
    else if (value && typeof value === "object" && "seq" in value) sections.push([key, [value]]);
  }
  return sections;
}

function personLink(id, agentName, onAgent) {
  if (!onAgent) return agentName(id);
  const button = el("button", { type: "button", class: "link", text: agentName(id) });
  button.addEventListener("click", () => {
    $("#task-dialog").close();
    onAgent(id);
  });
  return button;
}

export async function openTaskDialog(taskId, store, agentName, { onAgent = null } = {}) {
  const dialog = $("#task-dialog");
  const body = $("#task-dialog-body");
  setText($("#task-dialog-title"), `Task ${taskId}`);
  replaceChildren(body, [el("p", { class: "muted", text: "Loading…" })]);
  if (!dialog.open) dialog.showModal();
  let task;
  try {
    const data = await get(`/api/tasks/${encodeURIComponent(taskId)}`);
    task = data.task || data;
  } catch (err) {
    task = store.tasks.get(taskId);
    if (!task) {
      replaceChildren(body, [el("p", { role: "alert", class: "error", text: err.message })]);
      return;
    }
  }
  const directive = store.directives.get(task.directive_id) || task.directive || {};
  setText($("#task-dialog-title"), task.title);
  const reviewers = task.reviewers || {};
  const reviews = Object.entries(task.reviews || {}).map(([kind, status]) => [
    kind, humanState(status), reviewers[kind] ? agentName(reviewers[kind]) : "—",
  ]);
  const perDay = store.header.ticks_per_day || 8;
  const history = (task.history || []).map((h) => [h.tick, humanState(h.from), humanState(h.to), h.reason, h.event]);
  const why = waitReason(store, task);
  const parts = [
    dl([
      ["State", humanState(task.state) + (task.state === "blocked" ? ` (${humanState(task.blocked_reason)})` : "")],
      ["Why it waits", why || "it is moving"],
      ["Task id", task.id],
      ["Directive", directive.title || task.directive_id],
      ["Architect intent", directive.architect_intent],
      ["Assignee", task.assignee ? personLink(task.assignee, agentName, onAgent) : "unassigned"],
      ["Progress", `${Math.round(task.effort ? Math.min(1, task.progress / task.effort) * 100 : 0)}% (${round(task.progress)} of ${round(task.effort)} effort hours)`],
      ["Age", `${hours(store.taskAge(task), perDay)} (created at tick ${task.created_tick})`],
      ["Ambiguity / sensitivity / complexity", `${round(task.ambiguity, 2)} / ${round(task.sensitivity, 2)} / ${round(task.complexity, 2)}`],
      ["Security level", task.security_level],
      ["Depends on", (task.depends_on || []).map((id) => nameOf(store, id)).join(", ") || "nothing"],
      ["Contract", task.requires_contract ? `needs ${task.requires_contract} ${task.contract_range || ""}` : task.provides_contract ? `provides ${task.provides_contract}` : "none"],
      ["Defects found", task.defects_found],
      ["Vulnerabilities found", task.vulnerabilities_found],
      ["Reworks", task.rework_count],
      ["Escaped defects (directive)", directive.escaped_defects ?? 0],
    ]),
    table("Reviews", ["Kind", "Status", "Reviewer"], reviews),
    table("History", ["Tick", "From", "To", "Reason", "Event"], history),
  ];
  const lineage = lineageSection();
  parts.push(lineage);
  replaceChildren(body, parts);
  await showLineage(lineage, task.last_event, store);
}

/** An empty "Audit lineage" section for a dialog. */
export function lineageSection() {
  return el("section", { class: "lineage", "aria-label": "Audit lineage" }, [
    el("h3", { text: "Audit lineage" }),
    el("p", { class: "muted", text: "Loading…" }),
  ]);
}

/** Fill ``section`` with the ancestors and descendants of audit event ``seq``, in names. */
export async function showLineage(section, seq, store) {
  if (!seq) {
    replaceChildren(section, [el("h3", { text: "Audit lineage" }), el("p", { class: "muted", text: "No events yet." })]);
    return;
  }
  try {
    const data = await get(`/api/audit/events/${seq}/lineage`);
    const sections = lineageEvents(data).map(([name, events]) =>
      table(`${name} (${events.length})`, ["Seq", "Tick", "Kind", "Who", "What"],
        events.map((e) => [e.seq, e.tick, e.kind, nameOf(store, e.actor), nameOf(store, e.target)])));
    replaceChildren(section, [el("h3", { text: `Audit lineage of event ${seq}` }), ...sections]);
  } catch (err) {
    replaceChildren(section, [el("h3", { text: "Audit lineage" }), el("p", { class: "error", text: err.message })]);
  }
}

/** One audit event in the dialog: its sentence, its facts in words, and its lineage. */
export async function openEventDialog(event, store, sentence) {
  const dialog = $("#task-dialog");
  setText($("#task-dialog-title"), `Event #${event.seq}: ${humanState(event.kind)}`);
  const data = Object.entries(event.data || {})
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== "object")
    .map(([k, v]) => [humanState(k), typeof v === "number" ? round(v, 2) : nameOf(store, v)]);
  const lineage = lineageSection();
  replaceChildren($("#task-dialog-body"), [
    el("p", { text: sentence }),
    dl([["Tick", String(event.tick)], ["Who", nameOf(store, event.actor)], ["What", nameOf(store, event.target)], ...data]),
    lineage,
  ]);
  if (!dialog.open) dialog.showModal();
  await showLineage(lineage, event.seq, store);
}

