// The building on a canvas: floors stacked (or one floor), rooms, desks, the elevator, and
// agents walking between ticks. Drawn at one canvas pixel per art pixel (the static part
// cached on an offscreen canvas); the browser scales the canvas by a whole number with
// `image-rendering: pixelated`, and zoom and pan are CSS size and transform.
import {
  ROLE_COLOURS, STATUS_COLOURS, TILE, agentSprite, drawContract, pixelText, shade, statusIcon,
} from "./sprites.js";

const SLAB = 4; // pixels of concrete between stacked floors
const CROP = TILE / 2; // the last half row of a floor is hidden under the slab
const TOOL_COLOURS = {
  compiler: "#e67e22", test_framework: "#27ae60", security_scanner: "#c0392b",
  doc_generator: "#2980b9", linter: "#8e44ad",
};

/** Tiles from start to goal through the corridor row, like the server's floorplan.route. */
function route(start, goal, corridorY) {
  const path = [];
  let [x, y] = start;
  const [gx, gy] = goal;
  if (x === gx && y === gy) return path;
  while (y !== corridorY) {
    y += corridorY > y ? 1 : -1;
    path.push([x, y]);
  }
  while (x !== gx) {
    x += gx > x ? 1 : -1;
    path.push([x, y]);
  }
  while (y !== gy) {
    y += gy > y ? 1 : -1;
    path.push([x, y]);
  }
  return path;
}

function pointAlong(points, fraction) {
  if (points.length === 1 || fraction >= 1) return points[points.length - 1];
  const segments = points.length - 1;
  const f = Math.max(0, fraction) * segments;
  const i = Math.min(segments - 1, Math.floor(f));
  const t = f - i;
  const [ax, ay] = points[i];
  const [bx, by] = points[i + 1];
  return [ax + (bx - ax) * t, ay + (by - ay) * t];
}

const MAX_ZOOM_STEPS = 8;
const TOUCH_SLOP = 22; // CSS pixels around an agent that still count as tapping it
const reducedMotion = window.matchMedia?.("(prefers-reduced-motion: reduce)");

/**
 * The office map. The canvas holds one pixel per art pixel (448x340 for two floors) and the
 * browser scales it up by a whole number with `image-rendering: pixelated`, so the canvas work
 * per frame stays the same at 4K as at 720p. Frames are drawn only when something changed or
 * someone is walking: an idle, paused office draws nothing.
 */
export class OfficeView {
  constructor(canvas, { onAgentClick, onViewChange, tooltip, describe } = {}) {
    this.canvas = canvas;
    this.wrap = canvas.parentElement;
    this.ctx = canvas.getContext("2d");
    this.store = null;
    this.floorId = null; // null: every floor
    this.selectedAgent = null;
    this.followed = null;
    this.onAgentClick = onAgentClick || (() => {});
    this.onViewChange = onViewChange || (() => {});
    this.tooltip = tooltip || null;
    this.describe = describe || ((agent) => agent.name);
    this.anims = new Map(); // agent id -> { points, start, duration }
    this.car = { from: 0, to: 0, start: 0, duration: 1 };
    this.tickInterval = 500;
    this.lastTickAt = 0;
    this.background = null;
    this.backgroundKey = "";
    this.fitScale = 1; // device pixels per art pixel that fit the building in its box
    this.zoomSteps = 0;
    this.pan = { x: 0, y: 0 }; // CSS pixels from the box's top-left corner
    this.blocks = [];
    this.hitBoxes = new Map();
    this.pending = 0;
    this.draws = 0; // frames drawn (the benchmark and tests read it)
    this.firstDrawAt = null;
    this.pointers = new Map();
    this.drag = null;
    this.bindInput();
    new ResizeObserver(() => this.resize()).observe(this.wrap);
    this.frameCallback = (now) => this.frame(now);
  }

  bindInput() {
    const canvas = this.canvas;
    canvas.addEventListener("pointerdown", (event) => this.pointerDown(event));
    canvas.addEventListener("pointermove", (event) => this.pointerMove(event));
    canvas.addEventListener("pointerup", (event) => this.pointerUp(event));
    canvas.addEventListener("pointercancel", (event) => this.pointers.delete(event.pointerId));
    canvas.addEventListener("pointerleave", () => this.hideTooltip());
    canvas.addEventListener("wheel", (event) => {
      event.preventDefault();
      this.zoomBy(event.deltaY < 0 ? 1 : -1, event.clientX, event.clientY);
    }, { passive: false });
    canvas.addEventListener("focus", () => this.showTooltipFor(this.selectedAgent));
    canvas.addEventListener("blur", () => this.hideTooltip());
  }

