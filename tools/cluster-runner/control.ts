// The local cluster runner's control endpoint, for the scaling `local` target: the leader runs
// inside an instance, the runner is another process, so they talk HTTP on loopback. The URL
// (LOCAL_CLUSTER_URL in every instance) carries a random token as its first path segment; a
// request without it is a 404, so other local processes cannot scale the cluster by accident.
//
//   GET  {url}/status               → { instances: InstanceInfo[], balancer: url }
//   POST {url}/scale {"replicas":n} → scales, then the same as /status
//   POST {url}/instances            → adds one instance
//   DELETE {url}/instances/{id}     → drains and removes that instance
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import type { InstanceInfo } from "./instance";

/** What the control server drives: the local cluster (./index.ts LocalCluster). */
export interface ControlledCluster {
  /** The balancer's address; throws before the cluster started. */
  readonly url: string;
  instances(): InstanceInfo[];
  addInstance(): Promise<InstanceInfo>;
  removeInstance(id?: string): Promise<InstanceInfo>;
  scaleTo(replicas: number): Promise<InstanceInfo[]>;
}

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

const scaleBody = z.object({ replicas: z.number().int().min(0).max(100) });
const MAX_BODY = 4_096;

export async function startControlServer(cluster: ControlledCluster): Promise<ControlServer> {
  const token = randomBytes(16).toString("hex");
  const status = () => ({ balancer: safeUrl(cluster), instances: cluster.instances() });

  const server = http.createServer((request, response) => {
    const send = (code: number, body: unknown) => {
      response.writeHead(code, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    const [, given, ...rest] = (request.url ?? "").split("?")[0]!.split("/");
    if (given !== token) return send(404, { error: "not found" });
    const route = `${request.method} /${rest.join("/")}`;
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY) request.destroy();
    });
    request.on("end", () => {
      const handle = async (): Promise<[number, unknown]> => {
        if (route === "GET /status") return [200, status()];
        if (route === "POST /scale") {
          const parsed = scaleBody.safeParse(safeJson(body));
          if (!parsed.success) return [400, { error: parsed.error.issues[0]?.message ?? "bad body" }];
          await cluster.scaleTo(parsed.data.replicas);
          return [200, status()];
        }
        if (route === "POST /instances") return [201, await cluster.addInstance()];
        const removal = /^DELETE \/instances\/([\w.:-]+)$/.exec(route);
        if (removal) return [200, await cluster.removeInstance(removal[1])];
        return [404, { error: `unknown route ${route}` }];
      };
      handle().then(
        ([code, payload]) => send(code, payload),
        (error: Error) => send(409, { error: error.message }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/${token}`,
    // The leader polls /status every second on a keep-alive connection: close() alone waits for
    // that connection to fall idle, which it never does while the poll goes on.
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function safeUrl(cluster: ControlledCluster): string | null {
  try {
    return cluster.url;
  } catch {
    return null;
  }
}

export interface ClusterStatus {
  balancer: string | null;
  instances: InstanceInfo[];
}

/** The client side, for code running inside an instance (the scaling `local` target). */
export function localClusterClient(url: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(180_000),
    });
    const payload = (await response.json()) as { error?: string };
    if (!response.ok) throw new Error(`local cluster runner: ${payload.error ?? response.status}`);
    return payload;
  };
  return {
    status: () => call("GET", "/status") as Promise<ClusterStatus>,
    scaleTo: (replicas: number) => call("POST", "/scale", { replicas }) as Promise<ClusterStatus>,
  };
}
