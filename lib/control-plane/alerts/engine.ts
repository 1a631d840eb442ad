// The leader's alert evaluation: reads each enabled rule's metric through the MetricsSource
// (Prometheus or the PostgreSQL rollups, whichever the console reads), moves every subject's state
// (lib/control-plane/alerts/state.ts), and writes states and history in one transaction fenced by the
// leadership's token, on the database's clock — so a new leader continues a pending alert's `for`
// where the old one left it. Webhooks go out after the commit, except for a silenced rule's
// (states and history are still written). An acknowledgement lasts until its alert ends.
//
// A rule's value is its metric over the last complete window of `window_seconds` that the data
// can answer for: windows end on a multiple of the window's alignment (see lib/platform/metrics-history/query/grid)
// a couple of seconds back, so that every instance's snapshot for the window has been written.
import type pg from "pg";
import type { Logger } from "pino";
import type { Fence } from "../../platform/coordination/lease";
import { alignmentOf } from "../../platform/metrics-history/query/grid";
import type { MetricsSource, Series, TimeRange } from "../../platform/metrics-history/query/types";
import { inFencedTransaction, Prisma, rows } from "../../platform/metrics-history/sql";
import { alertTitle } from "./describe";
import { keyBudgetUse } from "./key-budgets";
import { DEFAULT_MIN_REPLICAS, policyMinReplicas, severityInForce, type ScalingTargetKind } from "./policy";
import type { AlertMetricName } from "./describe";
import { termsOf, type AlertStatusName, type AlertTransitionName } from "./rules";
import { breaches, INACTIVE, nextState, type SubjectState } from "./state";
import type { WebhookSender } from "./webhook";
import type { WebhookFormat } from "./webhook-format";

const FLEET = "fleet";
/** How long after a window ends its last snapshots are certainly written. */
const SETTLE_MS = 2_000;

export interface AlertEngineOptions {
  pool: pg.Pool;
  source: MetricsSource;
  webhooks: WebhookSender;
  /** Used for rules without a webhook of their own (ALERT_WEBHOOK_URL). */
  defaultWebhookUrl?: string;
  /** For rules without a format of their own (ALERT_WEBHOOK_FORMAT; default json). */
  defaultWebhookFormat?: WebhookFormat;
  /** USAGE_TIME_ZONE: the calendar of the keys' budgets (default UTC). */
  timeZone?: string;
  /** SCALING_TARGET: decides how severe "below the policy minimum" is (default none). */
  scalingTarget?: ScalingTargetKind;
  logger: Logger;
  now?: () => number;
}

export interface Transition {
  ruleId: string;
  subject: string;
  state: AlertTransitionName;
  value: number | null;
  threshold: number;
  /** The alert's title at the time, kept with the history. */
  title: string;
  at: Date;
}

/** The last complete window of `windowSeconds` before `nowMs`, as one grid step. */
export function evaluationRange(windowSeconds: number, nowMs: number): TimeRange {
  const alignMs = alignmentOf(windowSeconds) * 1000;
  const end = Math.floor((nowMs - SETTLE_MS) / alignMs) * alignMs;
  return { start: new Date(end - windowSeconds * 1000), end: new Date(end), stepSeconds: windowSeconds };
}

const lastValue = (series: Series | undefined) => series?.points.at(-1)?.v ?? null;

/** The rule's metric per subject: each instance for per-instance metrics, else FLEET. */
async function observe(
  metric: AlertMetricName,
  windowSeconds: number,
  source: MetricsSource,
  nowMs: number,
  pool: pg.Pool,
  timeZone: string,
): Promise<Map<string, number | null>> {
  const range = evaluationRange(windowSeconds, nowMs);
  const perInstance = (series: Series[]) => new Map(series.map((s) => [s.name, lastValue(s)]));
  switch (metric) {
    case "cpu_percent":
      return perInstance(await source.cpuUtilisation(range));
    case "memory_percent":
      return perInstance(await source.memoryUtilisation(range));
    case "error_rate_percent": {
      const rate = lastValue((await source.errorRate(range)).find((s) => s.name === "5xx"));
      return new Map([[FLEET, rate === null ? null : rate * 100]]);
    }
    case "latency_p95_seconds":
      return new Map([[FLEET, lastValue((await source.latencyPercentiles(range)).find((s) => s.name === "p95"))]]);
    case "instance_count":
      return new Map([
        [FLEET, (await source.instanceHealth()).filter((i) => i.status === "healthy" && i.role !== "console").length],
      ]);
    case "upstream_auth_rejected":
      return new Map([[FLEET, lastValue((await source.upstreamAuthRejections(range))[0])]]);
    case "key_budget_used_percent":
      return keyBudgetUse(pool, timeZone);
  }
}

