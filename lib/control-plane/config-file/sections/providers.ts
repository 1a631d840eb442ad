// The providers section: each provider the file lists is created, or changed to match (its
// deployments replaced as a list), or taken over when one of that name was made by hand; a
// provider the file managed and no longer lists is deleted with its deployments. Console-made
// providers the file does not name are never touched. Credentials are compared by decrypting the
// stored ones: a rotated variable is a change, shown as "(changed)", never as its value.
import stringify from "safe-stable-stringify";
import { recordAudit } from "../../audit/audit";
import { DecryptionError, decryptSecret } from "../../../platform/crypto/secret-box";
import { AppError } from "../../../platform/errors";
import { assertUpstreamUrlAllowed } from "../../../platform/net/upstream-url";
import {
  createProviderInput,
  insertProvider,
  providerPublicSelect,
  toPublicProvider,
  writeProviderChange,
  type ProviderWrite,
} from "../../../data-plane/providers/admin";
import { openHeaders, publicSettings } from "../../../data-plane/providers/credentials";
import { formatPath } from "../issues";
import type { ResolvedConfig } from "../load";
import { MANAGED_BY_FILE } from "../managed";
import {
  shown,
  type ApplyContext,
  type ConfigChange,
  type ConfigSection,
  type FieldChange,
  type PlanContext,
  type Tx,
} from "./types";

type DesiredProvider = ResolvedConfig["providers"][number];

const currentSelect = {
  ...providerPublicSelect,
  headersEncrypted: true,
  deployments: { select: { ...providerPublicSelect.deployments.select, managedBy: true } },
} as const;
type CurrentRow = Awaited<ReturnType<typeof readProviders>>[number];

function readProviders(tx: Tx) {
  return tx.provider.findMany({ select: currentSelect, orderBy: { name: "asc" } });
}

/** The provider as the audit log may keep it: no credentials, not even sealed. */
function audited({ headersEncrypted: _sealed, ...row }: CurrentRow) {
  return toPublicProvider(row);
}

const deploymentLine = (d: { modelName: string; upstreamModel: string; weight: number; enabled: boolean }) =>
  `${d.modelName}=${d.upstreamModel}×${d.weight}${d.enabled ? "" : " (off)"}`;
const deploymentsText = (list: Array<Parameters<typeof deploymentLine>[0]>) =>
  list.map(deploymentLine).sort().join(", ") || "none";

function tryOpen<T>(open: () => T): T | typeof UNREADABLE {
  try {
    return open();
  } catch (error) {
    if (error instanceof DecryptionError) return UNREADABLE;
    throw error;
  }
}
const UNREADABLE = Symbol("sealed under another SECRET");

/** The write that makes `row` match `desired`, and what it changes in words; null when they match. */
function compare(
  row: CurrentRow,
  desired: DesiredProvider,
  validated: { settings: object },
  secret: string,
): { write: ProviderWrite; fields: FieldChange[] } | null {
  const fields: FieldChange[] = [];
  const write: ProviderWrite = { managedBy: MANAGED_BY_FILE };
  if (row.enabled !== desired.enabled) {
    fields.push({ field: "enabled", before: String(row.enabled), after: String(desired.enabled) });
    write.enabled = desired.enabled;
  }
  let settingsChanged = false;
  let headersChanged = false;
  if (desired.kind !== "simulator") {
    if (row.baseUrl !== desired.baseUrl) {
      fields.push({ field: "baseUrl", before: shown(row.baseUrl), after: desired.baseUrl });
      write.baseUrl = desired.baseUrl;
    }
    const storedKey = row.apiKeyEncrypted === null ? null : tryOpen(() => decryptSecret(row.apiKeyEncrypted!, secret));
    const wantedKey = desired.apiKey ?? null;
    if (storedKey !== wantedKey) {
      fields.push({
        field: "apiKey",
        before: row.apiKeyEncrypted ? "(set)" : "—",
        after: wantedKey === null ? "(removed)" : row.apiKeyEncrypted ? "(changed)" : "(set)",
      });
      write.apiKey = wantedKey;
    }
    const storedHeaders = tryOpen(() => openHeaders(row, secret));
    if (storedHeaders === UNREADABLE || stringify(storedHeaders) !== stringify(desired.headers)) {
      const names = (h: object) => Object.keys(h).sort().join(", ") || "none";
      fields.push({
        field: "headers",
        before: row.headerNames.length ? `${row.headerNames.join(", ")} (values hidden)` : "none",
        after: `${names(desired.headers)} (values hidden)`,
      });
      headersChanged = true;
    }
  }
  const { headers: _headers, ...wantedClear } = validated.settings as { headers?: unknown };
  const storedClear = publicSettings(row.settings);
  if (stringify(storedClear) !== stringify(wantedClear)) {
    fields.push({ field: "settings", before: shown(storedClear), after: shown(wantedClear) });
    settingsChanged = true;
  }
  if (settingsChanged || headersChanged) write.settings = headersChanged ? validated.settings : wantedClear;
  const storedDeployments = deploymentsText(row.deployments);
  const wantedDeployments = deploymentsText(desired.deployments);
  const deploymentsAdopted = row.deployments.some((d) => d.managedBy !== MANAGED_BY_FILE);
  if (storedDeployments !== wantedDeployments)
    fields.push({ field: "deployments", before: storedDeployments, after: wantedDeployments });
  if (storedDeployments !== wantedDeployments || deploymentsAdopted || row.managedBy !== MANAGED_BY_FILE)
    write.deployments = desired.deployments;
  if (fields.length === 0 && row.managedBy === MANAGED_BY_FILE && !deploymentsAdopted) return null;
  return { write, fields };
}

