// One section of the configuration file (providers, scaling, alert rules; prices can follow as
// one more file): how it compares the file with the database, and how it writes the difference.
// Planning only reads and reports issues; applying runs after every section planned cleanly, in
// the same transaction, so a file with any problem changes nothing.
import type { Actor } from "../../audit/audit";
import type { Prisma } from "../../../platform/db/generated/client";
import type { ConfigIssue } from "../issues";
import type { ResolvedConfig } from "../load";

export type Tx = Prisma.TransactionClient;

export interface FieldChange {
  field: string;
  /** Shown as is; credentials never: "(set)", "(changed)", "(removed)". */
  before: string;
  after: string;
}

export interface ConfigChange {
  /** adopt: an object made by hand that the file now manages; release: one the file no longer lists but keeps. */
  op: "create" | "update" | "replace" | "delete" | "adopt" | "release" | "activate";
  kind: string;
  name: string;
  fields: FieldChange[];
}

export interface PlanContext {
  secret: string;
  /** Add a problem at a path of the file; the apply is refused if there is any. */
  issue(path: string, message: string): void;
}

export interface ApplyContext {
  actor: Actor;
  secret: string;
}

export interface SectionPlan {
  changes: ConfigChange[];
  apply(tx: Tx, context: ApplyContext): Promise<void>;
}

export interface ConfigSection {
  name: string;
  plan(tx: Tx, config: ResolvedConfig, context: PlanContext): Promise<SectionPlan>;
}

export type { ConfigIssue };

/** Shows a value in a diff line. */
export function shown(value: unknown): string {
  if (value === null || value === undefined) return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}
