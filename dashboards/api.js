// The one client of the public query API. The read key lives in localStorage and travels only in
// the Authorization header, never in a URL.

const KEY_STORAGE = "tokenmeter.readKey";

export function readKey() {
  return localStorage.getItem(KEY_STORAGE) || "";
}

export function saveKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key.trim());
  else localStorage.removeItem(KEY_STORAGE);
}

/** kind: "unauthorized" | "forbidden" | "not_found" | "unreachable" | "bad_request" | "server". */
export class ApiError extends Error {
  constructor(kind, message, status) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

/** GET path with query params (null/empty values left out); resolves to the parsed JSON body. */
export async function get(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(name, String(value));
  }
  const url = path + (query.size ? "?" + query.toString() : "");
  let response;
  try {
    response = await fetch(url, { headers: { Authorization: "Bearer " + readKey(), Accept: "application/json" }, cache: "no-store" });
  } catch {
    throw new ApiError("unreachable", "The Tokenmeter server at " + location.origin + " cannot be reached. Is it running?", 0);
  }
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (response.ok) return body;
  const message = body?.error?.message || "HTTP " + response.status;
  switch (response.status) {
    case 401: throw new ApiError("unauthorized", "The read key was refused (unknown, revoked or mistyped). Paste a read key from .tokenmeter/credentials.", 401);
    case 403: throw new ApiError("forbidden", "This key cannot read: use a read key (TOKENMETER_READ_KEY), not an ingest key.", 403);
    case 404: throw new ApiError("not_found", message, 404);
    case 429: throw new ApiError("server", "Too many failed attempts from this address; wait a minute and retry.", 429);
    default: throw new ApiError(response.status < 500 ? "bad_request" : "server", message + (body?.error?.field ? " (" + body.error.field + ")" : ""), response.status);
  }
}

/** Parameters shared by every analytics call: the range and the global filters. */
export function scopeParams(state, range) {
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    feature: state.feature,
    model: state.model,
    user_id: state.user,
    environment: state.env,
  };
}
