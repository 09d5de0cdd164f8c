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

const auth: Middleware = {
  async onRequest({ request }) {
    const s = loadSession();
    if (s) request.headers.set("Authorization", `Bearer ${s.access}`);
    return request;
  },
  async onResponse({ request, response, options }) {
    if (response.status !== 401 || request.url.includes("/api/v1/login")) return response;
    if (!(await refreshSession())) return response;
    const retry = new Request(request, { headers: new Headers(request.headers) });
    retry.headers.set("Authorization", `Bearer ${loadSession()!.access}`);
    return options.fetch(retry);
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
