/**
 * How a proxy target process starts and stops: it listens on a free loopback port, tells the bench
 * its URL over IPC (startChild waits for it), and exits when told to or when the bench goes away.
 */
import type { AddressInfo, Server } from "node:net";
import { logMemory } from "./memory-log.js";

export function serveTarget(server: Server, name: string): void {
  server.listen(0, "127.0.0.1", () => {
    logMemory(name);
    process.send?.({ ready: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } });
  });
  process.once("SIGTERM", () => process.exit(0));
  process.on("disconnect", () => process.exit(0));
}
