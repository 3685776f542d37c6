// Pieces several views share: KPI tiles, section headings, the empty state, and series building.

import { h } from "../dom.js";
import { change } from "../format.js";

/** A KPI tile; `better` says which direction of change is good ("up", "down" or null). */
export function kpi(id, label, value, formatted, previous, { better = null } = {}) {
  const delta = change(value, previous);
  const tone = delta.direction === 0 || !better ? "flat" : (delta.direction > 0) === (better === "up") ? "good" : "bad";
  return h("div", { class: "kpi", dataset: { metric: id, value: value === null || value === undefined ? "" : String(value) } },
    h("div", { class: "kpi-label" }, label),
    h("div", { class: "kpi-value" }, formatted),
    h("div", { class: "kpi-change " + tone, dataset: { previous: previous === null || previous === undefined ? "" : String(previous) }, title: "against the previous period of the same length" },
      delta.text, h("span", { class: "muted" }, " vs previous")));
}

export function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", null, title), ...children);
}

/** The first-run state: how to send the first event, with this server's address filled in. */
export function emptyState(what = "No calls in this range") {
  const example = `curl -s ${location.origin}/v1/events \\
  -H "Authorization: Bearer $TOKENMETER_INGEST_KEY" -H 'Content-Type: application/json' \\
  -d '{"request_id":"req-1","feature":"summarizer","user_id":"u-42","provider":"openai",
       "model":"gpt-4o-mini","tokens_in":1200,"tokens_out":300,"latency_ms":840}'`;
  return h("section", { class: "panel empty", dataset: { empty: "true" } },
    h("h2", null, what),
    h("p", null, "Send a first event with your project's ingest key (", h("code", null, "source .tokenmeter/credentials"),
      " after ", h("code", null, "./scripts/run"), "), then refresh:"),
    h("pre", { class: "code" }, example),
    h("p", { class: "muted" }, "Already sending? Widen the time range or clear the filters."));
}

/** Group names ordered by total, keeping `limit` and folding the rest into "other". */
export function topGroups(rows, key, metric, limit = 6) {
  const totals = new Map();
  for (const row of rows) totals.set(row[key] ?? "(none)", (totals.get(row[key] ?? "(none)") || 0) + (row[metric] || 0));
  const ordered = [...totals.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0]))).map((e) => e[0]);
  return { keep: new Set(ordered.slice(0, limit)), folded: ordered.length > limit };
}

/** Per-group series of `metric` over buckets (epoch ms), small groups summed into "other". */
export function seriesBy(rows, key, metric, limit = 6) {
  const { keep, folded } = topGroups(rows, key, metric, limit);
  const series = new Map([...keep].map((name) => [name, new Map()]));
  if (folded) series.set("other", new Map());
  for (const row of rows) {
    const name = keep.has(row[key] ?? "(none)") ? row[key] ?? "(none)" : "other";
    const values = series.get(name), t = new Date(row.bucket).getTime();
    values.set(t, (values.get(t) || 0) + (row[metric] || 0));
  }
  return [...series.entries()].map(([name, values]) => ({ name: String(name), values }));
}

export const sum = (rows, field) => rows.reduce((total, row) => total + (row[field] || 0), 0);
