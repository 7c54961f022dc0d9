import type { CompletionRecord, RequestPayment } from "@bitrouter/core";
import { appendFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import type { Insertable } from "kysely";
import { StoreError } from "./errors.js";
import { Fifo } from "./queue.js";
import { LIMITS, type RequestsTable } from "./schema.js";
import { type Store, type StoreLogger, sqliteConnection } from "./store.js";

/** One request, as the server reports it to the ledger. Optional fields may be omitted. */
export interface LedgerRow {
  /**
   * The request id, made by the server (primary key: recording the same id twice keeps the first
   * row, which makes retried batches idempotent). Never a caller-chosen value.
   */
  id: string;
  /** The caller's `x-request-id`, stored as given (cut to 255 characters). */
  clientRequestId?: string | null;
  /** Epoch milliseconds when the request arrived. */
  createdAt: number;
  accountId?: string | null;
  keyId?: string | null;
  inboundProtocol: string;
  route: string;
  provider?: string | null;
  model: string;
  stream: boolean;
  status: number;
  errorKind?: string | null;
  latencyMs: number;
  ttfbMs?: number | null;
  inputTokens?: number | null;
  outputTokens?: number | null;
  cacheReadTokens?: number | null;
  cacheWriteTokens?: number | null;
  reasoningTokens?: number | null;
  /** Integer micro-USD; a fractional value is rounded to the nearest integer. */
  costMicroUsd?: number | null;
  guardrailViolations?: number;
  /** Endpoints tried (default 1). */
  attempts?: number;
  /** A tool call through the MCP gateway: `server/tool`. */
  tool?: string | null;
  /** What the caller paid (MPP). */
  payment?: RequestPayment | null;
}

export interface LedgerOptions {
  /** Rows per multi-row INSERT, and the queue length that triggers a write (default 200, max 1000). */
  batchSize?: number;
  /** Write whatever is queued at least this often (default 1000 ms). */
  flushIntervalMs?: number;
  /** Rows kept in memory while the database is unreachable; past it the oldest are dropped (default 100000). */
  maxQueue?: number;
  /** Defaults to the store's logger. */
  logger?: StoreLogger;
  /** First retry delay after a failed write, doubled per failure up to retryMaxMs (default 200 ms / 30 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How long close() keeps retrying an unreachable database before giving up (default 10 s). */
  closeTimeoutMs?: number;
  /**
   * A write that has not finished after this long counts as failed (default 15 s): a database
   * that stops answering without closing connections is an outage too. The rows are retried;
   * inserts ignore duplicate ids, so a late completion of the first attempt writes nothing twice.
   */
  writeTimeoutMs?: number;
  /**
   * Where close() saves the rows it could not write (JSON lines, mode 0600) instead of dropping
   * them; `replaySpill()` writes them at the next start. Without it they are dropped and counted.
   */
  spillFile?: string;
}

export interface LedgerStats {
  /** Rows waiting in memory (including a batch being written). */
  queued: number;
  /** Rows written to the database by this ledger. */
  written: number;
  /** Rows lost: dropped from a full queue during an outage, or recorded after close(). */
  dropped: number;
  /** Rows close() saved to the spill file because the database was unreachable. */
  spilled: number;
  /** Rows rejected by record() because they had no id. */
  invalid: number;
  /** True while the database is unreachable. */
  outage: boolean;
}

export interface Ledger {
  /** Queue a row. Synchronous, never throws, never touches the database. */
  record(row: LedgerRow): void;
  /** Write every row queued before this call. Rejects (rows stay queued) if the database fails. */
  flush(): Promise<void>;
  /** Stop the timer and write everything queued, retrying for up to closeTimeoutMs. Does not close the store. */
  close(): Promise<void>;
  stats(): LedgerStats;
}

type RequestInsert = Insertable<RequestsTable>;

const INT32_MAX = 2_147_483_647;

/**
 * The request ledger writer. Rows are appended in memory by `record()` and written off the hot
 * path in multi-row INSERTs, by size (batchSize) and by time (flushIntervalMs). Rows are only ever
 * inserted, never updated: spend is aggregated at read time (a per-request UPDATE of a spend row is
 * what gave other gateways multi-second tail latencies on PostgreSQL).
 *
 * When the database is unreachable the rows stay queued (bounded by maxQueue, oldest dropped
 * first), one warning is logged for the outage, writes are retried with exponential backoff, and
 * one info line is logged on recovery. Requests never fail because of the ledger.
 */
export function createLedger(store: Store, options: LedgerOptions = {}): Ledger {
  const batchSize = positiveInt("batchSize", options.batchSize ?? 200);
  if (batchSize > 1000) throw new StoreError("config", `ledger batchSize ${batchSize} is above 1000 (statement parameter limits)`);
  const flushIntervalMs = positiveInt("flushIntervalMs", options.flushIntervalMs ?? 1000);
  const maxQueue = positiveInt("maxQueue", options.maxQueue ?? 100_000);
  const retryBaseMs = positiveInt("retryBaseMs", options.retryBaseMs ?? 200);
  const retryMaxMs = positiveInt("retryMaxMs", options.retryMaxMs ?? 30_000);
  const closeTimeoutMs = positiveInt("closeTimeoutMs", options.closeTimeoutMs ?? 10_000);
  const writeTimeoutMs = positiveInt("writeTimeoutMs", options.writeTimeoutMs ?? 15_000);
  const logger = options.logger ?? store.logger;
  const sqliteBool = store.dialect === "sqlite";

  const queue = new Fifo<RequestInsert>();
  let inflightRows = 0;
  let written = 0;
  let dropped = 0;
  let spilled = 0;
  let invalid = 0;
  let draining: Promise<void> | null = null;
  let kickScheduled = false;
  let outageSince: number | null = null;
  /** `dropped` when drops were last reported (in a recovery line or an overload warning). */
  let droppedReported = 0;
  let lastOverloadWarning = 0;
  let backoffMs = 0;
  let retryTimer: NodeJS.Timeout | null = null;
  let closed = false;
  let closing: Promise<void> | null = null;
  let warnedAfterClose = false;

  const interval = setInterval(() => kick(), flushIntervalMs);
  interval.unref();

  function log(level: "warn" | "info", message: string): void {
    try {
      logger[level](message);
    } catch {
      // A broken logger must not stop the ledger.
    }
  }

  async function insert(rows: RequestInsert[]): Promise<void> {
    const write = insertRows(store, rows);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${writeTimeoutMs} ms`)), writeTimeoutMs);
    });
    write.catch(() => {}); // if the timeout wins, a late failure is not an unhandled rejection
    try {
      await Promise.race([write, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Write up to `limit` queued rows, batch by batch. Throws on the first failed batch (rows go back). */
  async function drain(limit: number): Promise<void> {
    let done = 0;
    while (queue.length > 0 && done < limit) {
      const batch = queue.take(Math.min(batchSize, limit - done));
      inflightRows = batch.length;
      try {
        await insert(batch);
      } catch (error) {
        inflightRows = 0;
        queue.unshiftAll(batch);
        enforceBound();
        onFailure(error);
        throw error;
      }
      inflightRows = 0;
      written += batch.length;
      done += batch.length;
      onSuccess();
    }
  }

  function startDrain(limit: number): Promise<void> {
    const run = drain(limit);
    draining = run.then(
      () => {
        draining = null;
      },
      () => {
        draining = null;
      },
    );
    return run;
  }

  /** Start a background write unless one is running or we are backing off after a failure. */
  function kick(): void {
    if (draining !== null || retryTimer !== null || queue.length === 0) return;
    startDrain(Number.POSITIVE_INFINITY).catch(() => {
      // Reported by onFailure; retried by the backoff timer.
    });
  }

  function enforceBound(): void {
    const excess = queue.length + inflightRows - maxQueue;
    if (excess > 0) dropped += queue.dropFront(excess);
  }

  function onFailure(error: unknown): void {
    if (outageSince === null) {
      outageSince = Date.now();
      log("warn", `ledger: cannot write to ${store.url}: ${store.describeError(error)}; keeping up to ${maxQueue} rows in memory and retrying`);
    }
    backoffMs = backoffMs === 0 ? retryBaseMs : Math.min(backoffMs * 2, retryMaxMs);
    if (retryTimer !== null) clearTimeout(retryTimer);
    if (closed) return; // close() runs its own retry loop
    retryTimer = setTimeout(() => {
      retryTimer = null;
      kick();
    }, backoffMs);
    retryTimer.unref();
  }

  function onSuccess(): void {
    backoffMs = 0;
    const lost = dropped - droppedReported;
    if (outageSince !== null) {
      const seconds = ((Date.now() - outageSince) / 1000).toFixed(1);
      outageSince = null;
      droppedReported = dropped;
      log("info", `ledger: writing to ${store.url} again after ${seconds}s` + (lost > 0 ? `; ${lost} rows were dropped (queue full)` : ""));
    } else if (lost > 0 && Date.now() - lastOverloadWarning >= 60_000) {
      // The database is up but slower than the request rate: say so, at most once a minute.
      lastOverloadWarning = Date.now();
      droppedReported = dropped;
      log("warn", `ledger: ${lost} rows were dropped (queue full at ${maxQueue} rows; the database is slower than the request rate)`);
    }
  }

  function record(row: LedgerRow): void {
    try {
      if (closed) {
        dropped++;
        if (!warnedAfterClose) {
          warnedAfterClose = true;
          log("warn", "ledger: record() after close(); the row was dropped");
        }
        return;
      }
      const insertRow = toInsert(row, sqliteBool);
      if (insertRow === null) {
        invalid++;
        return;
      }
      queue.push(insertRow);
      enforceBound();
      if (queue.length >= batchSize && !kickScheduled) {
        // Off the caller's stack: building a 200-row INSERT is not the request's business.
        kickScheduled = true;
        setImmediate(() => {
          kickScheduled = false;
          kick();
        });
      }
    } catch {
      invalid++;
    }
  }

  /** Write every queued row now, even while backing off. Throws the driver's error. */
  async function flushNow(): Promise<void> {
    // A batch in flight finishes (or goes back to the queue) first.
    while (draining !== null) await draining;
    if (retryTimer !== null) {
      clearTimeout(retryTimer);
      retryTimer = null;
    }
    if (queue.length === 0) return;
    await startDrain(queue.length);
  }

  async function flush(): Promise<void> {
    try {
      await flushNow();
    } catch (error) {
      throw new StoreError("connect", `ledger: writing to ${store.url} failed: ${store.describeError(error)}`);
    }
  }

  async function closeLedger(): Promise<void> {
    closed = true;
    clearInterval(interval);
    const deadline = Date.now() + closeTimeoutMs;
    for (;;) {
      try {
        await flushNow();
        if (queue.length === 0) return;
      } catch (error) {
        const left = deadline - Date.now();
        if (left <= 0 && options.spillFile !== undefined && spill(options.spillFile, queue.take(queue.length))) {
          log(
            "warn",
            `ledger: ${store.url} is unreachable (${store.describeError(error)}); saved ${spilled} rows to ${options.spillFile}, written at the next start`,
          );
          return;
        }
        if (left <= 0) {
          const lost = queue.length;
          dropped += queue.dropFront(lost);
          log("warn", `ledger: closing with ${lost} rows unwritten: ${store.describeError(error)}`);
          throw new StoreError("connect", `ledger closed with ${lost} rows unwritten to ${store.url}: ${store.describeError(error)}`);
        }
        await new Promise((r) => setTimeout(r, Math.min(backoffMs || retryBaseMs, left)));
      }
    }
  }

  /** Appends rows to the spill file; false (rows back on the queue) if that fails too. */
  function spill(file: string, rows: RequestInsert[]): boolean {
    try {
      appendFileSync(file, rows.map((row) => `${JSON.stringify(row)}\n`).join(""), { mode: 0o600 });
      spilled += rows.length;
      return true;
    } catch (error) {
      queue.unshiftAll(rows);
      log("warn", `ledger: cannot save unwritten rows to ${file}: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  }

  return {
    record,
    flush,
    close() {
      closing ??= closeLedger();
      return closing;
    },
    stats: () => ({ queued: queue.length + inflightRows, written, dropped, spilled, invalid, outage: outageSince !== null }),
  };
}

/**
 * Writes the rows a previous close() saved to `file` (see LedgerOptions.spillFile), then removes
 * the file. Exactly once: ids are unique and inserts skip ids already written, so a replay that
 * is interrupted and repeated writes nothing twice. Returns the number of rows in the file.
 */
export async function replaySpill(store: Store, file: string, batchSize = 200): Promise<number> {
  if (!existsSync(file)) return 0;
  const rows: RequestInsert[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      const row = JSON.parse(line) as RequestInsert;
      // The spill may come from a server on another database kind: booleans in its form.
      rows.push({ ...row, stream: store.dialect === "sqlite" ? (row.stream ? 1 : 0) : Boolean(row.stream) });
    } catch {
      // A line cut by a crash mid-append: the rows before and after it still count.
    }
  }
  for (let i = 0; i < rows.length; i += batchSize) {
    const batch = rows.slice(i, i + batchSize);
    await insertRows(store, batch);
  }
  rmSync(file, { force: true });
  return rows.length;
}

