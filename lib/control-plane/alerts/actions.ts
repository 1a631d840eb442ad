// What operators do about an alert, beside watching it: acknowledge it (someone is on it; shown
// until the alert ends) and silence its rule for a chosen time (evaluated and recorded, but no
// notification goes out, and the console lists it apart). Thresholds stay an admin's (rules.ts).
import "server-only";
import { z } from "zod";
import type { PrismaClient } from "../../platform/db/generated/client";
import { ConflictError } from "../../platform/errors";
import { getAlertRule, type AlertRule, type RuleContext } from "./rules";

/** The longest silence: a week, so a forgotten one ends on its own. */
const MAX_SILENCE_SECONDS = 7 * 86_400;

export const silenceAlertInput = z
  .object({
    /** How long from now, in seconds (1 minute to 7 days). */
    durationSeconds: z.number().int().min(60).max(MAX_SILENCE_SECONDS),
  })
  .strict();
export type SilenceAlertInput = z.input<typeof silenceAlertInput>;

export interface AlertAction {
  before: AlertRule;
  after: AlertRule;
}

/** Acknowledges every pending or firing subject of the rule not yet acknowledged; 409 when none is active. */
export async function acknowledgeAlert(prisma: PrismaClient, id: string, by: string, context: RuleContext): Promise<AlertAction> {
  const before = await getAlertRule(prisma, id, context);
  const { count } = await prisma.alertState.updateMany({
    where: { ruleId: id, status: { not: "inactive" }, acknowledgedAt: null },
    data: { acknowledgedAt: new Date(), acknowledgedBy: by },
  });
  if (count === 0) {
    const reason = before.activeSubjects.length === 0 ? "is not pending or firing" : "is already acknowledged";
    throw new ConflictError(`Alert ${id} ${reason}: nothing to acknowledge.`, { code: "alert_not_active" });
  }
  return { before, after: await getAlertRule(prisma, id, context) };
}

/** Silences the rule from now for the chosen duration (replacing any silence it had). */
export async function silenceAlert(
  prisma: PrismaClient,
  id: string,
  input: SilenceAlertInput,
  by: string,
  context: RuleContext,
): Promise<AlertAction> {
  const { durationSeconds } = silenceAlertInput.parse(input);
  const before = await getAlertRule(prisma, id, context);
  await prisma.alertRule.update({
    where: { id },
    data: { silencedUntil: new Date(Date.now() + durationSeconds * 1000), silencedBy: by },
  });
  return { before, after: await getAlertRule(prisma, id, context) };
}

/** Ends the rule's silence; 409 when it has none. */
export async function unsilenceAlert(prisma: PrismaClient, id: string, context: RuleContext): Promise<AlertAction> {
  const before = await getAlertRule(prisma, id, context);
  if (!before.silence) throw new ConflictError(`Alert ${id} is not silenced.`, { code: "alert_not_silenced" });
  await prisma.alertRule.update({ where: { id }, data: { silencedUntil: null, silencedBy: null } });
  return { before, after: await getAlertRule(prisma, id, context) };
}
