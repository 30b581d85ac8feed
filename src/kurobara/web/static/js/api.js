// The JSON API from page scripts: same-origin cookies, the CSRF header from the readable
// `kurobara_csrf` cookie, JSON in and out, and a typed error carrying the server's `detail`.
//
//   import { api, ApiError } from "./api.js";
//   const page = await api.get("/favorites/", { query: { page: 2, limit: 24 } });
//   await api.post(`/favorites/${id}`);
//   try { ... } catch (err) { if (err instanceof ApiError && err.status === 404) ... }
//
// Paths are relative to /api/v1 (and to the reverse-proxy prefix the page was served under).

const CSRF_COOKIE = "kurobara_csrf";
const CSRF_HEADER = "X-CSRF-Token";
const DEFAULT_TIMEOUT_MS = 30_000;

/** An HTTP error answer (or a network failure, with status 0). */
export class ApiError extends Error {
  constructor(status, detail, { response = null, body = null } = {}) {
    super(ApiError.describe(status, detail));
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.response = response;
    this.body = body;
  }

  /** FastAPI's `detail` is a string, or a list of validation errors; make one sentence. */
  static describe(status, detail) {
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail) && detail.length) {
      return detail
        .map((item) => {
          const where = Array.isArray(item.loc) ? item.loc.filter((p) => p !== "body").join(".") : "";
          return where ? `${where}: ${item.msg}` : String(item.msg ?? item);
        })
        .join("; ");
    }
    return status ? `Request failed (HTTP ${status})` : "Network error: the server could not be reached";
  }

  get isUnauthorized() {
    return this.status === 401;
  }
}

export function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("="));
  }
  return "";
}

function apiRoot() {
  const meta = document.querySelector('meta[name="kurobara-root"]');
  return `${meta?.content ?? ""}/api/v1`;
}

export function apiUrl(path, query) {
  const url = new URL(apiRoot() + (path.startsWith("/") ? path : `/${path}`), window.location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, item);
  }
  return url;
}

/**
 * Send a request; resolve to the parsed JSON body (null for 204), or reject with ApiError.
 * Options: method, body (sent as JSON; a FormData as multipart), query, headers, signal, timeout (ms), raw (resolve to
 * the Response itself, e.g. to read X-Total-Count), keepalive (outlive the page, for a last
 * save when it is being closed), csv (send this text as text/csv instead of a JSON body).
 */
export async function request(path, options = {}) {
  const { method = "GET", body, query, headers = {}, signal, timeout = DEFAULT_TIMEOUT_MS, raw = false, keepalive = false } = options;
  const init = {
    method,
    credentials: "same-origin",
    keepalive,
    headers: { Accept: "application/json", ...headers },
    signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeout)]) : AbortSignal.timeout(timeout),
  };
  if (!["GET", "HEAD"].includes(method)) init.headers[CSRF_HEADER] = csrfToken();
  if (body instanceof FormData) {
    init.body = body; // multipart: the browser writes the Content-Type with its boundary
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (options.csv !== undefined) {
    init.headers["Content-Type"] = "text/csv";
    init.body = options.csv;
  }
  let response;
  try {
    response = await fetch(apiUrl(path, query), init);
  } catch (err) {
    if (err.name === "AbortError" && signal?.aborted) throw err; // the caller cancelled
    const detail = err.name === "TimeoutError" ? "The server took too long to answer" : undefined;
    throw new ApiError(0, detail);
  }
  const isJson = (response.headers.get("content-type") ?? "").includes("json");
  const payload = response.status === 204 || !isJson ? null : await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, payload?.detail, { response, body: payload });
  }
  return raw ? Object.assign(response, { data: payload }) : payload;
}

export const api = {
  request,
  get: (path, options) => request(path, { ...options, method: "GET" }),
  post: (path, body, options) => request(path, { ...options, method: "POST", body }),
  put: (path, body, options) => request(path, { ...options, method: "PUT", body }),
  patch: (path, body, options) => request(path, { ...options, method: "PATCH", body }),
  delete: (path, options) => request(path, { ...options, method: "DELETE" }),
};
