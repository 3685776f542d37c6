// Alerts and budgets, from /v1/alerts and /v1/budgets. A server without them (404) says so plainly.

import { ApiError, get } from "../api.js";
import { meter } from "../charts.js";
import { h, table } from "../dom.js";
import { count, percent, time, usd } from "../format.js";
import { section } from "./common.js";

async function optional(path) {
  try {
    return await get(path);
  } catch (error) {
    if (error instanceof ApiError && error.kind === "not_found") return null;
    throw error;
  }
}

/** The overview over the alert's window (an hour before it started up to its end, or now). */
function windowLink(alert) {
  const start = new Date(alert.started_at), end = alert.resolved_at ? new Date(alert.resolved_at) : new Date();
  if (isNaN(start)) return null;
  const from = new Date(start.getTime() - 3600e3).toISOString(), to = new Date(Math.max(end.getTime(), start.getTime() + 60e3) + 60e3).toISOString();
  return "#/overview?" + new URLSearchParams({ from, to }).toString();
}

/** A link the alert carries, kept only when it stays on this server over http(s) (never javascript:). */
function sameOrigin(link) {
  try {
    const url = new URL(link, location.href);
    return url.origin === location.origin && /^https?:$/.test(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

const number = (v) => (v === null || v === undefined ? "—" : Math.abs(v) >= 100 ? count(v) : Number(Number(v).toPrecision(4)).toString());

export async function render(el, ctx) {
  const [alerts, budgets] = await Promise.all([optional("/v1/alerts"), optional("/v1/budgets")]);
  ctx.apiDone();
  if (!alerts && !budgets) {
    el.append(h("section", { class: "panel", dataset: { unavailable: "alerts" } }, h("h2", null, "Alerts are not available on this server"),
      h("p", null, "This Tokenmeter answers 404 for /v1/alerts and /v1/budgets: its version has no alerting. The other views work as usual.")));
    return;
  }
  if (alerts) {
    const list = alerts.alerts.slice().sort((a, b) => (a.state === "firing" ? 0 : 1) - (b.state === "firing" ? 0 : 1) || String(b.started_at).localeCompare(String(a.started_at)));
    const firing = list.filter((a) => a.state === "firing").length;
    el.append(section(`Alerts (${firing} firing)`, list.length ? table([
      { key: "state", label: "state", format: (v) => h("span", { class: "badge " + (v === "firing" ? "bad" : "ok") }, v) },
      { key: "severity", label: "severity" },
      { key: "rule", label: "rule" },
      { key: "summary", label: "summary" },
      { key: "value", label: "value", numeric: true, format: number },
      { key: "baseline", label: "baseline", numeric: true, format: number },
      { key: "threshold", label: "threshold", numeric: true, format: number },
      { key: "started_at", label: "started", format: time },
      { key: "resolved_at", label: "resolved", format: (v) => (v ? time(v) : "—") },
      { key: (a) => (a.links?.dashboard && sameOrigin(a.links.dashboard)) || windowLink(a), label: "window", format: (v) => (v ? h("a", { href: v }, "open") : "—") },
    ], list, { csvName: "alerts" }) : h("p", { class: "muted" }, "No alerts: nothing has fired.")));
  } else {
    el.append(section("Alerts", h("p", { class: "muted" }, "Alerts are not available on this server.")));
  }
  if (budgets) {
    el.append(section("Budgets", budgets.budgets.length ? table([
      { key: (b) => Object.entries(b.scope || {}).map(([k, v]) => `${k}=${v}`).join(", ") || "project", label: "scope" },
      { key: "period", label: "period" },
      { key: "limit", label: "limit", numeric: true, format: (v, b) => (b.unit === "usd" ? usd(v) : count(v)) },
      { key: "spent", label: "spent", numeric: true, format: (v, b) => (b.unit === "usd" ? usd(v) : count(v)) },
      { key: "remaining", label: "left", numeric: true, format: (v, b) => (b.unit === "usd" ? usd(v) : count(v)) },
      { key: "percent_used", label: "used", format: (v) => h("span", { class: "used" }, meter((v ?? 0) / 100, v >= 100 ? 3 : v >= 80 ? 1 : 2), percent((v ?? 0) / 100, 0)) },
      { key: "burn_rate_per_hour", label: "burn / hour", numeric: true, format: (v, b) => (b.unit === "usd" ? usd(v) : count(v)) },
      { key: "projected_exhaustion_at", label: "runs out", format: (v) => (v ? time(v) : "not at this rate") },
      { key: "state", label: "state", format: (v) => h("span", { class: "badge " + (v === "ok" ? "ok" : "bad") }, v) },
    ], budgets.budgets, { csvName: "budgets" }) : h("p", { class: "muted" }, "No budgets are set.")));
  }
}