  setStore(store) {
    this.store = store;
    this.anims.clear();
    const pos = this.carLevel(performance.now(), store.elevator);
    this.car = { from: pos, to: pos, start: 0, duration: 1 };
    this.backgroundKey = "";
    this.resize();
  }

  setFloor(floorId) {
    this.floorId = floorId;
    this.backgroundKey = "";
    this.resize();
  }

  select(agentId) {
    this.selectedAgent = agentId;
    if (!agentId) this.followed = null;
    this.invalidate();
  }

  /** Keep an agent in the middle of the view (zooming in one step if the whole building shows). */
  follow(agentId) {
    this.followed = agentId;
    if (agentId && this.zoomSteps === 0) this.zoomSteps = 1;
    this.applyView();
    this.onViewChange();
  }

  /** Start walking animations for one tick's moves. */
  onTick(moved, elevatorBefore) {
    const now = performance.now();
    if (this.lastTickAt) {
      const gap = now - this.lastTickAt;
      this.tickInterval = Math.max(80, Math.min(1500, this.tickInterval * 0.6 + gap * 0.4));
    }
    this.lastTickAt = now;
    const duration = this.tickInterval * 0.9;
    const still = reducedMotion?.matches; // people and the lift jump instead of gliding
    for (const [before, after] of moved) {
      if (still || !before || before.floor_id !== after.floor_id) {
        this.anims.delete(after.id);
        continue;
      }
      const floor = this.store.floorById(after.floor_id);
      const corridor = floor?.plan?.corridor_y ?? 6;
      const from = this.displayTile(before.id, now) || [before.x, before.y];
      const start = [Math.round(from[0]), Math.round(from[1])];
      const points = [from, ...route(start, [after.x, after.y], corridor)];
      if (points.length < 2) points.push([after.x, after.y]);
      this.anims.set(after.id, { points, start: now, duration });
    }
    const to = this.carLevel(now, this.store.elevator, true);
    const from = still ? to : this.carLevel(now, elevatorBefore);
    this.car = { from, to, start: now, duration };
    this.invalidate();
  }

  carLevel(now, elevator, target = false) {
    if (!target && this.car && now < this.car.start + this.car.duration) {
      const t = (now - this.car.start) / this.car.duration;
      return this.car.from + (this.car.to - this.car.from) * t;
    }
    if (!elevator) return 0;
    if (elevator.target === null || elevator.target === undefined) return elevator.level;
    const total = (elevator.ticks_per_floor || 1) * Math.max(1, Math.abs(elevator.target - elevator.level));
    const done = 1 - (elevator.countdown || 0) / total;
    return elevator.level + (elevator.target - elevator.level) * Math.max(0, Math.min(1, done));
  }

  /** Where an agent is drawn now, in tiles (fractional while walking). */
  displayTile(agentId, now = performance.now()) {
    const agent = this.store?.agents.get(agentId);
    if (!agent) return null;
    const anim = this.anims.get(agentId);
    if (!anim) return [agent.x, agent.y];
    const fraction = (now - anim.start) / anim.duration;
    if (fraction >= 1) {
      this.anims.delete(agentId);
      return [agent.x, agent.y];
    }
    return pointAlong(anim.points, fraction);
  }

  shownFloors() {
    if (!this.store) return [];
    const floors = this.store.floors;
    if (this.floorId) return floors.filter((f) => f.id === this.floorId);
    return [...floors].sort((a, b) => b.level - a.level);
  }

  layout() {
    const floors = this.shownFloors();
    let y = 0;
    let width = 0;
    this.blocks = floors.map((floor) => {
      const w = floor.plan.width * TILE;
      const h = floor.plan.height * TILE - CROP;
      const block = { floor, x: 0, y, w, h };
      y += h + SLAB;
      width = Math.max(width, w);
      return block;
    });
    return { width: Math.max(width, TILE), height: Math.max(y - SLAB, TILE) };
  }

  // ---- size, zoom and pan ------------------------------------------------------------------

  resize() {
    if (!this.store) return;
    const { width, height } = this.layout();
    const dpr = window.devicePixelRatio || 1;
    const box = this.wrap.getBoundingClientRect();
    // the scale comes from the box the layout gives the map, not from the window
    let fit = Math.floor(Math.min((box.width * dpr) / width, (box.height * dpr) / height));
    if (fit < dpr) {
      // A narrow screen (a phone): the whole building would be drawn smaller than one CSS
      // pixel per art pixel, people too small to tap. Fill the height instead and let the
      // building be dragged sideways.
      fit = Math.max(fit, Math.floor((box.height * dpr) / height));
    }
    this.fitScale = Math.max(1, fit);
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.backgroundKey = "";
    this.applyView();
    this.invalidate();
  }

