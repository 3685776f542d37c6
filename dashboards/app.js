// The shell: URL state, global controls, the read key, auto-refresh, and which view renders.

import { ApiError, get, readKey, saveKey } from "./api.js";
import { clear, h } from "./dom.js";
import { intervalFor, parseHash, previousRange, rangeOf, toHash } from "./state.js";
import * as overview from "./views/overview.js";
import * as cost from "./views/cost.js";
import * as latency from "./views/latency.js";
import * as cache from "./views/cache.js";
import * as alerts from "./views/alerts.js";
import * as requests from "./views/requests.js";

const VIEWS = { overview, cost, latency, cache, alerts, requests };
const main = document.getElementById("view");
const controls = document.getElementById("controls");
const keyPanel = document.getElementById("key-panel");
let state = parseHash(location.hash);
let generation = 0;
let refreshTimer = null;
let suggestionsLoaded = false;

// datetime-local works in local time; the URL keeps UTC ISO instants.
const toLocalInput = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
const fromLocalInput = (v) => (v ? new Date(v).toISOString() : "");

function syncControls() {
  const range = rangeOf(state);
  controls.range.value = state.range || "";
  controls.from.value = toLocalInput(range.from);
  controls.to.value = toLocalInput(range.to);
  for (const name of ["feature", "model", "user", "env", "refresh"]) controls[name].value = state[name] || "";
  controls.classList.toggle("show-custom", !state.range);
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.view === state.view);
    if (link.dataset.view === state.view) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
    // Switching views keeps the range and filters.
    link.href = toHash({ ...state, view: link.dataset.view, requestId: null, cursor: "", stack: "", group: "", pct: "", status: "", mincost: "", minlatency: "" });
  }
}

function navigate(changes) {
  const next = { ...state, ...changes };
  const hash = toHash(next);
  if (hash === location.hash) render(); else location.hash = hash;
}

controls.addEventListener("submit", (event) => {
  event.preventDefault();
  const custom = !controls.range.value;
  navigate({
    range: controls.range.value,
    from: custom ? fromLocalInput(controls.from.value) : "",
    to: custom ? fromLocalInput(controls.to.value) : "",
    feature: controls.feature.value.trim(), model: controls.model.value.trim(),
    user: controls.user.value.trim(), env: controls.env.value.trim(),
    refresh: controls.refresh.value, cursor: "",
  });
});
controls.range.addEventListener("change", () => {
  if (controls.range.value) controls.requestSubmit();
  else controls.classList.add("show-custom");
});
controls.refresh.addEventListener("change", () => controls.requestSubmit());

function showKeyPanel(message = "") {
  keyPanel.hidden = false;
  document.getElementById("key-message").textContent = message;
  keyPanel.querySelector("input").focus();
}

document.getElementById("change-key").addEventListener("click", () => (keyPanel.hidden ? showKeyPanel() : (keyPanel.hidden = true)));
document.getElementById("forget-key").addEventListener("click", () => { saveKey(""); showKeyPanel("The key was removed from this browser."); render(); });
document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  saveKey(event.target.key.value);
  event.target.reset();
  keyPanel.hidden = true;
  suggestionsLoaded = false;
  render();
});

function errorPanel(error) {
  const unreachable = error instanceof ApiError && error.kind === "unreachable";
  return h("div", { class: "panel error-panel", role: "alert", dataset: { error: error.kind || "script" } },
    h("h2", null, unreachable ? "Server unreachable" : error.kind === "unauthorized" ? "Read key refused" : error.kind === "forbidden" ? "Not a read key" : "Something went wrong"),
    h("p", null, error.message),
    h("button", { type: "button", onclick: () => render() }, "Retry"));
}

async function loadSuggestions(range) {
  if (suggestionsLoaded) return;
  suggestionsLoaded = true;
  const lists = { feature: "list-feature", model: "list-model", user_id: "list-user", environment: "list-env" };
  await Promise.all(Object.entries(lists).map(async ([dimension, id]) => {
    try {
      const answer = await get("/v1/top", { dimension, metric: "calls", limit: 100, from: new Date(range.to - 30 * 86400e3).toISOString(), to: range.to.toISOString() });
      clear(document.getElementById(id)).append(...answer.rows.map((row) => h("option", { value: row[dimension] })));
    } catch { suggestionsLoaded = false; }
  }));
}

async function render({ quiet = false } = {}) {
  const mine = ++generation;
  syncControls();
  scheduleRefresh();
  if (!readKey()) {
    clear(main).append(h("div", { class: "panel" }, h("h2", null, "Welcome to Tokenmeter"),
      h("p", null, "Paste your project's read key above to see its dashboards.")));
    showKeyPanel();
    return;
  }
  const range = rangeOf(state);
  const context = {
    state, range, previous: previousRange(range), interval: intervalFor(range), navigate,
    apiDoneAt: null,
    apiDone() { this.apiDoneAt = performance.now(); },
  };
  const target = h("div", { class: "view view-" + state.view });
  if (!quiet) clear(main).append(h("div", { class: "loading", role: "status" }, h("span", { class: "spinner" }), "Loading…"));
  main.setAttribute("aria-busy", "true");
  const started = performance.now();
  try {
    await VIEWS[state.view].render(target, context);
    if (mine !== generation) return;
    clear(main).append(target);
    const done = performance.now();
    window.__tokenmeter = {
      view: state.view, generation: mine, apiMs: (context.apiDoneAt ?? done) - started,
      renderMs: done - (context.apiDoneAt ?? started), renderedAt: Date.now(),
    };
    loadSuggestions(range);
  } catch (error) {
    if (mine !== generation) return;
    if (!(error instanceof ApiError)) console.error(error);
    clear(main).append(errorPanel(error));
    if (error.kind === "unauthorized" || error.kind === "forbidden") showKeyPanel(error.message);
    window.__tokenmeter = { view: state.view, generation: mine, error: error.kind || "script", renderedAt: Date.now() };
  } finally {
    if (mine === generation) main.removeAttribute("aria-busy");
  }
}

function scheduleRefresh() {
  clearInterval(refreshTimer);
  const seconds = Number(state.refresh);
  if (seconds > 0) refreshTimer = setInterval(() => render({ quiet: true }), seconds * 1000);
}

window.addEventListener("hashchange", () => {
  state = parseHash(location.hash);
  render();
  window.scrollTo(0, 0);
});
render();
