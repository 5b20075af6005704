// Socket.IO fan-out load: N WebSocket clients in one Node.js process (light enough that the
// server, not the load generator, is what gets measured). Prints one JSON line of results.
//   node bench/fanout_client.mjs <url> <clients> <seconds>
import { io } from "socket.io-client";

const [url, clientsArg, secondsArg] = process.argv.slice(2);
const clients = Number(clientsArg ?? 250);
const seconds = Number(secondsArg ?? 60);
const seen = [];
const lags = [];
let connected = 0;
let refused = 0;

function recordedAt(events) {
  let newest = 0;
  for (const e of events ?? []) if (e.recorded_at && e.recorded_at > newest) newest = e.recorded_at;
  return newest;
}

const sockets = [];
for (let i = 0; i < clients; i++) {
  const ticks = [];
  seen.push(ticks);
  const socket = io(url, { transports: ["websocket"], reconnection: false, timeout: 20000 });
  socket.on("connect", () => connected++);
  socket.on("connect_error", () => refused++);
  socket.on("tick_end", (data) => {
    ticks.push(data.tick);
    const stamp = recordedAt(data.events);
    if (stamp) lags.push(Date.now() / 1000 - stamp);
  });
  sockets.push(socket);
  await new Promise((r) => setTimeout(r, 5));
}

setTimeout(() => {
  for (const s of sockets) s.close();
  let lost = 0;
  let messages = 0;
  for (const ticks of seen) {
    messages += ticks.length;
    if (ticks.length) lost += ticks[ticks.length - 1] - ticks[0] + 1 - new Set(ticks).size;
  }
  lags.sort((a, b) => a - b);
  const pick = (q) => (lags.length ? Math.round(lags[Math.max(0, Math.ceil(q * lags.length) - 1)] * 10000) / 10 : null);
  console.log(JSON.stringify({ clients, connected, refused, messages, lost_ticks: lost,
    latency_p50_ms: pick(0.5), latency_p99_ms: pick(0.99) }));
  process.exit(0);
}, seconds * 1000);
