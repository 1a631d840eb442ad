// Runs a tiny node:http server in a child process (this file re-executed with a flag), so the
// server under comparison does not share an event loop with the load generator.
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";

export type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

/** In the child: serve `handler` and print the URL. */
export function serveInChild(handler: Handler): void {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 65_000;
  server.listen(0, "127.0.0.1", () => process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
  process.on("SIGTERM", () => process.exit(0));
}

/** In the parent: start `script` with `flag` (and `args`) and wait for the URL it prints. */
export function startChildServer(
  script: string,
  flag: string,
  args: string[] = [],
): Promise<{ url: string; child: ChildProcess; stop(): void }> {
  const child = spawn(process.execPath, ["--import", "tsx", script, flag, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill("SIGKILL"), reject(new Error(`${flag} server did not start in 20 s`))), 20_000);
    let buffered = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      if (!buffered.includes("\n")) return;
      clearTimeout(timer);
      resolve({ url: buffered.trim(), child, stop: () => child.kill("SIGTERM") });
    });
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`${flag} server exited with ${code}`))));
  });
}

/** A fixed, OpenAI-shaped completion: the cheapest honest upstream or baseline. */
const COMPLETION_BODY = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_800_000_000,
  model: "bench",
  choices: [
    {
      index: 0,
      message: { role: "assistant", content: "benchmark answer with a few words in it", refusal: null },
      logprobs: null,
      finish_reason: "stop",
    },
  ],
  usage: { prompt_tokens: 5, completion_tokens: 8, total_tokens: 13 },
});

export const answerCompletion: Handler = (request, response) => {
  request.resume();
  request.on("end", () => {
    response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(COMPLETION_BODY) });
    response.end(COMPLETION_BODY);
  });
};
