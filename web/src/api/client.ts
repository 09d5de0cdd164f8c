// The API client, typed by the server's /openapi.json (src/api/schema.d.ts is generated from it by
// `npm run gen`, so a changed API breaks `tsc --noEmit`). Adds the bearer token and, on a 401, trades
// the refresh token for a new pair once and repeats the request.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { loadSession, saveSession } from "./session";
import { ApiFailure, toApiError } from "./errors";

export type Schemas = components["schemas"];
export const api = createClient<paths>({ baseUrl: "" });

let refreshing: Promise<boolean> | null = null;

export async function refreshSession(): Promise<boolean> {
  const s = loadSession();
  if (!s) return false;
  if (s.sso) {
    saveSession(null); // the cookie's session ended: sign in again
    return false;
  }
  refreshing ??= (async () => {
    const r = await fetch("/api/v1/login/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: s.refresh }),
    });
    if (!r.ok) {
      saveSession(null);
      return false;
    }
    const body = (await r.json()) as Schemas["SessionOut"];
    saveSession({ access: body.access_token, refresh: body.refresh_token });
    return true;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** Seconds until a JWT access token expires (Infinity for API tokens and unreadable ones). */
export function expiresIn(token: string, now = Date.now()): number {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) as { exp?: number };
    return typeof payload.exp === "number" ? payload.exp - now / 1000 : Infinity;
  } catch {
    return Infinity;
  }
}

// A copy of each request as sent, so a 401 can be repeated with a body (fetch consumes the original).
const copies = new WeakMap<Request, Request>();

const auth: Middleware = {
  async onRequest({ request }) {
    if (request.url.includes("/api/v1/login")) return request;
    let s = loadSession();
    if (s?.sso) {
      // The session cookie goes by itself; this header marks the change as the console's own (CSRF).
      request.headers.set("X-Dockyard-Console", "1");
      copies.set(request, request.clone());
      return request;
    }
    if (s && expiresIn(s.access) < 30 && (await refreshSession())) s = loadSession();
    if (s) request.headers.set("Authorization", `Bearer ${s.access}`);
    copies.set(request, request.clone());
    return request;
  },
  async onResponse({ request, response, options }) {
    const copy = copies.get(request);
    if (response.status !== 401 || !copy || request.url.includes("/api/v1/login")) return response;
    if (!(await refreshSession())) return response;
    if (loadSession()?.sso) return response;
    copy.headers.set("Authorization", `Bearer ${loadSession()!.access}`);
    return options.fetch(copy);
  },
};
api.use(auth);

/** The data of an openapi-fetch answer, or an ApiFailure carrying {code, message, field}. */
export async function must<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) throw new ApiFailure(toApiError(response.status, error));
  return data as T;
}
