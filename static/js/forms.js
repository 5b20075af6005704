// Forms that steer the office: each validates before sending and shows the server's refusal.
import { del, post } from "./api.js";
import { $, $$, el, humanRole, humanState, replaceChildren, setText } from "./dom.js";
import { ROLES } from "./sprites.js";

const TOOL_KINDS = ["compiler", "test_framework", "security_scanner", "doc_generator", "linter"];

function fieldError(form, name) {
  return $(`[data-error-for="${name}"]`, form);
}

function clearErrors(form) {
  for (const node of $$("[data-error-for]", form)) setText(node, "");
  for (const input of $$("[aria-invalid]", form)) input.removeAttribute("aria-invalid");
}

function showFieldError(form, name, message) {
  const input = form.elements[name];
  const slot = fieldError(form, name);
  if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
  if (slot) setText(slot, message);
  return Boolean(slot);
}

function status(form, message, kind = "info") {
  const node = $(".form-status", form);
  node.className = `form-status ${kind}`;
  setText(node, message);
}

/** Check the browser's constraints and our own; show each problem beside its field. */
function validate(form, extra = () => ({})) {
  clearErrors(form);
  const problems = {};
  for (const input of Array.from(form.elements)) {
    if (!input.name || !input.willValidate) continue;
    if (!input.checkValidity()) problems[input.name] = input.validationMessage;
  }
  Object.assign(problems, extra(form));
  let first = null;
  for (const [name, message] of Object.entries(problems)) {
    showFieldError(form, name, message);
    first = first || form.elements[name];
  }
  if (first) {
    (first.focus ? first : first[0])?.focus?.();
    status(form, "Please fix the highlighted fields.", "error");
    return false;
  }
  return true;
}

function describeAccepted(result, what) {
  if (!result || typeof result !== "object") return `${what} sent.`;
  const command = result.command || result;
  const id = command.id ?? command.seq ?? command.command_id;
  const at = result.tick ?? command.apply_tick ?? result.apply_tick;
  if (result.status === "applied" || command.status === "applied") return `${what} applied${id ? ` (command ${id})` : ""}.`;
  return `${what} accepted${id ? ` as command ${id}` : ""}${at !== undefined && at !== null ? `, applies at tick ${at}` : ""}.`;
}

/** The server's message without a leading "field: " (the field is shown by position). */
export function withoutFieldName(message, field) {
  let text = String(message || "");
  if (!field) return text;
  const prefix = new RegExp(`^(body\\.)?${field.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*:\\s*`, "i");
  while (prefix.test(text)) text = text.replace(prefix, "");
  return text;
}

function refused(form, err) {
  const field = err.field;
  const message = withoutFieldName(err.message, field);
  if (field && form.elements[field]) {
    showFieldError(form, field, message);
    status(form, "Refused: see the highlighted field.", "error");
  } else {
    status(form, `Refused: ${message}`, "error");
  }
}

async function submit(form, send, what) {
  const button = $("button[type=submit]", form);
  button.disabled = true;
  status(form, "Sending…");
  try {
    const result = await send();
    status(form, describeAccepted(result, what), "ok");
    return result;
  } catch (err) {
    refused(form, err);
    return null;
  } finally {
    button.disabled = false;
  }
}

const number = (form, name) => Number(form.elements[name].value);

export function initForms(getStore) {
  const directive = $("#directive-form");
  directive.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ok = validate(directive, (f) => {
      const problems = {};
      if (!f.elements.title.value.trim()) problems.title = "A directive needs a title.";
      if (f.elements.depends_on_floor.value && f.elements.depends_on_floor.value === f.elements.floor.value) {
        problems.depends_on_floor = "A floor cannot depend on itself.";
      }
      return problems;
    });
    if (!ok) return;
    const body = {
      title: directive.elements.title.value.trim(),
      floor: directive.elements.floor.value,
      priority: number(directive, "priority"),
      ambiguity: number(directive, "ambiguity"),
      sensitivity: number(directive, "sensitivity"),
      complexity: number(directive, "complexity"),
      depends_on_floor: directive.elements.depends_on_floor.value || null,
    };
    const result = await submit(directive, () => post("/api/directives", body), `Directive “${body.title}”`);
    if (result) directive.elements.title.value = "";
  });

  const hire = $("#hire-form");
  hire.elements.floor.addEventListener("change", () => fillOffices(hire, getStore()));
  hire.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!validate(hire)) return;
    const body = { floor: hire.elements.floor.value, role: hire.elements.role.value };
    if (hire.elements.office.value) body.office = hire.elements.office.value;
    if (hire.elements.name.value.trim()) body.name = hire.elements.name.value.trim();
    await submit(hire, () => post("/api/agents", body), `Hiring a ${humanRole(body.role)}`);
  });

  const dismiss = $("#dismiss-form");
  dismiss.addEventListener("submit", async (event) => {
    event.preventDefault();
    const store = getStore();
    const ok = validate(dismiss, (f) => (f.elements.agent_id.value ? {} : { agent_id: "Choose who to dismiss." }));
    if (!ok) return;
    const id = dismiss.elements.agent_id.value;
    const agent = store.agents.get(id);
    if (!agent) {
      showFieldError(dismiss, "agent_id", "That person is no longer on the staff; choose again.");
      dismiss.elements.agent_id.value = "";
      return;
    }
    if (!(await confirmDismiss(agent, store))) {
      status(dismiss, `${agent.name} stays.`);
      return;
    }
    const result = await submit(dismiss, () => del(`/api/agents/${encodeURIComponent(id)}`), `Dismissing ${agent.name} (${humanRole(agent.role)})`);
    if (result) dismiss.elements.agent_id.value = ""; // the next dismissal needs a new choice
  });

  const tool = $("#tool-form");
  tool.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ok = validate(tool, (f) => {
      const caps = $$("input[name=capabilities]:checked", f);
      return caps.length ? {} : { capabilities: "Pick at least one capability." };
    });
    if (!ok) return;
    const body = {
      floor: tool.elements.floor.value,
      name: tool.elements.name.value.trim(),
      kind: tool.elements.kind.value,
      version: tool.elements.version.value.trim(),
      capabilities: $$("input[name=capabilities]:checked", tool).map((c) => c.value),
      slots: number(tool, "slots"),
      trust: number(tool, "trust"),
      security_rating: number(tool, "security_rating"),
      sensitive: tool.elements.sensitive.checked,
    };
    await submit(tool, () => post("/api/supply-store/tools", body), `Tool ${body.name}`);
  });

  // range inputs show their value next to them
  for (const range of $$("input[type=range]")) {
    const out = $(`output[for="${range.id}"]`);
    const show = () => out && setText(out, Number(range.value).toFixed(2));
    range.addEventListener("input", show);
    show();
  }
  for (const select of $$("select[data-options=roles]")) {
    replaceChildren(select, ROLES.map((r) => el("option", { value: r, text: humanRole(r) })));
    select.value = "builder";
  }
  for (const select of $$("select[data-options=tool-kinds]")) {
    replaceChildren(select, TOOL_KINDS.map((k) => el("option", { value: k, text: humanState(k) })));
  }
}

