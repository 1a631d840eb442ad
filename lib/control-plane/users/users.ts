// Console users. The password hash is never selected except by findUserForLogin, which exists
// for the sign-in check alone.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Prisma, PrismaClient } from "../../platform/db/generated/client";
import { ROLES } from "../auth/permissions";
import { hashPassword, passwordSchema } from "../auth/passwords";

export type Db = PrismaClient | Prisma.TransactionClient;

const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: "must be an email address" }));

/** Emails compare case-insensitively: stored and looked up lower-cased. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export const createUserInput = z.object({
  email: emailSchema,
  name: z.string().trim().min(1).max(100).nullable().default(null),
  role: z.enum(ROLES),
  password: passwordSchema,
});
export type CreateUserInput = z.input<typeof createUserInput>;

/** Every user query leaves the hash out. */
export const withoutHash = { passwordHash: true } as const;

export async function createUser(db: Db, input: CreateUserInput) {
  const { email, name, role, password } = createUserInput.parse(input);
  return db.user.create({ data: { email, name, role, passwordHash: await hashPassword(password) }, omit: withoutHash });
}

export function listUsers(db: Db) {
  return db.user.findMany({ orderBy: { createdAt: "asc" }, omit: withoutHash });
}

export function findUser(db: Db, id: string) {
  return db.user.findUnique({ where: { id }, omit: withoutHash });
}

/** The only query that reads the password hash: the sign-in check. */
export function findUserForLogin(db: Db, email: string) {
  return db.user.findUnique({
    where: { email: normaliseEmail(email) },
    select: { id: true, email: true, name: true, role: true, disabledAt: true, passwordHash: true },
  });
}

/**
 * Replaces a user's password with a new random one, returned once to hand over; the hash is all
 * that is stored. Sessions signed in before it end (lib/control-plane/auth/session.ts).
 */
export async function resetPassword(db: Db, id: string): Promise<string> {
  const password = generatePassword();
  await db.user.update({
    where: { id },
    data: { passwordHash: await hashPassword(password), passwordChangedAt: new Date() },
    omit: withoutHash,
  });
  return password;
}

function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}

export const FIRST_ADMIN_EMAIL = "admin@localhost";
// Distinct from other advisory lock keys in the project (migrations, seeding).
const FIRST_ADMIN_LOCK_KEY = 7_219_451_120;

/**
 * On a fresh embedded install with no user at all, creates an admin with a random password and
 * returns the credentials to print once; returns null when any user exists.
 */
export async function createFirstAdminIfNone(prisma: PrismaClient): Promise<{ email: string; password: string } | null> {
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${FIRST_ADMIN_LOCK_KEY})`;
    if ((await tx.user.count()) > 0) return null;
    await tx.user.create({ data: { email: FIRST_ADMIN_EMAIL, role: "admin", passwordHash }, omit: withoutHash });
    await tx.auditEntry.create({
      data: {
        actorEmail: "system",
        action: "user.create",
        targetType: "user",
        targetId: FIRST_ADMIN_EMAIL,
        after: { email: FIRST_ADMIN_EMAIL, role: "admin", reason: "first start" },
      },
    });
    return { email: FIRST_ADMIN_EMAIL, password };
  });
}

/** The banner `npm start` prints once, on stdout, when it created the first admin. */
export function firstAdminBanner({ email, password }: { email: string; password: string }): string {
  const lines = [
    "AgentiCorp console: created the first administrator (shown only this once).",
    `  email:    ${email}`,
    `  password: ${password}`,
    "Sign in and create named accounts; `npm run users:create` adds more.",
  ];
  const width = Math.max(...lines.map((l) => l.length));
  const rule = "=".repeat(width);
  return ["", rule, ...lines, rule, ""].join("\n") + "\n";
}
