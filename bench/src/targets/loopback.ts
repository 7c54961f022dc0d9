/**
 * Preload (`node --import`) for peers whose start script has no host option: every TCP listen
 * binds 127.0.0.1, so a benchmark never opens a port beyond loopback.
 */
import net from "node:net";

type Listen = (...args: unknown[]) => net.Server;
const original = net.Server.prototype.listen as Listen;
net.Server.prototype.listen = function patchedListen(this: net.Server, ...args: unknown[]): net.Server {
  const [first] = args;
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, cb]): replace or insert the host
    const rest = args.slice(1);
    if (typeof rest[0] === "string" || rest[0] === undefined) rest.shift();
    return original.call(this, Number(first), "127.0.0.1", ...rest);
  }
  if (first && typeof first === "object" && !("fd" in first) && !("path" in first && (first as { path?: unknown }).path)) {
    return original.call(this, { ...(first as object), host: "127.0.0.1" }, ...args.slice(1));
  }
  if (first === undefined || typeof first === "function") return original.call(this, 0, "127.0.0.1", ...args.filter((a) => a !== undefined));
  return original.apply(this, args);
} as typeof net.Server.prototype.listen;
