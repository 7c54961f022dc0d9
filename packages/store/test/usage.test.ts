import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { createLedger, type LedgerRow, openStore, pruneLedger, spend, type Store, usage } from "../src/index.js";
import { allBackends, type TestDatabase } from "./backends.js";

const DAY1 = Date.UTC(2026, 2, 1); // 2026-03-01T00:00:00Z
const H = 3_600_000;

function row(id: string, extra: Partial<LedgerRow>): LedgerRow {
  return {
    id,
    createdAt: DAY1,
    inboundProtocol: "openai_chat",
    route: "default",
    provider: "openai",
    model: "gpt-4o",
    stream: false,
    status: 200,
    latencyMs: 10,
    ...extra,
  };
}

// Costs are large, distinct integers so any float rounding or lost row shows up in the sums.
const ROWS: LedgerRow[] = [
  row("r1", {
    createdAt: DAY1 + 1 * H,
    keyId: "k1",
    accountId: "a1",
    inputTokens: 100,
    outputTokens: 10,
    cacheReadTokens: 40,
    costMicroUsd: 1_000_000_000_001,
  }),
  row("r2", { createdAt: DAY1 + 24 * H - 1, keyId: "k1", accountId: "a1", inputTokens: 200, outputTokens: 20, costMicroUsd: 2_000_000_000_003 }),
  row("r3", {
    createdAt: DAY1 + 24 * H,
    keyId: "k2",
    accountId: "a1",
    model: "claude-sonnet-4",
    provider: "anthropic",
    route: "smart",
    inputTokens: 300,
    outputTokens: 30,
    cacheWriteTokens: 7,
    reasoningTokens: 11,
    costMicroUsd: 3_000_000_000_005,
  }),
  row("r4", {
    createdAt: DAY1 + 25 * H,
    keyId: "k2",
    accountId: "a2",
    model: "claude-sonnet-4",
    provider: "anthropic",
    route: "smart",
    status: 502,
    errorKind: "upstream_error",
    costMicroUsd: null,
  }),
  row("r5", {
    createdAt: DAY1 + 49 * H,
    keyId: null,
    model: "gemini-2.5-pro",
    provider: "google",
    route: "smart",
    stream: true,
    status: 200,
    errorKind: "stream_error",
    inputTokens: 50,
    outputTokens: 5,
    costMicroUsd: 7,
  }),
];