/**
 * Idempotent on the id: a batch retried after a lost acknowledgement (or a timed-out attempt that
 * completes late, or a spill replayed twice) is not written twice, and cannot wedge the queue.
 */
async function insertRows(store: Store, rows: RequestInsert[]): Promise<void> {
  const sqlite = sqliteInsert(store);
  if (sqlite) return sqlite(rows);
  await (store.dialect === "mysql"
    ? store.db.insertInto("requests").values(rows).ignore().execute()
    : store.db
        .insertInto("requests")
        .values(rows)
        .onConflict((oc) => oc.column("id").doNothing())
        .execute());
}

/** Every column of a ledger row, in toInsert's order. */
const COLUMNS = [
  "id",
  "client_request_id",
  "created_at",
  "account_id",
  "key_id",
  "inbound_protocol",
  "route",
  "provider",
  "model",
  "stream",
  "status",
  "error_kind",
  "latency_ms",
  "ttfb_ms",
  "input_tokens",
  "output_tokens",
  "cache_read_tokens",
  "cache_write_tokens",
  "reasoning_tokens",
  "cost_micro_usd",
  "guardrail_violations",
  "attempts",
  "tool",
  "payment_amount",
  "payment_method",
  "payment_reference",
] as const satisfies readonly (keyof RequestInsert)[];

