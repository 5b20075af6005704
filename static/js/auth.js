// The API token: asked for in a small dialog when the server refuses a request, kept in
// sessionStorage for this tab only, sent as a Bearer header and in the Socket.IO handshake.
import { $ } from "./dom.js";

const KEY = "miniatureOffice.apiToken";
const listeners = new Set();
let pending = null;

export function getToken() {
  try {
    return sessionStorage.getItem(KEY) || "";
  } catch {
    return "";
  }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
  } catch {
    /* storage disabled: the token lives until the dialog asks again */
  }
  for (const listener of listeners) listener(token);
}

/** Call ``listener(token)`` whenever the token changes (the socket reconnects with it). */
export function onTokenChange(listener) {
  listeners.add(listener);
}

/**
 * Ask the user for a token; resolves to true when one was entered (and, with ``check``, the
 * server accepted it). ``check(token)`` answers ``{ ok, message }``: a refused token is cleared
 * from the field, the reason is shown and the dialog stays open for another try. Concurrent
 * refusals share one dialog.
 */
export function requestToken(reason = "", check = null) {
  if (pending) return pending;
  const dialog = $("#token-dialog");
  const form = $("#token-form");
  const input = $("#token-input");
  const error = $("#token-error");
  $("#token-reason").textContent = reason || "This action needs an API token.";
  error.textContent = "";
  input.value = getToken();
  pending = new Promise((resolve) => {
    const done = (ok) => {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      pending = null;
      resolve(ok);
    };
    const refuse = (message) => {
      input.value = "";
      input.setAttribute("aria-invalid", "true");
      error.textContent = message;
      input.focus();
    };
    const onSubmit = async (event) => {
      event.preventDefault();
      if (event.submitter && event.submitter.value === "cancel") return done(false);
      const token = input.value.trim();
      if (!token) return refuse("Enter a token, or Cancel.");
      if (check) {
        const button = $("button[value=save]", form);
        button.disabled = true;
        try {
          const verdict = await check(token);
          if (!verdict.ok) return refuse(verdict.message);
        } finally {
          button.disabled = false;
        }
      }
      input.removeAttribute("aria-invalid");
      setToken(token);
      return done(true);
    };
    const onClose = () => done(false);
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    input.focus();
  });
  return pending;
}

export function initAuth() {
  $("#token-button").addEventListener("click", () => requestToken("Enter the API token for this server (kept for this tab only)."));
  $("#token-forget").addEventListener("click", () => {
    setToken("");
    $("#token-dialog").close();
  });
}
