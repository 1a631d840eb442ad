// The scaling section: custom policies the file lists are saved (created, changed, or taken over
// from the console), ones it managed and no longer lists are deleted, and `active`, when given,
// is switched to, through the scaling store, so each change has its history row and audit entry
// like a console change. Presets are the product's: the file may make one active, not redefine it.
import stringify from "safe-stable-stringify";
import { activatePolicyIn, deletePolicyIn, savePolicyIn } from "../../scaling/store";
import { MANAGED_BY_FILE } from "../managed";
import { type ConfigChange, type ConfigSection, type Tx, type ApplyContext } from "./types";

export const scalingSection: ConfigSection = {
  name: "scaling",
  async plan(tx, config, context) {
    const rows = await tx.scalingPolicy.findMany({ orderBy: { name: "asc" } });
    const byName = new Map(rows.map((row) => [row.name, row]));
    const listed = new Set(config.scaling.policies.map((p) => p.name));
    const changes: ConfigChange[] = [];
    const saves: Array<(t: Tx, apply: ApplyContext) => Promise<void>> = [];
    const deletes: typeof saves = [];

    for (const policy of config.scaling.policies) {
      const row = byName.get(policy.name);
      const same = row !== undefined && stringify(row.spec) === stringify(policy.spec);
      if (row && same && row.managedBy === MANAGED_BY_FILE) continue;
      const op = !row ? "create" : row.managedBy === MANAGED_BY_FILE ? "update" : "adopt";
      changes.push({
        op,
        kind: "scaling policy",
        name: policy.name,
        fields: same
          ? []
          : [{ field: "spec", before: row ? (stringify(row.spec) ?? "—") : "—", after: stringify(policy.spec) ?? "" }],
      });
      saves.push((t, apply) => savePolicyIn(t, policy, apply.actor, MANAGED_BY_FILE).then(() => {}));
    }

    const current = rows.find((row) => row.active);
    const wanted = config.scaling.active;
    let activeAfter = current?.name;
    let activate: ((t: Tx, apply: ApplyContext) => Promise<void>) | undefined;
    if (wanted !== undefined) {
      const exists = byName.has(wanted) || listed.has(wanted);
      const leaving = byName.get(wanted)?.managedBy === MANAGED_BY_FILE && !listed.has(wanted);
      if (!exists || leaving) {
        context.issue(
          "scaling.active",
          `no policy named "${wanted}": name a preset (aggressive, balanced, conservative), a policy under scaling.policies, or one saved in the console`,
        );
      } else if (current?.name !== wanted) {
        changes.push({
          op: "activate",
          kind: "scaling policy",
          name: wanted,
          fields: [{ field: "active", before: current?.name ?? "—", after: wanted }],
        });
        activate = (t, apply) => activatePolicyIn(t, wanted, apply.actor, "configuration file", MANAGED_BY_FILE).then(() => {});
        activeAfter = wanted;
      }
    }

    for (const row of rows) {
      if (row.managedBy !== MANAGED_BY_FILE || listed.has(row.name)) continue;
      if (row.name === activeAfter) {
        context.issue(
          "scaling.policies",
          `policy "${row.name}" is the active policy: set scaling.active to another one to remove it`,
        );
        continue;
      }
      changes.push({ op: "delete", kind: "scaling policy", name: row.name, fields: [] });
      deletes.push((t, apply) => deletePolicyIn(t, row.id, apply.actor, MANAGED_BY_FILE).then(() => {}));
    }
    return {
      changes,
      async apply(t, apply) {
        for (const save of saves) await save(t, apply);
        await activate?.(t, apply);
        for (const remove of deletes) await remove(t, apply);
      },
    };
  },
};
