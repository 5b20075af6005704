// Words, not ids: names for the ids the server sends, plain sentences for audit events, why a
// piece of work waits, and numbers rounded with their units. One tick is one working hour.
import { humanRole, humanState } from "./dom.js";

/** "5 h", "2 d 3 h" (working days of ``perDay`` hours). */
export function hours(value, perDay = 8) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  const h = Math.round(Number(value));
  if (h < perDay) return `${h} h`;
  const days = Math.floor(h / perDay);
  const rest = h % perDay;
  return rest ? `${days} d ${rest} h` : `${days} d`;
}

/** A number rounded to ``digits`` places with trailing zeros dropped ("5.3", "12"). */
export function round(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  return String(Number(Number(value).toFixed(digits)));
}

const quoted = (text) => `“${text}”`;

/** The name of whatever an id points at ("Ada (Verifier)", "“Add login: API endpoint”"). */
export function nameOf(store, id) {
  if (id === null || id === undefined || id === "") return "—";
  const key = String(id);
  const agent = store.agents.get(key);
  if (agent) return `${agent.name} (${humanRole(agent.role)})`;
  const task = store.tasks.get(key);
  if (task) return quoted(task.title);
  const directive = store.directives.get(key);
  if (directive) return quoted(directive.title);
  const tool = store.tools.get(key);
  if (tool) return `the ${tool.name} ${humanState(tool.kind)}`;
  const office = store.offices.get(key);
  if (office) return office.name || key;
  const floor = store.floorById(key);
  if (floor) return floor.name || key;
  if (key === "system") return "The office";
  if (key === "user") return "You";
  if (key.startsWith("command:")) return `command ${key.slice(8)}`;
  if (key.startsWith("token:")) return "an API user";
  return key;
}

/** The kind of object an id names, for links ("agent", "task", "directive") or null. */
export function kindOf(store, id) {
  const key = String(id ?? "");
  if (store.agents.has(key)) return "agent";
  if (store.tasks.has(key) || /^T-\d+$/.test(key)) return "task";
  return null;
}

/** What an agent is doing, in a sentence fragment ("reviewing “X” (verification)"). */
export function doing(store, agent) {
  const activity = agent.activity;
  const target = activity ? nameOf(store, activity.target) : null;
  if (agent.status === "waiting") {
    const what = agent.waiting_for === "justification_required"
      ? "a justification to check out a sensitive tool"
      : agent.waiting_for ? nameOf(store, agent.waiting_for) : "something";
    return `waiting for ${what}${target ? ` to work on ${target}` : ""}`;
  }
  if (!activity) return agent.status === "idle" ? "idle: nothing in their queue" : humanState(agent.status);
  switch (activity.kind) {
    case "design": return `designing ${target}`;
    case "build": return `building ${target}`;
    case "verify": return `reviewing ${target} (verification)`;
    case "secure": return `checking the security of ${target}`;
    case "document": return `documenting ${target}`;
    case "meeting": return "in a design meeting";
    case "courier": {
      const cargo = activity.cargo || {};
      return `carrying a contract ${cargo.kind || ""} to the lift for the ${nameOf(store, cargo.destination)}`;
    }
    default: return `${humanState(activity.kind)} ${target || ""}`.trim();
  }
}

/** Tooltip text for a person on the map: who, what, and why. */
export function describeAgent(store, agent) {
  const lines = [`${agent.name}, ${humanRole(agent.role)}${agent.assistant ? " (assistant)" : ""}`];
  const walking = agent.status === "walking" ? "walking, then " : "";
  lines.push(`${walking}${doing(store, agent)}`);
  if (agent.held_tool) lines.push(`holding ${nameOf(store, agent.held_tool)}`);
  return lines.join("\n");
}

function undeployed(store, ids) {
  return (ids || []).map((id) => store.tasks.get(id)).filter((t) => t && t.state !== "deployed");
}

/** Why a scheduled, unassigned or blocked task is not moving (never empty). */
export function waitReason(store, task) {
  if (task.state === "blocked") {
    return `blocked: ${humanState(task.blocked_reason || "unknown reason")}`;
  }
  const deps = undeployed(store, task.depends_on);
  if (task.state === "scheduled" && deps.length) {
    const first = deps[0];
    return `waits for ${quoted(first.title)} (${humanState(first.state)})${deps.length > 1 ? ` and ${deps.length - 1} more` : ""}`;
  }
  if (task.state === "scheduled" && task.requires_contract) {
    return `waits for contract ${task.requires_contract} from another floor`;
  }
  if ((task.state === "scheduled" || task.state === "in_progress") && !task.assignee) {
    const ahead = [...store.tasks.values()].filter((t) => t.state === "scheduled" && !t.assignee
      && t.floor_id === task.floor_id && (t.created_tick < task.created_tick
        || (t.created_tick === task.created_tick && t.id < task.id))).length;
    const builders = [...store.agents.values()].filter((a) => a.role === "builder" && a.floor_id === task.floor_id);
    const busy = builders.filter((a) => a.activity).length;
    const queue = task.state === "scheduled" ? `, ${ahead} ahead in the queue` : "";
    return `waits for a free Builder (${busy} of ${builders.length} busy${queue})`;
  }
  if (task.state === "in_review") {
    const open = Object.entries(task.reviews || {}).filter(([, s]) => s !== "passed");
    if (!open.length) return "reviews passed; waiting for the vote";
    const missing = open.filter(([kind]) => !(task.reviewers || {})[kind]).map(([kind]) => kind);
    if (missing.length) return `waits for a free reviewer (${missing.join(", ")})`;
  }
  if (task.state === "approval") return task.vote_id ? "the office is voting on it" : "waits for a vote to open";
  if (task.state === "merged") return "merged; waits for the next deployment";
  return "";
}

