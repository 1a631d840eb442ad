"use client";
// One react-query hook per Scaling and Capacity endpoint; responses checked against the schemas
// the server answers with (lib/scaling/contracts.ts).
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { z } from "zod";
import { consoleErrorBody, type RangeKey } from "../console/contracts";
import { ConsoleApiError } from "../console/hooks";
import type { CapacitySettingsInput, InstanceSizesInput, ScheduleInput } from "../capacity/store";
import type { SavePolicyInput } from "./policies";
import { activatePolicyResponse, capacityResponse, savePolicyResponse, scalingResponse, simulationResponse, type ActivatePolicyInput } from "./contracts";

const LIVE_MS = 10_000;

async function request<S extends z.ZodType>(url: string, schema: S, init?: { method: string; body: unknown }): Promise<z.output<S>> {
  const response = await fetch(url, {
    method: init?.method ?? "GET",
    headers: init ? { accept: "application/json", "content-type": "application/json" } : { accept: "application/json" },
    body: init ? JSON.stringify(init.body) : undefined,
    credentials: "same-origin",
    cache: "no-store",
  });
  const payload: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) window.location.assign(`/login?callbackUrl=${encodeURIComponent(window.location.pathname)}`);
    const parsed = consoleErrorBody.safeParse(payload);
    throw new ConsoleApiError(response.status, parsed.success ? parsed.data.error.message : `Request failed (${response.status}).`, parsed.success ? parsed.data.error.param : null);
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw new ConsoleApiError(response.status, "The server answered in an unexpected shape.");
  return parsed.data;
}

export function useScaling(range: RangeKey) {
  return useQuery({
    queryKey: ["console", "scaling", range],
    queryFn: () => request(`/api/console/scaling?range=${range}`, scalingResponse),
    refetchInterval: LIVE_MS,
    placeholderData: keepPreviousData,
  });
}

export function useActivatePolicy() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: ActivatePolicyInput) => request("/api/console/scaling/active", activatePolicyResponse, { method: "PUT", body: input }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "scaling"] }),
  });
}

export function useSavePolicy() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: SavePolicyInput) => request("/api/console/scaling/policies", savePolicyResponse, { method: "POST", body: input }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "scaling"] }),
  });
}

export function useSimulation(hours: number) {
  return useQuery({ queryKey: ["console", "scaling", "simulation", hours], queryFn: () => request(`/api/console/scaling/simulation?hours=${hours}`, simulationResponse) });
}

export function useCapacity() {
  return useQuery({ queryKey: ["console", "capacity"], queryFn: () => request("/api/console/capacity", capacityResponse), refetchInterval: 60_000 });
}

function useCapacityMutation<T>(path: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: T) => request(path, z.unknown(), { method: "PUT", body }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "capacity"] }),
  });
}

export const useUpdateCapacitySettings = () => useCapacityMutation<CapacitySettingsInput>("/api/console/capacity/settings");
export const useReplaceInstanceSizes = () => useCapacityMutation<{ sizes: InstanceSizesInput }>("/api/console/capacity/sizes");
export const useReplaceSchedule = () => useCapacityMutation<{ schedule: ScheduleInput }>("/api/console/capacity/schedule");
