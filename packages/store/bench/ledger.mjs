// Ledger benchmark: cost of record() on the request path, batched write throughput, and the read
// queries over the written rows, on SQLite (temp file) and, when reachable, loopback PostgreSQL
// and MariaDB (a throwaway database each). Run after `pnpm --filter @bitrouter/store build`:
//   node packages/store/bench/ledger.mjs [rows]
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import pg from "pg";
import { sql } from "kysely";
import { createLedger, openStore, spend, usage } from "../dist/index.js";

const ROWS = Number(process.argv[2] ?? 100_000);
const DAY = 86_400_000;
const start = Date.UTC(2026, 0, 1);

function row(i) {
  return {
    id: `bench-${i}`,
    createdAt: start + Math.floor((i / ROWS) * 30 * DAY),
    keyId: `key-${i % 50}`,
    accountId: `acct-${i % 5}`,
    inboundProtocol: "openai_chat",
    route: "default",
    provider: i % 2 ? "openai" : "anthropic",
    model: i % 2 ? "gpt-4o" : "claude-sonnet-4",
    stream: i % 3 === 0,
    status: i % 100 === 0 ? 502 : 200,
    latencyMs: 100 + (i % 50),
    ttfbMs: 20,
    inputTokens: 1000,
    outputTokens: 200,
    costMicroUsd: 4_500 + (i % 7),
  };
}

async function time(fn) {
  const t0 = process.hrtime.bigint();
  const result = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, result];
}

async function bench(name, url, drop) {
  const store = await openStore(url, { poolSize: 4 });
  try {
    const ledger = createLedger(store, { batchSize: 500, flushIntervalMs: 100, maxQueue: ROWS + 1 });
    // record() as the request path sees it: synchronous, in a tight loop, while writes run.
    let recordMs = 0;
    const [writeMs] = await time(async () => {
      for (let i = 0; i < ROWS; i += 1000) {
        const t0 = process.hrtime.bigint();
        for (let j = i; j < Math.min(i + 1000, ROWS); j++) ledger.record(row(j));
        recordMs += Number(process.hrtime.bigint() - t0) / 1e6;
        await new Promise((r) => setImmediate(r)); // let the writer run between bursts
      }
      await ledger.close();
    });
    // The naive way, for comparison: one INSERT per request.
    const naiveRows = 2000;
    const [naiveMs] = await time(async () => {
      for (let i = 0; i < naiveRows; i++) {
        const r = row(ROWS + i);
        await store.db
          .insertInto("requests")
          .values({
            id: r.id,
            created_at: r.createdAt,
            key_id: r.keyId,
            account_id: r.accountId,
            inbound_protocol: r.inboundProtocol,
            route: r.route,
            provider: r.provider,
            model: r.model,
            stream: store.dialect === "sqlite" ? 0 : false,
            status: r.status,
            latency_ms: r.latencyMs,
            cost_micro_usd: r.costMicroUsd,
          })
          .execute();
      }
    });
    // Production tables have planner statistics (autovacuum / auto-analyze); a fresh bulk load does not.
    await sql.raw(store.dialect === "mysql" ? "analyze table requests" : "analyze requests").execute(store.db);
    // Warm-up: the first query after a bulk load pays for planning without table statistics.
    await usage(store, { groupBy: "day" });
    await spend(store, { accountId: "acct-3", lastRounds: 10 });
    const [dayMs, days] = await time(() => usage(store, { groupBy: "day" }));
    const [modelMs] = await time(() => usage(store, { groupBy: "model" }));
    const [spendMs] = await time(() => spend(store, { keyId: "key-7", since: start + 20 * DAY }));
    const [roundsMs] = await time(() => spend(store, { accountId: "acct-3", lastRounds: 10 }));
    console.log(
      `${name.padEnd(9)} record(): ${((recordMs * 1e6) / ROWS).toFixed(0)} ns/row | batched write: ${Math.round(ROWS / (writeMs / 1000))} rows/s ` +
        `(${ROWS} rows, ${writeMs.toFixed(0)} ms) | one INSERT per row: ${Math.round(naiveRows / (naiveMs / 1000))} rows/s | ` +
        `usage by day (${days.length} groups): ${dayMs.toFixed(1)} ms, by model: ${modelMs.toFixed(1)} ms | ` +
        `spend(key, 10 days): ${spendMs.toFixed(1)} ms, spend(account, last 10): ${roundsMs.toFixed(1)} ms`,
    );
  } finally {
    await store.close();
    await drop();
  }
}

const dbName = () => `bitrouter_bench_${randomBytes(4).toString("hex")}`;

const dir = mkdtempSync(join(tmpdir(), "bitrouter-bench-"));
await bench("sqlite", `sqlite://${join(dir, "bench.db")}`, async () => rmSync(dir, { recursive: true, force: true }));

try {
  const name = dbName();
  const admin = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:5432/postgres" });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await bench("postgres", `postgres://postgres@127.0.0.1:5432/${name}`, async () => {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  });
} catch (error) {
  console.log(`postgres  skipped: ${error.message}`);
}

try {
  const name = dbName();
  const admin = await mysql.createConnection({ host: "127.0.0.1", user: "root" });
  await admin.query(`CREATE DATABASE ${name}`);
  await bench("mariadb", `mysql://root@127.0.0.1:3306/${name}`, async () => {
    await admin.query(`DROP DATABASE ${name}`);
    await admin.end();
  });
} catch (error) {
  console.log(`mariadb   skipped: ${error.message}`);
}
