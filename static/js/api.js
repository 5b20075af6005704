// REST client: JSON in and out, the server's error message surfaced, the API token attached.
import { getToken, requestToken } from "./auth.js";

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
export async function api(method, path, body = undefined, { raw = false, retried = false } = {}) {
  const headers = { Accept: raw ? "*/*" : "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, "network", "The server cannot be reached.");
  }
  if ((response.status === 401 || response.status === 403) && !retried) {
    const body401 = await parseBody(response).catch(() => null);
    const reason = errorFrom(response.status, body401).message;
    const supplied = await requestToken(reason);
    if (supplied) return api(method, path, body, { raw, retried: true });
    throw errorFrom(response.status, body401);
  }
  if (!response.ok) throw errorFrom(response.status, await parseBody(response).catch(() => null));
  if (raw) return response;
  if (response.status === 204) return null;
  return parseBody(response);
}

export const get = (path) => api("GET", path);
export const post = (path, body = {}) => api("POST", path, body);
export const del = (path) => api("DELETE", path);
