// A TCP forwarder on 127.0.0.1 that a test can take down and bring back: a real database outage
// (open connections cut, new ones refused) for the server and the drills, without touching the
// shared database server behind it.
import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** Refuse new connections and cut every open one. */
  stop(): Promise<void>;
  /** Accept connections again, on the same port. */
  start(): Promise<void>;
  /** Keep connections open but stop moving bytes (a database that hangs instead of refusing). */
  freeze(): void;
  thaw(): void;
}

export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  let frozen = false;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on("close", () => sockets.delete(sock));
          sock.on("error", () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream);
        upstream.pipe(client);
        if (frozen) {
          client.pause();
          upstream.pause();
        }
      });
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        port = (s.address() as AddressInfo).port;
        server = s;
        resolve();
      });
    });

  await listen();
  return {
    get port() {
      return port;
    },
    async stop() {
      const s = server;
      server = null;
      for (const sock of sockets) sock.destroy();
      if (s !== null) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async start() {
      if (server === null) await listen();
    },
    freeze() {
      frozen = true;
      for (const sock of sockets) sock.pause();
    },
    thaw() {
      frozen = false;
      for (const sock of sockets) sock.resume();
    },
  };
}