const sqliteInserts = new WeakMap<Store, (rows: RequestInsert[]) => void>();

/**
 * On SQLite, a batch is one transaction of a prepared one-row INSERT run per row, straight on
 * better-sqlite3: building and compiling kysely's 200-row INSERT (5,200 parameters) cost more
 * than SQLite's work. Other databases go through kysely (a round trip per batch matters there).
 */
function sqliteInsert(store: Store): ((rows: RequestInsert[]) => void) | undefined {
  let insert = sqliteInserts.get(store);
  if (insert) return insert;
  const db = sqliteConnection(store);
  if (!db) return undefined;
  const statement = db.prepare(`INSERT INTO requests (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")}) ON CONFLICT (id) DO NOTHING`);
  insert = db.transaction((rows: RequestInsert[]) => runEach(statement, rows));
  sqliteInserts.set(store, insert);
  return insert;
}

type RunEach = (statement: { run(...values: unknown[]): unknown }, rows: RequestInsert[]) => void;

/**
 * Runs the one-row INSERT for each row, its values passed as arguments in COLUMNS order (better-sqlite3
 * then reads each straight from the call, not through an element lookup: ~0.8 of ~5 µs per row warm).
 * Compiled once from COLUMNS so that each value is read by its own property name: reading them
 * through a map over COLUMNS was a megamorphic keyed load per column and an array per row, ~0.5 µs
 * per row. Where code generation is disallowed (`node --disallow-code-generation-from-strings`), the
 * map it is. A column missing from a row (a spill file of an older version) is NULL, as kysely would
 * leave it.
 */
