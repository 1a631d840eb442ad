// Tells a webhook about each alert state change, in order, off the leader's evaluation path: one
// POST at a time with a timeout, no retries (a receiver that missed one sees the next change and
// can read the history). The queue is bounded; beyond it changes are dropped and logged.
// Connections go only where the upstream address policy allows (checked as each connects), and
// redirects are not followed: a receiver could otherwise send the POST anywhere, metadata included.
import type { Logger } from "pino";
import { Agent, request } from "undici";
import { type AddressPolicy, upstreamAddressPolicy } from "../../platform/net/address-policy";
import { guardedConnector } from "../../platform/net/guarded-connector";
import type { WebhookFormat } from "./webhook-format";

export interface AlertNotification {
  rule: {
    id: string;
    name: string;
    severity: string;
    metric: string;
    comparison: string;
    threshold: number | null;
    forSeconds: number;
  };
  subject: string;
  state: string;
  value: number | null;
  at: string;
  /** Where the value came from; "instance": an instance's own dependency alert (dependencies.ts). */
  source: "prometheus" | "postgres" | "instance";
}

const formatValue = (value: number | null) => (value === null ? "no data" : String(Number(value.toFixed(4))));

/** One line a person reads in a chat channel. */
export function slackText(n: AlertNotification): string {
  return `[${n.state.toUpperCase()}] ${n.rule.name} (${n.rule.severity}) — ${n.subject}: value ${formatValue(n.value)}, threshold ${formatValue(n.rule.threshold)}, at ${n.at}`;
}

export function webhookBody(notification: AlertNotification, format: WebhookFormat): string {
  return JSON.stringify(format === "slack" ? { text: slackText(notification) } : notification);
}

const TIMEOUT_MS = 5_000;
const MAX_QUEUED = 1_000;

export class WebhookSender {
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private readonly agent: Agent;

  constructor(
    private readonly logger: Logger,
    /** Where webhooks may connect (default: from configuration). */
    addressPolicy: AddressPolicy = upstreamAddressPolicy(),
  ) {
    this.agent = new Agent({ connect: guardedConnector(addressPolicy, { timeout: TIMEOUT_MS }), keepAliveTimeout: 10_000 });
  }

  send(url: string, notification: AlertNotification, format: WebhookFormat = "json"): void {
    if (this.queued >= MAX_QUEUED) {
      this.logger.warn(
        { rule: notification.rule.id, state: notification.state },
        "alert webhook queue full; notification dropped",
      );
      return;
    }
    this.queued++;
    this.chain = this.chain.then(async () => {
      try {
        const response = await request(url, {
          dispatcher: this.agent,
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": "agenticorp-alerts" },
          body: webhookBody(notification, format),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        await response.body.dump().catch(() => {});
        if (response.statusCode >= 300 && response.statusCode < 400) {
          this.logger.warn(
            { rule: notification.rule.id, status: response.statusCode },
            "alert webhook answered with a redirect, which is not followed",
          );
        } else if (response.statusCode >= 400) {
          this.logger.warn({ rule: notification.rule.id, status: response.statusCode }, "alert webhook refused the notification");
        }
      } catch (error) {
        this.logger.warn({ rule: notification.rule.id, err: (error as Error).message }, "alert webhook failed");
      } finally {
        this.queued--;
      }
    });
  }

  /** Resolves once everything queued so far was sent or given up. */
  idle(): Promise<void> {
    return this.chain;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.agent.close().catch(() => {});
  }
}
