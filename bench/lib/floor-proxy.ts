// The floor for the overhead bench: the least a Node.js gateway on the same parts (Fastify in
// front, undici to the upstream) can add, with no keys, routing, metrics, logs or cache. It tells
// what this machine charges for any proxy hop, so the gateway's own share can be read off.
import Fastify from "fastify";
import { Pool } from "undici";

export async function serveFloorProxy(upstreamUrl: string): Promise<void> {
  const upstream = new Pool(upstreamUrl, { connections: 64 });
  const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
  app.post("/v1/chat/completions", async (request, reply) => {
    const answer = await upstream.request({
      path: "/v1/chat/completions",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request.body),
    });
    const text = await answer.body.text();
    return reply.code(answer.statusCode).header("content-type", "application/json").send(text);
  });
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  process.stdout.write(`${address}\n`);
  process.on("SIGTERM", () => process.exit(0));
}
