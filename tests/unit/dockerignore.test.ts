// .dockerignore read as Docker reads it, for the daemon-less image build (tests/e2e/dockerfile-image.test.ts).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { isIgnored, parseDockerignore } from "../helpers/dockerignore";

describe("dockerignore", () => {
  const patterns = parseDockerignore(
    [
      "# comment",
      "",
      "tests",
      "*.tsbuildinfo",
      ".env.*",
      "docs/**/*.png",
      "lib/platform/db/generated",
      "build/",
      "!build/keep.txt",
    ].join("\n"),
  );

  it("anchors patterns at the context's root and excludes what is below a matched directory", () => {
    expect(isIgnored(patterns, "tests")).toBe(true);
    expect(isIgnored(patterns, "tests/unit/a.test.ts")).toBe(true);
    expect(isIgnored(patterns, "lib/tests/a.ts")).toBe(false);
    expect(isIgnored(patterns, "lib/platform/db/generated/client.ts")).toBe(true);
    expect(isIgnored(patterns, "lib/platform/db/client.ts")).toBe(false);
  });

  it("keeps * and ? within one segment, and lets ** span several", () => {
    expect(isIgnored(patterns, "tsconfig.tsbuildinfo")).toBe(true);
    expect(isIgnored(patterns, "sub/tsconfig.tsbuildinfo")).toBe(false);
    expect(isIgnored(patterns, ".env.local")).toBe(true);
    expect(isIgnored(patterns, ".env")).toBe(false);
    expect(isIgnored(patterns, "docs/a.png")).toBe(true);
    expect(isIgnored(patterns, "docs/img/deep/a.png")).toBe(true);
    expect(isIgnored(patterns, "docs/a.md")).toBe(false);
  });

  it("re-includes with !, the last matching pattern deciding", () => {
    expect(isIgnored(patterns, "build/out.js")).toBe(true);
    expect(isIgnored(patterns, "build/keep.txt")).toBe(false);
  });

  it("leaves the project's sources in and its local state out", () => {
    const project = parseDockerignore(readFileSync(path.join(PROJECT_ROOT, ".dockerignore"), "utf8"));
    for (const kept of [
      "package.json",
      "server.ts",
      "lib/platform/config.ts",
      "prisma/schema.prisma",
      "scripts/prisma.ts",
      "app/layout.tsx",
    ])
      expect(isIgnored(project, kept), kept).toBe(false);
    for (const left of [
      "node_modules/next/package.json",
      ".next/BUILD_ID",
      ".data/secret",
      ".env.production",
      "lib/platform/db/generated/client.ts",
      "tests/e2e/x.test.ts",
    ])
      expect(isIgnored(project, left), left).toBe(true);
  });
});
