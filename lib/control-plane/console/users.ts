// Console users (admins only): list, create, change role, disable or enable, reset another user's
// password (the new one is shown once). The fleet always keeps one enabled admin, and nobody
// disables their own account.
import "server-only";
import { recordAudit } from "../audit/audit";
import { ConflictError, NotFoundError } from "../../platform/errors";
import { Prisma } from "../../platform/db/generated/client";
import { createUser, createUserInput, findUser, listUsers as listUserRows, resetPassword, withoutHash } from "../users/users";
import type { UserDto } from "./contracts";
import { idParams, updateUserInput } from "./contracts";
import { actorOf, consoleHandler } from "./handler";

// Serialises changes to roles and accounts, so two admins demoting each other cannot leave none.
const USER_ADMIN_LOCK_KEY = 7_219_451_121;

type UserRow = Prisma.UserGetPayload<{ omit: typeof withoutHash }>;

function toDto(row: UserRow): UserDto {
  return {
    ...row,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    passwordChangedAt: row.passwordChangedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

// GET /api/console/users — every console user, without password hashes.
export const listUsers = consoleHandler({ scope: "users.read" }, async ({ prisma }) => ({
  users: (await listUserRows(prisma)).map(toDto),
}));

// POST /api/console/users — a new user with an initial password the admin hands over.
export const createUserHandler = consoleHandler(
  { scope: "users.write", body: createUserInput, status: 201 },
  async ({ prisma, body, session }) => {
    try {
      const user = await prisma.$transaction(async (tx) => {
        const created = await createUser(tx, body);
        await recordAudit(tx, actorOf(session), {
          action: "user.create",
          targetType: "user",
          targetId: created.id,
          after: toDto(created),
        });
        return created;
      });
      return { user: toDto(user) };
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
        throw new ConflictError("A user with this email already exists.", { param: "email" });
      }
      throw error;
    }
  },
);

// PATCH /api/console/users/:id — change the role, disable or enable.
export const updateUserHandler = consoleHandler(
  { scope: "users.write", params: idParams, body: updateUserInput },
  async ({ prisma, params, body, session }) => {
    const user = await prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${USER_ADMIN_LOCK_KEY})`;
      const before = await findUser(tx, params.id);
      if (!before) throw new NotFoundError("No user with this id.");
      if (body.disabled === true && before.id === session.userId)
        throw new ConflictError("You cannot disable your own account.", { param: "disabled" });
      const staysAdmin = (body.role ?? before.role) === "admin" && !(body.disabled ?? before.disabledAt !== null);
      if (before.role === "admin" && before.disabledAt === null && !staysAdmin) {
        const admins = await tx.user.count({ where: { role: "admin", disabledAt: null } });
        if (admins <= 1)
          throw new ConflictError("This is the last enabled admin: make another admin first.", {
            param: body.role ? "role" : "disabled",
          });
      }
      const disabledAt = body.disabled === undefined ? undefined : body.disabled ? (before.disabledAt ?? new Date()) : null;
      const after = await tx.user.update({ where: { id: before.id }, data: { role: body.role, disabledAt }, omit: withoutHash });
      await recordAudit(tx, actorOf(session), {
        action: "user.update",
        targetType: "user",
        targetId: after.id,
        before: toDto(before),
        after: toDto(after),
      });
      return after;
    });
    return { user: toDto(user) };
  },
);

// POST /api/console/users/:id/password — a new random password for another user, in this response only (the audit entry says it happened, never what it is).
export const resetUserPassword = consoleHandler(
  { scope: "users.write", params: idParams },
  async ({ prisma, params, session }) => {
    if (params.id === session.userId)
      throw new ConflictError("You cannot reset your own password here: ask another admin to reset it.", {
        code: "own_password",
      });
    const { user, password } = await prisma.$transaction(async (tx) => {
      const user = await findUser(tx, params.id);
      if (!user) throw new NotFoundError("No user with this id.");
      const password = await resetPassword(tx, user.id);
      await recordAudit(tx, actorOf(session), {
        action: "user.password_reset",
        targetType: "user",
        targetId: user.id,
        after: { email: user.email },
      });
      return { user, password };
    });
    return { user: toDto(user), password };
  },
);
