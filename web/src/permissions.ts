// What the caller may do, from GET /api/v1/users/me — the same rules as the server's
// domain/access.py (which still enforces them): viewer reads, developer also deploys, owner also
// manages (applications, members); admins everything.
import type { Key } from "./i18n";

export type Role = "viewer" | "developer" | "owner";
export type Action = "read" | "deploy" | "manage";
const ROLES: Role[] = ["viewer", "developer", "owner"];
const LEAST: Record<Action, Role> = { read: "viewer", deploy: "developer", manage: "owner" };

export interface Me {
  name: string;
  admin: boolean;
  roles: Record<string, string>;
  app_roles: { system: string; app: string; role: string }[];
}

export function roleIn(me: Me, system: string, app?: string): Role | null {
  const sys = me.roles[system] as Role | undefined;
  const inApp = app
    ? (me.app_roles.find((r) => r.system === system && r.app === app)?.role as Role | undefined)
    : undefined;
  const all = [sys, inApp].filter((r): r is Role => !!r);
  if (!all.length) return null;
  return all.reduce((a, b) => (ROLES.indexOf(a) >= ROLES.indexOf(b) ? a : b));
}

export interface Verdict {
  allowed: boolean;
  reason?: { key: Key; vars?: Record<string, string> };
}

export function can(me: Me | null, action: Action, system: string, app?: string): Verdict {
  if (!me) return { allowed: false, reason: { key: "deny.none" } };
  if (me.admin) return { allowed: true };
  const role = roleIn(me, system, app);
  if (!role) return { allowed: false, reason: { key: "deny.none" } };
  if (ROLES.indexOf(role) >= ROLES.indexOf(LEAST[action])) return { allowed: true };
  return { allowed: false, reason: { key: "deny.role", vars: { role } } };
}
