// The audit stream: newest events first, a filter by kind, and a chain verification button.
import { get } from "./api.js";
import { $, el, replaceChildren, setText } from "./dom.js";

const KEEP = 200;

function summary(event) {
  const data = event.data || {};
  if (event.kind === "task.transition") return `${data.from} → ${data.to}: ${data.reason || ""}`;
  if (data.reason) return String(data.reason);
  if (data.title) return String(data.title);
  const pairs = Object.entries(data).slice(0, 3).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`);
  return pairs.join(" ");
}

export class AuditStream {
  constructor(root) {
    this.root = root;
    this.list = $("#audit-list", root);
    this.filter = $("#audit-kind", root);
    this.result = $("#audit-verify-result", root);
    this.kinds = new Set();
    this.events = [];
    this.filter.addEventListener("change", () => this.reload());
    $("#audit-verify", root).addEventListener("click", () => this.verify());
  }

  /** Replace the stream with the server's newest events (on connect, resync, filter change). */
  async reload() {
    const kind = this.filter.value;
    const query = new URLSearchParams({ limit: "100" });
    if (kind) query.set("kind", kind);
    try {
      const data = await get(`/api/audit/events?${query}`);
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
    const options = [...this.kinds].sort();
    const current = this.filter.value;
    replaceChildren(this.filter, [el("option", { value: "", text: "all kinds" }), ...options.map((k) => el("option", { value: k, text: k }))]);
    this.filter.value = current;
  }

  /** Events arriving with a tick. */
  add(events) {
    if (!events || !events.length) return;
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

  item(event) {
    return el("li", { class: `audit-event kind-${event.kind.split(".")[0]}`, dataset: { seq: event.seq } }, [
      el("span", { class: "audit-seq", text: `#${event.seq}` }),
      el("span", { class: "audit-tick", text: `t${event.tick}` }),
      el("span", { class: "audit-kind", text: event.kind }),
      el("span", { class: "audit-who", text: `${event.actor} → ${event.target}` }),
      el("span", { class: "audit-what", text: summary(event) }),
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
