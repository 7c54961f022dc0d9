/**
 * A new request id: a UUID version 7 (RFC 9562), whose first 48 bits are the Unix time in
 * milliseconds and the rest random. The ledger is keyed by it: a time-ordered key is appended at
 * the end of the primary key's B-tree, where a random one (version 4) lands on a random page of an
 * index that outgrows the cache (on SQLite about half the work per row at 200,000 rows; InnoDB
 * stores rows in key order). Ids made in the same millisecond are in no particular order.
 */
export function newRequestId(now: number = Date.now()): string {
  // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: its variant bits (V) are the same in version 7.
  const random = crypto.randomUUID();
  const time = Math.trunc(now).toString(16).padStart(12, "0");
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
