import Fastify from "fastify";
import { COMPLETION_BODY } from "./bench/lib/child-server";
const app = Fastify({ logger: false });
app.post("/v1/chat/completions", async (req, reply) => { reply.header("content-type","application/json"); return COMPLETION_BODY; });
await app.listen({ port: 0, host: "127.0.0.1" });
console.log(`http://127.0.0.1:${(app.server.address() as any).port}`);
