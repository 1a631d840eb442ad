"use client";
// The request log's react-query hooks: one per endpoint, every parameter in the query key.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { revokeKeyResponse } from "../../../lib/control-plane/console/contracts";
import {
  requestLogDetailResponse,
  requestLogListResponse,
  requestLogSettingsResponse,
  type RequestLogFilter,
  type UpdateRequestLogSettingsInput,
} from "../../../lib/control-plane/console/request-log-contracts";
import { request } from "./console";

const LIVE_MS = 10_000;

const withQuery = (path: string, params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== "") search.set(name, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
};

export function useRequestLog(filter: RequestLogFilter) {
  const params = {
    keyId: filter.keyId,
    model: filter.model,
    status: filter.status,
    from: filter.from,
    to: filter.to,
    before: filter.before,
    limit: filter.limit,
  };
  return useQuery({
    queryKey: ["console", "requests", "list", params],
    queryFn: () => request(withQuery("/api/console/requests", params), requestLogListResponse),
    placeholderData: keepPreviousData,
    // The newest page follows traffic; older pages stay put.
    refetchInterval: filter.before ? false : LIVE_MS,
  });
}

export function useRequestById(requestId: string) {
  return useQuery({
    queryKey: ["console", "requests", "one", requestId],
    queryFn: () => request(`/api/console/requests/${encodeURIComponent(requestId)}`, requestLogDetailResponse),
    // Entries are written within about a second: a request just made shows up on the next look.
    refetchInterval: (query) => (query.state.data?.entries.length ? false : 2_000),
  });
}

export function useRequestLogSettings() {
  return useQuery({
    queryKey: ["console", "requests", "settings"],
    queryFn: () => request("/api/console/requests/settings", requestLogSettingsResponse),
  });
}

export function useSaveRequestLogSettings() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: UpdateRequestLogSettingsInput) =>
      request("/api/console/requests/settings", requestLogSettingsResponse, { method: "PUT", body: input }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "requests", "settings"] }),
  });
}

export function useSetKeyCapture() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, captureBodies }: { id: string; captureBodies: boolean }) =>
      request(`/api/console/keys/${encodeURIComponent(id)}/capture`, revokeKeyResponse, {
        method: "PUT",
        body: { captureBodies },
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "keys"] }),
  });
}
