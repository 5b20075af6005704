// The client's copy of the world: a snapshot, then one delta per tick.

const COLLECTIONS = ["agents", "tasks", "directives", "tools", "meetings", "votes", "contracts"];
const HEADER_KEYS = [
  "tick", "day", "hour", "ticks_per_day", "running", "speed", "seed", "scenario", "audit",
  "next_command", "pending_commands", "lockdowns", "blocked", "proposals",
];

export class WorldStore {
  constructor() {
    this.reset();
  }

  reset() {
    this.header = { tick: 0, ticks_per_day: 8, running: false, speed: 1 };
    this.floors = [];
    this.offices = new Map();
    for (const name of COLLECTIONS) this[name] = new Map();
    this.elevator = null;
    this.states = [
      "scheduled", "in_progress", "in_review", "approval", "merged", "deployed", "blocked",
    ];
    this.leadTimes = new Map(); // directive id -> lead time, kept after the server prunes it
    this.layoutVersion = 0; // bumps when floors, offices, desks or tools change
    this.version = 0; // bumps on every change (the charts' lead times follow it)
  }

  get tick() {
    return this.header.tick || 0;
  }

  floorById(id) {
    return this.floors.find((f) => f.id === id) || null;
  }

  /** Replace everything with a full snapshot (connect, resync, replay). */
  loadSnapshot(snapshot) {
    const keepLeads = this.leadTimes;
    this.reset();
    this.leadTimes = keepLeads;
    for (const key of HEADER_KEYS) if (key in snapshot) this.header[key] = snapshot[key];
    this.floors = [...(snapshot.floors || [])].sort((a, b) => a.level - b.level);
    for (const office of snapshot.offices || []) this.offices.set(office.id, office);
    for (const name of COLLECTIONS) {
      for (const item of snapshot[name] || []) this[name].set(item.id, item);
    }
    this.elevator = snapshot.elevator || null;
    if (Array.isArray(snapshot.states) && snapshot.states.length) this.states = snapshot.states;
    for (const d of this.directives.values()) this.noteLeadTime(d);
    this.layoutVersion += 1;
    this.version += 1;
  }

  /** Apply one tick's delta; returns the agents whose position changed. */
  applyTick(message) {
    const delta = message.delta || {};
    const moved = [];
    let layout = false;
    for (const name of COLLECTIONS) {
      for (const item of delta[name] || []) {
        const before = this[name].get(item.id);
        if (name === "agents") {
          if (!before || before.x !== item.x || before.y !== item.y) moved.push([before, item]);
          if (!before || before.desk?.join() !== item.desk?.join()) layout = true;
        }
        if (name === "tools" && !before) layout = true;
        this[name].set(item.id, item);
        if (name === "directives") this.noteLeadTime(item);
      }
    }
    for (const [name, ids] of Object.entries(delta.removed || {})) {
      const registry = this[name];
      if (!(registry instanceof Map)) continue;
      for (const id of ids) registry.delete(id);
      if (name === "agents") layout = true;
    }
    for (const agent of delta.agents || []) {
      const office = this.offices.get(agent.office_id);
      if (office && !office.agent_ids.includes(agent.id)) office.agent_ids.push(agent.id);
    }
    if (delta.elevator) this.elevator = delta.elevator;
    if (delta.world) for (const key of HEADER_KEYS) if (key in delta.world) this.header[key] = delta.world[key];
    const tick = message.tick ?? delta.tick;
    if (typeof tick === "number") this.header.tick = tick;
    if (layout) this.layoutVersion += 1;
    this.version += 1;
    return moved;
  }

  noteLeadTime(directive) {
    if (directive.lead_time !== null && directive.lead_time !== undefined) {
      this.leadTimes.set(directive.id, directive.lead_time);
    }
  }

  agentsOn(floorId) {
    return [...this.agents.values()].filter((a) => a.floor_id === floorId);
  }

  taskAge(task) {
    const end = task.deployed_tick ?? this.tick;
    return Math.max(0, end - task.created_tick);
  }
}
