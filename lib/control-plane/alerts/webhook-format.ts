// The bodies an alert webhook can receive. Apart from webhook.ts so the rules' schema can name
// them without pulling the HTTP client into everything that validates a rule change.

/** "json": the notification as it is; "slack": `{"text": ...}`, which Slack-compatible incoming webhooks post. */
export const WEBHOOK_FORMATS = ["json", "slack"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];
