// The Dockerfile, read as Docker reads it (no daemon here to build it): multi-stage, production
// dependencies only in the image, a non-root user, a HEALTHCHECK on /health/live, and Node as PID 1
// through the exec form, so SIGTERM reaches the drain. And it agrees with the Deployment.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { renderManifests } from "../../lib/control-plane/scaling/manifests";
import { PRESETS } from "../../lib/control-plane/scaling/policies";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { readDockerfile } from "../helpers/dockerfile";
import { isIgnored, parseDockerignore } from "../helpers/dockerignore";

const { stages } = readDockerfile();
const final = stages.at(-1)!;
const last = (op: string) => final.body.filter((i) => i.op === op).at(-1);

describe("Dockerfile", () => {
  it("builds in one stage and runs from another with production dependencies only", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const copied = final.body.filter((i) => i.op === "COPY" && /--from=/.test(i.args));
    const nodeModulesFrom = /--from=(\S+)\s+\S*node_modules/.exec(copied.map((c) => c.args).join("\n"))?.[1];
    const depsStage = stages.find((s) => s.name === nodeModulesFrom);
    expect(depsStage?.body.some((i) => i.op === "RUN" && /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    // The console is built in the builder, and only its output is copied.
    const builder = stages.find((s) => s.body.some((i) => i.op === "RUN" && /npm run build/.test(i.args)));
    expect(builder && builder !== final).toBe(true);
    expect(copied.some((c) => new RegExp(`--from=${builder!.name}\\s+/app/\\.next\\b`).test(c.args))).toBe(true);
  });

  it("runs as a non-root user", () => {
    expect(last("USER")?.args).toMatch(/^(node|\d{3,})$/);
    expect(last("USER")?.args).not.toMatch(/^(root|0)$/);
  });

  it("checks /health/live", () => {
    const check = last("HEALTHCHECK")!;
    expect(check.args).toMatch(/CMD \[/);
    expect(check.args).toContain("/health/live");
  });

  it("starts node itself as PID 1 (exec form, no shell, no wrapper)", () => {
    expect(final.body.some((i) => i.op === "ENTRYPOINT")).toBe(false);
    expect(JSON.parse(last("CMD")!.args)).toEqual(["node", "dist/server.mjs"]);
    expect(last("STOPSIGNAL")?.args).toBe("SIGTERM");
  });

  it("listens where the Deployment expects it", () => {
    const container = renderManifests({ policyName: "balanced", spec: PRESETS.balanced }).find((m) => m.kind === "Deployment")!
      .spec!.template.spec!.containers[0]!;
    expect(last("EXPOSE")?.args).toBe(String(container.ports![0]!.containerPort));
    expect(
      final.body
        .filter((i) => i.op === "ENV")
        .map((i) => i.args)
        .join(" "),
    ).toContain(`PORT=${container.ports![0]!.containerPort}`);
  });

  it("copies only what the build context has (Docker fails the build on a missing source)", () => {
    const ignored = parseDockerignore(readFileSync(path.join(PROJECT_ROOT, ".dockerignore"), "utf8"));
    const sources = stages.flatMap((stage) =>
      stage.body
        .filter((i) => i.op === "COPY" && !/--from=/.test(i.args))
        .flatMap((i) =>
          i.args
            .split(/\s+/)
            .filter((w) => !w.startsWith("--"))
            .slice(0, -1),
        ),
    );
    expect(sources.length).toBeGreaterThan(0);
    const missing = sources.filter(
      (source) =>
        source !== "." && (!existsSync(path.join(PROJECT_ROOT, source)) || isIgnored(ignored, path.posix.normalize(source))),
    );
    expect(missing, "COPY sources absent from the build context").toEqual([]);
  });

  it("keeps local state and secrets out of the build context", () => {
    const ignored = readFileSync(path.join(PROJECT_ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim());
    for (const entry of ["node_modules", ".next", ".data", ".git", ".env", ".env.*", "tests"])
      expect(ignored, entry).toContain(entry);
  });
});