const EVENT_WORDS = {
  "task.created": (s, e) => `${nameOf(s, e.target)} was planned`,
  "task.assigned": (s, e) => `${nameOf(s, e.data.agent)} started building ${nameOf(s, e.target)}`,
  "task.transition": (s, e) => `${nameOf(s, e.target)} moved from ${humanState(e.data.from)} to ${humanState(e.data.to)}${e.data.reason ? `: ${e.data.reason}` : ""}`,
  "task.transition_refused": (s, e) => `${nameOf(s, e.target)} could not move to ${humanState(e.data.to)}: ${e.data.reason}`,
  "review.assigned": (s, e) => `${nameOf(s, e.data.agent)} started the ${e.data.review} review of ${nameOf(s, e.target)}`,
  "review.completed": (s, e) => `${nameOf(s, e.actor)} finished the ${e.data.review} review of ${nameOf(s, e.target)}: ${e.data.passed ? "passed" : `${e.data.found} problems found`}`,
  "directive.created": (s, e) => `New directive ${nameOf(s, e.target)}`,
  "directive.queued": (s, e) => `Request ${quoted(e.data.title)} for the ${nameOf(s, e.data.floor)} joined the queue (priority ${e.data.priority}${e.data.backlog !== undefined ? `, ${e.data.backlog} waiting` : ""})`,
  "directive.admitted": (s, e) => `${nameOf(s, e.target)} was admitted after waiting ${e.data.waited} h`,
  "directive.rejected": (s, e) => `Request ${quoted(e.data.title)} was turned away${e.data.reason ? `: ${e.data.reason}` : ""}`,
  "tool.checkout_refused": (s, e) => `${nameOf(s, e.actor)} may not take ${nameOf(s, e.target)}: ${e.data.reason}`,
  "tool.justification_escalated": (s, e) => `${nameOf(s, e.actor)} asked ${nameOf(s, e.data.manager)} for a justification`,
  "contract.requested": (s, e) => `A contract ${e.data.name} was requested for ${nameOf(s, e.data.for)}`,
  "contract.handed_over": (s, e) => `${nameOf(s, e.actor)} handed a contract ${e.data.kind} to the lift for the ${nameOf(s, e.data.to)}`,
  "directive.assigned": (s, e) => `${nameOf(s, e.data.architect)} started designing ${nameOf(s, e.target)}`,
  "directive.designed": (s, e) => `${nameOf(s, e.target)} was designed as ${e.data.tasks} tasks`,
  "directive.deployed": (s, e) => `${nameOf(s, e.target)} was deployed`,
  "agent.hired": (s, e) => `${e.data.name || nameOf(s, e.target)} joined as ${humanRole(e.data.role || "")}`,
  "agent.dismissed": (s, e) => `${nameOf(s, e.target)} (${humanRole(e.data.role || "")}) was dismissed`,
  "agent.auto_staffed": (s, e) => `${nameOf(s, e.target)} was hired automatically: ${e.data.reason}`,
  "tool.checked_out": (s, e) => `${nameOf(s, e.actor)} took ${nameOf(s, e.target)}`,
  "tool.returned": (s, e) => `${nameOf(s, e.actor)} returned ${nameOf(s, e.target)}`,
  "tool.waiting": (s, e) => `${nameOf(s, e.actor)} waits for ${nameOf(s, e.target)}`,
  "tool.added": (s, e) => `Tool ${e.data.name} added to the supply room (${e.data.slots} slots)`,
  "meeting.called": (s, e) => `${nameOf(s, e.actor)} called a meeting`,
  "meeting.concluded": () => "A meeting ended",
  "vote.opened": (s, e) => `The office votes on ${nameOf(s, e.data.task)}`,
  "vote.closed": (s, e) => `The vote on ${nameOf(s, e.target)} closed${e.data.outcome ? `: ${humanState(e.data.outcome)}` : ""}`,
  "command.applied": (s, e) => `Your command ${humanState(e.data.kind || "")} was applied`,
  "command.rejected": (s, e) => `A command ${humanState(e.data.kind || "")} was refused: ${e.data.reason}`,
  "elevator.loaded": (s, e) => `The lift took a contract ${e.data.kind} to ${nameOf(s, e.data.to)}`,
  "elevator.delivered": (s, e) => `The lift delivered a contract ${e.data.kind} to ${nameOf(s, e.data.floor)}`,
};

function describeValue(store, value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return round(value, 2);
  if (typeof value === "object") return Array.isArray(value) ? value.map((v) => nameOf(store, v)).join(", ") : null;
  return nameOf(store, value);
}

/** One audit event as a sentence; unknown kinds list their data in words (nulls left out). */
export function eventSentence(store, event) {
  const data = event.data || {};
  const template = EVENT_WORDS[event.kind];
  if (template) {
    try {
      return template(store, { ...event, data });
    } catch {
      /* fall through to the generic sentence */
    }
  }
  const details = Object.entries(data)
    .map(([k, v]) => [humanState(k), describeValue(store, v)])
    .filter(([, v]) => v !== null && v !== "")
    .slice(0, 4)
    .map(([k, v]) => `${k} ${v}`);
  const who = `${nameOf(store, event.actor)} → ${nameOf(store, event.target)}`;
  return `${humanState(event.kind.replace(".", ": "))}: ${who}${details.length ? ` (${details.join(", ")})` : ""}`;
}
