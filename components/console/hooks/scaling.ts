"use client";
// One react-query hook per Scaling and Capacity endpoint; responses checked against the schemas
// the server answers with (lib/control-plane/scaling/contracts.ts).
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { z } from "zod";
import type { RangeKey } from "../../../lib/control-plane/console/contracts";
import { request } from "./console";
import type { CapacitySettingsInput, InstanceSizesInput, ScheduleInput } from "../../../lib/control-plane/capacity/store";
import type { SavePolicyInput } from "../../../lib/control-plane/scaling/policies";
import {
  activatePolicyResponse,
  capacityResponse,
  savePolicyResponse,
  scalingResponse,
  simulationResponse,
  type ActivatePolicyInput,
} from "../../../lib/control-plane/scaling/contracts";
import { decisionPredatesSwitch } from "../../../lib/control-plane/scaling/views";

const LIVE_MS = 10_000;
/** After a switch, until the leader has decided under the new policy: its decision shows within seconds. */
const AFTER_SWITCH_MS = 2_000;

export function useScaling(range: RangeKey) {
  return useQuery({
    queryKey: ["console", "scaling", range],
    queryFn: () => request(`/api/console/scaling?range=${range}`, scalingResponse),
    refetchInterval: (query) => (query.state.data && decisionPredatesSwitch(query.state.data) ? AFTER_SWITCH_MS : LIVE_MS),
    placeholderData: keepPreviousData,
  });
}

export function useActivatePolicy() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: ActivatePolicyInput) =>
      request("/api/console/scaling/active", activatePolicyResponse, { method: "PUT", body: input }),
    // Returned, so the mutation settles only once the page shows the new policy.
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "scaling"] }),
  });
}

export function useSavePolicy() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: SavePolicyInput) =>
      request("/api/console/scaling/policies", savePolicyResponse, { method: "POST", body: input }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "scaling"] }),
  });
}

export function useDeletePolicy() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request(`/api/console/scaling/policies/${id}`, savePolicyResponse, { method: "DELETE" }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "scaling"] }),
  });
}

export function useSimulation(hours: number) {
  return useQuery({
    queryKey: ["console", "scaling", "simulation", hours],
    queryFn: () => request(`/api/console/scaling/simulation?hours=${hours}`, simulationResponse),
  });
}

export function useCapacity() {
  return useQuery({
    queryKey: ["console", "capacity"],
    queryFn: () => request("/api/console/capacity", capacityResponse),
    refetchInterval: 60_000,
  });
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
