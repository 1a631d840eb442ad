// The shipped balancer and pooler configurations load in the real programs (nginx -t, haproxy -c,
// PgBouncer started from the example, promtool on the runner's scrape configuration), and keep
// the rules the drain and the retry policy depend on.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../../tools/cluster-runner/net";
import { childPids } from "../../tools/cluster-runner/listeners";
import { NGINX_TEMPLATE, Nginx, renderNginxConfig, type NginxSettings } from "../../tools/cluster-runner/nginx";
import { PGBOUNCER_EXAMPLE, PgBouncer, overrideIni } from "../../tools/cluster-runner/pgbouncer";
import { renderPrometheusConfig, renderTargets } from "../../tools/cluster-runner/prometheus";
import { PROJECT_ROOT } from "../../lib/platform/version";

const run = promisify(execFile);
const NGINX_EXAMPLE = path.join(PROJECT_ROOT, "deploy", "nginx", "agenticorp.conf");
const HAPROXY_EXAMPLE = path.join(PROJECT_ROOT, "deploy", "haproxy", "haproxy.cfg");
const DEFAULT_DRAIN_TIMEOUT_S = 30;
const INSTANCE_IDLE_TIMEOUT_S = 65; // lib/platform/http/app.ts keepAliveTimeout

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "agenticorp-configs-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Directive values in an nginx or HAProxy file, comments stripped. */
function directives(text: string, name: string): string[] {
  return text
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter((line) => line === `${name};` || line.startsWith(`${name} `))
    .map((line) => line.slice(name.length).replace(/;$/, "").trim());
}

