// The leader's alert job: evaluate the alert rules against the metrics and notify (alert history is pruned with the
// other tables, lib/platform/retention). It runs only while this instance leads, its writes fenced with the token.
import { getMetricsSource } from "../../platform/metrics-history/query";
import { loggedLeaderJobs, type SingletonContext } from "../../platform/process/leader-jobs";
import { evaluateAlerts } from "./engine";
import { WebhookSender } from "./webhook";

export function registerAlertJobs({ leader, holder, database, config, logger }: SingletonContext): void {
  const { pool } = database;
  const job = loggedLeaderJobs(leader, logger, "observability");
  const source = getMetricsSource(config, pool);
  const webhooks = new WebhookSender(logger);
  job("alerts-evaluate", config.ALERT_EVALUATION_MS, async (token) => {
    await evaluateAlerts(
      {
        pool,
        source,
        webhooks,
        defaultWebhookUrl: config.ALERT_WEBHOOK_URL,
        defaultWebhookFormat: config.ALERT_WEBHOOK_FORMAT,
        scalingTarget: config.SCALING_TARGET,
        timeZone: config.USAGE_TIME_ZONE,
        logger,
      },
      { name: "leader", holder, token },
    );
  });
}
