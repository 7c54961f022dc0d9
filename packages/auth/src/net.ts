import { BlockList, isIP } from "node:net";

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/**
 * Whether a listen host only accepts local connections: `localhost`, 127.0.0.0/8, ::1 (bracketed
 * or not) and IPv4-mapped ::ffff:127.x. `0.0.0.0`, `::` and every other address are not. The server
 * refuses to bind a non-loopback address without auth.
 */
export function isLoopbackAddress(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h === "localhost") return true;
  const family = isIP(h);
  if (family === 4) return loopback.check(h, "ipv4");
  if (family === 6) return loopback.check(h, "ipv6");
  return false;
}
