// Builds the Dockerfile without a Docker daemon, in a scratch directory: each stage gets its own
// root folder (the base image's Node is this machine's: the test checks they share a major
// version), and its instructions are carried out as Docker would: COPY from the build context
// (.dockerignore honoured) or from an earlier stage, RUN through `sh -c` in the stage's WORKDIR
// with its ENV, USER mapped to a local unprivileged account. What it cannot do is fail loudly
// (an instruction it does not know, an absolute path in a RUN), rather than build something else.
import { spawn } from "node:child_process";
import {
  chmodSync,
  cpSync,
  createWriteStream,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { parseDockerignore, isIgnored } from "./dockerignore";
import type { Dockerfile, Instruction } from "./dockerfile";

/** A local account standing in for a user of the image. */
export interface MappedUser {
  name: string;
  uid: number;
  gid: number;
}

export interface BuildOptions {
  dockerfile: Dockerfile;
  /** The build context (the project's directory). */
  contextDir: string;
  /** Empty scratch directory; everything is written under it. */
  scratchDir: string;
  /** The image's users (by name) and the local accounts that stand in for them. */
  users: Record<string, MappedUser>;
  /** The machine's npm cache, copied (content hard-linked) so the build never writes to it. */
  npmCacheDir: string;
  /** Each RUN's time limit. */
  runTimeoutMs?: number;
  /** Progress lines (one per instruction). */
  log?: (line: string) => void;
}

export interface BuiltStage {
  name: string;
  /** The stage's filesystem root in the scratch directory. */
  root: string;
  /** WORKDIR inside the image, e.g. /app. */
  workdir: string;
  env: Record<string, string>;
  user: MappedUser | undefined;
  /** The exec-form CMD, parsed. */
  cmd: string[] | undefined;
  /** Every instruction's arguments by op, in order (EXPOSE, HEALTHCHECK, STOPSIGNAL, ...). */
  recorded: Record<string, string[]>;
}

/** Docker's variable forms in FROM and ENV: $NAME and ${NAME}. */
function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (_, braced: string | undefined, bare: string | undefined) => vars[(braced ?? bare)!] ?? "",
  );
}

/** `K=V K2="v 2"` (or the legacy `K V`) into pairs. */
function parseKeyValues(args: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  if (!args.includes("=")) {
    const [key, ...rest] = args.split(/\s+/);
    pairs[key!] = rest.join(" ");
    return pairs;
  }
  for (const match of args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) {
    const raw = match[2]!;
    pairs[match[1]!] = raw.startsWith('"')
      ? raw.slice(1, -1).replace(/\\(.)/g, "$1")
      : raw.startsWith("'")
        ? raw.slice(1, -1)
        : raw;
  }
  return pairs;
}

/** The build context as Docker would send it: the project folder minus .dockerignore's patterns. */
function copyContext(contextDir: string, to: string): void {
  const ignoreFile = path.join(contextDir, ".dockerignore");
  const patterns = parseDockerignore(existsSync(ignoreFile) ? readFileSync(ignoreFile, "utf8") : "");
  cpSync(contextDir, to, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (source) => {
      const relative = path.relative(contextDir, source).split(path.sep).join("/");
      return relative === "" || !isIgnored(patterns, relative);
    },
  });
}

/**
 * Copies a tree into `target` (merged with what is there, files replaced) by hard-linking its
 * files: for files nobody rewrites in place afterwards (npm's content-addressed cache, a finished
 * stage's output), as cheap as a layer and as good as a copy.
 */
function linkTree(source: string, target: string): void {
  mkdirSync(target, { recursive: true });
  for (const entry of readdirSync(source, { withFileTypes: true })) {
    const s = path.join(source, entry.name);
    const t = path.join(target, entry.name);
    if (entry.isDirectory()) {
      linkTree(s, t);
      continue;
    }
    if (existsSync(t) || lstatSync(t, { throwIfNoEntry: false })) rmSync(t, { force: true });
    if (entry.isSymbolicLink()) symlinkSync(readlinkSync(s), t);
    else linkSync(s, t);
  }
}

/** npm's cache: the index copied (npm appends to it), the content-addressed files hard-linked (never rewritten). */
function copyNpmCache(from: string, to: string): void {
  const cacache = path.join(from, "_cacache");
  mkdirSync(path.join(to, "_cacache"), { recursive: true });
  if (!existsSync(cacache)) return;
  cpSync(path.join(cacache, "index-v5"), path.join(to, "_cacache", "index-v5"), { recursive: true });
  if (existsSync(path.join(cacache, "content-v2")))
    linkTree(path.join(cacache, "content-v2"), path.join(to, "_cacache", "content-v2"));
}

