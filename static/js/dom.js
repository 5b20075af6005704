// Small DOM helpers. Text from the server always goes in through textContent, never as HTML.

/**
 * Create an element: el("li", { class: "card", text: task.title, dataset: { id } }, [children]).
 * Attributes named "on…" are not supported on purpose: wire events with addEventListener.
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "style") throw new Error("set styles through classes or CSSOM properties");
    else if (key.startsWith("on")) throw new Error(`use addEventListener for ${key}`);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** Replace every child of ``node`` with ``children``. */
export function replaceChildren(node, children) {
  node.replaceChildren(...[].concat(children).filter((c) => c !== null && c !== undefined));
}

/** Set text only when it changed (avoids needless layout and screen-reader chatter). */
export function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** True when a key press is typing into a form field (shortcuts must leave it alone). */
export function isTypingTarget(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  return Boolean(target.closest("input, textarea, select"));
}

export function humanRole(role) {
  return { doc_agent: "DocAgent" }[role] || role.charAt(0).toUpperCase() + role.slice(1);
}

export function humanState(state) {
  return String(state).replace(/_/g, " ");
}

export function percent(value) {
  return `${Math.round((value || 0) * 100)}%`;
}