async function nginxTest(includedOrMain: string, { include, prefix = "" }: { include: boolean; prefix?: string }): Promise<void> {
  prefix ||= await mkdtemp(path.join(dir, "nginx-"));
  let main = includedOrMain;
  if (include) {
    main = path.join(prefix, "wrapper.conf");
    await writeFile(
      main,
      `pid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log;\nevents {}\nhttp {\n  access_log off;\n` +
        ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${prefix}/${t};`).join("\n") +
        `\n  include ${includedOrMain};\n}\n`,
    );
  }
  const { stderr } = await run("/usr/sbin/nginx", ["-t", "-p", `${prefix}/`, "-c", main, "-e", `${prefix}/error.log`]);
  expect(stderr).toContain("test is successful");
}

describe("deploy/nginx/agenticorp.conf (production example)", () => {
  it("passes nginx -t inside an http block", async () => {
    await nginxTest(NGINX_EXAMPLE, { include: true });
  });

  it("balances by open requests, retries only unsent requests, streams unbuffered, and closes idle upstream sockets before the drain deadline", async () => {
    const text = await readFile(NGINX_EXAMPLE, "utf8");
    expect(directives(text, "least_conn")).toEqual([""]);
    expect(
      directives(text, "server")
        .filter((s) => s.includes(":3000"))
        .every((s) => /max_fails=\d+ fail_timeout=\d+s/.test(s)),
    ).toBe(true);
    // Every location (the API, and uploads to /v1/files) retries only what was never sent.
    expect(new Set(directives(text, "proxy_next_upstream"))).toEqual(new Set(["error timeout"]));
    expect(text.replace(/#.*/g, "")).not.toContain("non_idempotent");
    expect(directives(text, "proxy_buffering")).toEqual(["off"]);
    expect(new Set(directives(text, "proxy_http_version"))).toEqual(new Set(["1.1"]));
    expect(directives(text, "proxy_set_header")).toContain('Connection ""');
    // The first keepalive_timeout is the upstream's (to the instances), the second the clients'.
    const [upstreamKeepalive] = directives(text, "keepalive_timeout").map((v) => Number.parseInt(v, 10));
    expect(upstreamKeepalive).toBeGreaterThan(0);
    expect(upstreamKeepalive).toBeLessThan(DEFAULT_DRAIN_TIMEOUT_S);
    expect(upstreamKeepalive).toBeLessThan(INSTANCE_IDLE_TIMEOUT_S);
  });
});

describe("deploy/nginx/cluster.conf.template (the local runner's)", () => {
  const settings = (prefix: string): NginxSettings => ({
    binary: "/usr/sbin/nginx",
    prefix,
    host: "127.0.0.1",
    port: 18080,
    workerProcesses: 1,
    maxFails: 1,
    failTimeoutS: 2,
    upstreamKeepaliveTimeoutS: 3,
    drainTimeoutMs: 15_000,
    clientKeepaliveTimeoutS: 0,
    clientMaxBodySize: "2m",
  });

  it("renders, with or without instances, into configurations nginx -t accepts", async () => {
    const template = await readFile(NGINX_TEMPLATE, "utf8");
    for (const upstreams of [
      [
        { id: "a-1", port: 31001 },
        { id: "a-2", port: 31002 },
      ],
      [],
    ]) {
      const prefix = await mkdtemp(path.join(dir, "rendered-"));
      for (const sub of ["logs", "temp"]) await mkdir(path.join(prefix, sub));
      const file = path.join(prefix, "nginx.conf");
      const text = renderNginxConfig(template, settings(prefix), upstreams, 7);
      expect(text).not.toMatch(/\{\{/);
      for (const u of upstreams) expect(text).toContain(`server 127.0.0.1:${u.port} max_fails=1 fail_timeout=2s;`);
      await writeFile(file, text);
      await nginxTest(file, { include: false, prefix });
    }
  });

  it("returns from a reload only once no old worker accepts connections any more", async () => {
    // An old worker that has not yet handled its QUIT still accepts, and routes with the old
    // upstreams: possibly to an instance the runner is about to drain. A stopped worker holds
    // that state for as long as the test likes.
    const prefix = await mkdtemp(path.join(dir, "reload-"));
    const nginx = await Nginx.start({ ...settings(prefix), port: await freePort(), workerProcesses: 2 }, []);
    const [stopped, ...others] = await childPids(nginx.process.pid);
    let resumed = false;
    const resume = () => ((resumed = true), process.kill(stopped!, "SIGCONT"));
    try {
      expect(others).toHaveLength(1);
      process.kill(stopped!, "SIGSTOP");
      let returned = false;
      const reloading = nginx.update([]).then(() => (returned = true));
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(returned, "update() returned while an old worker still listened").toBe(false);
      resume();
      await reloading; // and once it has handled its QUIT, update() returns
      expect(returned).toBe(true);
    } finally {
      if (!resumed) resume();
      await nginx.stop();
    }
  });

  it("refuses an upstream keep-alive as long as the drain deadline", async () => {
    const template = await readFile(NGINX_TEMPLATE, "utf8");
    expect(() => renderNginxConfig(template, { ...settings(dir), upstreamKeepaliveTimeoutS: 15 }, [], 1)).toThrow(
      /shorter than the instances' drain deadline/,
    );
  });
});

describe("deploy/haproxy/haproxy.cfg (production example)", () => {
  it("passes haproxy -c", async () => {
    const { stdout, stderr } = await run("/usr/sbin/haproxy", ["-c", "-f", HAPROXY_EXAMPLE]);
    expect(`${stdout}${stderr}`).toContain("Configuration file is valid");
  });

  it("checks /health/ready, balances by open requests, retries only unsent requests, purges idle connections within the drain deadline", async () => {
    const text = await readFile(HAPROXY_EXAMPLE, "utf8");
    expect(directives(text, "balance")).toEqual(["leastconn"]);
    expect(directives(text, "http-check")).toEqual(["send meth GET uri /health/ready", "expect status 200"]);
    expect(directives(text, "retry-on")).toEqual(["conn-failure"]);
    const defaults = directives(text, "default-server")[0]!;
    expect(defaults).toMatch(/\bcheck\b/);
    const purge = Number(/pool-purge-delay (\d+)s/.exec(defaults)?.[1]);
    expect(purge).toBeGreaterThan(0);
    expect(purge * 3).toBeLessThan(DEFAULT_DRAIN_TIMEOUT_S);
    expect(directives(text, "timeout server")).toEqual(["300s"]);
  });
});

describe("deploy/pgbouncer/pgbouncer.ini (production example)", () => {
  it("loads in PgBouncer with only addresses, files and authentication overridden, in transaction pooling mode", async () => {
    const server = new URL(inject("databaseUrl"));
    const database = server.pathname.slice(1);
    const bouncer = await PgBouncer.start({
      binary: "/usr/sbin/pgbouncer",
      dir: await mkdtemp(path.join(dir, "pgbouncer-")),
      port: await freePort(),
      server: {
        host: server.hostname,
        port: Number(server.port || 5432),
        user: decodeURIComponent(server.username || "postgres"),
      },
      databases: [database],
    });
    try {
      const config = new Map((await bouncer.show("CONFIG")).map((row) => [String(row.key), String(row.value)]));
      expect(config.get("pool_mode")).toBe("transaction");
      // The example's own sizing survives the overrides.
      const example = await readFile(PGBOUNCER_EXAMPLE, "utf8");
      for (const key of [
        "max_client_conn",
        "default_pool_size",
        "max_db_connections",
        "reserve_pool_size",
        "query_wait_timeout",
      ]) {
        const value = /^(\S+) = (\S+)$/m.exec(example.split("\n").find((l) => l.startsWith(`${key} =`)) ?? "")?.[2];
        expect(config.get(key), key).toBe(value);
      }
      const client = new pg.Client({ connectionString: bouncer.urlFor(inject("databaseUrl")) });
      await client.connect();
      try {
        // The bouncer routes to this run's database, where the migrations created the leases table.
        const { rows } = await client.query(
          "SELECT current_database() AS name, to_regclass('public.leases') IS NOT NULL AS migrated",
        );
        expect(rows).toEqual([{ name: database, migrated: true }]);
      } finally {
        await client.end();
      }
    } finally {
      await bouncer.stop();
    }
  });

  it("overrides only the keys it is given and replaces the [databases] section", () => {
    const example = "[databases]\nold = host=x\n\n[pgbouncer]\n; note\nlisten_port = 6432\npool_mode = transaction\n";
    expect(overrideIni(example, ["db = host=127.0.0.1"], { listen_port: "7000", logfile: "" })).toBe(
      "[databases]\ndb = host=127.0.0.1\n\n[pgbouncer]\n; note\nlisten_port = 7000\npool_mode = transaction\n\nlogfile = ",
    );
  });
});

describe("the runner's Prometheus scrape configuration", () => {
  it("passes promtool check config, with file-based targets labelled by instance id", async () => {
    const promDir = await mkdtemp(path.join(dir, "prometheus-"));
    await writeFile(
      path.join(promDir, "prometheus.yml"),
      renderPrometheusConfig({ binary: "", dir: promDir, port: 9090, scrapeIntervalS: 5 }),
    );
    const targets = renderTargets([{ id: "local-1", port: 31001 }]);
    await writeFile(path.join(promDir, "targets.json"), targets);
    expect(JSON.parse(targets)).toEqual([{ targets: ["127.0.0.1:31001"], labels: { instance_id: "local-1" } }]);
    const { stdout } = await run("/usr/bin/promtool", ["check", "config", path.join(promDir, "prometheus.yml")]);
    expect(stdout).toContain("SUCCESS");
  });
});
