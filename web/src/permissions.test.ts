import { describe, expect, it } from "vitest";
import { can, roleIn, type Me } from "./permissions";

const me = (roles: Record<string, string>, app_roles: Me["app_roles"] = [], admin = false): Me => ({ name: "u", admin, roles, app_roles });

describe("permissions", () => {
  it.each([
    ["viewer", "read", true],
    ["viewer", "deploy", false],
    ["developer", "deploy", true],
    ["developer", "manage", false],
    ["owner", "manage", true],
  ] as const)("%s may %s: %s", (role, action, allowed) => {
    expect(can(me({ shop: role }), action, "shop", "web").allowed).toBe(allowed);
  });
  it("says why", () => {
    expect(can(me({ shop: "viewer" }), "deploy", "shop").reason).toEqual({ key: "deny.role", vars: { role: "viewer" } });
    expect(can(me({}), "read", "shop").reason).toEqual({ key: "deny.none" });
    expect(can(null, "read", "shop").allowed).toBe(false);
  });
  it("takes the higher of system and application roles", () => {
    const m = me({ shop: "viewer" }, [{ system: "shop", app: "web", role: "developer" }]);
    expect(roleIn(m, "shop", "web")).toBe("developer");
    expect(roleIn(m, "shop", "api")).toBe("viewer");
    expect(can(m, "deploy", "shop", "web").allowed).toBe(true);
    expect(can(m, "deploy", "shop", "api").allowed).toBe(false);
  });
  it("lets admins do everything", () => {
    expect(can(me({}, [], true), "manage", "any").allowed).toBe(true);
  });
});
