// The sign-in check against PostgreSQL: passwords, disabled accounts, the per-email limit on
// failed attempts (shared by every instance through the database), and the first admin.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ACCOUNT_DISABLED, authenticateCredentials, WRONG_CREDENTIALS } from "../../lib/auth/credentials";
import { LOGIN_MAX_ATTEMPTS } from "../../lib/auth/login-throttle";
import { createDatabase, type Database } from "../../lib/db/client";
import { createFirstAdminIfNone, createUser, FIRST_ADMIN_EMAIL, firstAdminBanner, findUser, findUserForLogin } from "../../lib/users/users";
import { createScratchDatabase } from "../helpers/postgres";

let database: Database;
const unique = (name: string) => `${name}-${randomBytes(4).toString("hex")}@example.test`;
const PASSWORD = "correct horse battery";

beforeAll(() => {
  database = createDatabase({ url: inject("databaseUrl"), poolMax: 6 });
});
afterAll(async () => {
  await database.close();
});

async function outcome(email: string, password: string): Promise<string> {
  try {
    const user = await authenticateCredentials(database.prisma, email, password);
    return `ok:${user.role}`;
  } catch (error) {
    return (error as Error).message;
  }
}

describe("authenticateCredentials", () => {
  it("signs in with the right password, whatever the email's case", async () => {
    const email = unique("person");
    await createUser(database.prisma, { email, role: "operator", password: PASSWORD });
    expect(await outcome(email.toUpperCase(), PASSWORD)).toBe("ok:operator");
  });

  it("gives the same answer for a wrong password and an unknown email", async () => {
    const email = unique("person");
    await createUser(database.prisma, { email, role: "admin", password: PASSWORD });
    expect(await outcome(email, "wrong password!")).toBe(WRONG_CREDENTIALS);
    expect(await outcome(unique("nobody"), PASSWORD)).toBe(WRONG_CREDENTIALS);
    expect(await outcome("", "")).toBe(WRONG_CREDENTIALS);
  });

  it("refuses a disabled account, and says so only to someone with its password", async () => {
    const email = unique("disabled");
    const user = await createUser(database.prisma, { email, role: "admin", password: PASSWORD });
    await database.prisma.user.update({ where: { id: user.id }, data: { disabledAt: new Date() } });
    expect(await outcome(email, PASSWORD)).toBe(ACCOUNT_DISABLED);
    expect(await outcome(email, "wrong password!")).toBe(WRONG_CREDENTIALS);
  });

  it(`refuses after ${LOGIN_MAX_ATTEMPTS} failures in the window, even the right password, with a clear message`, async () => {
    const email = unique("target");
    await createUser(database.prisma, { email, role: "admin", password: PASSWORD });
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS; i++) expect(await outcome(email, `guess ${i} wrong`)).toBe(WRONG_CREDENTIALS);
    const refused = await outcome(email, PASSWORD);
    expect(refused).toMatch(/^Too many failed sign-in attempts for this email\. Try again in 1[45] minutes\.$/);
    // Another email is not affected.
    const other = unique("bystander");
    await createUser(database.prisma, { email: other, role: "operator", password: PASSWORD });
    expect(await outcome(other, PASSWORD)).toBe("ok:operator");
  });

  it("lets the window pass, and a success resets the count", async () => {
    const email = unique("forgetful");
    await createUser(database.prisma, { email, role: "operator", password: PASSWORD });
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS - 1; i++) await outcome(email, "nope nope nope");
    expect(await outcome(email, PASSWORD)).toBe("ok:operator");
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS - 1; i++) await outcome(email, "nope nope nope");
    expect(await outcome(email, PASSWORD)).toBe("ok:operator");

    for (let i = 0; i < LOGIN_MAX_ATTEMPTS; i++) await outcome(email, "nope nope nope");
    expect(await outcome(email, PASSWORD)).toMatch(/^Too many/);
    await database.prisma.loginThrottle.update({ where: { email }, data: { windowStart: new Date(Date.now() - 16 * 60_000) } });
    expect(await outcome(email, PASSWORD)).toBe("ok:operator");
  });

  it("counts concurrent guesses atomically: no burst gets past the limit", async () => {
    const email = unique("burst");
    await createUser(database.prisma, { email, role: "operator", password: PASSWORD });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => outcome(email, `parallel guess ${i}`)));
    expect(results.filter((r) => r === WRONG_CREDENTIALS)).toHaveLength(LOGIN_MAX_ATTEMPTS);
    expect(results.filter((r) => r.startsWith("Too many"))).toHaveLength(12 - LOGIN_MAX_ATTEMPTS);
  });
});

describe("password hashes", () => {
  it("are Argon2id and never selected outside the sign-in check", async () => {
    const email = unique("hashed");
    const created = await createUser(database.prisma, { email, role: "operator", password: PASSWORD });
    expect(created).not.toHaveProperty("passwordHash");
    expect(await findUser(database.prisma, created.id)).not.toHaveProperty("passwordHash");
    const forLogin = await findUserForLogin(database.prisma, email);
    expect(forLogin?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(forLogin?.passwordHash).not.toContain(PASSWORD);
  });
});

describe("the first admin on a fresh install", () => {
  it("is created once, with a random password that signs in, and printed in a clear banner", async () => {
    const scratch = await createScratchDatabase(`agenticorp_first_admin_${Date.now()}_${randomBytes(3).toString("hex")}`, { migrate: true });
    const fresh = createDatabase({ url: scratch.url, poolMax: 4 });
    try {
      const [a, b] = await Promise.all([createFirstAdminIfNone(fresh.prisma), createFirstAdminIfNone(fresh.prisma)]);
      const created = a ?? b;
      expect([a, b].filter(Boolean)).toHaveLength(1);
      expect(created!.email).toBe(FIRST_ADMIN_EMAIL);
      expect(created!.password.length).toBeGreaterThanOrEqual(20);
      expect(await fresh.prisma.user.count()).toBe(1);
      expect(await authenticateCredentials(fresh.prisma, FIRST_ADMIN_EMAIL, created!.password)).toMatchObject({ role: "admin" });
      expect(await createFirstAdminIfNone(fresh.prisma)).toBeNull();
      const banner = firstAdminBanner(created!);
      expect(banner).toContain(`email:    ${FIRST_ADMIN_EMAIL}`);
      expect(banner).toContain(`password: ${created!.password}`);
      expect(await fresh.prisma.auditEntry.count({ where: { action: "user.create", actorEmail: "system" } })).toBe(1);
    } finally {
      await fresh.close();
      await scratch.drop();
    }
  });

  it("is not created when any user exists", async () => {
    const scratch = await createScratchDatabase(`agenticorp_first_admin_${Date.now()}_${randomBytes(3).toString("hex")}`, { migrate: true });
    const fresh = createDatabase({ url: scratch.url, poolMax: 2 });
    try {
      await createUser(fresh.prisma, { email: "someone@example.test", role: "operator", password: PASSWORD });
      expect(await createFirstAdminIfNone(fresh.prisma)).toBeNull();
      expect(await fresh.prisma.user.count()).toBe(1);
    } finally {
      await fresh.close();
      await scratch.drop();
    }
  });
});
