// View state lives in the URL hash (#/view?range=24h&feature=…), so a URL reopens the same view.
// The read key is never part of it.

export const PRESETS = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3 };
export const VIEWS = ["overview", "cost", "latency", "cache", "alerts", "requests"];
const KEYS = ["range", "from", "to", "feature", "model", "user", "env", "refresh", "stack", "group", "pct", "status", "mincost", "minlatency", "cursor"];

export function parseHash(hash) {
  const [path, query = ""] = hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const view = VIEWS.includes(parts[0]) ? parts[0] : "overview";
  const params = new URLSearchParams(query);
  const state = { view, requestId: view === "requests" && parts[1] ? parts.slice(1).join("/") : null };
  for (const key of KEYS) state[key] = params.get(key) || "";
  if (!state.range && !(state.from && state.to)) state.range = "24h";
  return state;
}

export function toHash(state) {
  const params = new URLSearchParams();
  for (const key of KEYS) if (state[key]) params.set(key, state[key]);
  const path = "#/" + state.view + (state.requestId ? "/" + encodeURIComponent(state.requestId) : "");
  const query = params.toString();
  return query ? path + "?" + query : path;
}

/** The absolute range of a state: a preset ending now (to the minute), or custom from/to. */
export function rangeOf(state, now = Date.now()) {
  if (state.from && state.to && !state.range) {
    const from = new Date(state.from), to = new Date(state.to);
    if (!isNaN(from) && !isNaN(to) && from < to) return { from, to };
  }
  const length = PRESETS[state.range] || PRESETS["24h"];
  const end = Math.ceil(now / 60e3) * 60e3;
  return { from: new Date(end - length), to: new Date(end) };
}

/** The period of the same length just before. */
export function previousRange(range) {
  const length = range.to - range.from;
  return { from: new Date(range.from - length), to: new Date(range.from.getTime()) };
}

/** A bucket size giving 24–200 points. */
export function intervalFor(range) {
  const hours = (range.to - range.from) / 3600e3;
  if (hours <= 3) return "minute";
  if (hours <= 24 * 8) return "hour";
  return "day";
}
