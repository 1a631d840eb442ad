// npm run --silent users:create -- --email E --role admin|operator [--name N]
// Reads the password from standard input (typed without echo on a terminal, or piped), never
// from the command line, where it would land in shell history and the process list.
import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { withCliDatabase } from "../lib/platform/db/cli-connection";
import { recordAudit } from "../lib/control-plane/audit/audit";
import { createUser } from "../lib/control-plane/users/users";

const { values } = parseArgs({
  options: { email: { type: "string" }, role: { type: "string", default: "operator" }, name: { type: "string" } },
  strict: true,
});

async function readPipedPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // The first line: `echo secret | …` and here-strings add a newline that is not part of it.
  return Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
}

function promptPassword(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let typed = "";
    const done = (value: string | Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    const onData = (data: Buffer) => {
      for (const char of data.toString("utf8")) {
        if (char === "\r" || char === "\n") return done(typed);
        if (char === "\u0003") return done(new Error("cancelled"));
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    stdin.on("data", onData);
  });
}

try {
  const password = process.stdin.isTTY ? await promptPassword("Password (12+ characters): ") : await readPipedPassword();
  const user = await withCliDatabase(({ prisma }) =>
    prisma.$transaction(async (tx) => {
      const created = await createUser(tx, {
        email: values.email ?? "",
        name: values.name ?? null,
        role: values.role as "admin",
        password,
      });
      await recordAudit(
        tx,
        { id: null, email: "cli:users:create" },
        { action: "user.create", targetType: "user", targetId: created.id, after: created },
      );
      return created;
    }),
  );
  process.stdout.write(`created ${user.role} ${user.email} (${user.id})\n`);
} catch (error) {
  let message = (error as Error).message;
  if (error instanceof ZodError)
    message = error.issues
      .map((i) => `${i.path[0] === "password" ? "password (stdin)" : `--${String(i.path[0])}`}: ${i.message}`)
      .join("; ");
  else if ((error as { code?: string }).code === "P2002") message = `a user with the email ${values.email} already exists`;
  process.stderr.write(`users:create: ${message}\n`);
  process.exit(2);
}
