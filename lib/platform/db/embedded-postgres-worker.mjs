// Worker thread: PGlite (PostgreSQL compiled to WASM) served over the PostgreSQL wire protocol
// on loopback, so the rest of the process talks to it with the same pg driver as to a server.
// Plain JavaScript so it needs no TypeScript loader inside the worker.
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const db = await PGlite.create(workerData.dataDir);
const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 64 });
await server.start();
const [, port] = server.getServerConn().split(":");
parentPort.postMessage({ type: "listening", port: Number(port) });

parentPort.on("message", async (message) => {
  if (message?.type !== "stop") return;
  await server.stop();
  await db.close();
  parentPort.postMessage({ type: "stopped" });
});
