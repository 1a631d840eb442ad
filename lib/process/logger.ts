// Structured JSON logs (pino). Credentials are redacted wherever they could appear.
import pino, { type Logger } from "pino";

let stampedAt = -1;
let stamp = "";

/** pino's isoTime, formatted once per millisecond: under load many lines share a millisecond. */
function isoTime(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}

export function createLogger(level: string, instanceId: string): Logger {
  return pino({
    level,
    base: { instance_id: instanceId, pid: process.pid },
    timestamp: isoTime,
    redact: {
      paths: [
        "req.headers.authorization",
        "headers.authorization",
        "*.apiKey",
        "*.api_key",
        "*.password",
        "*.secret",
        "*.SECRET",
        "*.DATABASE_URL",
      ],
      censor: "[redacted]",
    },
  });
}