interface RuleRow {
  id: string;
  name: string;
  metric: AlertMetricName;
  comparison: "above" | "below";
  threshold: number | null;
  forSeconds: number;
  windowSeconds: number;
  severity: string;
  enabled: boolean;
  webhookUrl: string | null;
  webhookFormat: WebhookFormat | null;
  silenced: boolean;
}

interface StoredState extends SubjectState {
  ruleId: string;
  subject: string;
}

/**
 * One evaluation of every rule. Resolves to the transitions written, or null when the fence
 * refused (this instance is no longer the leader; nothing was written).
 */
export async function evaluateAlerts(options: AlertEngineOptions, fence: Fence): Promise<Transition[] | null> {
  const { pool, source, logger } = options;
  const now = options.now ?? Date.now;
  // Plain SQL: this runs on the leader beside its share of the traffic, and Prisma's query
  // interpreter held the event loop for milliseconds per read (npm run bench:jobs).
  const [rules, [policy]] = await Promise.all([
    rows<RuleRow>(
      pool,
      Prisma.sql`SELECT id, name, metric::text AS metric, comparison::text AS comparison, threshold, for_seconds AS "forSeconds",
                        window_seconds AS "windowSeconds", severity, enabled, webhook_url AS "webhookUrl",
                        webhook_format AS "webhookFormat", coalesce(silenced_until > now(), false) AS silenced
                 FROM alert_rules ORDER BY id`,
    ),
    rows<{ spec: unknown }>(pool, Prisma.sql`SELECT spec FROM scaling_policies WHERE active LIMIT 1`),
  ]);
  const policyMinimum = policy ? policyMinReplicas(policy.spec) : DEFAULT_MIN_REPLICAS;

  // Metrics first, outside the transaction: a slow source must not hold row locks. A rule whose
  // query failed keeps its states untouched rather than resolving on missing data. One rule at a
  // time: nobody waits on this, and the embedded database serves one query at a time anyway.
  const observed = new Map<string, Map<string, number | null>>();
  for (const rule of rules.filter((r) => r.enabled)) {
    try {
      observed.set(rule.id, await observe(rule.metric, rule.windowSeconds, source, now(), pool, options.timeZone ?? "UTC"));
    } catch (error) {
      logger.warn(
        { rule: rule.id, source: source.kind, err: (error as Error).message },
        "alert rule not evaluated: metrics query failed",
      );
    }
  }

  const transitions = await inFencedTransaction(options.pool, fence, async (client) => {
    const [clock] = await rows<{ now: Date }>(client, Prisma.sql`SELECT clock_timestamp() AS now`);
    const dbNow = clock!.now;
    const stored = await rows<{
      rule_id: string;
      subject: string;
      status: AlertStatusName;
      active_since: Date | null;
      fired_at: Date | null;
    }>(client, Prisma.sql`SELECT rule_id, subject, status::text AS status, active_since, fired_at FROM alert_states FOR UPDATE`);
    const current = new Map<string, StoredState>(
      stored.map((s) => [
        `${s.rule_id}\u0000${s.subject}`,
        {
          ruleId: s.rule_id,
          subject: s.subject,
          status: s.status,
          activeSince: s.active_since?.getTime() ?? null,
          firedAt: s.fired_at?.getTime() ?? null,
        },
      ]),
    );
    const nowMs = dbNow.getTime();
    const upserts: Array<StoredState & { value: number | null }> = [];
    const removals: Array<{ ruleId: string; subject: string }> = [];
    const changes: Transition[] = [];
    for (const rule of rules) {
      const values = rule.enabled ? observed.get(rule.id) : new Map<string, number | null>();
      if (!values) continue; // query failed: leave this rule's states as they are
      const threshold = rule.threshold ?? policyMinimum;
      const subjects = new Set([
        ...values.keys(),
        ...[...current.values()].filter((s) => s.ruleId === rule.id).map((s) => s.subject),
      ]);
      for (const subject of subjects) {
        const before = current.get(`${rule.id}\u0000${subject}`) ?? { ...INACTIVE, ruleId: rule.id, subject };
        const value = values.get(subject) ?? null;
        const { state, transition } = nextState(before, breaches(value, rule.comparison, threshold), nowMs, rule.forSeconds);
        if (transition)
          changes.push({
            ruleId: rule.id,
            subject,
            state: transition,
            value,
            threshold,
            title: alertTitle(termsOf(rule, policyMinimum)),
            at: dbNow,
          });
        if (state.status === "inactive" && !values.has(subject)) removals.push({ ruleId: rule.id, subject });
        else upserts.push({ ...state, ruleId: rule.id, subject, value });
      }
    }
    await writeStates(client, upserts, removals, dbNow);
    await writeEvents(client, changes);
    return changes;
  });
  if (transitions === null) return null;

  for (const t of transitions) {
    const rule = rules.find((r) => r.id === t.ruleId)!;
    const url = rule.webhookUrl ?? options.defaultWebhookUrl;
    if (t.state === "firing" || t.state === "resolved")
      logger.warn(
        { rule: t.ruleId, subject: t.subject, state: t.state, value: t.value, silenced: rule.silenced },
        `alert ${t.state}`,
      );
    if (!url || rule.silenced) continue;
    const { severity } = severityInForce(rule.metric, rule.severity, options.scalingTarget ?? "none");
    options.webhooks.send(
      url,
      {
        rule: {
          id: rule.id,
          name: t.title,
          severity,
          metric: rule.metric,
          comparison: rule.comparison,
          threshold: t.threshold,
          forSeconds: rule.forSeconds,
        },
        subject: t.subject,
        state: t.state,
        value: t.value,
        at: t.at.toISOString(),
        source: source.kind,
      },
      rule.webhookFormat ?? options.defaultWebhookFormat ?? "json",
    );
  }
  return transitions;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

async function writeStates(
  client: pg.PoolClient,
  upserts: Array<StoredState & { value: number | null }>,
  removals: Array<{ ruleId: string; subject: string }>,
  at: Date,
) {
  if (upserts.length > 0) {
    await rows(
      client,
      Prisma.sql`
        INSERT INTO alert_states (rule_id, subject, status, active_since, fired_at, value, evaluated_at)
        SELECT rule_id, subject, status, active_since, fired_at, value, ${at.toISOString()}::timestamptz
        FROM unnest(${upserts.map((u) => u.ruleId)}::text[], ${upserts.map((u) => u.subject)}::text[],
                    ${upserts.map((u) => u.status)}::"AlertStatus"[], ${upserts.map((u) => iso(u.activeSince))}::timestamptz[],
                    ${upserts.map((u) => iso(u.firedAt))}::timestamptz[], ${upserts.map((u) => u.value)}::float8[])
          AS u(rule_id, subject, status, active_since, fired_at, value)
        ON CONFLICT (rule_id, subject) DO UPDATE SET status = EXCLUDED.status, active_since = EXCLUDED.active_since,
          fired_at = EXCLUDED.fired_at, value = EXCLUDED.value, evaluated_at = EXCLUDED.evaluated_at,
          -- an acknowledgement is of one alert: it ends with it
          acknowledged_at = CASE WHEN EXCLUDED.status = 'inactive' THEN NULL ELSE alert_states.acknowledged_at END,
          acknowledged_by = CASE WHEN EXCLUDED.status = 'inactive' THEN NULL ELSE alert_states.acknowledged_by END`,
    );
  }
  if (removals.length > 0) {
    await rows(
      client,
      Prisma.sql`
        DELETE FROM alert_states WHERE (rule_id, subject) IN (
          SELECT * FROM unnest(${removals.map((r) => r.ruleId)}::text[], ${removals.map((r) => r.subject)}::text[]))`,
    );
  }
}

async function writeEvents(client: pg.PoolClient, transitions: Transition[]) {
  if (transitions.length === 0) return;
  await rows(
    client,
    Prisma.sql`
      INSERT INTO alert_events (rule_id, subject, state, value, threshold, title, at)
      SELECT * FROM unnest(${transitions.map((t) => t.ruleId)}::text[], ${transitions.map((t) => t.subject)}::text[],
                           ${transitions.map((t) => t.state)}::"AlertTransition"[], ${transitions.map((t) => t.value)}::float8[],
                           ${transitions.map((t) => t.threshold)}::float8[], ${transitions.map((t) => t.title)}::text[],
                           ${transitions.map((t) => t.at.toISOString())}::timestamptz[])`,
  );
}