  get scale() {
    return this.fitScale + this.zoomSteps;
  }

  /** CSS pixels per art pixel. */
  cssScale() {
    return this.scale / (window.devicePixelRatio || 1);
  }

  /** Size the canvas for the zoom and keep the pan inside the building (centred if smaller). */
  applyView() {
    const box = this.wrap.getBoundingClientRect();
    const s = this.cssScale();
    const w = this.canvas.width * s;
    const h = this.canvas.height * s;
    if (this.followed) {
      const centre = this.agentCentre(this.followed);
      if (centre) {
        this.pan.x = box.width / 2 - centre[0] * s;
        this.pan.y = box.height / 2 - centre[1] * s;
      }
    }
    const clamp = (v, size, avail) => (size <= avail ? Math.round((avail - size) / 2) : Math.round(Math.min(0, Math.max(avail - size, v))));
    this.pan.x = clamp(this.pan.x, w, box.width);
    this.pan.y = clamp(this.pan.y, h, box.height);
    // CSSOM sizing (allowed by the CSP, unlike style attributes)
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    this.canvas.style.transform = `translate(${this.pan.x}px, ${this.pan.y}px)`;
    this.wrap.dataset.zoom = String(this.zoomSteps);
  }

  /** Zoom by whole steps around a point on the screen (the centre of the box by default). */
  zoomBy(steps, clientX = null, clientY = null) {
    const before = this.cssScale();
    const next = Math.max(0, Math.min(MAX_ZOOM_STEPS, this.zoomSteps + steps));
    if (next === this.zoomSteps) return;
    const box = this.wrap.getBoundingClientRect();
    const px = (clientX ?? box.left + box.width / 2) - box.left;
    const py = (clientY ?? box.top + box.height / 2) - box.top;
    const ax = (px - this.pan.x) / before; // the art pixel under the point stays under it
    const ay = (py - this.pan.y) / before;
    this.zoomSteps = next;
    const after = this.cssScale();
    this.pan.x = px - ax * after;
    this.pan.y = py - ay * after;
    this.applyView();
    this.onViewChange();
  }

  panBy(dx, dy) {
    this.followed = null;
    this.pan.x += dx;
    this.pan.y += dy;
    this.applyView();
    this.onViewChange();
  }

  resetView() {
    this.zoomSteps = 0;
    this.followed = null;
    this.applyView();
    this.onViewChange();
  }

  // ---- pointer input: click, drag to pan, pinch to zoom, hover tooltips ---------------------

  pointerDown(event) {
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    this.drag = { x: event.clientX, y: event.clientY, moved: false, pinch: this.pinchDistance() };
    this.canvas.setPointerCapture?.(event.pointerId);
  }

  pinchDistance() {
    const [a, b] = [...this.pointers.values()];
    return a && b ? Math.hypot(a.x - b.x, a.y - b.y) : null;
  }

  pointerMove(event) {
    const last = this.pointers.get(event.pointerId);
    if (!last || !this.drag) {
      const id = this.agentAt(event.clientX, event.clientY, event.pointerType === "touch");
      this.canvas.classList.toggle("pointing", Boolean(id));
      if (id) this.showTooltipFor(id, event.clientX, event.clientY);
      else this.hideTooltip();
      return;
    }
    const dx = event.clientX - last.x;
    const dy = event.clientY - last.y;
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    const pinch = this.pinchDistance();
    if (pinch && this.drag.pinch) {
      const ratio = pinch / this.drag.pinch;
      if (ratio > 1.25 || ratio < 0.8) {
        this.zoomBy(ratio > 1 ? 1 : -1);
        this.drag.pinch = pinch;
      }
      this.drag.moved = true;
      return;
    }
    if (Math.abs(event.clientX - this.drag.x) + Math.abs(event.clientY - this.drag.y) > 4) this.drag.moved = true;
    if (this.drag.moved) this.panBy(dx, dy);
  }

  pointerUp(event) {
    this.pointers.delete(event.pointerId);
    const drag = this.drag;
    if (!this.pointers.size) this.drag = null;
    if (drag && !drag.moved) {
      const id = this.agentAt(event.clientX, event.clientY, event.pointerType === "touch");
      if (id) this.onAgentClick(id);
    }
  }

