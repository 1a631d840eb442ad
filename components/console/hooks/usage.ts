"use client";
// The Usage page's hooks: one per endpoint, every parameter in the query key.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { z } from "zod";
import { apiKeySchema } from "../../../lib/control-plane/console/contracts";
import {
  pricesResponse,
  usageResponse,
  type SetBudgetInput,
  type SetPriceInput,
  type UsageRange,
} from "../../../lib/control-plane/usage/contracts";
import { request } from "./console";

const LIVE_MS = 30_000;

export function useUsage(range: UsageRange) {
  return useQuery({
    queryKey: ["console", "usage", range],
    queryFn: () => request(`/api/console/usage?range=${encodeURIComponent(range)}`, usageResponse),
    refetchInterval: LIVE_MS,
    placeholderData: keepPreviousData,
  });
}

export function usageExportUrl(range: UsageRange): string {
  return `/api/console/usage/export?range=${encodeURIComponent(range)}`;
}

export function usePrices() {
  return useQuery({ queryKey: ["console", "prices"], queryFn: () => request("/api/console/prices", pricesResponse) });
}

export function useSetPrice() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ model, price }: { model: string; price: SetPriceInput }) =>
      request(`/api/console/prices/${encodeURIComponent(model)}`, pricesResponse, { method: "PUT", body: price }),
    onSuccess: (data) => client.setQueryData(["console", "prices"], data),
  });
}

export function useDeletePrice() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (model: string) =>
      request(`/api/console/prices/${encodeURIComponent(model)}`, pricesResponse, { method: "DELETE" }),
    onSuccess: (data) => client.setQueryData(["console", "prices"], data),
  });
}

const budgetResponse = z.object({
  record: apiKeySchema.pick({ id: true, name: true, tpmLimit: true, budgetDailyUsd: true, budgetMonthlyUsd: true }),
});

export function useSetBudget() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ keyId, budget }: { keyId: string; budget: SetBudgetInput }) =>
      request(`/api/console/keys/${encodeURIComponent(keyId)}/budget`, budgetResponse, { method: "PUT", body: budget }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console"] }),
  });
}
