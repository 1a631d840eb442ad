// Registers the Batch API (files and batches) under each API prefix, inside the gateway's routes so the
// same key authentication and error shape apply. Multipart parsing is registered on the upload's scope only.
import multipart from "@fastify/multipart";
import type { FastifyInstance } from "fastify";
import { cancelBatchHandler, createBatchHandler, getBatchHandler, listBatchesHandler } from "./batches-api";
import { deleteFileHandler, getFileContentHandler, getFileHandler, listFilesHandler, uploadFileHandler } from "./files-api";
import type { BatchService } from "./service";

export async function batchRoutes(app: FastifyInstance, prefixes: readonly string[], service: BatchService): Promise<void> {
  const route = { config: { accessLog: true } };
  await app.register(async (uploads) => {
    await uploads.register(multipart, { limits: { fileSize: service.limits.maxFileBytes, files: 1, fields: 4, parts: 6 } });
    for (const prefix of prefixes) uploads.post(`${prefix}/files`, route, uploadFileHandler(service));
  });
  for (const prefix of prefixes) {
    app.get(`${prefix}/files`, route, listFilesHandler(service));
    app.get(`${prefix}/files/:id`, route, getFileHandler(service));
    app.get(`${prefix}/files/:id/content`, route, getFileContentHandler(service));
    app.delete(`${prefix}/files/:id`, route, deleteFileHandler(service));
    app.post(`${prefix}/batches`, route, createBatchHandler(service));
    app.get(`${prefix}/batches`, route, listBatchesHandler(service));
    app.get(`${prefix}/batches/:id`, route, getBatchHandler(service));
    app.post(`${prefix}/batches/:id/cancel`, route, cancelBatchHandler(service));
  }
}
