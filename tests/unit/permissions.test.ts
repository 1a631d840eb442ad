// The role → scope table: what each role may do, and that the guard enforces it.
import { describe, expect, it } from "vitest";
import { hasScope, isRole, ROLE_SCOPES, ROLES, SCOPES, type Scope } from "../../lib/control-plane/auth/permissions";
import { requireScope, type ConsoleSession } from "../../lib/control-plane/auth/session";
import { type AppError } from "../../lib/platform/errors";

const session = (role: "admin" | "operator"): ConsoleSession => ({
  userId: "u",
  email: "e@x.io",
  name: null,
  role,
  scopes: ROLE_SCOPES[role],
  expiresAt: Date.now() + 1,
});

describe("the role → scope table", () => {
  it("gives admins every scope", () => {
    expect([...ROLE_SCOPES.admin].sort()).toEqual([...SCOPES].sort());
  });

  it("gives operators every read scope except the user list, acting on alerts, and no write scope", () => {
    const reads = SCOPES.filter((s) => s.endsWith(".read") && s !== "users.read");
    expect([...ROLE_SCOPES.operator].sort()).toEqual([...reads, "alerts.acknowledge"].sort());
    expect(ROLE_SCOPES.operator.filter((s) => s.endsWith(".write"))).toEqual([]);
  });

  it("lists each scope once per role, and only known scopes", () => {
    for (const role of ROLES) {
      expect(new Set(ROLE_SCOPES[role]).size).toBe(ROLE_SCOPES[role].length);
      for (const scope of ROLE_SCOPES[role]) expect(SCOPES).toContain(scope);
    }
  });

  it.each([
    ["admin", "keys.write", true],
    ["admin", "users.write", true],
    ["operator", "keys.read", true],
    ["operator", "metrics.read", true],
    ["operator", "keys.write", false],
    ["operator", "providers.write", false],
    ["operator", "alerts.write", false],
    ["operator", "alerts.acknowledge", true],
    ["admin", "alerts.acknowledge", true],
    ["operator", "users.read", false],
    ["operator", "scaling.write", false],
    ["operator", "requests.read", true],
    ["operator", "requests.bodies", false],
    ["admin", "requests.bodies", true],
    ["operator", "requests.write", false],
    ["operator", "usage.read", true],
    ["operator", "budgets.write", false],
    ["operator", "prices.write", false],
    ["admin", "budgets.write", true],
    ["admin", "prices.write", true],
  ] as const)("hasScope(%s, %s) is %s", (role, scope, expected) => {
    expect(hasScope(role, scope)).toBe(expected);
  });

  it("recognises roles and nothing else", () => {
    expect(isRole("admin")).toBe(true);
    expect(isRole("operator")).toBe(true);
    expect(isRole("root")).toBe(false);
    expect(isRole(undefined)).toBe(false);
  });
});

describe("requireScope", () => {
  const status = (fn: () => void) => {
    try {
      fn();
      return 200;
    } catch (error) {
      return (error as AppError).status;
    }
  };

  it("refuses an anonymous caller with 401 whatever the scope", () => {
    for (const scope of SCOPES) expect(status(() => requireScope(null, scope))).toBe(401);
  });

  it("refuses a role without the scope with 403 and lets the others through", () => {
    for (const role of ROLES) {
      for (const scope of SCOPES as readonly Scope[]) {
        expect(status(() => requireScope(session(role), scope))).toBe(hasScope(role, scope) ? 200 : 403);
      }
    }
  });
});
