// Requests: a filterable, paginated list of recent calls, and one request's steps as a tree and timeline.

import { get, scopeParams } from "../api.js";
import { PALETTE } from "../charts.js";
import { h, s, table } from "../dom.js";
import { count, ms, time, usd } from "../format.js";
import { toHash } from "../state.js";
import { emptyState, section } from "./common.js";

const STATUSES = ["", "ok", "error"];

export async function render(el, ctx) {
  return ctx.state.requestId ? renderRequest(el, ctx) : renderList(el, ctx);
}

async function renderList(el, ctx) {
  const status = STATUSES.includes(ctx.state.status) ? ctx.state.status : "";
  const minimum = (v) => (/^\d+(\.\d+)?$/.test(v || "") ? v : "");
  const minCost = minimum(ctx.state.mincost), minLatency = minimum(ctx.state.minlatency);
  const page = await get("/v1/requests", { ...scopeParams(ctx.state, ctx.range), status, min_cost_usd: minCost, min_latency_ms: minLatency, limit: 50, cursor: ctx.state.cursor });
  ctx.apiDone();
  const thresholds = h("form", { class: "inline-form", onsubmit: (event) => {
    event.preventDefault();
    ctx.navigate({ mincost: minimum(event.target.mincost.value.trim()), minlatency: minimum(event.target.minlatency.value.trim()), cursor: "" });
  } },
  h("label", null, "cost ≥ $", h("input", { name: "mincost", inputmode: "decimal", size: 6, value: minCost })),
  h("label", null, "latency ≥ ", h("input", { name: "minlatency", inputmode: "numeric", size: 6, value: minLatency }), " ms"),
  h("button", { type: "submit" }, "Filter"));
  const filter = h("div", { class: "toolbar" }, h("div", { class: "toggle", role: "group", "aria-label": "Status" }, STATUSES.map((v) =>
    h("button", { type: "button", class: v === status ? "on" : null, "aria-pressed": String(v === status), onclick: () => ctx.navigate({ status: v, cursor: "" }) }, v || "all"))), thresholds);
  el.append(filter);
  if (!page.requests.length && !ctx.state.cursor) {
    el.append(status || minCost || minLatency ? h("p", { class: "panel muted" }, "No calls match these filters in this range.") : emptyState());
    return;
  }
  const link = (r) => "#/requests/" + encodeURIComponent(r.request_id);
  el.append(section("Recent calls", table([
    { key: "request_id", label: "request" },
    { key: "timestamp", label: "time", format: time },
    { key: "feature", label: "feature", format: (v) => v ?? "—" },
    { key: "model", label: "model", format: (v) => v ?? "—" },
    { key: "user_id", label: "user", format: (v) => v ?? "—" },
    { key: "step_type", label: "step", format: (v) => v ?? "—" },
    { key: "tokens_in", label: "in", numeric: true, format: count },
    { key: "tokens_out", label: "out", numeric: true, format: count },
    { key: "cost_usd", label: "cost", numeric: true, format: (v) => (v === null || v === undefined ? "unpriced" : usd(v)) },
    { key: "latency_ms", label: "latency", numeric: true, format: ms },
    { key: "status", label: "status", format: (v) => h("span", { class: "badge " + (v === "error" ? "bad" : "ok") }, v ?? "ok") },
  ], page.requests, { csvName: "requests", rowLink: link }),
  h("nav", { class: "pager", "aria-label": "Pages" },
    ctx.state.cursor ? h("button", { type: "button", onclick: () => ctx.navigate({ cursor: "" }) }, "← Newest") : null,
    page.next_cursor ? h("button", { type: "button", "data-next": "true", onclick: () => ctx.navigate({ cursor: page.next_cursor }) }, "Older →") : h("span", { class: "muted" }, "End of the list"))));
}

function flatten(node, depth, out) {
  out.push({ kind: "request", depth, node });
  for (const step of node.steps || []) out.push({ kind: "step", depth, step, requestId: node.request_id });
  for (const child of node.children || []) flatten(child, depth + 1, out);
  return out;
}

const TEXT_FIELDS = ["prompt", "response", "tool_input", "tool_output", "intermediate_output"];

