// /v1/batches — create, retrieve, list and cancel, each scoped to the calling key.
import type { FastifyRequest } from "fastify";
import { NotFoundError } from "../../platform/errors";
import { cancelBatch, createBatch, findBatch } from "./batch-store";
import { listBatches } from "./queue-stats";
import { batchParams, createBatchRequest, listBatchesQuery, parseQuery } from "./request-schemas";
import type { BatchService } from "./service";

// POST /v1/batches — records the batch (validating) and validates its file in the background.
export function createBatchHandler(service: BatchService) {
  return async (request: FastifyRequest) => {
    const body = parseQuery(createBatchRequest, request.body);
    const batch = await createBatch(service.pool, {
      keyId: request.apiKey!.id,
      inputFileId: body.input_file_id,
      endpoint: body.endpoint,
      completionWindowHours: 24,
      metadata: body.metadata ?? null,
    });
    service.created(batch.id);
    return batch;
  };
}

// GET /v1/batches/:id
export function getBatchHandler(service: BatchService) {
  return async (request: FastifyRequest) => {
    const { id } = parseQuery(batchParams, request.params);
    const batch = await findBatch(service.pool, request.apiKey!.id, id);
    if (!batch) throw new NotFoundError(`No such Batch object: ${id}`, { param: "batch_id", code: "batch_not_found" });
    return batch;
  };
}

// GET /v1/batches — the key's batches, newest first, paginated by `after`.
export function listBatchesHandler(service: BatchService) {
  return async (request: FastifyRequest) => {
    const query = parseQuery(listBatchesQuery, request.query);
    const page = await listBatches(service.pool, { keyId: request.apiKey!.id, limit: query.limit, after: query.after });
    const data = page.data.map((listed) => listed.batch);
    return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: page.hasMore };
  };
}

// POST /v1/batches/:id/cancel
export function cancelBatchHandler(service: BatchService) {
  return async (request: FastifyRequest) => {
    const { id } = parseQuery(batchParams, request.params);
    return cancelBatch(service.pool, request.apiKey!.id, id);
  };
}