describe.each(allBackends)("$name: usage and spend", (backend) => {
  let database: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    database = await backend.create();
    store = await openStore(database.url);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });
  beforeEach(async () => {
    await store.db.deleteFrom("requests").execute();
    const ledger = createLedger(store, { flushIntervalMs: 60_000 });
    for (const r of ROWS) ledger.record(r);
    await ledger.close();
  });

  test("by UTC day, with exact integer costs", async () => {
    expect(await usage(store, { groupBy: "day" })).toEqual([
      {
        group: "2026-03-01",
        requests: 2,
        errors: 0,
        inputTokens: 300,
        outputTokens: 30,
        cacheReadTokens: 40,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        costMicroUsd: 3_000_000_000_004,
      },
      {
        group: "2026-03-02",
        requests: 2,
        errors: 1,
        inputTokens: 300,
        outputTokens: 30,
        cacheReadTokens: 0,
        cacheWriteTokens: 7,
        reasoningTokens: 11,
        costMicroUsd: 3_000_000_000_005,
      },
      {
        group: "2026-03-03",
        requests: 1,
        errors: 1,
        inputTokens: 50,
        outputTokens: 5,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        costMicroUsd: 7,
      },
    ]);
  });

  test("by model, provider, key and route", async () => {
    const pick = (rows: Awaited<ReturnType<typeof usage>>) => rows.map((r) => [r.group, r.requests, r.errors, r.costMicroUsd]);
    expect(pick(await usage(store, { groupBy: "model" }))).toEqual([
      ["claude-sonnet-4", 2, 1, 3_000_000_000_005],
      ["gemini-2.5-pro", 1, 1, 7],
      ["gpt-4o", 2, 0, 3_000_000_000_004],
    ]);
    expect(pick(await usage(store, { groupBy: "provider" }))).toEqual([
      ["anthropic", 2, 1, 3_000_000_000_005],
      ["google", 1, 1, 7],
      ["openai", 2, 0, 3_000_000_000_004],
    ]);
    const byKey = pick(await usage(store, { groupBy: "key" }));
    // NULL sorts first on SQLite/MySQL and last on PostgreSQL: compare as a set.
    expect(byKey).toHaveLength(3);
    expect(byKey).toEqual(
      expect.arrayContaining([
        [null, 1, 1, 7],
        ["k1", 2, 0, 3_000_000_000_004],
        ["k2", 2, 1, 3_000_000_000_005],
      ]),
    );
    expect(pick(await usage(store, { groupBy: "route" }))).toEqual([
      ["default", 2, 0, 3_000_000_000_004],
      ["smart", 3, 2, 3_000_000_000_012],
    ]);
  });

  test("filters: time window (since inclusive, until exclusive), key, account", async () => {
    const window = await usage(store, { groupBy: "model", since: DAY1 + 24 * H - 1, until: DAY1 + 25 * H });
    expect(window.map((r) => [r.group, r.requests])).toEqual([
      ["claude-sonnet-4", 1],
      ["gpt-4o", 1],
    ]);
    expect((await usage(store, { groupBy: "day", keyId: "k2" })).map((r) => [r.group, r.requests])).toEqual([["2026-03-02", 2]]);
    expect((await usage(store, { groupBy: "key", accountId: "a1" })).map((r) => [r.group, r.requests])).toEqual([
      ["k1", 2],
      ["k2", 1],
    ]);
    expect(await usage(store, { groupBy: "day", since: DAY1 + 1000 * H })).toEqual([]);
  });

  test("sums past 2^53 come back as exact strings, never rounded floats", async () => {
    const ledger = createLedger(store, { flushIntervalMs: 60_000 });
    ledger.record(row("big1", { createdAt: DAY1 + 1000 * H, costMicroUsd: Number.MAX_SAFE_INTEGER, model: "big" }));
    ledger.record(row("big2", { createdAt: DAY1 + 1001 * H, costMicroUsd: Number.MAX_SAFE_INTEGER, model: "big" }));
    ledger.record(row("big3", { createdAt: DAY1 + 1002 * H, costMicroUsd: 3, model: "big" }));
    await ledger.close();
    const [big] = await usage(store, { groupBy: "model", since: DAY1 + 1000 * H });
    expect(big?.costMicroUsd).toBe("18014398509481985"); // 2 * (2^53 - 1) + 3
  });

  test("spend per key and per account, over a window or the last N requests", async () => {
    expect(await spend(store, { keyId: "k1" })).toEqual({ microUsd: 3_000_000_000_004, requests: 2 });
    expect(await spend(store, { accountId: "a1" })).toEqual({ microUsd: 6_000_000_000_009, requests: 3 });
    expect(await spend(store, { accountId: "a1", since: DAY1 + 24 * H - 1 })).toEqual({ microUsd: 5_000_000_000_008, requests: 2 });
    // The last 2 requests of k2: r4 (no cost: counts as 0) and r3.
    expect(await spend(store, { keyId: "k2", lastRounds: 2 })).toEqual({ microUsd: 3_000_000_000_005, requests: 2 });
    expect(await spend(store, { keyId: "k2", lastRounds: 1 })).toEqual({ microUsd: 0, requests: 1 });
    expect(await spend(store, { accountId: "a1", lastRounds: 2 })).toEqual({ microUsd: 5_000_000_000_008, requests: 2 });
    expect(await spend(store, { keyId: "nobody" })).toEqual({ microUsd: 0, requests: 0 });
    expect(await spend(store, { keyId: "nobody", lastRounds: 5 })).toEqual({ microUsd: 0, requests: 0 });
    await expect(spend(store, { keyId: "k1", lastRounds: 0 })).rejects.toThrow(/lastRounds must be a positive integer/);
  });

  test("pruneLedger deletes rows older than the cutoff, in chunks", async () => {
    // r1, r2 (day 1) and r3 (first ms of day 2) are before DAY1 + 25h; r4 is exactly at it.
    expect(await pruneLedger(store, DAY1 + 25 * H, { chunk: 2 })).toBe(3);
    expect((await store.db.selectFrom("requests").select("id").orderBy("id").execute()).map((r) => r.id)).toEqual(["r4", "r5"]);
    expect(await pruneLedger(store, DAY1 + 25 * H)).toBe(0);
  });
});
