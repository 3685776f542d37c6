// Latency: percentiles over time per model or feature, for total latency and time to first token,
// and the distribution of the selection.

import { get, scopeParams } from "../api.js";
import { bands, bucketsOf, lines } from "../charts.js";
import { h, table } from "../dom.js";
import { count, ms } from "../format.js";
import { emptyState, section, topGroups } from "./common.js";

const PERCENTILES = ["p50", "p95", "p99"];
const HISTOGRAM_BARS = 24;

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
 * The selection's latency histogram as bars: the API's log-scale bins (exact counts, whole sketch
 * buckets), each labelled with its upper bound; zero latencies (cache answers) get their own bar.
 */
export function histogramBars(bins) {
  return (bins || []).map((b) => ({ label: b.to_ms === 0 ? "0" : "≤ " + ms(b.to_ms), count: b.count, title: `${ms(b.from_ms)}–${ms(b.to_ms)}` }));
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
    get("/v1/latency", { ...scope, histogram: HISTOGRAM_BARS }),
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
    h("p", { class: "muted" }, `${count(all.count)} timed calls, in up to ${HISTOGRAM_BARS} bars of equal width on a log scale from the fastest to the slowest.`),
    bands(histogramBars(all.histogram), { label: "Latency histogram" })));
  const cols = (metric) => [
    { key: group, label: group, format: (v) => v ?? "(none)" },
    { key: "count", label: "calls", numeric: true, format: count },
    ...["p50", "p90", "p95", "p99", "max"].map((p) => ({ key: p, label: p, numeric: true, format: ms })),
  ].map((c, i) => (i > 1 ? { ...c, label: metric + " " + c.label } : c));
  el.append(section(`Latency per ${group}`, table(cols("latency"), byGroup.rows, { csvName: "latency-by-" + group })));
  el.append(section(`Time to first token per ${group}`, table(cols("ttft"), ttftByGroup.rows.filter((r) => r.count), { csvName: "ttft-by-" + group })));
}