const runEach: RunEach = (() => {
  try {
    return new Function(
      "statement",
      "rows",
      `for (const row of rows) statement.run(${COLUMNS.map((column) => `row.${column} ?? null`).join(", ")});`,
    ) as RunEach;
  } catch {
    return (statement, rows) => {
      for (const row of rows) statement.run(...COLUMNS.map((column) => row[column] ?? null));
    };
  }
})();

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new StoreError("config", `ledger option ${name} must be a positive integer, got ${value}`);
  return value;
}

function text(value: unknown, max: number): string | null {
  if (typeof value !== "string" || value === "") return null;
  return value.length > max ? value.slice(0, max) : value;
}

function int(value: unknown, max: number): number | null {
  if (typeof value !== "number" || !Number.isFinite(value)) return null;
  return Math.max(-max, Math.min(max, Math.round(value)));
}

/** A row the database will accept: strings cut to the column width, numbers finite integers in range. */
function toInsert(row: LedgerRow, sqliteBool: boolean): RequestInsert | null {
  const id = text(row.id, LIMITS.id);
  if (id === null) return null;
  return {
    id,
    client_request_id: text(row.clientRequestId, LIMITS.id),
    created_at: int(row.createdAt, Number.MAX_SAFE_INTEGER) ?? Date.now(),
    account_id: text(row.accountId, LIMITS.id),
    key_id: text(row.keyId, LIMITS.id),
    inbound_protocol: text(row.inboundProtocol, LIMITS.short) ?? "",
    route: text(row.route, LIMITS.short) ?? "",
    provider: text(row.provider, LIMITS.short),
    model: text(row.model, LIMITS.short) ?? "",
    stream: sqliteBool ? (row.stream ? 1 : 0) : row.stream === true,
    status: int(row.status, INT32_MAX) ?? 0,
    error_kind: text(row.errorKind, LIMITS.short),
    latency_ms: int(row.latencyMs, INT32_MAX) ?? 0,
    ttfb_ms: int(row.ttfbMs, INT32_MAX),
    input_tokens: int(row.inputTokens, INT32_MAX),
    output_tokens: int(row.outputTokens, INT32_MAX),
    cache_read_tokens: int(row.cacheReadTokens, INT32_MAX),
    cache_write_tokens: int(row.cacheWriteTokens, INT32_MAX),
    reasoning_tokens: int(row.reasoningTokens, INT32_MAX),
    cost_micro_usd: int(row.costMicroUsd, Number.MAX_SAFE_INTEGER),
    guardrail_violations: int(row.guardrailViolations, INT32_MAX) ?? 0,
    attempts: int(row.attempts, INT32_MAX) ?? 1,
    tool: text(row.tool, LIMITS.short),
    payment_amount: row.payment && /^\d{1,78}$/.test(row.payment.amount) ? row.payment.amount : null,
    payment_method: text(row.payment?.method, LIMITS.short),
    payment_reference: text(row.payment?.reference, LIMITS.short),
  };
}

