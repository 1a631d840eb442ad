// Who may do what in the console: one role → scope table, read by the server guards
// (requireScope in lib/control-plane/auth/session.ts) and by the UI to hide what a role cannot do. Safe to
// import from client components: no server code here.

export const ROLES = ["admin", "operator"] as const;
export type Role = (typeof ROLES)[number];

export const SCOPES = [
  "metrics.read",
  "fleet.read",
  "alerts.read",
  "alerts.write",
  "alerts.acknowledge",
  "keys.read",
  "keys.write",
  "providers.read",
  "providers.write",
  "users.read",
  "users.write",
  "audit.read",
  "scaling.read",
  "scaling.write",
  "requests.read",
  /** Prompt and response bodies captured in the request log (keys with capture on). */
  "requests.bodies",
  "requests.write",
  "usage.read",
  "budgets.write",
  "prices.write",
  "batches.read",
] as const;
export type Scope = (typeof SCOPES)[number];

const READ_ONLY: Scope[] = [
  "metrics.read",
  "fleet.read",
  "alerts.read",
  "keys.read",
  "providers.read",
  "audit.read",
  "scaling.read",
  "requests.read",
  "usage.read",
  "batches.read",
];

/**
 * Operators see the fleet (the request log included, bodies excepted) and act on alerts (acknowledge,
 * silence); admins also change the fleet, manage people and read captured bodies.
 */
export const ROLE_SCOPES: Record<Role, Scope[]> = {
  operator: [...READ_ONLY, "alerts.acknowledge"],
  admin: [
    ...READ_ONLY,
    "alerts.acknowledge",
    "alerts.write",
    "keys.write",
    "providers.write",
    "users.read",
    "users.write",
    "scaling.write",
    "requests.bodies",
    "requests.write",
    "budgets.write",
    "prices.write",
  ],
};

export function hasScope(role: Role, scope: Scope): boolean {
  return ROLE_SCOPES[role].includes(scope);
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}
