// The signed-in session: access + refresh token, kept in sessionStorage (this tab only, gone when
// it closes). Never in a URL, never in localStorage. A single sign-on session (`sso`) holds no token:
// its credential is the server's HttpOnly cookie, which scripts cannot read.
export interface Session {
  access: string;
  refresh: string;
  sso?: boolean;
}

const KEY = "dockyard.session";
type Listener = (s: Session | null) => void;
const listeners = new Set<Listener>();

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Session;
    return (s.access && s.refresh) || s.sso ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
  listeners.forEach((l) => l(s));
}

export function onSession(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