/**
 * Map a router `CompletionRecord` to a ledger row. `model` is the upstream model that answered
 * (falling back to the name the caller asked for); `route` keeps the name the caller used.
 */
export function toLedgerRow(record: CompletionRecord, clientRequestId?: string): LedgerRow {
  return {
    id: record.requestId,
    clientRequestId: clientRequestId ?? null,
    createdAt: record.startedAt,
    accountId: record.principal?.accountId ?? null,
    keyId: record.principal?.keyId ?? null,
    inboundProtocol: record.inboundProtocol,
    route: record.route,
    provider: record.provider ?? null,
    model: record.modelId ?? record.model,
    stream: record.stream,
    status: record.status,
    errorKind: record.errorKind ?? null,
    latencyMs: record.latencyMs,
    ttfbMs: record.ttfbMs ?? null,
    inputTokens: record.usage?.inputTokens ?? null,
    outputTokens: record.usage?.outputTokens ?? null,
    cacheReadTokens: record.usage?.cacheReadTokens ?? null,
    cacheWriteTokens: record.usage?.cacheWriteTokens ?? null,
    reasoningTokens: record.usage?.reasoningTokens ?? null,
    costMicroUsd: record.costMicroUsd ?? null,
    guardrailViolations: record.counters.guardrail_violations ?? 0,
    attempts: record.attempts,
  };
}
