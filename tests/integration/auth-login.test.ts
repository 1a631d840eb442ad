// The sign-in check against PostgreSQL: passwords, disabled accounts, the limits on failed
// attempts per email and per client address (shared by every instance through the database), the
// bound on concurrent Argon2 work, pruning, and the first admin.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import {
  ACCOUNT_DISABLED,
  authenticateCredentials,
  SIGN_IN_BUSY,
  WRONG_CREDENTIALS,
} from "../../lib/control-plane/auth/credentials";
import { HashGate } from "../../lib/control-plane/auth/hash-gate";
import {
  LOGIN_MAX_ATTEMPTS,
  LOGIN_MAX_ATTEMPTS_PER_ADDRESS,
  LOGIN_MAX_ATTEMPTS_PER_EMAIL,
} from "../../lib/control-plane/auth/login-throttle";
import { verificationStats } from "../../lib/control-plane/auth/passwords";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import {
  createFirstAdminIfNone,
  createUser,
  FIRST_ADMIN_EMAIL,
  firstAdminBanner,
  findUser,
  findUserForLogin,
} from "../../lib/control-plane/users/users";
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

/** A fresh client address per test, so tests do not share the per-address budget. */
const someAddress = () => `10.${randomBytes(3).join(".")}`;
let address: string;
beforeEach(() => {
  address = someAddress();
});

async function outcome(email: string, password: string, from = address, gate?: HashGate): Promise<string> {
  try {
    const user = await authenticateCredentials(database.prisma, email, password, { address: from, gate });
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
    await database.prisma.loginThrottle.update({
      where: { key: `pair:${email} ${address}` },
      data: { windowStart: new Date(Date.now() - 16 * 60_000) },
    });
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

describe("throttling per client address", () => {
  it(`refuses an address after ${LOGIN_MAX_ATTEMPTS_PER_ADDRESS} attempts however many emails it tries, and only that address`, async () => {
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS_PER_ADDRESS; i++)
      expect(await outcome(unique(`spray${i}`), "some guess here")).toBe(WRONG_CREDENTIALS);
    const email = unique("real");
    await createUser(database.prisma, { email, role: "operator", password: PASSWORD });
    expect(await outcome(email, PASSWORD)).toMatch(
      /^Too many failed sign-in attempts from your network\. Try again in 1[45] minutes\.$/,
    );
    expect(await outcome(unique("another"), "some guess here")).toMatch(/from your network/);
    expect(await outcome(email, PASSWORD, someAddress())).toBe("ok:operator");
  });

  it("does not let failures from other addresses lock the account out of an address it signed in from", async () => {
    const email = unique("owner");
    await createUser(database.prisma, { email, role: "admin", password: PASSWORD });
    const ownersAddress = someAddress();
    expect(await outcome(email, PASSWORD, ownersAddress)).toBe("ok:admin");

    // One stranger's address: locked for this email after its own few failures; nobody else is.
    const stranger = someAddress();
    for (let i = 0; i < LOGIN_MAX_ATTEMPTS; i++) expect(await outcome(email, `guess ${i}`, stranger)).toBe(WRONG_CREDENTIALS);
    expect(await outcome(email, PASSWORD, stranger)).toMatch(/^Too many failed sign-in attempts for this email\./);
    expect(await outcome(email, PASSWORD, someAddress())).toBe("ok:admin");

    // Strangers spread over many addresses: the documented bound is that, past the per-email limit,
    // addresses the account never signed in from are refused, and its known address still is not.
    const strangers = Array.from({ length: Math.ceil(LOGIN_MAX_ATTEMPTS_PER_EMAIL / LOGIN_MAX_ATTEMPTS) + 1 }, someAddress);
    for (const from of strangers) for (let i = 0; i < LOGIN_MAX_ATTEMPTS; i++) await outcome(email, `guess ${i}`, from);
    expect(await outcome(email, PASSWORD, someAddress())).toMatch(
      /^Too many failed sign-in attempts for this email from new places\./,
    );
    expect(await outcome(email, PASSWORD, ownersAddress)).toBe("ok:admin");
    // A success from the known address does not open the account to new places again.
    expect(await outcome(email, PASSWORD, someAddress())).toMatch(/from new places/);
  });

  it("runs no more Argon2 verifications at once than the gate allows, and refuses the overflow at once", async () => {
    const gate = new HashGate({ concurrency: 2, maxQueued: 4 });
    verificationStats.peak = verificationStats.running;
    const flood = await Promise.all(
      Array.from({ length: 40 }, (_, i) => outcome(unique(`flood${i}`), "flooding password", someAddress(), gate)),
    );
    expect(verificationStats.peak).toBeLessThanOrEqual(2);
    expect(flood.filter((r) => r === SIGN_IN_BUSY).length).toBeGreaterThan(0);
    expect(flood.filter((r) => r !== SIGN_IN_BUSY && r !== WRONG_CREDENTIALS)).toEqual([]);
    expect(gate.refused).toBe(flood.filter((r) => r === SIGN_IN_BUSY).length);
  });
});

describe("the throttle table", () => {
  it("is pruned on write: expired counters and stale known addresses go, recent ones stay", async () => {
    const old = new Date(Date.now() - 16 * 60_000);
    const email = unique("pruned");
    const rows = {
      expiredPair: `pair:${email} 10.9.9.9`,
      expiredAddress: `addr:10.9.9.${Math.floor(Math.random() * 250)}`,
      expiredEmail: `email:${email}`,
      staleGood: `good:${email} 10.9.9.8`,
      recentGood: `good:${email} 10.9.9.7`,
      liveCounter: `addr:10.8.${Math.floor(Math.random() * 250)}.1`,
    };
    await database.prisma.loginThrottle.createMany({
      data: [
        { key: rows.expiredPair, attempts: 3, windowStart: old },
        { key: rows.expiredAddress, attempts: 30, windowStart: old },
        { key: rows.expiredEmail, attempts: 2, windowStart: old },
        { key: rows.staleGood, attempts: 0, windowStart: new Date(Date.now() - 31 * 86_400_000) },
        { key: rows.recentGood, attempts: 0, windowStart: old },
        { key: rows.liveCounter, attempts: 1, windowStart: new Date() },
      ],
    });
    await outcome(unique("anyone"), "whatever password");
    const left = new Set(
      (await database.prisma.loginThrottle.findMany({ where: { key: { in: Object.values(rows) } } })).map((r) => r.key),
    );
    expect([...left].sort()).toEqual([rows.recentGood, rows.liveCounter].sort());
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
    const scratch = await createScratchDatabase(`agenticorp_first_admin_${Date.now()}_${randomBytes(3).toString("hex")}`, {
      migrate: true,
    });
    const fresh = createDatabase({ url: scratch.url, poolMax: 4 });
    try {
      const [a, b] = await Promise.all([createFirstAdminIfNone(fresh.prisma), createFirstAdminIfNone(fresh.prisma)]);
      const created = a ?? b;
      expect([a, b].filter(Boolean)).toHaveLength(1);
      expect(created!.email).toBe(FIRST_ADMIN_EMAIL);
      expect(created!.password.length).toBeGreaterThanOrEqual(20);
      expect(await fresh.prisma.user.count()).toBe(1);
      expect(
        await authenticateCredentials(fresh.prisma, FIRST_ADMIN_EMAIL, created!.password, { address: someAddress() }),
      ).toMatchObject({ role: "admin" });
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
    const scratch = await createScratchDatabase(`agenticorp_first_admin_${Date.now()}_${randomBytes(3).toString("hex")}`, {
      migrate: true,
    });
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
