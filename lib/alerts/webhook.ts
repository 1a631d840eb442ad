// Tells a webhook about each alert state change, in order, off the leader's evaluation path: one
// POST at a time with a timeout, no retries (a receiver that missed one sees the next change and
// can read the history). The queue is bounded; beyond it changes are dropped and logged.
import type { Logger } from "pino";

export interface AlertNotification {
  rule: { id: string; name: string; severity: string; metric: string; comparison: string; threshold: number | null; forSeconds: number };
  subject: string;
  state: string;
  value: number | null;
  at: string;
  /** Where the value came from; "instance": an instance's own dependency alert (dependencies.ts). */
  source: "prometheus" | "postgres" | "instance";
}

const TIMEOUT_MS = 5_000;
const MAX_QUEUED = 1_000;

export class WebhookSender {
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    private readonly logger: Logger,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  send(url: string, notification: AlertNotification): void {
    if (this.queued >= MAX_QUEUED) {
      this.logger.warn({ rule: notification.rule.id, state: notification.state }, "alert webhook queue full; notification dropped");
      return;
    }
    this.queued++;
    this.chain = this.chain.then(async () => {
      try {
        const response = await this.fetchImpl(url, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": "agenticorp-alerts" },
          body: JSON.stringify(notification),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        await response.body?.cancel().catch(() => {});
        if (!response.ok) this.logger.warn({ rule: notification.rule.id, status: response.status }, "alert webhook refused the notification");
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
}