  showTooltipFor(agentId, clientX = null, clientY = null) {
    const tip = this.tooltip;
    const agent = agentId && this.store?.agents.get(agentId);
    if (!tip || !agent) return this.hideTooltip();
    tip.textContent = this.describe(agent);
    const box = this.wrap.getBoundingClientRect();
    const spot = clientX === null ? this.locate(agentId) : { x: clientX, y: clientY };
    if (!spot) return this.hideTooltip();
    tip.hidden = false;
    const x = Math.min(box.width - tip.offsetWidth - 4, Math.max(4, spot.x - box.left + 12));
    const y = Math.max(4, spot.y - box.top - tip.offsetHeight - 12);
    tip.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
    return undefined;
  }

  hideTooltip() {
    if (this.tooltip) this.tooltip.hidden = true;
  }

  // ---- frames -------------------------------------------------------------------------------

  start() {
    this.invalidate();
  }

  /** Ask for one frame (several calls before it is drawn still draw once). */
  invalidate() {
    if (!this.pending) this.pending = requestAnimationFrame(this.frameCallback);
  }

  isMoving(now) {
    return this.anims.size > 0 || now < this.car.start + this.car.duration;
  }

  frame(now) {
    this.pending = 0;
    this.draw(now);
    if (this.followed) this.applyView(); // keeps the followed agent centred while it walks
    if (this.isMoving(now)) this.invalidate();
  }

  // ---- drawing -----------------------------------------------------------------------------