/**
 * `chown` as the image has it: the image's user names (from its /etc/passwd) become the local
 * accounts that stand in for them; everything else goes to the real chown.
 */
function writeChownShim(binDir: string, users: Record<string, MappedUser>): void {
  mkdirSync(binDir, { recursive: true });
  const cases = Object.entries(users)
    .flatMap(([name, u]) => [
      `    ${name}:${name}) arg=${u.uid}:${u.gid} ;;`,
      `    ${name}) arg=${u.uid} ;;`,
      `    ${name}:*) arg=${u.uid}:\${arg#*:} ;;`,
    ])
    .join("\n");
  const realChown = ["/bin/chown", "/usr/bin/chown"].find((p) => existsSync(p)) ?? "chown";
  const file = path.join(binDir, "chown");
  writeFileSync(
    file,
    `#!/bin/sh\nfor arg do\n  shift\n  case "$arg" in\n${cases}\n  esac\n  set -- "$@" "$arg"\ndone\nexec ${realChown} "$@"\n`,
  );
  chmodSync(file, 0o755);
}

function run(
  command: string,
  options: { cwd: string; env: Record<string, string>; user?: MappedUser; logFile: string; timeoutMs: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(options.logFile, { flags: "a" });
    out.write(`\n$ ${command}\n`);
    const child = spawn("sh", ["-c", command], {
      cwd: options.cwd,
      env: options.env as NodeJS.ProcessEnv,
      uid: options.user?.uid,
      gid: options.user?.gid,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      out.end(() => {
        if (code === 0) return resolve();
        const tail = readFileSync(options.logFile, "utf8").slice(-4000);
        reject(
          new Error(
            `RUN ${command}\nfailed (${signal ?? `exit ${code}`}${signal === "SIGKILL" ? `, over ${options.timeoutMs} ms` : ""}):\n${tail}`,
          ),
        );
      });
    });
  });
}

export async function buildDockerfile(options: BuildOptions): Promise<BuiltStage[]> {
  const { dockerfile, scratchDir, users } = options;
  const context = path.join(scratchDir, "context");
  copyContext(options.contextDir, context);
  const shims = path.join(scratchDir, "shims");
  writeChownShim(shims, users);
  const globalArgs: Record<string, string> = {};
  for (const arg of dockerfile.globalArgs) Object.assign(globalArgs, parseKeyValues(arg.args));

  // As BuildKit does, stages run at once and a COPY --from waits for the stage it names.
  const byName = new Map<string, Promise<BuiltStage>>();
  const all: Array<Promise<BuiltStage>> = [];
  const settled: Array<Promise<unknown>> = [];
  for (const [index, stage] of dockerfile.stages.entries()) {
    const earlier = new Map(byName);
    const building = buildStage(index, stage, {
      ...options,
      context,
      shims,
      globalArgs,
      stageNamed: (name) => earlier.get(name),
    });
    // A failed stage fails the build once, through Promise.all below.
    building.catch(() => {});
    all.push(building);
    settled.push(
      building.then(
        () => {},
        () => {},
      ),
    );
    if (stage.name) byName.set(stage.name, building);
  }
  try {
    return await Promise.all(all);
  } finally {
    // Nothing keeps running into the scratch directory after a failure.
    await Promise.all(settled);
  }
}

interface StageContext extends BuildOptions {
  context: string;
  shims: string;
  globalArgs: Record<string, string>;
  stageNamed: (name: string) => Promise<BuiltStage> | undefined;
}

