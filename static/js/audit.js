// The audit stream: newest events first as sentences with names, each person and task a link;
// a filter offering every kind of event; the chain verification button. While the page shows
// the past, the stream shows the events up to that tick and ignores live ones.
import { get } from "./api.js";
import { openEventDialog } from "./board.js";
import { $, el, replaceChildren, setText } from "./dom.js";
import { eventSentence, kindOf, nameOf } from "./words.js";

const KEEP = 200;

/** Every kind the simulation logs, so the filter offers kinds not seen lately too. */
export const EVENT_KINDS = [
  "agent.auto_staffed", "agent.dismissed", "agent.hired", "command.applied", "command.rejected",
  "contract.handed_over", "contract.published", "contract.rejected", "contract.requested",
  "directive.admitted", "directive.assigned", "directive.created", "directive.deployed",
  "directive.designed", "directive.queued", "directive.rejected", "elevator.delivered",
  "elevator.loaded", "meeting.called", "meeting.concluded", "review.assigned", "review.completed",
  "task.assigned", "task.created", "task.transition", "task.transition_refused", "tool.added",
  "tool.checked_out", "tool.checkout_refused", "tool.justification_escalated", "tool.returned",
  "tool.waiting", "vote.closed", "vote.opened", "vote.overridden", "world.created",
];

export class AuditStream {
  constructor(root, { store, onAgent, onTask }) {
    this.root = root;
    this.store = store;
    this.onAgent = onAgent;
    this.onTask = onTask;
    this.list = $("#audit-list", root);
    this.filter = $("#audit-kind", root);
    this.result = $("#audit-verify-result", root);
    this.kinds = new Set();
    this.events = [];
    this.pastTick = null;
    for (const kind of EVENT_KINDS) this.kinds.add(kind);
    this.renderKinds();
    this.filter.addEventListener("change", () => (this.pastTick === null ? this.reload() : this.showPast(this.pastTick)));
    $("#audit-verify", root).addEventListener("click", () => this.verify());
  }

  /** Replace the stream with the server's newest events (on connect, resync, filter change). */
  async reload() {
    this.pastTick = null;
    await this.load({});
  }

  /** The events up to ``tick`` (the page is showing the past). */
  async showPast(tick) {
    this.pastTick = tick;
    await this.load({ tick_to: String(tick) });
  }

  async load(extra) {
    const kind = this.filter.value;
    const query = new URLSearchParams({ limit: "100", ...extra });
    if (kind) query.set("kind", kind);
    const wanted = this.pastTick;
    try {
      const data = await get(`/api/audit/events?${query}`);
      if (wanted !== this.pastTick) return; // the page moved on while this was loading
      const events = Array.isArray(data) ? data : data.events || [];
      this.events = [...events].sort((a, b) => b.seq - a.seq).slice(0, KEEP);
      for (const event of events) this.noteKind(event.kind);
      this.renderAll();
    } catch (err) {
      replaceChildren(this.list, [el("li", { class: "error", text: `Could not load events: ${err.message}` })]);
    }
  }

  noteKind(kind) {
    if (this.kinds.has(kind)) return;
    this.kinds.add(kind);
    this.renderKinds();
  }

  renderKinds() {
    const current = this.filter.value;
    const options = [...this.kinds].sort().map((k) => el("option", { value: k, text: k.replace(".", ": ").replace(/_/g, " ") }));
    replaceChildren(this.filter, [el("option", { value: "", text: "all kinds" }), ...options]);
    this.filter.value = current;
  }

  /** Events arriving with a live tick (ignored while the past is shown). */
  add(events) {
    if (!events || !events.length || this.pastTick !== null) return;
    const kind = this.filter.value;
    const fresh = [];
    for (const event of events) {
      this.noteKind(event.kind);
      if (!kind || event.kind === kind) fresh.push(event);
    }
    if (!fresh.length) return;
    fresh.sort((a, b) => b.seq - a.seq);
    const newest = this.events[0]?.seq ?? 0;
    const newer = fresh.filter((e) => e.seq > newest);
    this.events = [...newer, ...this.events].slice(0, KEEP);
    const nodes = newer.map((e) => this.item(e));
    this.list.prepend(...nodes);
    while (this.list.children.length > KEEP) this.list.lastElementChild.remove();
  }

  renderAll() {
    replaceChildren(this.list, this.events.map((e) => this.item(e)));
  }

  /** A name that opens what it names (a person's panel, a task's dialog), or plain text. */
  link(id) {
    const store = this.store();
    const kind = kindOf(store, id);
    const name = nameOf(store, id);
    if (!kind) return el("span", { text: name });
    const button = el("button", { type: "button", class: "audit-link", text: name, dataset: { id } });
    button.addEventListener("click", () => (kind === "agent" ? this.onAgent(id) : this.onTask(id)));
    return button;
  }

  item(event) {
    const store = this.store();
    const links = [event.actor, event.target].filter((id) => kindOf(store, id));
    const sentence = eventSentence(store, event);
    const open = el("button", { type: "button", class: "audit-link audit-seq", text: `#${event.seq}`, "aria-label": `Open event ${event.seq}` });
    open.addEventListener("click", () => openEventDialog(event, this.store(), sentence));
    return el("li", { class: `audit-event kind-${event.kind.split(".")[0]}`, dataset: { seq: event.seq } }, [
      open,
      el("span", { class: "audit-tick", text: `t${event.tick}` }),
      el("span", { class: "audit-kind", text: event.kind }),
      el("span", { class: "audit-what", text: sentence }),
      links.length ? el("span", { class: "audit-who" }, ["open: ", ...links.flatMap((id, i) => (i ? [", ", this.link(id)] : [this.link(id)]))]) : null,
    ]);
  }

  async verify() {
    setText(this.result, "Verifying…");
    this.result.className = "verify-result";
    try {
      const verdict = await get("/api/audit/verify");
      if (verdict.valid) {
        setText(this.result, `Chain valid: ${verdict.checked} events checked, head ${String(verdict.head).slice(0, 12)}…`);
        this.result.classList.add("ok");
      } else {
        setText(this.result, `Chain BROKEN at event ${verdict.first_broken}: ${verdict.reason} (${verdict.checked} checked)`);
        this.result.classList.add("bad");
      }
    } catch (err) {
      setText(this.result, `Verification failed: ${err.message}`);
      this.result.classList.add("bad");
    }
  }
}