  draw(now) {
    if (!this.store || !this.store.floors.length) return;
    const key = `${this.store.layoutVersion}|${this.floorId}|${this.canvas.width}x${this.canvas.height}|${this.blocks.length}`;
    if (key !== this.backgroundKey) {
      if (this.blocks.length !== this.shownFloors().length) this.resize();
      this.background = this.drawBackground();
      this.backgroundKey = key;
    }
    const ctx = this.ctx;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.background, 0, 0);
    for (const block of this.blocks) this.drawFloorLive(ctx, block);
    for (const block of this.blocks) this.drawLockdown(ctx, block);
    this.drawElevatorCar(ctx, now);
    this.hitBoxes = new Map();
    for (const block of this.blocks) this.drawAgents(ctx, block, now);
    this.draws += 1;
    if (this.firstDrawAt === null) {
      this.firstDrawAt = performance.now();
      performance.mark?.("office-first-draw");
    }
  }

  drawBackground() {
    const bg = document.createElement("canvas");
    bg.width = this.canvas.width;
    bg.height = this.canvas.height;
    const ctx = bg.getContext("2d");
    ctx.fillStyle = "#1b1e27";
    ctx.fillRect(0, 0, bg.width, bg.height);
    this.blocks.forEach((block, i) => {
      this.drawFloorStatic(ctx, block);
      if (i < this.blocks.length - 1) {
        ctx.fillStyle = "#4a4f5c";
        ctx.fillRect(0, block.y + block.h, bg.width, SLAB);
        ctx.fillStyle = "#2f333d";
        ctx.fillRect(0, block.y + block.h + SLAB - 1, bg.width, 1);
      }
    });
    return bg;
  }

  drawFloorStatic(ctx, { floor, x: ox, y: oy, w, h }) {
    const plan = floor.plan;
    const store = this.store;
    ctx.save();
    ctx.beginPath();
    ctx.rect(ox, oy, w, h);
    ctx.clip();
    // floor tiles
    for (let ty = 0; ty < plan.height; ty += 1) {
      for (let tx = 0; tx < plan.width; tx += 1) {
        const corridor = ty === plan.corridor_y;
        ctx.fillStyle = corridor
          ? (tx + ty) % 2 ? "#4d5566" : "#535c6e"
          : (tx + ty) % 2 ? "#3a3f4b" : "#3e4350";
        ctx.fillRect(ox + tx * TILE, oy + ty * TILE, TILE, TILE);
      }
    }
    // corridor edge lines
    ctx.fillStyle = "#6b7487";
    ctx.fillRect(ox, oy + plan.corridor_y * TILE, w, 1);
    ctx.fillRect(ox, oy + (plan.corridor_y + 1) * TILE - 1, w, 1);
    // windows along the top row
    for (let tx = 0; tx < plan.width; tx += 2) {
      if (Math.abs(tx + 1 - plan.elevator.x - 0.5) < 2) continue;
      ctx.fillStyle = "#27324a";
      ctx.fillRect(ox + tx * TILE + 2, oy + 1, TILE * 2 - 4, 7);
      ctx.fillStyle = "#5f86b8";
      ctx.fillRect(ox + tx * TILE + 3, oy + 2, TILE * 2 - 6, 5);
      ctx.fillStyle = "#8fb3dc";
      ctx.fillRect(ox + tx * TILE + 4, oy + 3, 3, 1);
    }
    // floor label
    const label = `${floor.level + 1} ${floor.name || floor.id}`;
    const lx = ox + plan.supply.x * TILE;
    const ly = oy + TILE + 2;
    ctx.fillStyle = "#1b1e27";
    ctx.fillRect(lx, ly, label.length * 4 + 5, 9);
    pixelText(ctx, label, lx + 3, ly + 2, "#f4f6f8");
    // offices
    for (const officeId of floor.office_ids || []) {
      const office = store.offices.get(officeId);
      if (office) this.drawOffice(ctx, office, ox, oy);
    }
    this.drawRoom(ctx, plan.supply, ox, oy, "#4b3f35", "SUPPLY");
    this.drawRoom(ctx, plan.meeting, ox, oy, "#35404b", "MEETING");
    this.drawMeetingTable(ctx, plan.meeting, ox, oy);
    this.drawShaft(ctx, plan, ox, oy);
    this.drawDecor(ctx, plan, ox, oy);
    ctx.restore();
  }

  drawOffice(ctx, office, ox, oy) {
    const r = office.rect;
    const x = ox + r.x * TILE;
    const y = oy + r.y * TILE;
    const w = r.w * TILE;
    const h = r.h * TILE;
    ctx.fillStyle = "#5a4a3a";
    ctx.fillRect(x, y, w, h);
    for (let ty = 0; ty < r.h; ty += 1) {
      for (let tx = 0; tx < r.w; tx += 1) {
        ctx.fillStyle = (tx + ty) % 2 ? "#6b5642" : "#735c46";
        ctx.fillRect(x + tx * TILE + 1, y + ty * TILE + 1, TILE - 2, TILE - 2);
      }
    }
    // walls: solid on three sides, glass towards the corridor
    ctx.fillStyle = "#20232b";
    ctx.fillRect(x - 2, y - 2, w + 4, 2);
    ctx.fillRect(x - 2, y, 2, h);
    ctx.fillRect(x + w, y, 2, h);
    for (let gx = x - 2; gx < x + w + 2; gx += 4) {
      ctx.fillStyle = "#8fb3dc";
      ctx.fillRect(gx, y + h, 3, 2);
    }
    // desks
    for (const agentId of office.agent_ids || []) {
      const agent = this.store.agents.get(agentId);
      if (agent?.desk) this.drawDesk(ctx, ox + agent.desk[0] * TILE, oy + agent.desk[1] * TILE, agent.role);
    }
    const name = office.name || office.id;
    ctx.fillStyle = "#20232b";
    ctx.fillRect(x, y - 9, name.length * 4 + 5, 9);
    pixelText(ctx, name, x + 3, y - 7, "#f2cc3a");
  }

  drawDesk(ctx, x, y, role) {
    // desk top behind the seat, a monitor on it, a chair in the role colour
    ctx.fillStyle = "#2a1d12";
    ctx.fillRect(x, y - 5, TILE, 6);
    ctx.fillStyle = "#a0703f";
    ctx.fillRect(x + 1, y - 5, TILE - 2, 4);
    ctx.fillStyle = "#1b1e27";
    ctx.fillRect(x + 4, y - 12, 8, 7);
    ctx.fillStyle = "#3b5068";
    ctx.fillRect(x + 5, y - 11, 6, 4);
    ctx.fillStyle = shade(ROLE_COLOURS[role] || "#888888", 0.55);
    ctx.fillRect(x + 3, y + 9, 10, 5);
  }

  drawRoom(ctx, rect, ox, oy, colour, label) {
    const x = ox + rect.x * TILE;
    const y = oy + rect.y * TILE;
    const w = rect.w * TILE;
    const h = rect.h * TILE;
    ctx.fillStyle = colour;
    ctx.fillRect(x, y, w, h);
    ctx.fillStyle = shade(colour, 1.15);
    for (let ty = 0; ty < rect.h; ty += 1) {
      for (let tx = (ty % 2); tx < rect.w; tx += 2) ctx.fillRect(x + tx * TILE, y + ty * TILE, TILE, TILE);
    }
    ctx.fillStyle = "#20232b";
    ctx.fillRect(x - 2, y + h, w + 4, 2);
    ctx.fillRect(x - 2, y, 2, h);
    ctx.fillRect(x + w, y, 2, h);
    for (let gx = x - 2; gx < x + w + 2; gx += 4) {
      ctx.fillStyle = "#8fb3dc";
      ctx.fillRect(gx, y - 2, 3, 2);
    }
    ctx.fillStyle = "#20232b";
    ctx.fillRect(x + w - label.length * 4 - 4, y + h - 8, label.length * 4 + 3, 7);
    pixelText(ctx, label, x + w - label.length * 4 - 2, y + h - 7, "#f4f6f8");
  }

  drawMeetingTable(ctx, rect, ox, oy) {
    const x = ox + (rect.x + 2) * TILE;
    const y = oy + (rect.y + 1) * TILE;
    ctx.fillStyle = "#2a1d12";
    ctx.fillRect(x - 1, y + 2, TILE * 3 + 2, 12);
    ctx.fillStyle = "#8b5a2b";
    ctx.fillRect(x, y + 3, TILE * 3, 9);
    ctx.fillStyle = "#a8743d";
    ctx.fillRect(x + 2, y + 4, TILE * 3 - 4, 2);
  }

  drawShaft(ctx, plan, ox, oy) {
    const ex = ox + plan.elevator.x * TILE;
    const doorY = oy + (plan.elevator.y - 2) * TILE;
    ctx.fillStyle = "#15171d";
    ctx.fillRect(ex - 2, oy, TILE + 4, doorY - oy + 2 * TILE);
    ctx.fillStyle = "#2b2f3a";
    ctx.fillRect(ex, oy, TILE, doorY - oy + 2 * TILE);
    // cables
    ctx.fillStyle = "#5b6170";
    ctx.fillRect(ex + 5, oy, 1, doorY - oy);
    ctx.fillRect(ex + 10, oy, 1, doorY - oy);
    // door frame
    ctx.fillStyle = "#9aa4b1";
    ctx.fillRect(ex - 2, doorY - 2, TILE + 4, 2);
    pixelText(ctx, "LIFT", ex, doorY - 9, "#f2cc3a");
  }

  drawDecor(ctx, plan, ox, oy) {
    // plants along the empty wall beside the rooms
    const right = plan.supply.x;
    for (const tx of [right + 1, right + 5, right + 9]) {
      if (tx >= plan.elevator.x - 1) continue;
      const x = ox + tx * TILE + 4;
      const y = oy + 3 * TILE;
      ctx.fillStyle = "#7a4b2a";
      ctx.fillRect(x + 1, y + 8, 6, 6);
      ctx.fillStyle = "#2e8b57";
      ctx.fillRect(x, y + 2, 8, 6);
      ctx.fillRect(x + 2, y, 4, 2);
      ctx.fillStyle = "#3cb371";
      ctx.fillRect(x + 2, y + 3, 2, 2);
    }
    // a water cooler
    const wx = ox + (right + 11) * TILE + 4;
    const wy = oy + 3 * TILE;
    if (right + 11 < plan.elevator.x - 1) {
      ctx.fillStyle = "#d5dde6";
      ctx.fillRect(wx, wy + 4, 8, 10);
      ctx.fillStyle = "#5dade2";
      ctx.fillRect(wx + 1, wy, 6, 5);
    }
  }

  /** Red-and-yellow tape round a floor under lockdown (its own, or the whole building's). */
  drawLockdown(ctx, { floor, x: ox, y: oy, w, h }) {
    const all = this.store.header.lockdowns || [];
    const hold = all.find((l) => l.scope === floor.id) || all.find((l) => l.scope === "building");
    if (!hold) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(ox, oy, w, h);
    ctx.clip();
    ctx.fillStyle = "rgba(224, 70, 63, 0.12)";
    ctx.fillRect(ox, oy, w, h);
    for (const ty of [oy, oy + h - 4]) {
      for (let x = ox - 8; x < ox + w; x += 8) {
        ctx.fillStyle = (x - ox) % 16 === 0 ? "#e0463f" : "#f5d90a";
        ctx.beginPath();
        ctx.moveTo(x, ty + 4);
        ctx.lineTo(x + 4, ty);
        ctx.lineTo(x + 8, ty);
        ctx.lineTo(x + 4, ty + 4);
        ctx.fill();
      }
    }
    const label = "LOCKDOWN";
    const lx = ox + Math.round(w / 2) - label.length * 2 - 3;
    const ly = oy + 6;
    ctx.fillStyle = "#e0463f";
    ctx.fillRect(lx, ly, label.length * 4 + 5, 9);
    pixelText(ctx, label, lx + 3, ly + 2, "#ffffff");
    ctx.restore();
  }

  drawFloorLive(ctx, { floor, x: ox, y: oy }) {
    // supply room shelves: one box per tool, a light per slot (green free, red held)
    const plan = floor.plan;
    const sx = ox + plan.supply.x * TILE + 3;
    const sy = oy + plan.supply.y * TILE + 3;
    const tools = (floor.tool_ids || []).map((id) => this.store.tools.get(id)).filter(Boolean);
    const perRow = Math.max(1, Math.floor((plan.supply.w * TILE - 4) / 11));
    tools.forEach((tool, i) => {
      const x = sx + (i % perRow) * 11;
      const y = sy + Math.floor(i / perRow) * 14;
      ctx.fillStyle = "#14161c";
      ctx.fillRect(x - 1, y - 1, 10, 9);
      ctx.fillStyle = TOOL_COLOURS[tool.kind] || "#95a5a6";
      ctx.fillRect(x, y, 8, 7);
      ctx.fillStyle = "#f4f6f8";
      ctx.fillRect(x + 2, y + 2, 4, 1);
      const held = (tool.holders || []).length;
      for (let s = 0; s < Math.min(tool.slots, 4); s += 1) {
        ctx.fillStyle = s < held ? "#ec7063" : "#58d68d";
        ctx.fillRect(x + s * 2, y + 9, 1, 2);
      }
      if ((tool.queue || []).length) {
        ctx.fillStyle = "#f5b041";
        ctx.fillRect(x + 8, y + 9, 1, 2);
      }
    });
    // meetings in progress light the table
    const meetingOpen = [...this.store.meetings.values()].some(
      (m) => m.floor_id === floor.id && m.open && m.started_tick !== null && m.started_tick !== undefined,
    );
    if (meetingOpen) {
      const mx = ox + (plan.meeting.x + 2) * TILE;
      const my = oy + (plan.meeting.y + 1) * TILE;
      ctx.fillStyle = "#f7dc6f";
      ctx.fillRect(mx + 20, my + 5, 8, 5);
      ctx.fillStyle = "#14161c";
      ctx.fillRect(mx + 21, my + 6, 6, 1);
      ctx.fillRect(mx + 21, my + 8, 4, 1);
    }
    // shipments waiting at this floor's lift door
    const waiting = (this.store.elevator?.queue || []).filter((s) => s.origin === floor.id);
    const ex = ox + plan.elevator.x * TILE;
    const ey = oy + plan.elevator.y * TILE + 4;
    waiting.slice(0, 3).forEach((_, i) => drawContract(ctx, ex - 10 - i * 3, ey + i * 2));
  }

  doorY(level) {
    const block = this.blocks.find((b) => b.floor.level === level);
    if (!block) return null;
    return { block, y: block.y + (block.floor.plan.elevator.y - 2) * TILE };
  }

  drawElevatorCar(ctx, now) {
    const elevator = this.store.elevator;
    if (!elevator) return;
    let pos = this.carLevel(now, elevator);
    if (now >= this.car.start + this.car.duration) pos = this.car.to;
    const low = Math.floor(pos);
    const high = Math.ceil(pos);
    const a = this.doorY(low);
    const b = this.doorY(high);
    let y;
    let block;
    if (a && b) {
      y = a.y + (b.y - a.y) * (pos - low);
      block = Math.abs(pos - low) < 0.5 ? a.block : b.block;
    } else if (a || b) {
      const only = a || b;
      block = only.block;
      // the car is away from the floor shown: a closed door and an arrow pointing to it
      const ex = block.x + block.floor.plan.elevator.x * TILE;
      if (Math.abs(pos - block.floor.level) > 0.05) {
        ctx.fillStyle = "#6b7487";
        ctx.fillRect(ex, only.y, TILE, 2 * TILE);
        ctx.fillStyle = "#3e4350";
        ctx.fillRect(ex + 7, only.y, 2, 2 * TILE);
        const up = pos > block.floor.level;
        pixelText(ctx, up ? "+" : "-", ex + 6, only.y + 3, "#f2cc3a");
        pixelText(ctx, String(Math.round(pos) + 1), ex + 6, only.y + 10, "#f2cc3a");
        return;
      }
      y = only.y;
    } else {
      return;
    }
    const ex = block.x + block.floor.plan.elevator.x * TILE;
    ctx.fillStyle = "#14161c";
    ctx.fillRect(ex - 1, y - 1, TILE + 2, 2 * TILE + 2);
    ctx.fillStyle = "#c9a227";
    ctx.fillRect(ex, y, TILE, 2 * TILE);
    ctx.fillStyle = "#f2cc3a";
    ctx.fillRect(ex + 1, y + 1, TILE - 2, 2 * TILE - 2);
    ctx.fillStyle = "#8a6d1a";
    ctx.fillRect(ex + 1, y + 2 * TILE - 4, TILE - 2, 3);
    if (elevator.cargo) drawContract(ctx, ex + 4, y + 2 * TILE - 12);
  }

  drawAgents(ctx, block, now) {
    const agents = this.store.agentsOn(block.floor.id);
    const placed = agents.map((agent) => ({ agent, tile: this.displayTile(agent.id, now) }));
    placed.sort((p, q) => p.tile[1] - q.tile[1] || p.agent.id.localeCompare(q.agent.id));
    // agents standing on the same tile step aside so each stays visible and clickable
    const crowd = new Map();
    for (const p of placed) {
      if (this.anims.has(p.agent.id)) continue;
      const key = p.tile.join(",");
      crowd.set(key, (crowd.get(key) || []).concat(p));
    }
    for (const group of crowd.values()) {
      group.forEach((p, i) => {
        p.offset = Math.round((i - (group.length - 1) / 2) * 7);
      });
    }
    for (const { agent, tile, offset = 0 } of placed) {
      const walking = this.anims.has(agent.id);
      const frame = walking ? Math.floor(now / 140) % 2 : 0;
      const x = Math.round(block.x + tile[0] * TILE + 2 + offset);
      const y = Math.round(block.y + tile[1] * TILE - 3);
      if (agent.id === this.selectedAgent) {
        ctx.fillStyle = "#f2cc3a";
        ctx.fillRect(x - 2, y + 14, 16, 3);
      } else {
        ctx.fillStyle = "rgba(0,0,0,0.35)";
        ctx.fillRect(x + 1, y + 15, 10, 2);
      }
      ctx.drawImage(agentSprite(agent.role, agent.id, frame), x, y);
      const icon = walking ? null : statusIcon(agent.status);
      if (icon) {
        ctx.drawImage(icon, x + 8, y - 7);
      } else if (!walking && agent.status !== "walking") {
        ctx.fillStyle = STATUS_COLOURS[agent.status] || "#ffffff";
        ctx.fillRect(x + 10, y - 2, 2, 2);
      }
      if (agent.held_tool) {
        const tool = this.store.tools.get(agent.held_tool);
        ctx.fillStyle = "#14161c";
        ctx.fillRect(x - 2, y + 8, 4, 4);
        ctx.fillStyle = TOOL_COLOURS[tool?.kind] || "#95a5a6";
        ctx.fillRect(x - 1, y + 9, 2, 2);
      }
      this.hitBoxes.set(agent.id, { x: x - 1, y: y - 7, w: 14, h: 24 });
    }
  }

  // ---- hit testing -------------------------------------------------------------------------

  toLogical(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    const lx = ((clientX - rect.left) / rect.width) * this.canvas.width;
    const ly = ((clientY - rect.top) / rect.height) * this.canvas.height;
    return [lx, ly];
  }

  /** The agent under a point; a finger also gets the nearest agent within a thumb's reach. */
  agentAt(clientX, clientY, touch = false) {
    if (!this.hitBoxes) return null;
    const [lx, ly] = this.toLogical(clientX, clientY);
    const slop = touch ? TOUCH_SLOP / this.cssScale() : 0;
    let best = null;
    let bestDistance = Infinity;
    for (const [id, box] of this.hitBoxes) {
      if (!this.store.agents.has(id)) continue;
      const dx = Math.max(box.x - lx, 0, lx - (box.x + box.w));
      const dy = Math.max(box.y - ly, 0, ly - (box.y + box.h));
      const distance = Math.hypot(dx, dy);
      if (distance <= slop && distance <= bestDistance) {
        best = id;
        bestDistance = distance;
      }
    }
    return best;
  }

  /** An agent's body centre in art pixels, where it is drawn now. */
  agentCentre(agentId) {
    const box = this.hitBoxes?.get(agentId);
    return box ? [box.x + box.w / 2, box.y + 14] : null;
  }

  /** Client coordinates of an agent's body centre (tests and tooltips use it). */
  locate(agentId) {
    const centre = this.agentCentre(agentId);
    if (!centre) return null;
    const rect = this.canvas.getBoundingClientRect();
    const sx = rect.width / this.canvas.width;
    const sy = rect.height / this.canvas.height;
    return { x: rect.left + centre[0] * sx, y: rect.top + centre[1] * sy };
  }
}
