"use client";
// One react-query hook per console endpoint. Every parameter is in the query key; live panels
// refetch on an interval; responses are checked against the same zod schemas the server uses.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { z } from "zod";
import type { SilenceAlertInput } from "../../../lib/control-plane/alerts/actions";
import type { UpdateAlertRuleInput } from "../../../lib/control-plane/alerts/rules";
import type { CreateApiKeyInput } from "../../../lib/control-plane/keys/api-keys";
import type { CreateProviderInput } from "../../../lib/data-plane/providers/admin";
import type { CreateUserInput } from "../../../lib/control-plane/users/users";
import type { UpdateProviderInput } from "../../../lib/control-plane/console/providers";
import {
  alertHistoryResponse,
  alertRulesResponse,
  apiKeysResponse,
  auditResponse,
  consoleErrorBody,
  createKeyResponse,
  deleteProviderResponse,
  instancesResponse,
  overviewResponse,
  providerHealthResponse,
  providerResponse,
  providersResponse,
  providerTestResponse,
  revokeKeyResponse,
  alertRuleResponse,
  resetPasswordResponse,
  userResponse,
  usersResponse,
  type AuditFilter,
  type OverviewResponse,
  type RangeKey,
  type UpdateUserInput,
} from "../../../lib/control-plane/console/contracts";

const LIVE_MS = 10_000;

/** A failed console request: the server's message and status, for the panel's error state. */
export class ConsoleApiError extends Error {
  override name = "ConsoleApiError";
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/** Calls a console endpoint and checks the answer against its schema; every console hook uses it. */
export async function request<S extends z.ZodType>(
  url: string,
  schema: S,
  init?: { method: string; body?: unknown },
): Promise<z.output<S>> {
  const response = await fetch(url, {
    method: init?.method ?? "GET",
    headers:
      init?.body === undefined
        ? { accept: "application/json" }
        : { accept: "application/json", "content-type": "application/json" },
    body: init?.body === undefined ? undefined : JSON.stringify(init.body),
    credentials: "same-origin",
    cache: "no-store",
  });
  const payload: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const parsed = consoleErrorBody.safeParse(payload);
    if (response.status === 401 && typeof window !== "undefined") {
      // The session ended (expired, signed out elsewhere, account disabled): back to sign-in.
      // eslint-disable-next-line @next/next/no-location-assign-relative-destination -- a full load drops the ended session's cache
      window.location.assign(`/login?callbackUrl=${encodeURIComponent(window.location.pathname)}`);
    }
    throw new ConsoleApiError(
      response.status,
      parsed.success ? parsed.data.error.message : `Request failed (${response.status}).`,
      parsed.success ? parsed.data.error.param : null,
    );
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw new ConsoleApiError(response.status, "The server answered in an unexpected shape.");
  return parsed.data;
}

const withQuery = (path: string, params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== "") search.set(name, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
};

// ---- metrics and fleet -------------------------------------------------------------------------

/** `initial`: the same response rendered by the server with the page, used for its range only. */
export function useOverview(range: RangeKey, initial?: { data: OverviewResponse; at: number }) {
  const seeded = initial && initial.data.range === range ? initial : undefined;
  return useQuery({
    queryKey: ["console", "overview", range],
    queryFn: () => request(withQuery("/api/console/overview", { range }), overviewResponse),
    refetchInterval: LIVE_MS,
    placeholderData: keepPreviousData,
    initialData: seeded?.data,
    initialDataUpdatedAt: seeded?.at,
  });
}

export function useInstances() {
  return useQuery({
    queryKey: ["console", "instances"],
    queryFn: () => request("/api/console/instances", instancesResponse),
    refetchInterval: LIVE_MS,
  });
}

// ---- alerts ------------------------------------------------------------------------------------

export function useAlertRules() {
  return useQuery({
    queryKey: ["console", "alerts", "rules"],
    queryFn: () => request("/api/console/alerts/rules", alertRulesResponse),
    refetchInterval: LIVE_MS,
  });
}

export function useAlertHistory(limit: number) {
  return useQuery({
    queryKey: ["console", "alerts", "history", limit],
    queryFn: () => request(withQuery("/api/console/alerts/history", { limit }), alertHistoryResponse),
    refetchInterval: LIVE_MS,
  });
}

export function useUpdateAlertRule() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, change }: { id: string; change: UpdateAlertRuleInput }) =>
      request(`/api/console/alerts/rules/${encodeURIComponent(id)}`, alertRuleResponse, { method: "PATCH", body: change }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "alerts"] }),
  });
}