function fillSelect(select, options, { blank = null } = {}) {
  const current = select.value;
  const key = JSON.stringify([blank, options]);
  if (select.dataset.key === key) return;
  select.dataset.key = key;
  const nodes = options.map(([value, label]) => el("option", { value, text: label }));
  if (blank !== null) nodes.unshift(el("option", { value: "", text: blank }));
  replaceChildren(select, nodes);
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

function fillOffices(form, store) {
  const floor = form.elements.floor.value;
  const offices = [...store.offices.values()].filter((o) => o.floor_id === floor).map((o) => [o.id, `${o.name} (${o.id})`]);
  fillSelect(form.elements.office, offices, { blank: "any office (least staffed)" });
}

let optionsShown = null; // [store, layoutVersion] the pickers were last filled from

/** Keep the floor, office and agent pickers in step with the world (when its layout changed). */
export function refreshFormOptions(store) {
  if (optionsShown && optionsShown[0] === store && optionsShown[1] === store.layoutVersion) return;
  optionsShown = [store, store.layoutVersion];
  const floors = store.floors.map((f) => [f.id, `${f.level + 1}: ${f.name || f.id}`]);
  for (const select of $$("select[data-options=floors]")) fillSelect(select, floors);
  for (const select of $$("select[data-options=floors-optional]")) fillSelect(select, floors, { blank: "none" });
  fillOffices($("#hire-form"), store);
  const agents = [...store.agents.values()]
    .sort((a, b) => a.floor_id.localeCompare(b.floor_id) || a.name.localeCompare(b.name))
    .map((a) => [a.id, `${a.name}, ${humanRole(a.role)} (${store.floorById(a.floor_id)?.name || a.floor_id})`]);
  // a blank first choice: a dismissal never falls back to whoever happens to be listed first
  fillSelect($("#dismiss-form").elements.agent_id, agents, { blank: "Choose a person…" });
}

/** What auto-staffing will do if ``agent`` leaves (a manager, or the last of a role). */
export function dismissWarnings(agent, store) {
  const office = store.offices.get(agent.office_id);
  const officeName = office?.name || "their office";
  const warnings = [];
  const sameRole = [...store.agents.values()].filter((a) => a.office_id === agent.office_id && a.role === agent.role);
  if (agent.role === "manager") {
    warnings.push(`${agent.name} manages ${officeName}.${sameRole.length > 1 ? " Another manager there takes over." : " Auto-staffing will hire an assistant manager at once."}`);
  } else if (sameRole.length <= 1) {
    warnings.push(`${agent.name} is the last ${humanRole(agent.role)} in ${officeName}: auto-staffing will hire an assistant ${humanRole(agent.role)} to replace them.`);
  }
  if (agent.task_id) warnings.push(`Their current work goes back to the queue.`);
  return warnings;
}

/** Ask, naming the person and their role; resolves true only on an explicit yes. */
function confirmDismiss(agent, store) {
  const dialog = $("#confirm-dialog");
  const floor = store.floorById(agent.floor_id)?.name || agent.floor_id;
  setText($("#confirm-title"), `Dismiss ${agent.name}?`);
  setText($("#confirm-text"), `${agent.name} is a ${humanRole(agent.role)} on the ${floor} floor. Dismissing cannot be undone.`);
  replaceChildren($("#confirm-warnings"), dismissWarnings(agent, store).map((w) => el("li", { text: w })));
  setText($("#confirm-yes"), `Dismiss ${agent.name}`);
  return new Promise((resolve) => {
    const onClose = () => {
      dialog.removeEventListener("close", onClose);
      resolve(dialog.returnValue === "yes");
    };
    dialog.returnValue = "";
    dialog.addEventListener("close", onClose);
    dialog.showModal();
  });
}

/** Preselect the dismiss form for an agent and bring it into view. */
export function prepareDismiss(agent) {
  const form = $("#dismiss-form");
  form.closest("details").open = true;
  form.elements.agent_id.value = agent.id;
  status(form, `Press “Dismiss” to let ${agent.name} (${humanRole(agent.role)}) go; you will be asked to confirm.`);
  form.elements.agent_id.focus();
}
