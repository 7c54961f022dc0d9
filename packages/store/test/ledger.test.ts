import {
  InsertQueryNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  sql,
  ValuesNode,
} from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLedger, type LedgerRow, openStore, replaySpill, type Store, toLedgerRow } from "../src/index.js";
import { allBackends, memoryLogger, serverBackends, type TestDatabase } from "./backends.js";
import { startTcpProxy, waitFor } from "@bitrouter/testkit";

/** Records the row count of every INSERT into `requests` that reaches the driver. */
class InsertCounter implements KyselyPlugin {
  readonly batches: number[] = [];
  transformQuery({ node }: PluginTransformQueryArgs): RootOperationNode {
    if (InsertQueryNode.is(node) && node.into?.table.identifier.name === "requests" && node.values !== undefined && ValuesNode.is(node.values)) {
      this.batches.push(node.values.values.length);
    }
    return node;
  }
  async transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return result;
  }
}

function row(id: string, extra: Partial<LedgerRow> = {}): LedgerRow {
  return {
    id,
    createdAt: Date.UTC(2026, 0, 1),
    inboundProtocol: "openai_chat",
    route: "default",
    provider: "openai",
    model: "gpt-4o",
    stream: false,
    status: 200,
    latencyMs: 12,
    inputTokens: 10,
    outputTokens: 5,
    costMicroUsd: 75,
    ...extra,
  };
}

async function ids(store: Store): Promise<string[]> {
  const rows = await store.db.selectFrom("requests").select("id").execute();
  return rows.map((r) => r.id).sort();
}

async function count(store: Store): Promise<number> {
  const result = await sql<{ n: number | string }>`select count(*) as n from requests`.execute(store.db);
  return Number(result.rows[0]?.n);
}

