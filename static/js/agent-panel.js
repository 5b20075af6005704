// The agent panel: who an agent is and what it is doing, kept current while it is open.
import { $, el, humanRole, humanState, replaceChildren, setText } from "./dom.js";
import { ROLE_LETTERS } from "./sprites.js";
import { doing, nameOf } from "./words.js";

export class AgentPanel {
  constructor(root, { onOpenTask, onDismiss, onClose, announce = () => {} }) {
    this.root = root;
    this.announce = announce;
    this.announced = "";
    this.onOpenTask = onOpenTask;
    this.onDismiss = onDismiss;
    this.onClose = onClose;
    this.agentId = null;
    this.lastKey = "";
    this.body = $("#agent-body", root);
    $("#agent-close", root).addEventListener("click", () => this.show(null));
  }

  show(agentId, store) {
    this.agentId = agentId;
    this.lastKey = "";
    this.root.classList.toggle("is-empty", !agentId);
    if (!agentId) {
      replaceChildren(this.body, [el("p", { class: "muted", text: "Click a person on the map, or pick one from the staff list, to see who they are and what they are doing." })]);
      this.onClose();
      return;
    }
    if (store) this.render(store);
    this.root.scrollIntoView({ block: "nearest" });
  }

  render(store) {
    if (!this.agentId) return;
    const agent = store.agents.get(this.agentId);
    if (!agent) {
      replaceChildren(this.body, [el("p", { class: "muted", text: `${this.agentId} is no longer on the staff.` })]);
      return;
    }
    const key = JSON.stringify(agent) + (agent.task_id ? JSON.stringify(store.tasks.get(agent.task_id) || {}) : "");
    if (key === this.lastKey) return;
    this.lastKey = key;
    // screen readers hear what changed (a new activity), not every re-render of the panel
    const now = `${agent.name} is ${doing(store, agent)}`;
    if (now !== this.announced) {
      if (this.announced) this.announce(now);
      this.announced = now;
    }
    const task = agent.task_id ? store.tasks.get(agent.task_id) : null;
    const tool = agent.held_tool ? store.tools.get(agent.held_tool) : null;
    const office = store.offices.get(agent.office_id);
    const badge = el("span", { class: `role-badge role-${agent.role}`, "aria-hidden": "true", text: ROLE_LETTERS[agent.role] || "?" });
    const skills = el("ul", { class: "skills" }, Object.entries(agent.skills || {}).map(([name, value]) =>
      el("li", {}, [
        el("span", { class: "skill-name", text: name }),
        el("meter", { min: "0", max: "1", value: String(value), "aria-label": `${name} skill` }),
        el("span", { class: "skill-value", text: `${Math.round(value * 100)}%` }),
      ])));
    let current = el("span", { text: "none" });
    if (agent.task_id) {
      const label = task ? task.title : nameOf(store, agent.task_id);
      if (task || /^T-/.test(agent.task_id)) {
        current = el("button", { type: "button", class: "link", text: label });
        current.addEventListener("click", () => this.onOpenTask(agent.task_id));
      } else {
        current = el("span", { text: label });
      }
    }
    const dismiss = el("button", { type: "button", class: "danger", text: `Dismiss ${agent.name}` });
    dismiss.addEventListener("click", () => this.onDismiss(agent));
    const facts = [
      ["Role", humanRole(agent.role) + (agent.assistant ? " (assistant)" : "")],
      ["Now", doing(store, agent)],
      ["Status", humanState(agent.status)],
      ["Floor / office", `${nameOf(store, agent.floor_id)} / ${office ? office.name : agent.office_id}`],
      ["Current task", current],
      ["Activity", describeActivity(agent.activity, store)],
      ["Held tool", tool ? `${tool.name} ${tool.version}` : agent.held_tool ? nameOf(store, agent.held_tool) : "none"],
      ["Attention left", `${agent.attention_left} of ${agent.attention_budget}`],
      ["Clearance", `${agent.clearance} of 5`],
      ["Languages", (agent.languages || []).join(", ")],
      ["Busy", `${agent.busy_ticks} hours so far`],
    ];
    const dlNode = el("dl", { class: "facts" }, facts.flatMap(([k, v]) => [
      el("dt", { text: k }),
      el("dd", {}, [v instanceof Node ? v : String(v ?? "—")]),
    ]));
    badge.classList.add("big");
    replaceChildren(this.body, [
      el("h3", { class: "agent-name" }, [badge, " ", el("span", { text: `${agent.name}, ${humanRole(agent.role)}` })]),
      dlNode,
      el("h4", { text: "Skills" }),
      skills,
      dismiss,
    ]);
  }
}

/** The staff list: every agent as a button, the keyboard way to the agent panel. */
export function renderStaffList(list, store, floorId, selected, onPick, { onFocus = () => {}, onBlur = () => {} } = {}) {
  const agents = [...store.agents.values()]
    .filter((a) => !floorId || a.floor_id === floorId)
    .sort((a, b) => a.floor_id.localeCompare(b.floor_id) || a.id.localeCompare(b.id));
  list.items = list.items || new Map();
  const seen = new Set();
  let previous = null;
  for (const agent of agents) {
    seen.add(agent.id);
    let item = list.items.get(agent.id);
    if (!item) {
      const badge = el("span", { class: "role-badge", "aria-hidden": "true" });
      const name = el("span", { class: "staff-name" });
      const state = el("span", { class: "staff-status" });
      const button = el("button", { type: "button", class: "staff", dataset: { agentId: agent.id } }, [badge, name, state]);
      button.addEventListener("click", () => onPick(agent.id));
      // focus shows the person's tooltip on the map, as hovering them would
      button.addEventListener("focus", () => onFocus(agent.id));
      button.addEventListener("blur", () => onBlur(agent.id));
      item = { li: el("li", {}, [button]), button, badge, name, state };
      list.items.set(agent.id, item);
    }
    item.badge.className = `role-badge role-${agent.role}`;
    setText(item.badge, ROLE_LETTERS[agent.role] || "?");
    setText(item.name, agent.name);
    setText(item.state, `${humanRole(agent.role)}, ${humanState(agent.status)}`);
    item.state.className = `staff-status status-${agent.status}`;
    item.button.setAttribute("aria-pressed", agent.id === selected ? "true" : "false");
    const expected = previous ? previous.nextSibling : list.firstChild;
    if (item.li !== expected) list.insertBefore(item.li, expected);
    previous = item.li;
  }
  for (const [id, item] of list.items) {
    if (!seen.has(id)) {
      item.li.remove();
      list.items.delete(id);
    }
  }
}

// A courier carries a contract to the lift; everything else owes some work.
function describeActivity(activity, store) {
  if (!activity) return "none";
  if (activity.kind === "courier" && activity.cargo) {
    const { kind, contract_id: id, destination } = activity.cargo;
    return `carrying contract ${id} (${kind}) to the lift for ${nameOf(store, destination)}`;
  }
  const left = Number(activity.remaining);
  return `${humanState(activity.kind)}${Number.isFinite(left) ? ` (${Math.round(left * 10) / 10} hours of work left)` : ""}`;
}
