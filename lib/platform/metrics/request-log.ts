// The request log's own accounting (lib/data-plane/request-log): what it kept, wrote and dropped.
import client from "prom-client";
import { metric, registry } from "./registry";

export const REQUEST_LOG_OUTCOMES = ["written", "dropped", "retried"] as const;
export type RequestLogOutcome = (typeof REQUEST_LOG_OUTCOMES)[number];

export const requestLogEntries = metric(
  "agenticorp_request_log_entries_total",
  () =>
    new client.Counter<"outcome">({
      name: "agenticorp_request_log_entries_total",
      help: "Request log entries kept by this instance, by outcome: written (rows inserted), dropped (buffer full, or refused by the database with no room to retry), retried (in a batch the database refused, queued again).",
      labelNames: ["outcome"],
      registers: [registry],
    }),
);

export const requestLogBuffered = metric(
  "agenticorp_request_log_buffered",
  () =>
    new client.Gauge({
      name: "agenticorp_request_log_buffered",
      help: "Request log entries waiting to be written.",
      registers: [registry],
    }),
);
