// The engine's health on the page: a banner when the tick loop has stopped, the store is
// unavailable, the live connection is lost, or no tick has arrived for too long while the
// office says it is running. Driven by /health (its `engine` object, or the older
// `simulation.loop`) and by tick silence on the socket.
import { setText } from "./dom.js";

const POLL_MS = 5000;
const CHECK_MS = 1000;
const MIN_SILENCE_MS = 4000;

const BANNERS = {
  stopped: {
    text: "Engine stopped: the office is not advancing.",
    advice: "Restart the service (docker compose restart app, or systemctl restart miniature-office) and check its log.",
  },
  stalled: {
    text: "No tick has arrived for several seconds: the engine may have stalled.",
    advice: "The page keeps waiting; if this stays, check the service's log and /health.",
  },
  store_unavailable: {
    text: "Store unavailable: the office cannot save its state.",
    advice: "Check that the database is reachable (MINIOFFICE_DATABASE_URL); the engine resumes when it is.",
  },
  reconnecting: {
    text: "Lost the live connection: reconnecting…",
    advice: "If this lasts, check that the service is running and reachable.",
  },
};

/** Map a /health body to one of the banner states, or "" when all is well. */
export function engineState(body) {
  if (!body || typeof body !== "object") return "stopped";
  const engine = body.engine;
  if (engine && typeof engine === "object") {
    if (["stopped", "stalled", "store_unavailable"].includes(engine.state)) return engine.state;
    return "";
  }
  const loop = body.simulation && typeof body.simulation === "object" ? body.simulation.loop : null;
  if (loop === "dead" || loop === "stopped") return "stopped";
  if (body.status === "unhealthy" || body.status === "down") return "stopped";
  return "";
}

export class EngineHealth {
  constructor(banner, { live, connection, onChange = () => {} }) {
    this.banner = banner;
    this.onChange = onChange;
    this.live = live;
    this.connection = connection;
    this.serverState = "";
    this.serverAdvice = null;
    this.serverReason = null;
    this.lastTickAt = performance.now();
    this.tickGap = 1000; // a smoothed gap between ticks
    this.state = "";
  }

  start() {
    this.poll();
    setInterval(() => this.poll(), POLL_MS);
    setInterval(() => this.update(), CHECK_MS);
  }

  sawTick() {
    const now = performance.now();
    const gap = now - this.lastTickAt;
    if (gap > 0 && gap < 10000) this.tickGap = this.tickGap * 0.8 + gap * 0.2;
    this.lastTickAt = now;
    if (this.state === "stalled") this.update();
  }

  async poll() {
    try {
      const response = await fetch("/health", { headers: { Accept: "application/json" }, cache: "no-store" });
      const body = await response.json().catch(() => null);
      this.serverState = engineState(body);
      this.serverAdvice = body?.engine?.advice || null;
      this.serverReason = body?.engine?.reason || null;
    } catch {
      this.serverState = ""; // unreachable: the socket's state tells the story
    }
    this.update();
  }

  silence() {
    return performance.now() - this.lastTickAt;
  }

  /** The banner state now: the connection first, then the server's word, then tick silence. */
  current() {
    const connection = this.connection();
    if (connection === "reconnecting" || connection === "disconnected") return "reconnecting";
    if (this.serverState) return this.serverState;
    const running = Boolean(this.live.header.running);
    const limit = Math.max(MIN_SILENCE_MS, this.tickGap * 5);
    if (connection === "connected" && running && this.live.floors.length && this.silence() > limit) return "stalled";
    return "";
  }

  update() {
    const state = this.current();
    if (state === "stalled" && this.state !== "stalled") this.poll();
    const key = `${state}|${this.serverReason}|${this.serverAdvice}`;
    if (key === this.key) return; // an alert is announced again whenever its text is replaced
    this.key = key;
    this.state = state;
    this.onChange(state);
    const banner = this.banner;
    banner.dataset.state = state;
    banner.hidden = !state;
    if (!state) {
      setText(banner, "");
      return;
    }
    const info = BANNERS[state];
    const reason = this.serverReason ? ` (${this.serverReason})` : "";
    banner.replaceChildren(
      document.createTextNode(`${info.text}${reason} `),
      Object.assign(document.createElement("span"), { className: "advice", textContent: this.serverAdvice || info.advice }),
    );
  }

  /** True when the page must not claim the office is running. */
  get down() {
    return ["stopped", "stalled", "store_unavailable"].includes(this.state);
  }
}