function stepDetails(step) {
  const texts = TEXT_FIELDS.filter((f) => step[f] !== null && step[f] !== undefined && step[f] !== "");
  if (!texts.length && !step.error_type) return null;
  return h("details", { class: "step-text" }, h("summary", null, texts.length ? texts.join(", ") : "error"),
    step.error_type ? h("p", { class: "error" }, "error: " + step.error_type + (step.http_status ? " (HTTP " + step.http_status + ")" : "")) : null,
    texts.map((f) => h("div", null, h("div", { class: "muted" }, f), h("pre", { class: "text", dataset: { field: f } },
      typeof step[f] === "string" ? step[f] : JSON.stringify(step[f], null, 2)))));
}

async function renderRequest(el, ctx) {
  const tree = await get("/v1/requests/" + encodeURIComponent(ctx.state.requestId));
  ctx.apiDone();
  const t = tree.totals;
  el.append(h("p", null, h("a", { href: toHash({ ...ctx.state, requestId: null }) }, "← All requests")));
  el.append(h("h2", { class: "title" }, "Request ", h("code", null, tree.request_id)));
  el.append(h("div", { class: "kpis" }, [
    ["cost", "Cost", t.cost_usd, usd(t.cost_usd)], ["tokens_in", "Tokens in", t.tokens_in, count(t.tokens_in)],
    ["tokens_out", "Tokens out", t.tokens_out, count(t.tokens_out)], ["latency", "Latency (sum of steps)", t.latency_ms, ms(t.latency_ms)],
    ["steps", "Steps", t.events, count(t.events)], ["errors", "Errors", t.errors, count(t.errors)],
  ].map(([id, label, value, shown]) => h("div", { class: "kpi", dataset: { metric: id, value: String(value ?? "") } }, h("div", { class: "kpi-label" }, label), h("div", { class: "kpi-value" }, shown)))));
  if (t.unpriced_events > 0) el.append(h("p", { class: "notice" }, `${count(t.unpriced_events)} steps have no price; the cost leaves them out.`));
  const rows = flatten(tree.root, 0, []);
  const steps = rows.filter((r) => r.kind === "step").map((r) => r.step);
  const starts = steps.map((st) => new Date(st.timestamp).getTime()).filter((v) => !isNaN(v));
  const t0 = Math.min(...starts), t1 = Math.max(...steps.map((st) => new Date(st.timestamp).getTime() + (st.latency_ms || 0)));
  const span = Math.max(t1 - t0, 1);
  el.append(section("Steps", h("ol", { class: "tree" }, rows.map((row) => {
    if (row.kind === "request") {
      return h("li", { class: "tree-request depth-" + Math.min(row.depth, 6) }, row.depth ? "↳ " : "", h("code", null, row.node.request_id));
    }
    const st = row.step, start = new Date(st.timestamp).getTime() - t0;
    const bar = s("svg", { viewBox: "0 0 100 10", preserveAspectRatio: "none", class: "timeline" },
      s("rect", { x: 0, y: 0, width: 100, height: 10, class: "meter-bg" }),
      s("rect", { x: (start / span) * 100, y: 1, width: Math.max(((st.latency_ms || 0) / span) * 100, 0.6), height: 8, fill: st.status === "error" ? PALETTE[3] : PALETTE[0] }));
    return h("li", { class: "tree-step depth-" + Math.min(row.depth, 6) + (st.status === "error" ? " failed" : ""), dataset: { step: String(st.step_index ?? "") } },
      h("div", { class: "step-head" },
        h("span", { class: "step-name" }, `#${st.step_index ?? 0} ${st.step_type ?? "llm_call"}`, st.tool_name ? " · " + st.tool_name : "", st.model ? " · " + st.model : ""),
        bar,
        h("span", { class: "step-figures" }, `${count(st.tokens_in ?? 0)} in · ${count(st.tokens_out ?? 0)} out · ${st.cost_usd === null || st.cost_usd === undefined ? "unpriced" : usd(st.cost_usd)} · ${ms(st.latency_ms)}`)),
      stepDetails(st));
  }))));
}
