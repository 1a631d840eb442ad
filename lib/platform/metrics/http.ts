// HTTP request metrics for the routes Fastify serves itself (the Next.js console is not counted).
// Routes are Fastify route templates, so the label set stays bounded (no ids, no raw URLs).
import client from "prom-client";
import { metric, registry, scrapedGauge } from "./registry";

export const httpRequestsTotal = metric(
  "agenticorp_http_requests_total",
  () =>
    new client.Counter({
      name: "agenticorp_http_requests_total",
      help: "HTTP requests served by the Fastify routes (API, health, metrics), by route template, method and status code.",
      labelNames: ["route", "method", "status"] as const,
      registers: [registry],
    }),
);

export const httpRequestDuration = metric(
  "agenticorp_http_request_duration_seconds",
  () =>
    new client.Histogram({
      name: "agenticorp_http_request_duration_seconds",
      help: "Duration of requests served by the Fastify routes, from the request received to the response sent.",
      labelNames: ["route", "method"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
);

/** Names the counter that agenticorp_http_requests_in_flight reports at scrape time. */
export const reportInFlightFrom = scrapedGauge(
  "agenticorp_http_requests_in_flight",
  "HTTP requests being served by this instance now (data plane and console).",
);

/** Names the count that agenticorp_http_connections_open reports at scrape time. */
export const reportOpenConnectionsFrom = scrapedGauge(
  "agenticorp_http_connections_open",
  "Client TCP connections open to this instance now, idle keep-alive ones included (a scraper's own counts too).",
);