/** The console's create schema over the file's provider: defaults and checks exactly as a console save. */
function validate(desired: DesiredProvider, path: string, context: PlanContext) {
  const input =
    desired.kind === "simulator"
      ? { kind: desired.kind, name: desired.name, settings: desired.settings, deployments: desired.deployments }
      : {
          kind: desired.kind,
          name: desired.name,
          baseUrl: desired.baseUrl,
          apiKey: desired.apiKey,
          settings: { ...desired.settings, headers: desired.headers },
          deployments: desired.deployments,
        };
  const parsed = createProviderInput.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) context.issue(formatPath([path, ...issue.path]), issue.message);
    return null;
  }
  // The console's deployment has no switch; the file's does.
  return { ...parsed.data, deployments: desired.deployments };
}

export const providersSection: ConfigSection = {
  name: "providers",
  async plan(tx, config, context) {
    const rows = await readProviders(tx);
    const byName = new Map(rows.map((row) => [row.name, row]));
    const changes: ConfigChange[] = [];
    const writes: Array<(tx: Tx, apply: ApplyContext) => Promise<void>> = [];

    for (const [index, desired] of config.providers.entries()) {
      const path = `providers[${index}]`;
      const valid = validate(desired, path, context);
      if (!valid) continue;
      if (valid.kind !== "simulator") {
        try {
          await assertUpstreamUrlAllowed(valid.baseUrl, `${path}.baseUrl`);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          context.issue(`${path}.baseUrl`, error.message.replace(`${path}.baseUrl: `, ""));
          continue;
        }
      }
      const row = byName.get(desired.name);
      const create = async (t: Tx, apply: ApplyContext) => {
        const { row: created } = await insertProvider(t, valid, apply.secret, MANAGED_BY_FILE);
        await recordAudit(t, apply.actor, {
          action: "provider.create",
          targetType: "provider",
          targetId: created.id,
          after: toPublicProvider(created),
        });
      };
      if (!row) {
        changes.push({
          op: "create",
          kind: "provider",
          name: desired.name,
          fields: [{ field: "deployments", before: "none", after: deploymentsText(desired.deployments) }],
        });
        writes.push(create);
      } else if (row.kind !== desired.kind) {
        changes.push({
          op: "replace",
          kind: "provider",
          name: desired.name,
          fields: [{ field: "kind", before: row.kind, after: desired.kind }],
        });
        writes.push(async (t, apply) => {
          await t.provider.delete({ where: { id: row.id } });
          await recordAudit(t, apply.actor, {
            action: "provider.delete",
            targetType: "provider",
            targetId: row.id,
            before: audited(row),
          });
          await create(t, apply);
        });
      } else {
        const difference = compare(row, desired, valid, context.secret);
        if (!difference) continue;
        changes.push({
          op: row.managedBy === MANAGED_BY_FILE ? "update" : "adopt",
          kind: "provider",
          name: desired.name,
          fields: difference.fields,
        });
        writes.push(async (t, apply) => {
          const updated = await writeProviderChange(t, row, difference.write, apply.secret);
          await recordAudit(t, apply.actor, {
            action: "provider.update",
            targetType: "provider",
            targetId: row.id,
            before: audited(row),
            after: toPublicProvider(updated),
          });
        });
      }
    }

    const listed = new Set(config.providers.map((p) => p.name));
    for (const row of rows) {
      if (row.managedBy !== MANAGED_BY_FILE || listed.has(row.name)) continue;
      changes.push({ op: "delete", kind: "provider", name: row.name, fields: [] });
      writes.push(async (t, apply) => {
        await t.provider.delete({ where: { id: row.id } });
        await recordAudit(t, apply.actor, {
          action: "provider.delete",
          targetType: "provider",
          targetId: row.id,
          before: audited(row),
        });
      });
    }
    return {
      changes,
      async apply(t, apply) {
        for (const write of writes) await write(t, apply);
      },
    };
  },
};
