// Socket.IO fan-out load: N WebSocket clients (socket.io-client, as the UI uses) in one Node.js
// process, spread over T worker threads so that parsing every client's messages does not make
// the load generator the bottleneck. Prints one JSON line of results, with the CPU seconds this
// process used (user + system, all threads) so the record shows the client's share of the cores.
//   node bench/fanout_client.mjs <url> <clients> <seconds> [threads]
// FANOUT_TOKEN: an API token the clients authenticate with (a server that requires one).
// FANOUT_DEFLATE=0: the clients do not offer permessage-deflate (inflating 1,000 streams in one
// process is the load generator's own cost; a browser inflates one).
// FANOUT_PARSE=light: socket.io-client with a decoder that reads a tick_end's tick and newest
// audit timestamp without parsing the whole document (parsing 1,000 copies of every tick is the
// load generator's cost, not the server's); every other packet is decoded as usual, and the
// first messages are checked against a full parse (light_parse_mismatches).
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import * as parser from "socket.io-parser";
import { io } from "socket.io-client";

const TICK_END = '2["tick_end",{"tick":';
let checked = 0;
let mismatches = 0;

class LightDecoder extends parser.Decoder {
  add(obj) {
    if (typeof obj !== "string" || !obj.startsWith(TICK_END)) return super.add(obj);
    const tick = parseInt(obj.slice(TICK_END.length), 10);
    const events = obj.indexOf('"events":[');
    const flow = obj.indexOf('"flow":', events);
    const at = obj.lastIndexOf('"recorded_at":', flow > 0 ? flow : obj.length);
    const stamp = events > 0 && at > events ? parseFloat(obj.slice(at + 14)) : 0;
    if (checked < 200) {
      checked++;
      const full = JSON.parse(obj.slice(1))[1];
      if (full.tick !== tick || recordedAt(full.events) !== stamp) mismatches++;
    }
    this.emitReserved("decoded", {
      type: parser.PacketType.EVENT, nsp: "/",
      data: ["tick_end", { tick, events: stamp ? [{ recorded_at: stamp }] : [] }],
    });
  }
}
const lightParser = { ...parser, Decoder: LightDecoder };

function recordedAt(events) {
  let newest = 0;
  for (const e of events ?? []) if (e.recorded_at && e.recorded_at > newest) newest = e.recorded_at;
  return newest;
}

// One thread's share of the clients: connect them (paced), record ticks and lags, report.
async function runClients({ url, clients, seconds, spacing, offset }) {
  const seen = [];
  const lags = [];
  const trace = process.env.FANOUT_TRACE ? [] : null;
  let connected = 0;
  let refused = 0;
  const sockets = [];
  await new Promise((r) => setTimeout(r, offset));
  for (let i = 0; i < clients; i++) {
    const ticks = [];
    seen.push(ticks);
    const socket = io(url, {
      transports: ["websocket"], reconnection: false, timeout: 20000,
      ...(process.env.FANOUT_TOKEN ? { auth: { token: process.env.FANOUT_TOKEN } } : {}),
      perMessageDeflate: process.env.FANOUT_DEFLATE === "0" ? false : { threshold: 1024 },
      ...(process.env.FANOUT_PARSE === "light" ? { parser: lightParser } : {}),
    });
    socket.on("connect", () => connected++);
    socket.on("connect_error", () => refused++);
    socket.on("tick_end", (data) => {
      ticks.push(data.tick);
      const stamp = recordedAt(data.events);
      if (stamp) {
        lags.push(Date.now() / 1000 - stamp);
        if (trace) trace.push([data.tick, Date.now() / 1000 - stamp]);
      }
    });
    sockets.push(socket);
    await new Promise((r) => setTimeout(r, spacing));
  }
  const windowStart = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const window = (Date.now() - windowStart) / 1000; // a busy loop fires the timer late
  for (const s of sockets) s.close();
  let lost = 0;
  let messages = 0;
  for (const ticks of seen) {
    messages += ticks.length;
    if (ticks.length) lost += ticks[ticks.length - 1] - ticks[0] + 1 - new Set(ticks).size;
  }
  return { connected, refused, messages, lost, lags, window, trace, mismatches };
}

if (!isMainThread) {
  parentPort.postMessage(await runClients(workerData));
} else {
  const [url, clientsArg, secondsArg, threadsArg] = process.argv.slice(2);
  const clients = Number(clientsArg ?? 250);
  const seconds = Number(secondsArg ?? 60);
  const threads = Math.max(1, Math.min(Number(threadsArg ?? 1), clients));
  const cpuStart = process.cpuUsage();
  const wallStart = Date.now();
  const spacing = 5 * threads; // 200 connects a second in all
  const shares = [];
  for (let t = 0; t < threads; t++) {
    const share = { url, clients: Math.floor(clients / threads) + (t < clients % threads ? 1 : 0),
      seconds, spacing, offset: 5 * t };
    shares.push(threads === 1 ? runClients(share) : new Promise((resolve, reject) => {
      const worker = new Worker(new URL(import.meta.url), { workerData: share });
      worker.once("message", resolve);
      worker.once("error", reject);
    }));
  }
  const results = await Promise.all(shares);
  const lags = results.flatMap((r) => r.lags).sort((a, b) => a - b);
  const pick = (q) => (lags.length ? Math.round(lags[Math.max(0, Math.ceil(q * lags.length) - 1)] * 10000) / 10 : null);
  const sum = (key) => results.reduce((n, r) => n + r[key], 0);
  const cpu = process.cpuUsage(cpuStart);
  if (process.env.FANOUT_TRACE) {
    // Per tick: how many clients got it, and the slowest delivery (ms).
    const perTick = new Map();
    for (const r of results) for (const [tick, lag] of r.trace) {
      const row = perTick.get(tick) ?? [0, 0];
      perTick.set(tick, [row[0] + 1, Math.max(row[1], lag)]);
    }
    const { writeFileSync } = await import("node:fs");
    writeFileSync(process.env.FANOUT_TRACE, JSON.stringify([...perTick].sort((a, b) => a[0] - b[0])));
  }
  console.log(JSON.stringify({ clients, connected: sum("connected"), refused: sum("refused"),
    messages: sum("messages"), lost_ticks: sum("lost"),
    latency_p50_ms: pick(0.5), latency_p99_ms: pick(0.99), latency_max_ms: pick(1),
    client_threads: threads, client_parse: process.env.FANOUT_PARSE === "light" ? "light" : "full",
    light_parse_mismatches: sum("mismatches"), client_cpu_s: Math.round((cpu.user + cpu.system) / 1e4) / 100,
    elapsed_s: Math.round((Date.now() - wallStart) / 100) / 10,
    window_s: Math.max(...results.map((r) => Math.round(r.window * 10) / 10)) }));
  process.exit(0);
}
