// The load-test scripts users run with their own tools: the k6 ramp (k6 itself cannot be installed
// here, so it is syntax-checked and its stages read) and the wrk Lua script.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { PROJECT_ROOT } from "../../lib/platform/version";

const k6 = path.join(PROJECT_ROOT, "deploy/loadtest/k6-ramp.js");

it("the k6 script parses and ramps as the guide does: 2m→100, 5m, 2m→200, 5m, 2m→0", () => {
  const check = spawnSync(process.execPath, ["--check", k6], { encoding: "utf8" });
  expect(check.status, check.stderr).toBe(0);
  const text = readFileSync(k6, "utf8");
  const stages = [...text.matchAll(/\{\s*duration:\s*"(\w+)",\s*target:\s*(\d+)\s*\}/g)].map((m) => [m[1], Number(m[2])]);
  expect(stages).toEqual([
    ["2m", 100],
    ["5m", 100],
    ["2m", 200],
    ["5m", 200],
    ["2m", 0],
  ]);
  expect(text).toContain("/v1/chat/completions");
  expect(text).toMatch(/__ENV\.AGENTICORP_KEY/);
  expect(text).toMatch(/"http:\/\/127\.0\.0\.1:3000"/);
});

it("the wrk script posts completions with the key from the environment", () => {
  const lua = readFileSync(path.join(PROJECT_ROOT, "deploy/loadtest/wrk-completions.lua"), "utf8");
  expect(lua).toContain('wrk.path = "/v1/chat/completions"');
  expect(lua).toContain('os.getenv("AGENTICORP_KEY")');
});
