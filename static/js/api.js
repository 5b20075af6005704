// REST client: JSON in and out, the server's error message surfaced, the API token attached.
import { getToken, requestToken, setToken } from "./auth.js";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }

  /** The payload field the server blamed, when it named one. */
  get field() {
    const d = this.details;
    if (!d) return null;
    if (typeof d.field === "string") return d.field;
    if (Array.isArray(d.errors) && d.errors[0]) {
      const loc = d.errors[0].loc || d.errors[0].field;
      return Array.isArray(loc) ? String(loc[loc.length - 1]) : loc || null;
    }
    return null;
  }
}

async function parseBody(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("application/json")) return response.json();
  return response.text();
}

function errorFrom(status, body) {
  const error = body && typeof body === "object" ? body.error || body : null;
  if (error && typeof error === "object") {
    return new ApiError(status, error.code || String(status), error.message || `HTTP ${status}`, error.details);
  }
  return new ApiError(status, String(status), typeof body === "string" && body ? body.slice(0, 200) : `HTTP ${status}`);
}

/**
 * Call the API. A 401/403 asks the user for a token once and retries with it; any other
 * refusal throws an ApiError carrying the server's message.
 */
async function send(method, path, body, raw, token) {
  const headers = { Accept: raw ? "*/*" : "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    return await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, "network", "The server cannot be reached.");
  }
}

const refusedAuth = (response) => response.status === 401 || response.status === 403;

export async function api(method, path, body = undefined, { raw = false } = {}) {
  let response = await send(method, path, body, raw, getToken());
  if (refusedAuth(response)) {
    const refusal = errorFrom(response.status, await parseBody(response).catch(() => null));
    if (response.status === 401 && getToken()) setToken(""); // a token the server does not know
    let accepted = null;
    // The dialog tries the request itself with the new token: a refused token is cleared
    // from the field and the dialog stays open with the reason.
    const supplied = await requestToken(refusal.message, async (token) => {
      const attempt = await send(method, path, body, raw, token);
      if (!refusedAuth(attempt)) {
        accepted = attempt;
        return { ok: true };
      }
      const why = errorFrom(attempt.status, await parseBody(attempt).catch(() => null)).message;
      const message = attempt.status === 401 ? `That token was refused: ${why}` : `That token may not do this: ${why}`;
      return { ok: false, message };
    });
    if (!supplied || !accepted) throw refusal;
    response = accepted;
  }
  if (!response.ok) throw errorFrom(response.status, await parseBody(response).catch(() => null));
  if (raw) return response;
  if (response.status === 204) return null;
  return parseBody(response);
}

export const get = (path) => api("GET", path);
export const post = (path, body = {}) => api("POST", path, body);
export const del = (path) => api("DELETE", path);
