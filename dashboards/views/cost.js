// Cost: where the money goes, by feature, model, provider, user and environment; top spenders;
// calls without a price called out. Every table downloads as CSV.

import { get, scopeParams } from "../api.js";
import { hbars } from "../charts.js";
import { h, table } from "../dom.js";
import { compact, count, percent, usd } from "../format.js";
import { emptyState, section, sum } from "./common.js";

const DIMENSIONS = [
  { key: "feature", title: "By feature" },
  { key: "model", title: "By model" },
  { key: "provider", title: "By provider" },
  { key: "environment", title: "By environment" },
];

function columns(dimension, total) {
  return [
    { key: dimension, label: dimension.replace("_id", ""), format: (v) => v ?? "(none)" },
    { key: "calls", label: "calls", numeric: true, format: count },
    { key: "tokens_in", label: "tokens in", numeric: true, format: compact },
    { key: "tokens_out", label: "tokens out", numeric: true, format: compact },
    { key: "cost_usd", label: "cost (USD)", numeric: true, format: usd },
    { key: (r) => (total > 0 ? (r.cost_usd ?? 0) / total : null), label: "share", numeric: true, format: (v) => percent(v) },
    { key: "unpriced_calls", label: "unpriced calls", numeric: true, format: count },
  ];
}

const byCost = (a, b) => (b.cost_usd ?? 0) - (a.cost_usd ?? 0) || b.calls - a.calls;

export async function render(el, ctx) {
  const scope = scopeParams(ctx.state, ctx.range);
  const [groups, spenders] = await Promise.all([
    Promise.all(DIMENSIONS.map((d) => get("/v1/usage", { ...scope, group_by: d.key }))),
    get("/v1/top", { ...scope, dimension: "user_id", metric: "cost_usd", limit: 20 }),
  ]);
  ctx.apiDone();
  const featureRows = groups[0].rows;
  const total = sum(featureRows, "cost_usd"), calls = sum(featureRows, "calls"), unpriced = sum(featureRows, "unpriced_calls");
  if (calls === 0) {
    el.append(emptyState());
    return;
  }
  el.append(h("div", { class: "kpis" },
    h("div", { class: "kpi", dataset: { metric: "total_cost", value: String(total) } }, h("div", { class: "kpi-label" }, "Spend"), h("div", { class: "kpi-value" }, usd(total))),
    h("div", { class: "kpi", dataset: { metric: "cost_per_call", value: String(total / calls) } }, h("div", { class: "kpi-label" }, "Per call"), h("div", { class: "kpi-value" }, usd(total / calls))),
    h("div", { class: "kpi" + (unpriced ? " warn" : ""), dataset: { metric: "unpriced_calls", value: String(unpriced) } }, h("div", { class: "kpi-label" }, "Unpriced calls"), h("div", { class: "kpi-value" }, count(unpriced)))));
  if (unpriced > 0) {
    const models = groups[1].rows.filter((r) => r.unpriced_calls > 0).map((r) => r.model ?? "(no model)");
    el.append(h("p", { class: "notice", role: "note", dataset: { unpriced: String(unpriced) } },
      `${count(unpriced)} calls use a model with no known price and are not in these totals: ${models.join(", ")}. `,
      "Add a price with PUT /v1/prices/{model}."));
  }
  el.append(section("Spend by feature",
    hbars(featureRows.slice().sort(byCost).slice(0, 10).map((r) => ({ name: r.feature ?? "(none)", value: r.cost_usd ?? 0 })), { format: usd, label: "Spend by feature" })));
  DIMENSIONS.forEach((d, i) => {
    el.append(section(d.title, table(columns(d.key, total), groups[i].rows.slice().sort(byCost), { csvName: "cost-by-" + d.key })));
  });
  el.append(section("Top spenders (users)", spenders.rows.length
    ? table(columns("user_id", total), spenders.rows, { csvName: "top-spenders" })
    : h("p", { class: "muted" }, "No calls with a user_id in this range.")));
}
