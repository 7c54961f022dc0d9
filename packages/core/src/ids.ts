/** Two hex digits per byte value. */
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));
/** Random bytes drawn in bulk: one draw per id cost more than the rest of the id. */
const pool = new Uint8Array(10 * 1024);
let poolAt = pool.length;
/** The id's time part (`tttttttt-tttt-7`) for the millisecond it was made in. */
let prefixMs = -1;
let prefix = "";

/**
 * A new request id: a UUID version 7 (RFC 9562), whose first 48 bits are the Unix time in
 * milliseconds and the other 74 (besides version and variant) random. The ledger is keyed by it:
 * a time-ordered key is appended at the end of the primary key's B-tree, where a random one
 * (version 4) lands on a random page of an index that outgrows the cache (on SQLite about half the
 * work per row at 200,000 rows; InnoDB stores rows in key order). Ids made in the same millisecond
 * are in no particular order.
 */
export function newRequestId(now: number = Date.now()): string {
  if (now !== prefixMs) {
    const time = Math.trunc(now).toString(16).padStart(12, "0");
    prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
    prefixMs = now;
  }
  if (poolAt + 10 > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const r = pool;
  const i = poolAt;
  poolAt += 10;
  // 12 random bits, then the variant (binary 10) and 62 random bits.
  return (
    prefix +
    HEX[r[i]! & 0x0f]!.slice(1) +
    HEX[r[i + 1]!] +
    "-" +
    HEX[(r[i + 2]! & 0x3f) | 0x80] +
    HEX[r[i + 3]!] +
    "-" +
    HEX[r[i + 4]!] +
    HEX[r[i + 5]!] +
    HEX[r[i + 6]!] +
    HEX[r[i + 7]!] +
    HEX[r[i + 8]!] +
    HEX[r[i + 9]!]
  );
}