async function buildStage(index: number, stage: Dockerfile["stages"][number], options: StageContext): Promise<BuiltStage> {
  const { scratchDir, users, globalArgs, runTimeoutMs = 300_000, log = () => {} } = options;
  const label = stage.name || String(index);
  const current: BuiltStage = {
    name: stage.name,
    root: path.join(scratchDir, "stages", `${index}-${stage.name || "unnamed"}`),
    workdir: "/",
    env: {},
    user: undefined,
    cmd: undefined,
    recorded: {},
  };
  mkdirSync(current.root, { recursive: true });
  // The stage's root is traversable by the unprivileged user, like an image's /.
  chmodSync(current.root, 0o755);
  // Each stage starts from the base image's empty npm cache: its own scratch copy of the machine's.
  const npmCache = path.join(scratchDir, "npm-cache", String(index));
  const home = path.join(scratchDir, "home");
  mkdirSync(home, { recursive: true, mode: 0o755 });
  const logFile = path.join(scratchDir, `build-${index}.log`);
  const inImage = (p: string) => path.join(current.root, path.posix.resolve(current.workdir, p));
  log(`[${label}] FROM ${substitute(stage.from, globalArgs)}`);

  for (const instruction of stage.body) {
    log(`[${label}] ${instruction.op} ${instruction.args}`);
    (current.recorded[instruction.op] ??= []).push(instruction.args);
    switch (instruction.op) {
      case "WORKDIR":
        current.workdir = path.posix.resolve(current.workdir, substitute(instruction.args, current.env));
        mkdirSync(inImage("."), { recursive: true });
        break;
      case "ENV":
        for (const [k, v] of Object.entries(parseKeyValues(instruction.args))) current.env[k] = substitute(v, current.env);
        break;
      case "ARG":
        for (const [k, v] of Object.entries(parseKeyValues(instruction.args))) current.env[k] ??= v || globalArgs[k] || "";
        break;
      case "USER": {
        const user = users[instruction.args];
        if (!user)
          throw new Error(
            `USER ${instruction.args}: no local account stands in for it (known: ${Object.keys(users).join(", ")})`,
          );
        current.user = user;
        break;
      }
      case "COPY":
        await copyInstruction(instruction, { context: options.context, stageNamed: options.stageNamed, inImage });
        break;
      case "RUN": {
        if (instruction.args.startsWith("[")) throw new Error(`RUN in exec form is not supported here: ${instruction.args}`);
        // A command that names an absolute path would reach this machine's, not the stage's.
        if (/(^|[\s=])\/(?!dev\/null)/.test(instruction.args))
          throw new Error(`RUN with an absolute path cannot be carried out outside a container: ${instruction.args}`);
        if (!existsSync(npmCache)) copyNpmCache(options.npmCacheDir, npmCache);
        await run(instruction.args, {
          cwd: inImage("."),
          logFile,
          timeoutMs: runTimeoutMs,
          user: current.user,
          env: {
            ...current.env,
            PATH: `${options.shims}:${process.env.PATH}`,
            HOME: home,
            // A scratch copy of the machine's cache: `npm cache clean --force` and downloads stay here.
            npm_config_cache: npmCache,
            npm_config_prefer_offline: "true",
            npm_config_audit: "false",
            npm_config_fund: "false",
            npm_config_update_notifier: "false",
          },
        });
        break;
      }
      case "CMD":
        current.cmd = JSON.parse(instruction.args) as string[];
        break;
      case "EXPOSE":
      case "HEALTHCHECK":
      case "STOPSIGNAL":
      case "LABEL":
        break;
      default:
        throw new Error(`${instruction.op} is not carried out by this build: teach tests/helpers/dockerfile-build.ts about it`);
    }
  }
  log(`[${label}] done`);
  return current;
}

async function copyInstruction(
  instruction: Instruction,
  where: { context: string; stageNamed: (name: string) => Promise<BuiltStage> | undefined; inImage: (p: string) => string },
): Promise<void> {
  const words = instruction.args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith("--"));
  const paths = words.filter((w) => !w.startsWith("--"));
  const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
  const unknown = flags.filter((f) => !f.startsWith("--from="));
  if (unknown.length) throw new Error(`COPY ${unknown.join(" ")} is not supported here`);
  if (paths.length < 2) throw new Error(`COPY needs a source and a destination: ${instruction.args}`);
  const dest = paths.pop()!;
  const stage = from === undefined ? undefined : where.stageNamed(from);
  if (from !== undefined && !stage) throw new Error(`COPY --from=${from}: no earlier stage has that name`);
  const source = stage ? (await stage).root : where.context;
  const destination = where.inImage(dest);
  const intoDirectory = dest.endsWith("/") || paths.length > 1;
  for (const p of paths) {
    if (/[*?[]/.test(p)) throw new Error(`COPY with wildcards is not supported here: ${p}`);
    const resolved = path.join(source, from === undefined ? p : path.posix.resolve("/", p));
    // Docker fails the build the same way: "failed to compute cache key: ... not found".
    if (!existsSync(resolved))
      throw new Error(
        `COPY ${instruction.args}: "${p}" not found in ${from === undefined ? "the build context (after .dockerignore)" : `stage ${from}`}`,
      );
    if (statSync(resolved).isDirectory()) {
      // A directory's contents, merged into the destination; a finished stage's files are linked, not copied.
      if (stage) linkTree(resolved, destination);
      else cpSync(resolved, destination, { recursive: true, verbatimSymlinks: true, force: true });
    } else {
      const target = intoDirectory ? path.join(destination, path.basename(p)) : destination;
      mkdirSync(path.dirname(target), { recursive: true });
      cpSync(resolved, target);
    }
  }
}
