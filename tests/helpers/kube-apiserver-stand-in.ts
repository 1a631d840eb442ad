// A STAND-IN for the Kubernetes API server — not Kubernetes — serving only the autoscaling/v2
// HorizontalPodAutoscaler resource the way the real one does, so the `kubernetes` scaling target
// can be tested on a machine with no cluster:
//
//   GET    /apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{name}
//   PATCH  … Content-Type application/merge-patch+json (RFC 7386) or
//            application/strategic-merge-patch+json (for this resource the same: its lists —
//            metrics, behavior policies — are atomic and replaced whole; `$patch` directives are
//            refused here); other patch types get 415
//   PUT    … with metadata.resourceVersion equal to the stored one (else 409 Conflict)
//
// Unknown objects answer 404 with a Status object; every write bumps metadata.resourceVersion and,
// when the spec changed, metadata.generation; minReplicas > maxReplicas is 422 Invalid. With
// `dropTolerance` it behaves like an API server without HPAConfigurableTolerance (before 1.35):
// behavior.*.tolerance is silently dropped on write. Listens on 127.0.0.1 only.
import http from "node:http";
import type { AddressInfo } from "node:net";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: Json | undefined;
}

export interface StandInOptions {
  dropTolerance?: boolean;
}

export interface KubeApiServerStandIn {
  url: string;
  requests: RecordedRequest[];
  /** Creates or replaces an object as an admin would with kubectl apply (resourceVersion bumps). */
  put(namespace: string, object: JsonObject): JsonObject;
  get(namespace: string, name: string): JsonObject | undefined;
  /** Sets status fields, as the HPA controller does. */
  setStatus(namespace: string, name: string, status: JsonObject): void;
  close(): Promise<void>;
}

const BASE = /^\/apis\/autoscaling\/v2\/namespaces\/([a-z0-9-]+)\/horizontalpodautoscalers\/([a-z0-9.-]+)$/;

