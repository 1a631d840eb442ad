// The Dockerfile read as Docker reads it (no daemon here): logical instructions with continuation
// lines joined and comments dropped, grouped into stages. Used by the static checks
// (tests/unit/manifest-dockerfile.test.ts) and by the build that executes them
// (tests/helpers/dockerfile-build.ts), so both read the one file the image is built from.
import { readFileSync } from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "../../lib/platform/version";

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  /** The `AS` name, or "" for an unnamed stage. */
  name: string;
  /** What follows FROM (the base image, before ARG substitution). */
  from: string;
  body: Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Instruction[];
  stages: Stage[];
}

const DOCKERFILE_PATH = path.join(PROJECT_ROOT, "Dockerfile");

/** Instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = "";
  for (const line of text.split("\n")) {
    if (!pending && /^\s*#/.test(line)) continue;
    const continued = /\\\s*$/.test(line);
    pending += (pending ? " " : "") + line.replace(/\\\s*$/, "").trim();
    if (!continued) {
      if (pending.trim()) logical.push(pending.trim());
      pending = "";
    }
  }
  return logical.map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op: op!.toUpperCase(), args: rest.join(" ") };
  });
}

function splitStages(instructions: Instruction[]): Dockerfile {
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const i of instructions) {
    if (i.op === "FROM") {
      const [from = "", as, name] = i.args.split(/\s+/);
      stages.push({ name: as?.toUpperCase() === "AS" && name ? name : "", from, body: [] });
    } else if (stages.length === 0) {
      if (i.op !== "ARG") throw new Error(`Dockerfile: only ARG may come before the first FROM (found ${i.op})`);
      globalArgs.push(i);
    } else stages.at(-1)!.body.push(i);
  }
  return { globalArgs, stages };
}

export function readDockerfile(file = DOCKERFILE_PATH): Dockerfile {
  return splitStages(parseDockerfile(readFileSync(file, "utf8")));
}
