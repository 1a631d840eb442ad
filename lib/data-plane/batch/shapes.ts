// The Batch API's objects exactly as OpenAI's SDK types them (node_modules/openai/resources/batches.d.ts,
// files.d.ts), so the official client reads ours unchanged.

export const BATCH_STATUSES = [
  "validating",
  "failed",
  "in_progress",
  "finalizing",
  "completed",
  "expired",
  "cancelling",
  "cancelled",
] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/** The endpoints a batch line may call (a subset of OpenAI's: the ones this gateway serves). */
export const BATCH_ENDPOINTS = ["/v1/chat/completions", "/v1/embeddings", "/v1/responses"] as const;
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number];

export interface BatchRequestCounts {
  total: number;
  completed: number;
  failed: number;
}

export interface BatchErrorEntry {
  code?: string;
  message?: string;
  line?: number | null;
  param?: string | null;
}

export interface BatchUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface BatchObject {
  id: string;
  object: "batch";
  endpoint: string;
  errors?: { object: "list"; data: BatchErrorEntry[] };
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id?: string;
  error_file_id?: string;
  created_at: number;
  in_progress_at?: number;
  expires_at?: number;
  finalizing_at?: number;
  completed_at?: number;
  failed_at?: number;
  expired_at?: number;
  cancelling_at?: number;
  cancelled_at?: number;
  request_counts: BatchRequestCounts;
  usage?: BatchUsage;
  metadata: Record<string, string> | null;
}

export type FilePurpose = "batch" | "batch_output";

export interface FileObject {
  id: string;
  object: "file";
  bytes: number;
  created_at: number;
  filename: string;
  purpose: FilePurpose;
  status: "processed";
  expires_at?: number;
}

/** One line of an output or error file. */
export interface BatchOutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}
