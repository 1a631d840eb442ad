"use client";
// The Batches page's one endpoint as a react-query hook: every parameter in the key, refreshed live.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { batchesResponse, type BatchesQuery } from "../../../lib/control-plane/console/batch-contracts";
import { request } from "./console";

const LIVE_MS = 5_000;

export function useBatches(query: Partial<BatchesQuery>) {
  const search = new URLSearchParams();
  if (query.keyId) search.set("keyId", query.keyId);
  if (query.after) search.set("after", query.after);
  search.set("limit", String(query.limit ?? 50));
  return useQuery({
    queryKey: ["console", "batches", query.keyId ?? "", query.after ?? "", query.limit ?? 50],
    queryFn: () => request(`/api/console/batches?${search.toString()}`, batchesResponse),
    refetchInterval: LIVE_MS,
    placeholderData: keepPreviousData,
  });
}