function status(code: number, reason: string, message: string, details?: JsonObject): JsonObject {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function hasDirective(value: Json): boolean {
  if (Array.isArray(value)) return value.some(hasDirective);
  if (!isObject(value)) return false;
  return Object.keys(value).some((k) => k.startsWith("$")) || Object.values(value).some(hasDirective);
}

export async function startKubeApiServerStandIn(options: StandInOptions = {}): Promise<KubeApiServerStandIn> {
  const objects = new Map<string, JsonObject>();
  const requests: RecordedRequest[] = [];
  let resourceVersion = 1000;
  const key = (ns: string, name: string) => `${ns}/${name}`;

  const store = (ns: string, next: JsonObject, previous: JsonObject | undefined): JsonObject => {
    const meta = { ...((next.metadata as JsonObject) ?? {}) };
    const oldMeta = (previous?.metadata as JsonObject | undefined) ?? {};
    const spec = structuredClone((next.spec as JsonObject) ?? {});
    if (options.dropTolerance && isObject(spec.behavior)) {
      for (const direction of ["scaleUp", "scaleDown"]) {
        const rules = spec.behavior[direction];
        if (isObject(rules)) delete rules.tolerance;
      }
    }
    const specChanged = JSON.stringify(spec) !== JSON.stringify(previous?.spec ?? null);
    const generation = Number(oldMeta.generation ?? 0) + (specChanged || !previous ? 1 : 0);
    const object: JsonObject = {
      ...next,
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: {
        ...meta,
        namespace: ns,
        uid: (oldMeta.uid as string) ?? `stand-in-${resourceVersion}`,
        creationTimestamp: (oldMeta.creationTimestamp as string) ?? new Date().toISOString(),
        resourceVersion: String(++resourceVersion),
        generation,
      },
      spec,
      ...(previous?.status !== undefined && next.status === undefined ? { status: previous.status } : {}),
    };
    objects.set(key(ns, meta.name as string), object);
    return object;
  };

  const invalid = (object: JsonObject): string | null => {
    const spec = object.spec as JsonObject | undefined;
    if (!spec || typeof spec.maxReplicas !== "number") return "spec.maxReplicas: Required value";
    const min = typeof spec.minReplicas === "number" ? spec.minReplicas : 1;
    if (min < 1) return `spec.minReplicas: Invalid value: ${min}: must be greater than or equal to 1`;
    if (spec.maxReplicas < min)
      return `spec.maxReplicas: Invalid value: ${spec.maxReplicas}: must be greater than or equal to \`minReplicas\``;
    return null;
  };

  const server = http.createServer((request, response) => {
    let raw = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (raw += chunk));
    request.on("end", () => {
      const send = (code: number, body: JsonObject) => {
        response.writeHead(code, { "content-type": "application/json" });
        response.end(JSON.stringify(body));
      };
      const path = (request.url ?? "").split("?")[0]!;
      const contentType = request.headers["content-type"]?.split(";")[0]?.trim();
      let body: Json | undefined;
      try {
        body = raw ? (JSON.parse(raw) as Json) : undefined;
      } catch {
        requests.push({ method: request.method ?? "", path, contentType, body: raw });
        return send(400, status(400, "BadRequest", "the request body is not JSON"));
      }
      requests.push({ method: request.method ?? "", path, contentType, body });
      const match = BASE.exec(path);
      if (!match) return send(404, status(404, "NotFound", "the server could not find the requested resource"));
      const [, ns, name] = match as unknown as [string, string, string];
      const current = objects.get(key(ns, name));
      const notFound = () =>
        send(
          404,
          status(404, "NotFound", `horizontalpodautoscalers.autoscaling "${name}" not found`, {
            name,
            group: "autoscaling",
            kind: "horizontalpodautoscalers",
          }),
        );

      if (request.method === "GET") return current ? send(200, current) : notFound();
      if (request.method === "PATCH") {
        if (contentType !== "application/merge-patch+json" && contentType !== "application/strategic-merge-patch+json") {
          return send(
            415,
            status(
              415,
              "UnsupportedMediaType",
              `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json (this stand-in)`,
            ),
          );
        }
        if (!current) return notFound();
        if (!isObject(body)) return send(400, status(400, "BadRequest", "the patch must be a JSON object"));
        if (contentType === "application/strategic-merge-patch+json" && hasDirective(body)) {
          return send(422, status(422, "Invalid", "this stand-in does not implement $patch directives"));
        }
        const wantedVersion = isObject(body.metadata) ? body.metadata.resourceVersion : undefined;
        if (wantedVersion !== undefined && wantedVersion !== (current.metadata as JsonObject).resourceVersion) {
          return send(
            409,
            status(
              409,
              "Conflict",
              `Operation cannot be fulfilled on horizontalpodautoscalers.autoscaling "${name}": the object has been modified; please apply your changes to the latest version and try again`,
            ),
          );
        }
        const next = mergePatch(current, body) as JsonObject;
        const problem = invalid(next);
        if (problem)
          return send(422, status(422, "Invalid", `HorizontalPodAutoscaler.autoscaling "${name}" is invalid: ${problem}`));
        return send(200, store(ns, { ...next, metadata: { ...(next.metadata as JsonObject), name } }, current));
      }
      if (request.method === "PUT") {
        if (!current) return notFound();
        if (!isObject(body) || !isObject(body.metadata))
          return send(400, status(400, "BadRequest", "the body must be an object with metadata"));
        if (body.metadata.name !== name)
          return send(400, status(400, "BadRequest", "the name of the object does not match the name on the URL"));
        if (body.metadata.resourceVersion !== (current.metadata as JsonObject).resourceVersion) {
          return send(
            409,
            status(
              409,
              "Conflict",
              `Operation cannot be fulfilled on horizontalpodautoscalers.autoscaling "${name}": the object has been modified; please apply your changes to the latest version and try again`,
            ),
          );
        }
        const problem = invalid(body);
        if (problem)
          return send(422, status(422, "Invalid", `HorizontalPodAutoscaler.autoscaling "${name}" is invalid: ${problem}`));
        return send(200, store(ns, body, current));
      }
      return send(
        405,
        status(405, "MethodNotAllowed", `the server does not allow this method on the requested resource (this stand-in)`),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    put(namespace, object) {
      const name = (object.metadata as JsonObject).name as string;
      return store(namespace, object, objects.get(key(namespace, name)));
    },
    get: (namespace, name) => objects.get(key(namespace, name)),
    setStatus(namespace, name, next) {
      const object = objects.get(key(namespace, name));
      if (!object) throw new Error(`no ${namespace}/${name}`);
      objects.set(key(namespace, name), {
        ...object,
        status: next,
        metadata: { ...(object.metadata as JsonObject), resourceVersion: String(++resourceVersion) },
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