/** Lets every pending callback and I/O completion run once (a size-triggered write would have started). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

const range = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, "0")}`);

describe.each(allBackends)("$name: ledger", (backend) => {
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
  });

  test("rows are batched: nothing written until a trigger, one INSERT per batch", async () => {
    const counter = new InsertCounter();
    const counted: Store = { ...store, db: store.db.withPlugin(counter) };
    const ledger = createLedger(counted, { batchSize: 100, flushIntervalMs: 60_000 });

    for (const id of range(50, "a")) ledger.record(row(id));
    await settle();
    expect(counter.batches).toEqual([]); // below batchSize, timer far away: no INSERT issued
    expect(await count(store)).toBe(0);
    expect(ledger.stats().queued).toBe(50);

    await ledger.flush();
    expect(await count(store)).toBe(50);
    expect(counter.batches).toEqual([50]);

    // Size trigger: 250 rows recorded in one tick go out as 100 + 100 + 50, without flush().
    for (const id of range(250, "b")) ledger.record(row(id));
    await waitFor("size-triggered writes", () => ledger.stats().written === 300);
    expect(await count(store)).toBe(300);
    expect(counter.batches).toEqual([50, 100, 100, 50]);
    expect(ledger.stats()).toMatchObject({ queued: 0, dropped: 0 });
    await ledger.close();
  });

  test("the timer writes a partial batch", async () => {
    const ledger = createLedger(store, { batchSize: 100, flushIntervalMs: 30 });
    for (const id of range(5, "t")) ledger.record(row(id));
    await waitFor("timer flush", async () => (await count(store)) === 5, 3000);
    await ledger.close();
  });

  test("close() writes everything accepted; a new store sees every row", async () => {
    const ledger = createLedger(store, { batchSize: 200, flushIntervalMs: 60_000 });
    const expected = range(1234, "c");
    for (const id of expected) ledger.record(row(id, { costMicroUsd: 1 }));
    await ledger.close();
    ledger.record(row("after-close")); // dropped, counted, never thrown
    expect(ledger.stats()).toMatchObject({ queued: 0, written: 1234, dropped: 1 });

    const reopened = await openStore(database.url);
    try {
      expect(await ids(reopened)).toEqual(expected);
    } finally {
      await reopened.close();
    }
  });

  test("several ledgers on separate connections write at once: every row lands", async () => {
    const stores = await Promise.all([1, 2, 3].map(() => openStore(database.url)));
    const ledgers = stores.map((s) => createLedger(s, { batchSize: 50, flushIntervalMs: 5 }));
    const expected: string[] = [];
    // Interleave: each round every ledger records a few rows, then yield so writes overlap.
    for (let round = 0; round < 40; round++) {
      ledgers.forEach((ledger, w) => {
        for (let i = 0; i < 25; i++) {
          const id = `w${w}-${round}-${i}`;
          expected.push(id);
          ledger.record(row(id));
        }
      });
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(ledgers.map((l) => l.close()));
    await Promise.all(stores.map((s) => s.close()));
    expect(await ids(store)).toEqual(expected.sort());
  });

  test("duplicate ids keep the first row and do not wedge the queue", async () => {
    const ledger = createLedger(store, { batchSize: 10, flushIntervalMs: 60_000 });
    ledger.record(row("dup", { status: 200 }));
    await ledger.flush();
    ledger.record(row("dup", { status: 500 }));
    ledger.record(row("other"));
    await ledger.flush();
    const rows = await store.db.selectFrom("requests").select(["id", "status"]).orderBy("id").execute();
    expect(rows).toEqual([
      { id: "dup", status: 200 },
      { id: "other", status: 200 },
    ]);
    await ledger.close();
  });

  test("odd input is stored safely instead of failing the batch", async () => {
    const ledger = createLedger(store, { batchSize: 10, flushIntervalMs: 60_000 });
    ledger.record(row("long", { model: "m".repeat(5000), costMicroUsd: 12.6, latencyMs: Number.NaN, stream: true }));
    ledger.record({ ...row("x"), id: "" }); // no id: rejected, counted
    await ledger.flush();
    const stored = await store.db.selectFrom("requests").selectAll().where("id", "=", "long").executeTakeFirstOrThrow();
    expect(stored.model).toHaveLength(255);
    expect(Number(stored.cost_micro_usd)).toBe(13);
    expect(stored.latency_ms).toBe(0);
    expect(Boolean(stored.stream)).toBe(true);
    expect(ledger.stats().invalid).toBe(1);
    await ledger.close();
  });

  test("a paid request keeps its exact amount, method and reference; unpaid rows have none", async () => {
    const ledger = createLedger(store, { batchSize: 10, flushIntervalMs: 60_000 });
    // 2^64 + 1 base units: beyond BIGINT and a JS number, still exact.
    const amount = "18446744073709551617";
    ledger.record(row("paid", { payment: { amount, method: "tempo/charge", reference: `0x${"ab".repeat(32)}` } }));
    ledger.record(row("bad-amount", { payment: { amount: "1.5", method: "tempo/charge", reference: "0x01" } }));
    ledger.record(row("unpaid"));
    await ledger.flush();
    const rows = await store.db.selectFrom("requests").select(["id", "payment_amount", "payment_method", "payment_reference"]).orderBy("id").execute();
    expect(rows).toEqual([
      { id: "bad-amount", payment_amount: null, payment_method: "tempo/charge", payment_reference: "0x01" },
      { id: "paid", payment_amount: amount, payment_method: "tempo/charge", payment_reference: `0x${"ab".repeat(32)}` },
      { id: "unpaid", payment_amount: null, payment_method: null, payment_reference: null },
    ]);
    await ledger.close();
  });

  test("toLedgerRow maps a router CompletionRecord", async () => {
    const ledger = createLedger(store, { flushIntervalMs: 60_000 });
    ledger.record(
      toLedgerRow({
        requestId: "req_1",
        inboundProtocol: "anthropic",
        model: "fast",
        route: "fast",
        provider: "anthropic",
        modelId: "claude-sonnet-4",
        stream: true,
        status: 200,
        errorKind: "upstream",
        startedAt: 1_767_225_600_000,
        latencyMs: 900,
        ttfbMs: 120,
        usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 64, cacheWriteTokens: 8, reasoningTokens: 4 },
        costMicroUsd: 4321,
        attempts: 2,
        principal: { keyId: "k1", accountId: "acct1" },
        counters: { guardrail_violations: 3 },
      }),
    );
    await ledger.close();
    const stored = await store.db.selectFrom("requests").selectAll().executeTakeFirstOrThrow();
    expect({ ...stored, stream: Boolean(stored.stream) }).toEqual({
      id: "req_1",
      client_request_id: null,
      created_at: 1_767_225_600_000,
      account_id: "acct1",
      key_id: "k1",
      inbound_protocol: "anthropic",
      route: "fast",
      provider: "anthropic",
      model: "claude-sonnet-4",
      stream: true,
      status: 200,
      error_kind: "upstream",
      latency_ms: 900,
      ttfb_ms: 120,
      input_tokens: 100,
      output_tokens: 20,
      cache_read_tokens: 64,
      cache_write_tokens: 8,
      reasoning_tokens: 4,
      cost_micro_usd: 4321,
      guardrail_violations: 3,
      attempts: 2,
      tool: null, // a model request, not an MCP tool call
      payment_amount: null,
      payment_method: null,
      payment_reference: null,
    });
  });
});

describe.each(serverBackends)("$name: ledger during a database outage", (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await backend.create();
  });
  afterAll(async () => {
    await database?.drop();
  });

  /** Open the test database through a TCP proxy that the test can take down. */
  async function throughProxy() {
    const proxy = await startTcpProxy(backend.name === "postgres" ? 5432 : 3306);
    // PostgreSQL trusts loopback, so a password can be given and must never be logged.
    const auth = backend.name === "postgres" ? "postgres:Outage-Pa55word" : "root";
    const logger = memoryLogger();
    const url = `${backend.name}://${auth}@127.0.0.1:${proxy.port}/${database.name}`;
    const store = await openStore(url, { logger, connectTimeoutMs: 1000 });
    await store.db.deleteFrom("requests").execute();
    return { proxy, logger, store };
  }

  test("record() keeps succeeding, one warning, rows written after recovery", async () => {
    const { proxy, logger, store } = await throughProxy();
    const attempts = new InsertCounter();
    const ledger = createLedger({ ...store, db: store.db.withPlugin(attempts) }, { batchSize: 10, flushIntervalMs: 20, retryBaseMs: 20, retryMaxMs: 100 });
    try {
      for (const id of range(5, "before")) ledger.record(row(id));
      await waitFor("rows before the outage", () => ledger.stats().written === 5);

      await proxy.stop();
      const during = range(40, "during");
      for (const id of during.slice(0, 10)) expect(ledger.record(row(id))).toBeUndefined();
      await waitFor("the outage to be noticed", () => ledger.stats().outage);
      for (const id of during.slice(10)) expect(ledger.record(row(id))).toBeUndefined();
      const failedBefore = attempts.batches.length;
      await waitFor("several failed retries", () => attempts.batches.length >= failedBefore + 3);
      expect(logger.warnings).toHaveLength(1);
      expect(logger.warnings[0]).toMatch(/ledger: cannot write to .*127\.0\.0\.1:\d+/);
      expect(ledger.stats()).toMatchObject({ queued: 40, written: 5, dropped: 0 });
      const flushError = await ledger.flush().then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      expect(flushError?.message).toMatch(/ledger: writing to .*127\.0\.0\.1:\d+.* failed/);
      expect(flushError?.message).not.toContain("Outage-Pa55word");
      expect(ledger.stats().queued).toBe(40); // a failed flush keeps the rows

      await proxy.start();
      await waitFor("recovery", () => ledger.stats().written === 45 && !ledger.stats().outage);
      expect(logger.warnings).toHaveLength(1);
      expect(logger.infos.some((m) => /ledger: writing to .* again after/.test(m))).toBe(true);
      expect(await ids(store)).toEqual([...range(5, "before"), ...during].sort());
      expect([...logger.warnings, ...logger.infos].join("\n")).not.toContain("Outage-Pa55word");
    } finally {
      await proxy.start();
      await ledger.close();
      await store.close();
      await proxy.stop();
    }
  });

  test("a full queue drops the oldest rows and counts them", async () => {
    const { proxy, logger, store } = await throughProxy();
    const ledger = createLedger(store, { batchSize: 10, flushIntervalMs: 20, retryBaseMs: 20, retryMaxMs: 50, maxQueue: 20 });
    try {
      await proxy.stop();
      const during = range(50, "q");
      for (const id of during) ledger.record(row(id));
      await waitFor("the outage to be noticed", () => ledger.stats().outage);
      expect(ledger.stats()).toMatchObject({ queued: 20, dropped: 30 });

      await proxy.start();
      await waitFor("recovery", () => ledger.stats().queued === 0 && !ledger.stats().outage);
      expect(await ids(store)).toEqual(during.slice(30));
      expect(logger.warnings).toHaveLength(1);
      expect(logger.infos.join("\n")).toMatch(/30 rows were dropped/);
    } finally {
      await proxy.start();
      await ledger.close();
      await store.close();
      await proxy.stop();
    }
  });

  test("a database that stops answering (no error, no reset) is an outage too", async () => {
    const { proxy, logger, store } = await throughProxy();
    const ledger = createLedger(store, { batchSize: 10, flushIntervalMs: 20, retryBaseMs: 20, retryMaxMs: 100, writeTimeoutMs: 300 });
    try {
      proxy.freeze();
      for (const id of range(25, "h")) ledger.record(row(id));
      // Noticed by writeTimeoutMs (the warning says so), not by a TCP timeout minutes later.
      await waitFor("the hang to be noticed", () => ledger.stats().outage);
      expect(logger.warnings).toEqual([expect.stringMatching(/no answer within 300 ms/)]);

      proxy.thaw();
      await waitFor("recovery", () => ledger.stats().queued === 0 && !ledger.stats().outage);
      // Attempts that timed out and later completed wrote nothing twice.
      expect(await ids(store)).toEqual(range(25, "h"));
      expect(logger.warnings).toHaveLength(1);
    } finally {
      proxy.thaw();
      await proxy.start();
      await ledger.close();
      await store.close();
      await proxy.stop();
    }
  });

  test("close() during an outage retries until the database is back", async () => {
    const { proxy, store } = await throughProxy();
    const attempts = new InsertCounter();
    const ledger = createLedger({ ...store, db: store.db.withPlugin(attempts) }, { batchSize: 10, flushIntervalMs: 60_000, retryBaseMs: 20, retryMaxMs: 50 });
    try {
      await proxy.stop();
      for (const id of range(15, "z")) ledger.record(row(id));
      const closing = ledger.close();
      await waitFor("close() to retry", () => attempts.batches.length >= 3);
      await proxy.start();
      await closing;
      expect(await ids(store)).toEqual(range(15, "z"));
    } finally {
      await proxy.start();
      await store.close();
      await proxy.stop();
    }
  });

  test("close() gives up after closeTimeoutMs with a clear error", async () => {
    const { proxy, logger, store } = await throughProxy();
    const ledger = createLedger(store, { flushIntervalMs: 60_000, retryBaseMs: 20, closeTimeoutMs: 300 });
    try {
      await proxy.stop();
      for (const id of range(3, "lost")) ledger.record(row(id));
      await expect(ledger.close()).rejects.toThrow(/ledger closed with 3 rows unwritten/);
      expect(ledger.stats()).toMatchObject({ queued: 0, dropped: 3 });
      expect(logger.warnings.at(-1)).toMatch(/closing with 3 rows unwritten/);
    } finally {
      await proxy.start();
      await store.close();
      await proxy.stop();
    }
  });

  test("close() during an outage saves the rows to the spill file; replaySpill writes them exactly once", async () => {
    const { proxy, logger, store } = await throughProxy();
    const spillFile = join(mkdtempSync(join(tmpdir(), "bitrouter-spill-")), "ledger-spill.jsonl");
    const ledger = createLedger(store, { flushIntervalMs: 60_000, retryBaseMs: 20, closeTimeoutMs: 300, spillFile });
    const spilled = range(5, "spill");
    try {
      await proxy.stop();
      for (const id of spilled) ledger.record(row(id, { stream: true, clientRequestId: "c-1" }));
      await ledger.close(); // resolves: nothing accepted is lost
      expect(ledger.stats()).toMatchObject({ queued: 0, dropped: 0, spilled: 5 });
      expect(logger.warnings.at(-1)).toMatch(/saved 5 rows to .*ledger-spill\.jsonl, written at the next start/);
      expect(statSync(spillFile).mode & 0o777).toBe(0o600);
      const copy = readFileSync(spillFile, "utf8");
      await proxy.start();
      expect(await replaySpill(store, spillFile)).toBe(5);
      expect(existsSync(spillFile)).toBe(false);
      // A replay repeated after a crash (the file still there) writes nothing twice.
      writeFileSync(spillFile, `${copy}{"id":"cut-mid-wr`);
      expect(await replaySpill(store, spillFile)).toBe(5);
      const rows = await store.db.selectFrom("requests").select(["id", "stream", "client_request_id"]).where("id", "like", "spill-%").execute();
      expect(rows.map((r) => r.id).sort()).toEqual(spilled);
      expect(rows.every((r) => Boolean(r.stream) && r.client_request_id === "c-1")).toBe(true);
    } finally {
      await proxy.start();
      await store.close();
      await proxy.stop();
    }
  });
});

