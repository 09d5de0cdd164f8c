import { createContext, useCallback, useContext, useEffect, useState } from "react";
import type { Me } from "./permissions";
import type { ApiError } from "./api/errors";
import { ApiFailure } from "./api/errors";

export const MeContext = createContext<Me | null>(null);
export function useMe(): Me | null {
  return useContext(MeContext);
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload(): void;
}

/** Load once per change of `deps`; errors are kept (and shown), never swallowed. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  useEffect(() => {
    let live = true;
    setLoading(true);
    run()
      .then((d) => live && (setData(d), setError(undefined)))
      .catch((e: unknown) => live && setError(asApiError(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [run, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}

export function asApiError(e: unknown): ApiError {
  if (e instanceof ApiFailure) return e.error;
  return { status: 0, code: "error", message: e instanceof Error ? e.message : String(e) };
}

const REDUCED_MOTION = "(prefers-reduced-motion: reduce)";

/** Whether the user asked the system for less motion; follows the setting while the page is open.
 * The console then turns Ant Design's animations off (dialogs appear at once, nothing slides). */
export function useReducedMotion(): boolean {
  const [reduced, setReduced] = useState(() => window.matchMedia(REDUCED_MOTION).matches);
  useEffect(() => {
    const query = window.matchMedia(REDUCED_MOTION);
    const follow = (e: MediaQueryListEvent) => setReduced(e.matches);
    query.addEventListener("change", follow);
    return () => query.removeEventListener("change", follow);
  }, []);
  return reduced;
}
