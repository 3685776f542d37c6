// Cache: the app's own cache hit rate and the provider prompt-cache share over time, and what both saved.

import { get, scopeParams } from "../api.js";
import { bucketsOf, lines } from "../charts.js";
import { h, table } from "../dom.js";
import { compact, count, percent, usd } from "../format.js";
import { emptyState, section } from "./common.js";

const tile = (id, label, value, shown) =>
  h("div", { class: "kpi", dataset: { metric: id, value: value === null || value === undefined ? "" : String(value) } },
    h("div", { class: "kpi-label" }, label), h("div", { class: "kpi-value" }, shown));

export async function render(el, ctx) {
  const scope = scopeParams(ctx.state, ctx.range);
  const [total, overTime, byFeature] = await Promise.all([
    get("/v1/cache", scope),
    get("/v1/cache", { ...scope, interval: ctx.interval }),
    get("/v1/cache", { ...scope, group_by: "feature" }),
  ]);
  ctx.apiDone();
  const t = total.rows[0];
  if (!t || !t.calls) {
    el.append(emptyState());
    return;
  }
  el.append(h("div", { class: "kpis" },
    tile("cache_hit_rate", "App-cache hit rate", t.cache_hit_rate, percent(t.cache_hit_rate)),
    tile("cached_token_share", "Prompt-cache share", t.cached_token_share, percent(t.cached_token_share)),
    tile("provider_cache_hit_rate", "Calls reading the prompt cache", t.provider_cache_hit_rate, percent(t.provider_cache_hit_rate)),
    tile("saved_usd", "Saved", t.saved_usd, usd(t.saved_usd)),
    tile("cached_tokens_saved_usd", "…by prompt cache", t.cached_tokens_saved_usd, usd(t.cached_tokens_saved_usd)),
    tile("cache_hits_saved_usd", "…by app cache", t.cache_hits_saved_usd, usd(t.cache_hits_saved_usd))));
  if (t.cache_hits_unvalued > 0) {
    el.append(h("p", { class: "notice" }, `${count(t.cache_hits_unvalued)} app-cache hits belong to features without a priced miss to value them by; they are not in "saved".`));
  }
  const rate = new Map(), share = new Map();
  for (const row of overTime.rows) {
    const at = new Date(row.bucket).getTime();
    rate.set(at, row.calls ? row.cache_hit_rate : null);
    share.set(at, row.tokens_in ? row.cached_token_share : null);
  }
  el.append(section("Hit rate and prompt-cache share over time",
    lines([{ name: "app-cache hit rate", values: rate }, { name: "prompt-cache share of input tokens", values: share }],
      bucketsOf(ctx.range, ctx.interval), { interval: ctx.interval, format: (v) => percent(v, 0), label: "Cache rates over time", max: 1 })));
  el.append(section("Per feature", table([
    { key: "feature", label: "feature", format: (v) => v ?? "(none)" },
    { key: "calls", label: "calls", numeric: true, format: count },
    { key: "cache_hits", label: "app-cache hits", numeric: true, format: count },
    { key: "cache_hit_rate", label: "hit rate", numeric: true, format: (v) => percent(v) },
    { key: "provider_cache_hits", label: "prompt-cache hits", numeric: true, format: count },
    { key: "cached_tokens", label: "cached tokens", numeric: true, format: compact },
    { key: "cached_token_share", label: "prompt-cache share", numeric: true, format: (v) => percent(v) },
    { key: "saved_usd", label: "saved (USD)", numeric: true, format: usd },
  ], byFeature.rows.slice().sort((a, b) => b.saved_usd - a.saved_usd || b.calls - a.calls), { csvName: "cache-by-feature" })));
}