describe("sqlite: a ledger whose store was closed", () => {
  test("record() never throws, one warning, bounded queue", async () => {
    const logger = memoryLogger();
    const store = await openStore("sqlite::memory:", { logger });
    await store.close();
    const attempts = new InsertCounter();
    const options = { batchSize: 5, flushIntervalMs: 10, retryBaseMs: 10, retryMaxMs: 20, maxQueue: 8, closeTimeoutMs: 50 };
    const ledger = createLedger({ ...store, db: store.db.withPlugin(attempts) }, options);
    for (const id of range(30, "s")) ledger.record(row(id));
    await waitFor("the outage to be noticed", () => ledger.stats().outage);
    await waitFor("several failed retries", () => attempts.batches.length >= 3);
    expect(logger.warnings).toHaveLength(1);
    expect(ledger.stats()).toMatchObject({ queued: 8, dropped: 22, written: 0 });
    await expect(ledger.close()).rejects.toThrow(/8 rows unwritten/);
  });
});

describe("sqlite: a ledger that cannot keep up", () => {
  test("drops while the database is up are reported in one warning", async () => {
    const logger = memoryLogger();
    const store = await openStore("sqlite::memory:", { logger });
    const ledger = createLedger(store, { batchSize: 100, flushIntervalMs: 60_000, maxQueue: 10 });
    for (const id of range(50, "burst")) ledger.record(row(id));
    await ledger.flush();
    expect(await ids(store)).toEqual(range(50, "burst").slice(40));
    expect(logger.warnings).toEqual([expect.stringMatching(/40 rows were dropped \(queue full at 10 rows/)]);
    for (const id of range(50, "again")) ledger.record(row(id));
    await ledger.flush();
    expect(logger.warnings).toHaveLength(1); // at most one such warning a minute
    expect(ledger.stats()).toMatchObject({ written: 20, dropped: 80 });
    await ledger.close();
    await store.close();
  });
});
