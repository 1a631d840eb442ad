// Structured JSON logs (pino). Credentials are redacted wherever they could appear.
import pino, { type Logger } from "pino";

export function createLogger(level: string, instanceId: string): Logger {
  return pino({
    level,
    base: { instance_id: instanceId, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
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
