import type { RouterHook } from "@bitrouter/router";
import type { Ledger, Store, UsageGroupBy, UsageQuery } from "@bitrouter/store";
import type { Logger } from "./logger.js";

/** The store and its ledger, open for the life of the process (they survive reloads). */
export interface Metering {
  store: Store;
  ledger: Ledger;
  hook: RouterHook;
  /** Flushes every accepted row, then closes the database. */
  close(): Promise<void>;
}

export async function openMetering(url: string, logger: Logger, baseDir?: string): Promise<Metering> {
  // The store (kysely, a SQL driver) loads only with a database: a server without one stays light.
  const { createLedger, openStore, toLedgerRow } = await import("@bitrouter/store");
  const store = await openStore(url, { logger, ...(baseDir ? { baseDir } : {}) });
  const ledger = createLedger(store, { logger });
  return {
    store,
    ledger,
    // Appends to an in-memory batch; never waits for the database.
    hook: { name: "metering", onComplete: (record) => ledger.record(toLedgerRow(record)) },
    async close() {
      await ledger.close();
      await store.close();
    },
  };
}

const GROUPS: readonly UsageGroupBy[] = ["day", "model", "provider", "key", "route"];

/** Parses `?group_by=day&since=...&until=...&key_id=...` (dates as ISO strings or epoch ms). */
export function parseUsageQuery(params: URLSearchParams): UsageQuery | { error: string } {
  const groupBy = (params.get("group_by") ?? "day") as UsageGroupBy;
  if (!GROUPS.includes(groupBy)) return { error: `group_by must be one of ${GROUPS.join(", ")}; got '${groupBy}'` };
  const query: UsageQuery = { groupBy };
  for (const name of ["since", "until"] as const) {
    const raw = params.get(name);
    if (raw === null) continue;
    const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
    if (!Number.isFinite(ms)) return { error: `${name} must be an ISO date or epoch milliseconds; got '${raw}'` };
    query[name] = ms;
  }
  const keyId = params.get("key_id");
  if (keyId) query.keyId = keyId;
  const accountId = params.get("account_id");
  if (accountId) query.accountId = accountId;
  return query;
}

export async function usageReport(metering: Metering, query: UsageQuery) {
  await metering.ledger.flush(); // include what this instance accepted a moment ago
  const { usage } = await import("@bitrouter/store");
  return { group_by: query.groupBy, rows: await usage(metering.store, query) };
}
