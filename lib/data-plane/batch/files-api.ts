// /v1/files — upload (multipart, purpose "batch", JSONL up to BATCH_FILE_MAX_BYTES), retrieve, content,
// delete and list, each scoped to the calling key.
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { AppError, BadRequestError, NotFoundError, PayloadTooLargeError } from "../../platform/errors";
import { Readable } from "node:stream";
import { deleteFile, fileChunks, findFile, listFiles, saveFile } from "./file-store";
import type { BatchService } from "./service";
import { parseQuery } from "./request-schemas";

const notFound = (id: string) => new NotFoundError(`No such File object: ${id}`, { param: "file_id", code: "file_not_found" });

/** Multipart failures as the API's own errors (the plugin's would be a 500 or a bare 406). */
function multipartError(error: unknown, maxBytes: number): unknown {
  const code = (error as { code?: string }).code;
  if (code === "FST_REQ_FILE_TOO_LARGE")
    return new PayloadTooLargeError(`The file is larger than the limit of ${maxBytes} bytes.`, {
      param: "file",
      code: "file_too_large",
    });
  if (code === "FST_INVALID_MULTIPART_CONTENT_TYPE")
    return new BadRequestError("Upload the file as multipart/form-data with fields 'file' and 'purpose'.", {
      code: "invalid_content_type",
    });
  if (code === "FST_FILES_LIMIT" || code === "FST_PARTS_LIMIT" || code === "FST_FIELDS_LIMIT")
    return new BadRequestError("Send one file and the 'purpose' field only.");
  if (error instanceof AppError) return error;
  return new BadRequestError("The multipart body could not be read.", { code: "invalid_multipart" });
}

interface Upload {
  purpose?: string;
  filename?: string;
  content?: Buffer;
}

async function readUpload(request: FastifyRequest, maxBytes: number): Promise<Upload> {
  const upload: Upload = {};
  try {
    for await (const part of request.parts()) {
      if (part.type === "file") {
        if (part.fieldname !== "file" || upload.content)
          throw new BadRequestError("Send exactly one file, in the field 'file'.", { param: "file" });
        upload.filename = part.filename || "upload.jsonl";
        upload.content = await part.toBuffer();
      } else if (part.fieldname === "purpose") {
        upload.purpose = String(part.value);
      }
    }
  } catch (error) {
    throw multipartError(error, maxBytes);
  }
  return upload;
}

// POST /v1/files — stores a JSONL file for a batch; it is checked line by line when a batch uses it.
export function uploadFileHandler(service: BatchService) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { maxFileBytes } = service.limits;
    const upload = await readUpload(request, maxFileBytes);
    if (upload.purpose !== "batch") {
      throw new BadRequestError(`'purpose' must be "batch" (got ${JSON.stringify(upload.purpose ?? null)}).`, {
        param: "purpose",
        code: "invalid_purpose",
      });
    }
    if (!upload.content)
      throw new BadRequestError("Missing the file: send it in the multipart field 'file'.", {
        param: "file",
        code: "missing_file",
      });
    if (upload.content.length === 0) throw new BadRequestError("The file is empty.", { param: "file", code: "empty_file" });
    const file = await saveFile(service.pool, {
      keyId: request.apiKey!.id,
      purpose: "batch",
      filename: upload.filename!,
      content: upload.content,
    });
    return reply.send(file);
  };
}

const fileParams = z.object({ id: z.string().min(1).max(128) });

// GET /v1/files/:id
export function getFileHandler(service: BatchService) {
  return async (request: FastifyRequest) => {
    const { id } = parseQuery(fileParams, request.params);
    const file = await findFile(service.pool, request.apiKey!.id, id);
    if (!file) throw notFound(id);
    return file;
  };
}

// GET /v1/files/:id/content — the bytes as uploaded or written (JSONL), streamed a chunk at a time.
export function getFileContentHandler(service: BatchService) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { id } = parseQuery(fileParams, request.params);
    const file = await findFile(service.pool, request.apiKey!.id, id);
    if (!file) throw notFound(id);
    return reply
      .header("content-type", "application/octet-stream")
      .header("content-length", file.bytes)
      .send(Readable.from(fileChunks(service.pool, id)));
  };
}

// DELETE /v1/files/:id
export function deleteFileHandler(service: BatchService) {
  return async (request: FastifyRequest) => {
    const { id } = parseQuery(fileParams, request.params);
    if (!(await deleteFile(service.pool, request.apiKey!.id, id))) throw notFound(id);
    return { id, object: "file", deleted: true };
  };
}

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  after: z.string().max(128).optional(),
  order: z.enum(["asc", "desc"]).default("desc"),
  purpose: z.string().max(64).optional(),
});

// GET /v1/files — the key's files, newest first by default.
export function listFilesHandler(service: BatchService) {
  return async (request: FastifyRequest) => {
    const query = parseQuery(listQuery, request.query);
    const page = await listFiles(service.pool, request.apiKey!.id, query);
    return {
      object: "list",
      data: page.data,
      first_id: page.data[0]?.id ?? null,
      last_id: page.data.at(-1)?.id ?? null,
      has_more: page.hasMore,
    };
  };
}