const alertRulePath = (id: string, action: "acknowledge" | "silence") =>
  `/api/console/alerts/rules/${encodeURIComponent(id)}/${action}`;

export function useAcknowledgeAlert() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request(alertRulePath(id, "acknowledge"), alertRuleResponse, { method: "POST" }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "alerts"] }),
  });
}

/** Silences a rule for `durationSeconds`, or ends its silence when that is null. */
export function useSilenceAlert() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, silence }: { id: string; silence: SilenceAlertInput | null }) =>
      request(alertRulePath(id, "silence"), alertRuleResponse, silence ? { method: "PUT", body: silence } : { method: "DELETE" }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "alerts"] }),
  });
}

// ---- API keys ----------------------------------------------------------------------------------

export function useApiKeys() {
  return useQuery({
    queryKey: ["console", "keys"],
    queryFn: () => request("/api/console/keys", apiKeysResponse),
    refetchInterval: LIVE_MS,
  });
}

export function useCreateApiKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateApiKeyInput) => request("/api/console/keys", createKeyResponse, { method: "POST", body: input }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "keys"] }),
  });
}

export function useRevokeApiKey() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request(`/api/console/keys/${id}/revoke`, revokeKeyResponse, { method: "POST", body: {} }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "keys"] }),
  });
}

// ---- providers ---------------------------------------------------------------------------------

export function useProviders() {
  return useQuery({ queryKey: ["console", "providers"], queryFn: () => request("/api/console/providers", providersResponse) });
}

export function useProviderHealth() {
  return useQuery({
    queryKey: ["console", "providers", "health"],
    queryFn: () => request("/api/console/providers/health", providerHealthResponse),
    refetchInterval: LIVE_MS,
  });
}

export function useCreateProvider() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateProviderInput) =>
      request("/api/console/providers", providerResponse, { method: "POST", body: input }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "providers"] }),
  });
}

export function useUpdateProvider() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, change }: { id: string; change: UpdateProviderInput }) =>
      request(`/api/console/providers/${id}`, providerResponse, { method: "PATCH", body: change }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "providers"] }),
  });
}

export function useDeleteProvider() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => request(`/api/console/providers/${id}`, deleteProviderResponse, { method: "DELETE" }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "providers"] }),
  });
}

export function useTestProvider() {
  return useMutation({
    mutationFn: (id: string) => request(`/api/console/providers/${id}/test`, providerTestResponse, { method: "POST", body: {} }),
  });
}

// ---- users -------------------------------------------------------------------------------------

export function useUsers() {
  return useQuery({ queryKey: ["console", "users"], queryFn: () => request("/api/console/users", usersResponse) });
}

export function useCreateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateUserInput) => request("/api/console/users", userResponse, { method: "POST", body: input }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "users"] }),
  });
}

export function useUpdateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, change }: { id: string; change: UpdateUserInput }) =>
      request(`/api/console/users/${id}`, userResponse, { method: "PATCH", body: change }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["console", "users"] }),
  });
}

/** The new password is in the mutation's data only: never cached in a query. */
export function useResetPassword() {
  return useMutation({
    mutationFn: (id: string) => request(`/api/console/users/${id}/password`, resetPasswordResponse, { method: "POST", body: {} }),
  });
}

// ---- audit -------------------------------------------------------------------------------------

export function useAuditLog(filter: AuditFilter) {
  return useQuery({
    queryKey: [
      "console",
      "audit",
      filter.action ?? "",
      filter.actor ?? "",
      filter.targetType ?? "",
      filter.targetId ?? "",
      filter.before ?? "",
      filter.limit ?? 50,
    ],
    queryFn: () =>
      request(
        withQuery("/api/console/audit", {
          action: filter.action,
          actor: filter.actor,
          targetType: filter.targetType,
          targetId: filter.targetId,
          before: filter.before,
          limit: filter.limit,
        }),
        auditResponse,
      ),
    placeholderData: keepPreviousData,
  });
}
