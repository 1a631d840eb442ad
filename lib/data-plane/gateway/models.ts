// GET /v1/models and /v1/models/{id} — the models this key may use, in OpenAI's list shape.
import type { FastifyReply, FastifyRequest } from "fastify";
import { NotFoundError } from "../../platform/errors";
import type { ApiKeyEntry, FleetSnapshot } from "../fleet-config/snapshot";
import type { GatewayDeps } from "./deps";

function visibleModels(snapshot: FleetSnapshot, key: ApiKeyEntry): string[] {
  return [...snapshot.models.keys()].filter((name) => key.allowedModels.size === 0 || key.allowedModels.has(name)).sort();
}

function modelObject(id: string, snapshot: FleetSnapshot) {
  return { id, object: "model", created: Math.floor(snapshot.loadedAt.getTime() / 1000), owned_by: "agenticorp" };
}

export function listModelsHandler(deps: GatewayDeps) {
  return async function listModels(request: FastifyRequest) {
    const snapshot = deps.fleet.current;
    return { object: "list", data: visibleModels(snapshot, request.apiKey!).map((id) => modelObject(id, snapshot)) };
  };
}

export function getModelHandler(deps: GatewayDeps) {
  // A wildcard route: model ids may hold slashes ("org/model"), sent raw or encoded as %2F.
  return async function getModel(request: FastifyRequest<{ Params: { "*": string } }>, _reply: FastifyReply) {
    const snapshot = deps.fleet.current;
    const id = request.params["*"];
    if (!visibleModels(snapshot, request.apiKey!).includes(id)) {
      throw new NotFoundError(`The model '${id}' does not exist or you do not have access to it.`, {
        param: "model",
        code: "model_not_found",
      });
    }
    return modelObject(id, snapshot);
  };
}
