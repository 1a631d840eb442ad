// A TCP proxy on 127.0.0.1 that a test places between a real server process and a dependency
// (PostgreSQL), so it can take the dependency away mid-run and give it back on the same port.
import net from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** Destroys every open connection and stops listening: new connections are then refused. */
  cut(): Promise<void>;
  /** Listens again on the same port, as if the dependency came back. */
  restore(): Promise<void>;
  /** Cuts for good; safe to call more than once. */
  close(): Promise<void>;
}

export interface ProxyTarget {
  host: string;
  port: number;
}

function listen(server: net.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host: "127.0.0.1" }, () => {
      server.off("error", reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export async function startTcpProxy(target: ProxyTarget): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    track(client);
    track(upstream);
    // Either side going away takes the other with it, as a broken network path would.
    const teardown = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on("error", teardown);
      socket.once("close", teardown);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });

  const port = await listen(server, 0);
  const cut = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  return {
    port,
    cut,
    async restore() {
      if (!server.listening) await listen(server, port);
    },
    close: cut,
  };
}
