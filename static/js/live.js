// The live connection: Socket.IO with the API token in the handshake, automatic reconnect,
// and a resync (a fresh snapshot) whenever a tick is missed or the server comes back.
import { io } from "../vendor/socket.io.esm.min.js";
import { getToken, onTokenChange, requestToken, setToken } from "./auth.js";

export function connectLive(handlers) {
  const socket = io({
    path: "/socket.io",
    // WebSocket only: one connection per session, so no sticky routing is needed between
    // the processes (or Gunicorn workers) of the scale-out setup.
    transports: ["websocket"],
    auth: (cb) => cb(getToken() ? { token: getToken() } : {}),
    reconnection: true,
    reconnectionDelay: 400,
    reconnectionDelayMax: 2000,
    timeout: 5000,
  });
  let resyncTimer = null;
  let awaitingState = false;

  const resync = () => {
    awaitingState = true;
    socket.emit("resync");
  };

  socket.on("connect", () => {
    handlers.onConnection("connected");
    // the server sends a snapshot on connect; ask again if it does not arrive promptly
    awaitingState = true;
    clearTimeout(resyncTimer);
    resyncTimer = setTimeout(() => awaitingState && resync(), 1500);
  });
  socket.on("disconnect", (reason) => {
    handlers.onConnection("disconnected", reason);
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 500);
  });
  socket.io.on("reconnect_attempt", () => handlers.onConnection("reconnecting"));
  socket.on("connect_error", async (err) => {
    handlers.onConnection(socket.active ? "reconnecting" : "disconnected", err.message);
    if (/auth|token|401|403|forbidden|unauthori[sz]ed/i.test(err.message || "")) {
      if (await requestToken(`The live connection was refused: ${err.message}`)) socket.connect();
    }
  });
  socket.on("state_update", (snapshot) => {
    awaitingState = false;
    handlers.onSnapshot(snapshot);
  });
  socket.on("tick_end", (message) => {
    if (awaitingState) return; // a snapshot is on its way; it already includes this tick
    if (!handlers.onTick(message)) resync();
  });
  // The server checks live connections' tokens again every few seconds: a revoked one is
  // forgotten here, and the user is asked for another (the socket reconnects without it).
  socket.on("auth_revoked", (info) => {
    setToken("");
    requestToken(`${info?.message || "The API token was revoked"}. Enter another token to use the controls.`);
  });
  socket.on("command_applied", (command) => handlers.onCommand?.(command, true));
  socket.on("command_rejected", (command) => handlers.onCommand?.(command, false));
  onTokenChange(() => {
    socket.disconnect();
    socket.connect();
  });
  return { socket, resync };
}
