// Console providers: list (credentials never leave the server: only whether a key is stored and
// which custom headers are set), create, edit, test the connection, delete, and the fleet's view of
// each deployment's health. Base URLs are checked against the upstream address policy on save.
import "server-only";
import { z } from "zod";
import type { Prisma } from "../../platform/db/generated/client";
import { recordAudit } from "../audit/audit";
import { getConfig } from "../../platform/config";
import { DecryptionError } from "../../platform/crypto/secret-box";
import { BadRequestError, ConflictError, NotFoundError } from "../../platform/errors";
import { ADDRESS_REFUSED_CODE } from "../../platform/net/address-policy";
import { assertUpstreamUrlAllowed } from "../../platform/net/upstream-url";
import { createLiveProvider } from "../../data-plane/providers/factory";
import {
  createProviderInput,
  deploymentInput,
  insertProvider,
  providerPublicSelect,
  toPublicProvider,
  writeProviderChange,
} from "../../data-plane/providers/admin";
import { settingsSchemaFor } from "../../data-plane/providers/settings";
import { managedByFile } from "../config-file/managed";
import { UpstreamFailure } from "../../data-plane/providers/types";
import type { ProviderDto, ProviderTestResult } from "./contracts";
import { idParams } from "./contracts";
import { actorOf, consoleHandler } from "./handler";
import { readFleetDeploymentHealth } from "./router-health";

/** Edits; `apiKey: null` removes the stored key and leaving it out keeps it; `deployments` replaces the list. */
const updateProviderInput = z
  .object({
    name: createProviderInput.options[0].shape.name.optional(),
    baseUrl: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).optional(),
    apiKey: z.string().min(1).max(4_096).nullable().optional(),
    enabled: z.boolean().optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    deployments: z.array(deploymentInput).max(100).optional(),
  })
  .refine((value) => Object.values(value).some((v) => v !== undefined), { message: "nothing to change" });
export type UpdateProviderInput = z.input<typeof updateProviderInput>;

type PublicRow = Prisma.ProviderGetPayload<{ select: typeof providerPublicSelect }>;

function toDto(row: PublicRow): ProviderDto {
  const provider = toPublicProvider(row);
  return { ...provider, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}

const secret = () => {
  const value = getConfig().SECRET;
  if (!value) throw new Error("SECRET is not set in this process");
  return value;
};

// GET /api/console/providers — providers with their deployments, without credentials.
export const listProviders = consoleHandler({ scope: "providers.read" }, async ({ prisma }) => {
  const rows = await prisma.provider.findMany({ select: providerPublicSelect, orderBy: { name: "asc" } });
  return { providers: rows.map(toDto) };
});

// POST /api/console/providers — a new provider and its deployments; the API key and custom headers are stored encrypted.
export const createProvider = consoleHandler(
  { scope: "providers.write", body: createProviderInput, status: 201 },
  async ({ prisma, body, session }) => {
    if (body.kind !== "simulator") await assertUpstreamUrlAllowed(body.baseUrl, "baseUrl");
    const provider = await prisma.$transaction(async (tx) => {
      const { row } = await insertProvider(tx, body, secret());
      const dto = toDto(row);
      await recordAudit(tx, actorOf(session), {
        action: "provider.create",
        targetType: "provider",
        targetId: dto.id,
        after: dto,
      });
      return dto;
    });
    return { provider };
  },
);

// PATCH /api/console/providers/:id — edits settings, credentials (write-only), deployments.
export const updateProvider = consoleHandler(
  { scope: "providers.write", params: idParams, body: updateProviderInput },
  async ({ prisma, params, body, session }) => {
    if (body.baseUrl !== undefined) await assertUpstreamUrlAllowed(body.baseUrl, "baseUrl");
    const provider = await prisma.$transaction(async (tx) => {
      const current = await tx.provider.findUnique({ where: { id: params.id }, select: providerPublicSelect });
      if (!current) throw new NotFoundError("No provider with this id.");
      if (current.managedBy) throw managedByFile("Provider", current.name);
      if (current.kind === "simulator" && (body.baseUrl !== undefined || body.apiKey !== undefined)) {
        throw new BadRequestError("A simulator provider has no base URL or API key.", {
          param: body.baseUrl !== undefined ? "baseUrl" : "apiKey",
        });
      }
      let settings: object | undefined;
      if (body.settings !== undefined) {
        const parsed = settingsSchemaFor(current.kind).safeParse(body.settings);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new BadRequestError(`settings.${issue.path.join(".")}: ${issue.message}`, {
            param: `settings.${issue.path.join(".")}`,
          });
        }
        settings = parsed.data;
      }
      const updated = await writeProviderChange(tx, current, { ...body, settings }, secret());
      const before = toDto(current);
      const after = toDto(updated);
      await recordAudit(tx, actorOf(session), {
        action: "provider.update",
        targetType: "provider",
        targetId: after.id,
        before,
        after,
      });
      return after;
    });
    return { provider };
  },
);

