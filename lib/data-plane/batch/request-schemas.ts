// The Batch API's request schemas (one per request), and the one way their failures become 400s
// naming the offending field.
import { z } from "zod";
import { BadRequestError } from "../../platform/errors";
import { BATCH_ENDPOINTS } from "./shapes";

export function parseQuery<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.join(".") || null;
  throw new BadRequestError(param ? `Invalid '${param}': ${issue.message}` : issue.message, { param, code: "invalid_value" });
}

/** OpenAI's metadata: up to 16 string pairs, keys up to 64 characters, values up to 512. */
const metadata = z
  .record(z.string().max(64), z.string().max(512))
  .refine((value) => Object.keys(value).length <= 16, { message: "at most 16 keys" })
  .nullable()
  .optional();

export const createBatchRequest = z.object({
  input_file_id: z.string().min(1).max(128),
  endpoint: z.enum(BATCH_ENDPOINTS, { message: `must be one of ${BATCH_ENDPOINTS.join(", ")}` }),
  completion_window: z.literal("24h", { message: 'must be "24h"' }),
  metadata,
});
export type CreateBatchRequest = z.infer<typeof createBatchRequest>;

export const batchParams = z.object({ id: z.string().min(1).max(128) });

export const listBatchesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().min(1).max(128).optional(),
});
