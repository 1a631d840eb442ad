// The Batches page's request and response shapes (client-safe: zod only). The batch itself is the
// OpenAI-shaped object the data plane answers with, trimmed to what the page shows.
import { z } from "zod";
import { BATCH_STATUSES } from "../../data-plane/batch/shapes";

export const batchesQuery = z.object({
  /** Only this API key's batches. */
  keyId: z.uuid({ message: "must be an API key id" }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  /** A batch id from the previous page's nextAfter: the batches listed after it (older). */
  after: z
    .string()
    .regex(/^batch_[A-Za-z0-9_-]{1,120}$/, { message: "must be a batch id" })
    .optional(),
});
export type BatchesQuery = z.infer<typeof batchesQuery>;

export const queueStatsSchema = z.object({
  queued: z.number(),
  running: z.number(),
  oldestQueuedAgeSeconds: z.number().nullable(),
});
export type QueueStatsDto = z.infer<typeof queueStatsSchema>;

/** A panel's data, or why it could not be read (the rest of the page still can be). */
const orError = <S extends z.ZodType>(schema: S) => z.union([schema, z.object({ error: z.string() })]);

const batchDtoSchema = z.object({
  id: z.string(),
  status: z.enum(BATCH_STATUSES),
  endpoint: z.string(),
  key: z.object({ id: z.string(), name: z.string() }),
  requestCounts: z.object({ total: z.number(), completed: z.number(), failed: z.number() }),
  /** Unix milliseconds. */
  createdAt: z.number(),
  /** When it ended (completed, failed, expired or cancelled), Unix ms; null while it runs. */
  endedAt: z.number().nullable(),
  expiresAt: z.number().nullable(),
  outputFileId: z.string().nullable(),
  errorFileId: z.string().nullable(),
  /** Validation errors of the input file, if any. */
  errors: z.number(),
});
export type BatchDto = z.infer<typeof batchDtoSchema>;

const keyQueueSchema = z.object({
  keyId: z.string(),
  keyName: z.string(),
  queued: z.number(),
  running: z.number(),
  batches: z.number(),
});
export type KeyQueueDto = z.infer<typeof keyQueueSchema>;

export const batchesResponse = z.object({
  /** The fleet's queue now (the job table, read live). */
  queue: orError(queueStatsSchema),
  /** Queued and running jobs by the key that owns them, busiest first. */
  byKey: orError(z.object({ keys: z.array(keyQueueSchema) })),
  batches: orError(z.object({ data: z.array(batchDtoSchema), hasMore: z.boolean(), nextAfter: z.string().nullable() })),
});
export type BatchesResponse = z.infer<typeof batchesResponse>;
