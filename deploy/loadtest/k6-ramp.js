// k6 script: the scaling guide's ramp against chat completions.
//   AGENTICORP_KEY=ak-... k6 run deploy/loadtest/k6-ramp.js
//   AGENTICORP_URL (default http://127.0.0.1:3000), AGENTICORP_MODEL (default sim-fast),
//   AGENTICORP_STREAM=1 to stream.
// k6 cannot be installed on the build machines (it is not in Debian or npm): this file is only
// syntax-checked there (node --check). `npm run loadtest` and deploy/loadtest/wrk-completions.lua
// run anywhere.
import http from "k6/http";
import { check, sleep } from "k6";

const BASE = __ENV.AGENTICORP_URL || "http://127.0.0.1:3000";
const KEY = __ENV.AGENTICORP_KEY || "";
const MODEL = __ENV.AGENTICORP_MODEL || "sim-fast";
const STREAM = __ENV.AGENTICORP_STREAM === "1";

export const options = {
  stages: [
    { duration: "2m", target: 100 }, // ramp up to 100 users
    { duration: "5m", target: 100 }, // stay at 100 users
    { duration: "2m", target: 200 }, // ramp to 200 users
    { duration: "5m", target: 200 }, // stay at 200 users
    { duration: "2m", target: 0 }, // ramp down
  ],
  thresholds: {
    // The guide's targets: errors under 1%, p95 under one second.
    http_req_failed: ["rate<0.01"],
    http_req_duration: ["p(95)<1000"],
  },
};

export function setup() {
  if (!KEY) throw new Error("set AGENTICORP_KEY to an API key (npm run --silent keys:create -- --name k6)");
}

export default function () {
  const body = JSON.stringify({
    model: MODEL,
    stream: STREAM,
    // temperature 0.7 keeps the response cache out of the measurement.
    temperature: 0.7,
    messages: [{ role: "user", content: `k6 iteration ${__ITER} of VU ${__VU}: one sentence on horizontal scaling.` }],
  });
  const res = http.post(`${BASE}/v1/chat/completions`, body, {
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${KEY}` },
    timeout: "60s",
  });
  check(res, {
    "status is 200": (r) => r.status === 200,
    "complete answer": (r) =>
      STREAM ? String(r.body).trimEnd().endsWith("data: [DONE]") : Boolean(r.json("choices.0.message.content")),
    "response time < 1000ms": (r) => r.timings.duration < 1000,
  });
  // Think time: a user sends about one request a second.
  sleep(1);
}