const PROBE_TIMEOUT_MS = 10_000;

type ProbeOutcome = Omit<ProviderTestResult, "latencyMs">;

/**
 * A failed probe in one of a few fixed outcomes. The raw error (ECONNREFUSED against
 * EHOSTUNREACH, TLS details, an upstream's error body) would let an admin map hosts and ports
 * behind the gateway, and could echo what an upstream put in its error.
 */
function probeFailure(error: unknown): ProbeOutcome {
  const failed = (outcome: ProbeOutcome["outcome"], message: string, status: number | null = null): ProbeOutcome => ({
    ok: false,
    outcome,
    status,
    error: message,
  });
  if (error instanceof DecryptionError)
    return failed("unusable_settings", "The stored credentials cannot be decrypted with this instance's SECRET.");
  if (!(error instanceof UpstreamFailure))
    return failed("unusable_settings", "The stored settings cannot be used to reach an upstream.");
  if ((error.cause as { code?: string } | undefined)?.code === ADDRESS_REFUSED_CODE) {
    return failed("refused_by_policy", "The base URL's address is refused by the upstream address policy.");
  }
  if (error.isTimeout) return failed("timed_out", "The upstream did not answer in time.");
  if (error.status !== null) return failed("upstream_status", `The upstream answered HTTP ${error.status}.`, error.status);
  return failed("could_not_connect", "Could not connect to the upstream.");
}

// POST /api/console/providers/:id/test — one cheap round trip to the upstream with the stored settings.
export const testProvider = consoleHandler(
  { scope: "providers.write", params: idParams },
  async ({ prisma, params }): Promise<ProviderTestResult> => {
    const row = await prisma.provider.findUnique({ where: { id: params.id } });
    if (!row) throw new NotFoundError("No provider with this id.");
    const started = performance.now();
    let live;
    let outcome: ProbeOutcome;
    try {
      live = createLiveProvider(row, secret());
      await live.client.probe(AbortSignal.timeout(PROBE_TIMEOUT_MS));
      outcome = { ok: true, outcome: "ok", status: null, error: null };
    } catch (error) {
      outcome = probeFailure(error);
    } finally {
      await live?.client.close();
    }
    return { ...outcome, latencyMs: Math.round(performance.now() - started) };
  },
);

// GET /api/console/providers/health — each deployment's circuit, error rate, refusals and last failure, merged over the live fleet.
export const providerHealth = consoleHandler({ scope: "providers.read" }, async ({ prisma }) =>
  readFleetDeploymentHealth(prisma),
);

// DELETE /api/console/providers/:id — removes a provider and its deployments; one that still serves traffic (enabled, with enabled deployments) answers 409.
export const deleteProvider = consoleHandler(
  { scope: "providers.write", params: idParams },
  async ({ prisma, params, session }) => {
    await prisma.$transaction(async (tx) => {
      const current = await tx.provider.findUnique({ where: { id: params.id }, select: providerPublicSelect });
      if (!current) throw new NotFoundError("No provider with this id.");
      if (current.managedBy) throw managedByFile("Provider", current.name);
      const serving = current.enabled ? [...new Set(current.deployments.filter((d) => d.enabled).map((d) => d.modelName))] : [];
      if (serving.length > 0) {
        throw new ConflictError(
          `Provider "${current.name}" is in use: it serves ${serving.map((m) => `"${m}"`).join(", ")}. Disable it first, then delete it.`,
          { code: "provider_in_use" },
        );
      }
      await tx.provider.delete({ where: { id: current.id } });
      await recordAudit(tx, actorOf(session), {
        action: "provider.delete",
        targetType: "provider",
        targetId: current.id,
        before: toDto(current),
      });
    });
    return { deleted: params.id };
  },
);
