// Graceful drain. Readiness fails at once; the listener stops accepting; requests in flight and
// streams run to their end; idle keep-alive sockets are left for the balancer to close (closing
// one ourselves races a request the balancer may be sending on it, and a POST it already sent
// cannot be retried), with every response meanwhile saying `Connection: close`. At the deadline
// whatever is left is cut.
import net from "node:net";
import type { Server, Socket } from "node:net";
import type { InstanceState } from "./lifecycle";

export interface ConnectionTracker {
  readonly open: number;
  destroyAll(): void;
}

export function trackConnections(server: Server): ConnectionTracker {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return {
    get open() {
      return sockets.size;
    },
    destroyAll() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * Stops accepting new connections without touching open ones (http.Server#close would also
 * close idle keep-alive sockets). Returns at once; drainConnections does the waiting.
 */
export function stopAccepting(server: Server): void {
  if (server.listening) net.Server.prototype.close.call(server);
}

export interface DrainResult {
  timedOut: boolean;
  waitedMs: number;
  cutConnections: number;
}

/** Waits until nothing is in flight and every connection is closed, or the deadline passes. */
export async function drainConnections(
  state: InstanceState,
  connections: ConnectionTracker,
  deadlineMs: number,
  forced: AbortSignal,
): Promise<DrainResult> {
  const started = Date.now();
  const settled = () => state.inFlight === 0 && connections.open === 0;
  while (!settled() && Date.now() - started < deadlineMs && !forced.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const cutConnections = settled() ? 0 : connections.open;
  if (cutConnections > 0) connections.destroyAll();
  return { timedOut: cutConnections > 0, waitedMs: Date.now() - started, cutConnections };
}
