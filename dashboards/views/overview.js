// Overview: the range's headline figures against the previous period, and spend over time.

import { get, scopeParams } from "../api.js";
import { bucketsOf, stackedBars } from "../charts.js";
import { h } from "../dom.js";
import { compact, count, ms, percent, usd } from "../format.js";
import { emptyState, kpi, section, seriesBy } from "./common.js";

async function totals(scope) {
  const [usage, latency, cache] = await Promise.all([
    get("/v1/usage", scope), get("/v1/latency", scope), get("/v1/cache", scope),
  ]);
  const u = usage.rows[0] || { calls: 0, tokens_in: 0, tokens_out: 0, cost_usd: 0, errors: 0, unpriced_calls: 0 };
  const c = cache.rows[0] || {};
  return {
    spend: u.cost_usd ?? 0, calls: u.calls, tokens: u.tokens_in + u.tokens_out, unpriced: u.unpriced_calls,
    errorRate: u.calls ? u.errors / u.calls : null, p95: latency.rows[0]?.p95 ?? null,
    cacheHitRate: c.calls ? c.cache_hit_rate : null,
  };
}

export async function render(el, ctx) {
  const stack = ctx.state.stack === "model" ? "model" : "feature";
  const scope = scopeParams(ctx.state, ctx.range);
  const [now, before, series] = await Promise.all([
    totals(scope), totals(scopeParams(ctx.state, ctx.previous)),
    get("/v1/usage", { ...scope, interval: ctx.interval, group_by: stack }),
  ]);
  ctx.apiDone();
  if (now.calls === 0 && before.calls === 0) {
    el.append(emptyState());
    return;
  }
  el.append(h("div", { class: "kpis" },
    kpi("spend", "Spend", now.spend, usd(now.spend), before.spend, { better: "down" }),
    kpi("calls", "Calls", now.calls, count(now.calls), before.calls),
    kpi("tokens", "Tokens", now.tokens, compact(now.tokens), before.tokens),
    kpi("error_rate", "Error rate", now.errorRate, percent(now.errorRate, 2), before.errorRate, { better: "down" }),
    kpi("p95", "p95 latency", now.p95, ms(now.p95), before.p95, { better: "down" }),
    kpi("cache_hit_rate", "Cache hit rate", now.cacheHitRate, percent(now.cacheHitRate), before.cacheHitRate, { better: "up" })));
  if (now.unpriced > 0) {
    el.append(h("p", { class: "notice", dataset: { unpriced: String(now.unpriced) } },
      `${count(now.unpriced)} calls have a model with no known price: spend excludes them. See Cost.`));
  }
  const toggle = h("div", { class: "toggle", role: "group", "aria-label": "Stack by" },
    ["feature", "model"].map((by) => h("button", { type: "button", class: by === stack ? "on" : null, "aria-pressed": String(by === stack),
      onclick: () => ctx.navigate({ stack: by }) }, "by " + by)));
  el.append(section("Spend over time", toggle,
    stackedBars(seriesBy(series.rows, stack, "cost_usd"), bucketsOf(ctx.range, ctx.interval),
      { interval: ctx.interval, format: usd, label: "Spend per " + ctx.interval + " by " + stack })));
}
