// docs/metrics.md catalogs what /metrics exposes: checked against a real server's /metrics, every
// metric both ways (none undocumented, none documented that is gone), with its type and labels.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { startServer, type ServerProcess } from "../helpers/server-process";

interface Documented {
  type: string;
  labels: string[];
}

let server: ServerProcess;
let exposition: string;

beforeAll(async () => {
  server = await startServer({
    env: { DATABASE_URL: inject("databaseUrl"), CONSOLE_ENABLED: "false", DRAIN_TIMEOUT_MS: "2000" },
  });
  // A completion for a model that does not exist: labelled gateway series appear, nothing else changes.
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer not-a-key", "content-type": "application/json", connection: "close" },
    body: JSON.stringify({ model: "none", messages: [{ role: "user", content: "hi" }] }),
  });
  await response.arrayBuffer();
  const metrics = await fetch(`${server.url}/metrics`, { headers: { connection: "close" } });
  exposition = await metrics.text();
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

async function catalog(): Promise<Map<string, Documented>> {
  const text = await readFile(path.join(PROJECT_ROOT, "docs/metrics.md"), "utf8");
  const section = text.slice(text.indexOf("\n## Catalog"), text.indexOf("\n## ", text.indexOf("\n## Catalog") + 1));
  const documented = new Map<string, Documented>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    const name = /^`([a-z0-9_:]+)`$/.exec(cells[1] ?? "")?.[1];
    if (!name) continue;
    expect(documented.has(name), `${name} is documented twice`).toBe(false);
    documented.set(name, { type: cells[2]!, labels: [...(cells[4] ?? "").matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!).sort() });
  }
  return documented;
}

/** Families from the # TYPE lines, with the label names their samples carry (le excepted). */
function exposed(): Map<string, { type: string; labels: Set<string> }> {
  const families = new Map<string, { type: string; labels: Set<string> }>();
  for (const line of exposition.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) families.set(type[1]!, { type: type[2]!, labels: new Set() });
  }
  for (const line of exposition.split("\n")) {
    const sample = /^([a-zA-Z_:][\w:]*)\{([^}]*)\}/.exec(line);
    if (!sample) continue;
    const family = [...families.keys()].find(
      (f) =>
        sample[1] === f ||
        (families.get(f)!.type === "histogram" &&
          /^(_bucket|_sum|_count)$/.test(sample[1]!.slice(f.length)) &&
          sample[1]!.startsWith(f)),
    );
    if (!family) continue;
    for (const [, label] of sample[2]!.matchAll(/([a-zA-Z_]\w*)="/g))
      if (label !== "le") families.get(family)!.labels.add(label!);
  }
  return families;
}

describe("docs/metrics.md", () => {
  it("documents every metric /metrics exposes, with its type", async () => {
    const documented = await catalog();
    const families = exposed();
    expect(families.size).toBeGreaterThan(40);
    const undocumented = [...families.keys()].filter((name) => !documented.has(name));
    expect(undocumented).toEqual([]);
    for (const [name, family] of families) expect(documented.get(name)!.type, name).toBe(family.type);
  });

  it("documents nothing that /metrics does not expose", async () => {
    const families = exposed();
    expect([...(await catalog()).keys()].filter((name) => !families.has(name))).toEqual([]);
  });

  it("lists the labels each metric's samples carry", async () => {
    const documented = await catalog();
    let checked = 0;
    for (const [name, family] of exposed()) {
      if (family.labels.size === 0) continue; // no labelled sample in this scrape
      expect(documented.get(name)!.labels, name).toEqual([...family.labels].sort());
      checked++;
    }
    // The gateway's, the cache's, the HTTP ones, the pool's, the instance's and Node's at least.
    expect(checked).toBeGreaterThanOrEqual(10);
  });
});
