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
  return pino(
    {
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
    },
    batchedStdout(),
  );
}

/**
 * Standard output, written in batches of up to 4 KiB and at least every 100 ms: one write per
 * line was a system call (and a wake-up of whatever reads the pipe) per request. Lines still
 * buffered are written at exit; a SIGKILL loses at most the last 100 ms.
 */
function batchedStdout() {
  return pino.destination({ dest: 1, minLength: 4_096, periodicFlush: 100 });
}
