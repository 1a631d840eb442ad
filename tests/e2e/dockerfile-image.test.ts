// The image, proven without a Docker daemon: the Dockerfile's own stages are carried out in a
// scratch directory (tests/helpers/dockerfile-build.ts: npm ci, prisma generate, the console and
// server build, production-only dependencies, the runtime stage's COPY list), and the runtime
// tree is then used as Kubernetes uses the image, as an unprivileged user: the migration Job's
// command, an operator's CLI, and the CMD serving health, a completion and the console, then a
// clean exit on SIGTERM. A file the runtime needs that the Dockerfile does not COPY fails here.
// Slow (two npm ci and a next build, the independent stages at once as BuildKit runs them): 4.8 min
// with the shared 2-core machine at load 12, 8.6 min at load 20; most of it is next build.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderManifests } from "../../lib/control-plane/scaling/manifests";
import { PRESETS } from "../../lib/control-plane/scaling/policies";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { buildDockerfile, type BuiltStage, type MappedUser } from "../helpers/dockerfile-build";
import { readDockerfile } from "../helpers/dockerfile";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SECRET = "image-test-secret-0123456789abcdef0123456789";
const dockerfile = readDockerfile();

/** The image's `node` user (uid 1000 in the official images) is played by the local `nobody`. */
function nobody(): MappedUser {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("nobody:"));
  if (!line) throw new Error("this test needs a local `nobody` account to stand in for the image's user");
  const [, , uid, gid] = line.split(":");
  return { name: "nobody", uid: Number(uid), gid: Number(gid) };
}

const user = nobody();
let scratch: string;
let runtime: BuiltStage;
let appDir: string;
let database: ScratchDatabase;
let server: ServerProcess | undefined;
/** Removing the builder stages' trees (~100,000 files) runs while the runtime is tested. */
let cleaning: Promise<unknown> = Promise.resolve();

/** A command in the runtime tree, as the image's user, with the image's environment. */
function runInImage(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const [command, ...rest] = args;
    const childEnv: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: path.join(scratch, "home"),
      ...runtime.env,
      ...env,
    };
    const child = spawn(command === "node" ? process.execPath : command!, rest, {
      cwd: appDir,
      uid: runtime.user?.uid,
      gid: runtime.user?.gid,
      env: childEnv as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), "agenticorp-image-"));
  // The unprivileged user must reach the runtime tree below it, as it reaches an image's /app.
  chmodSync(scratch, 0o755);
  const started = Date.now();
  const stages = await buildDockerfile({
    dockerfile,
    contextDir: PROJECT_ROOT,
    scratchDir: scratch,
    users: { node: user },
    npmCacheDir: path.join(os.homedir(), ".npm"),
    log: (line) => console.log(`${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s ${line.slice(0, 160)}`),
  });
  runtime = stages.at(-1)!;
  appDir = path.join(runtime.root, runtime.workdir);
  console.log(`image built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const leftovers = [path.join(scratch, "context"), path.join(scratch, "npm-cache"), ...stages.slice(0, -1).map((s) => s.root)];
  cleaning = Promise.all(leftovers.map((dir) => rm(dir, { recursive: true, force: true })));
  database = await createScratchDatabase(`agenticorp_image_${Date.now()}_${randomBytes(3).toString("hex")}`);
}, 480_000);

afterAll(async () => {
  if (server) await server.stop("SIGKILL");
  await database?.drop();
  await cleaning;
  if (scratch) await rm(scratch, { recursive: true, force: true });
  expect(await readdir(os.tmpdir())).not.toContain(path.basename(scratch));
}, 300_000);

describe("the image built from the Dockerfile's stages", () => {
  it("is based on the Node.js major this machine runs, so the stages ran on the image's runtime", () => {
    const base = dockerfile.globalArgs.map((a) => /NODE_IMAGE=(\S+)/.exec(a.args)?.[1]).find(Boolean) ?? "";
    expect(base).toMatch(new RegExp(`^node:${process.versions.node.split(".")[0]}(-|$)`));
    expect(runtime.user).toEqual(user);
  });

  it("runs the migration Job's command on an empty database", async () => {
    const job = renderManifests({ policyName: "balanced", spec: PRESETS.balanced }).find((m) => m.kind === "Job")!;
    const command = job.spec!.template.spec!.containers[0]!.command!;
    const result = await runInImage(command, { DATABASE_URL: database.url });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split("\n").at(-1)!)).toMatchObject({ msg: "migrations applied" });
    expect(JSON.parse(result.stdout.trim().split("\n").at(-1)!).applied.length).toBeGreaterThan(0);
  });

  it("serves health, a completion and the console as the unprivileged user, and stops cleanly on SIGTERM", async () => {
    const created = await runInImage(["node", "--import", "tsx", "scripts/keys-create.ts", "--name", "image"], {
      DATABASE_URL: database.url,
      SECRET,
    });
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^\S{20,}$/);

    const [command, bundle] = runtime.cmd!;
    expect(command).toBe("node");
    server = await startServer({
      tree: { cwd: appDir, bundle: path.join(appDir, bundle!), uid: runtime.user!.uid, gid: runtime.user!.gid },
      // `docker run -e`: the image's environment, then the deployment's (a free loopback port here).
      env: {
        ...runtime.env,
        PORT: "0",
        HOST: "127.0.0.1",
        DATABASE_URL: database.url,
        SECRET,
        SEED_SIMULATOR: "true",
        HOME: path.join(scratch, "home"),
        DRAIN_TIMEOUT_MS: "5000",
      },
      timeoutMs: 90_000,
    });
    const status = readFileSync(`/proc/${server.child.pid}/status`, "utf8");
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(user.uid));

    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${server.url}/health/ready`);
    expect(ready.status, await ready.text()).toBe(200);

    const completion = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "sim-fast", messages: [{ role: "user", content: "hello from the image" }] }),
    });
    const body = (await completion.json()) as { choices?: Array<{ message: { content: string } }> };
    expect(completion.status, JSON.stringify(body)).toBe(200);
    expect(body.choices?.[0]?.message.content).toEqual(expect.any(String));

    // The console: a page, and the script it loads from the build.
    const login = await fetch(`${server.url}/login`);
    const html = await login.text();
    expect(login.status).toBe(200);
    const script = /<script[^>]+src="(\/_next\/static\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script, "a script from .next/static").toBeDefined();
    expect((await fetch(`${server.url}${script}`)).status).toBe(200);

    const exit = await server.stop("SIGTERM");
    expect(exit).toEqual({ code: 0, signal: null });
    expect(server.logs.some((l) => l.msg === "stopped")).toBe(true);
    server = undefined;
  });
});
