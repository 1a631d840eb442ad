// The leader's batch sweep: what no instance is doing any more gets done. Batches past their completion
// window have their queued jobs expired; a batch left validating, or with every job done but not
// finalized (its instance died at the wrong moment), is validated or finalized here. Each step is the
// same idempotent, row-locked phase the instances run (batch-store.ts), so a sweep racing them is harmless.
import type pg from "pg";
import { batchesAwaitingPhase, expireOverdueBatches, finalizeBatch, validateBatch } from "./batch-store";

export interface SweepResult {
  expired: number;
  validated: number;
  finalized: number;
}

export async function sweepBatches(pool: pg.Pool, maxLines: number, signal?: AbortSignal): Promise<SweepResult> {
  const result: SweepResult = { expired: 0, validated: 0, finalized: 0 };
  result.expired = (await expireOverdueBatches(pool)).length;
  const waiting = await batchesAwaitingPhase(pool);
  for (const id of waiting.validating) {
    if (signal?.aborted) return result;
    if (await validateBatch(pool, id, maxLines)) result.validated++;
  }
  for (const id of waiting.finalizable) {
    if (signal?.aborted) return result;
    if (await finalizeBatch(pool, id)) result.finalized++;
  }
  return result;
}
