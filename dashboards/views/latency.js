// Latency: percentiles over time per model or feature, for total latency and time to first token,
// and the distribution of the selection.

import { get, scopeParams } from "../api.js";
import { bands, bucketsOf, lines } from "../charts.js";
import { h, table } from "../dom.js";
import { count, ms } from "../format.js";
import { emptyState, section, topGroups } from "./common.js";

const PERCENTILES = ["p50", "p95", "p99"];

function series(rows, group, pct) {
  const { keep } = topGroups(rows, group, "count", 6);
  const out = new Map([...keep].map((name) => [name, new Map()]));
  for (const row of rows) {
    const name = row[group] ?? "(none)";
    if (out.has(name)) out.get(name).set(new Date(row.bucket).getTime(), row[pct]);
  }
  return [...out.entries()].map(([name, values]) => ({ name: String(name), values }));
}

/**
 * How many calls fall between the sketched percentiles: half below p50, 40% from p50 to p90, 5%, 4%
 * and the last 1% up to the maximum. The API keeps percentiles, not raw buckets, so the bands are
 * these quantiles (each within 1%), with their latency range as the label.
 */
export function bandsOf(row) {
  const edges = [["min", 0, 0], ["p50", row.p50, 0.5], ["p90", row.p90, 0.9], ["p95", row.p95, 0.95], ["p99", row.p99, 0.99], ["max", row.max, 1]];
  const out = [];
  let assigned = 0;
  for (let i = 1; i < edges.length; i++) {
    const upTo = i === edges.length - 1 ? row.count : Math.round(row.count * edges[i][2]);
    out.push({ label: `${i === 1 ? "≤ " : ms(edges[i - 1][1]) + "–"}${ms(edges[i][1])}`, count: upTo - assigned });
    assigned = upTo;
  }
  return out;
}

export async function render(el, ctx) {
  const group = ctx.state.group === "feature" ? "feature" : "model";
  const pct = PERCENTILES.includes(ctx.state.pct) ? ctx.state.pct : "p95";
  const scope = scopeParams(ctx.state, ctx.range);
  const [overTime, ttftOverTime, byGroup, ttftByGroup, overall] = await Promise.all([
    get("/v1/latency", { ...scope, interval: ctx.interval, group_by: group }),
    get("/v1/latency", { ...scope, interval: ctx.interval, group_by: group, metric: "ttft" }),
    get("/v1/latency", { ...scope, group_by: group }),
    get("/v1/latency", { ...scope, group_by: group, metric: "ttft" }),
    get("/v1/latency", scope),
  ]);
  ctx.apiDone();
  const all = overall.rows[0];
  if (!all || !all.count) {
    el.append(emptyState("No timed calls in this range"));
    return;
  }
  const controls = h("div", { class: "toolbar" },
    h("div", { class: "toggle", role: "group", "aria-label": "Group by" }, ["model", "feature"].map((g) =>
      h("button", { type: "button", class: g === group ? "on" : null, "aria-pressed": String(g === group), onclick: () => ctx.navigate({ group: g }) }, "per " + g))),
    h("div", { class: "toggle", role: "group", "aria-label": "Percentile" }, PERCENTILES.map((p) =>
      h("button", { type: "button", class: p === pct ? "on" : null, "aria-pressed": String(p === pct), onclick: () => ctx.navigate({ pct: p }) }, p))));
  const buckets = bucketsOf(ctx.range, ctx.interval);
  el.append(h("div", { class: "kpis" }, ["p50", "p95", "p99", "max"].map((p) =>
    h("div", { class: "kpi", dataset: { metric: "latency_" + p, value: String(all[p]) } }, h("div", { class: "kpi-label" }, "Latency " + p), h("div", { class: "kpi-value" }, ms(all[p]))))));
  el.append(controls);
  el.append(section(`Latency ${pct} per ${group}`, lines(series(overTime.rows, group, pct), buckets, { interval: ctx.interval, format: ms, label: `Latency ${pct} per ${group}` })));
  el.append(section(`Time to first token ${pct} per ${group}`, ttftOverTime.rows.some((r) => r.count)
    ? lines(series(ttftOverTime.rows, group, pct), buckets, { interval: ctx.interval, format: ms, label: `TTFT ${pct} per ${group}` })
    : h("p", { class: "muted" }, "No call in this range reported a time to first token (ttft_ms).")));
  el.append(section("Latency distribution",
    h("p", { class: "muted" }, `${count(all.count)} timed calls by latency band: up to p50, p50–p90, p90–p95, p95–p99, p99–max.`),
    bands(bandsOf(all), { label: "Calls per latency band" })));
  const cols = (metric) => [
    { key: group, label: group, format: (v) => v ?? "(none)" },
    { key: "count", label: "calls", numeric: true, format: count },
    ...["p50", "p90", "p95", "p99", "max"].map((p) => ({ key: p, label: p, numeric: true, format: ms })),
  ].map((c, i) => (i > 1 ? { ...c, label: metric + " " + c.label } : c));
  el.append(section(`Latency per ${group}`, table(cols("latency"), byGroup.rows, { csvName: "latency-by-" + group })));
  el.append(section(`Time to first token per ${group}`, table(cols("ttft"), ttftByGroup.rows.filter((r) => r.count), { csvName: "ttft-by-" + group })));
}
