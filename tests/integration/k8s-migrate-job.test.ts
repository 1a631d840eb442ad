// The migration Job's command, run as Kubernetes would run it (same arguments, DATABASE_URL from
// the Secret), against an empty database: it applies every migration, then finds nothing to do.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, expect, it } from "vitest";
import { readMigrations } from "../../lib/platform/db/migrate";
import { renderManifests } from "../../lib/control-plane/scaling/manifests";
import { PRESETS } from "../../lib/control-plane/scaling/policies";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

let scratch: ScratchDatabase | undefined;
afterAll(async () => {
  await scratch?.drop();
});

it("applies the migrations once and is idempotent", async () => {
  scratch = await createScratchDatabase(`agenticorp_k8s_job_${randomBytes(4).toString("hex")}`);
  const job = renderManifests({ policyName: "balanced", spec: PRESETS.balanced }).find((m) => m.kind === "Job")!;
  const [command, ...args] = job.spec!.template.spec!.containers[0]!.command!;
  expect(command).toBe("node");
  const run = () => {
    const result = spawnSync(process.execPath, args, {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, NODE_ENV: "production", DATABASE_URL: scratch!.url },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout.trim().split("\n").at(-1)!) as { msg: string; applied: string[] };
  };
  const all = (await readMigrations()).map((m) => m.name);
  expect(run()).toEqual({ msg: "migrations applied", applied: all });
  expect(run()).toEqual({ msg: "migrations applied", applied: [] });
});
