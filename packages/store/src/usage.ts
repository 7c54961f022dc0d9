import { type AliasedRawBuilder, type RawBuilder, type SelectQueryBuilder, sql } from "kysely";
import { StoreError } from "./errors.js";
import type { Database } from "./schema.js";
import { safeInteger, type Store } from "./store.js";

/**
 * An integer sum: a JS number when it is a safe integer (always, in practice: 2^53 micro-USD is
 * nine billion dollars), otherwise its exact decimal string. Never a rounded float.
 */
export type IntValue = number | string;

/** `tool` groups only the tool calls of the MCP gateway (model requests have no tool). */
export type UsageGroupBy = "day" | "model" | "provider" | "key" | "route" | "tool";

export interface UsageQuery {
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  groupBy: UsageGroupBy;
  keyId?: string;
  accountId?: string;
}

export interface UsageRow {
  /** `YYYY-MM-DD` (UTC) for day, else the model / provider / key id / route; null when unknown. */
  group: string | null;
  requests: number;
  /** Requests answered with status >= 400, or that failed mid-stream (error_kind set). */
  errors: number;
  inputTokens: IntValue;
  outputTokens: IntValue;
  cacheReadTokens: IntValue;
  cacheWriteTokens: IntValue;
  reasoningTokens: IntValue;
  costMicroUsd: IntValue;
}

const DAY_MS = 86_400_000;

type RequestsQuery = SelectQueryBuilder<Database, "requests", object>;

function filtered(store: Store, q: { since?: number; until?: number; keyId?: string; accountId?: string }): RequestsQuery {
  let query: RequestsQuery = store.db.selectFrom("requests");
  if (q.since !== undefined) query = query.where("created_at", ">=", q.since);
  if (q.until !== undefined) query = query.where("created_at", "<", q.until);
  if (q.keyId !== undefined) query = query.where("key_id", "=", q.keyId);
  if (q.accountId !== undefined) query = query.where("account_id", "=", q.accountId);
  return query;
}

type SummedColumn = "input_tokens" | "output_tokens" | "cache_read_tokens" | "cache_write_tokens" | "reasoning_tokens" | "cost_micro_usd";

/**
 * SUM(column) without precision loss: PostgreSQL (numeric) and MySQL (DECIMAL) already return
 * exact decimal strings; better-sqlite3 would return a float past 2^53, so SQLite sums as text.
 */
function exactSum<C extends SummedColumn>(store: Store, column: C): AliasedRawBuilder<unknown, C> {
  const sum = sql`sum(${sql.ref(column)})`;
  return (store.dialect === "sqlite" ? sql<unknown>`cast(${sum} as text)` : sql<unknown>`${sum}`).as(column);
}

function groupExpression(store: Store, groupBy: UsageGroupBy): RawBuilder<unknown> {
  switch (groupBy) {
    // UTC day number, computed with integer arithmetic so the session time zone never matters.
    // The divisor is a literal (not a bound parameter) so SELECT and GROUP BY are the same expression.
    case "day":
      return store.dialect === "mysql" ? sql`created_at DIV ${sql.lit(DAY_MS)}` : sql`created_at / ${sql.lit(DAY_MS)}`;
    case "model":
      return sql.ref("model");
    case "provider":
      return sql.ref("provider");
    case "key":
      return sql.ref("key_id");
    case "route":
      return sql.ref("route");
    case "tool":
      return sql.ref("tool");
    default:
      throw new StoreError("config", `usage groupBy "${String(groupBy)}" is not one of day, model, provider, key, route, tool`);
  }
}

/**
 * Usage aggregated from the ledger, one row per group, ordered by group (days ascending).
 * Everything is summed at read time; no counters are maintained on the write path.
 */
export async function usage(store: Store, query: UsageQuery): Promise<UsageRow[]> {
  const group = groupExpression(store, query.groupBy);
  let selected = filtered(store, query);
  if (query.groupBy === "tool") selected = selected.where("tool", "is not", null);
  const rows = await selected
    .select([
      group.as("grp"),
      sql<unknown>`count(*)`.as("requests"),
      sql<unknown>`sum(case when status >= 400 or error_kind is not null then 1 else 0 end)`.as("errors"),
      exactSum(store, "input_tokens"),
      exactSum(store, "output_tokens"),
      exactSum(store, "cache_read_tokens"),
      exactSum(store, "cache_write_tokens"),
      exactSum(store, "reasoning_tokens"),
      exactSum(store, "cost_micro_usd"),
    ])
    .groupBy(group)
    .orderBy(group)
    .execute();

  return rows.map((r) => ({
    group: groupLabel(query.groupBy, r.grp),
    requests: Number(safeInteger(r.requests)),
    errors: Number(safeInteger(r.errors)),
    inputTokens: safeInteger(r.input_tokens),
    outputTokens: safeInteger(r.output_tokens),
    cacheReadTokens: safeInteger(r.cache_read_tokens),
    cacheWriteTokens: safeInteger(r.cache_write_tokens),
    reasoningTokens: safeInteger(r.reasoning_tokens),
    costMicroUsd: safeInteger(r.cost_micro_usd),
  }));
}

function groupLabel(groupBy: UsageGroupBy, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (groupBy === "day") return new Date(Number(value) * DAY_MS).toISOString().slice(0, 10);
  return String(value);
}

export interface SpendQuery {
  keyId?: string;
  accountId?: string;
  /** Epoch ms, inclusive: spend over a time window (budget_range duration:…). */
  since?: number;
  /** Only the most recent N requests (budget_range rounds:N). */
  lastRounds?: number;
}

export interface Spend {
  /** Total cost in integer micro-USD (requests without a known cost count as 0). */
  microUsd: number;
  requests: number;
}

/**
 * Spend of one key or one account (or everything, with neither), over a time window and/or the
 * last N requests. Served by the (key_id, created_at) and (account_id, created_at) indexes.
 */
export async function spend(store: Store, query: SpendQuery): Promise<Spend> {
  const base = filtered(store, query);
  let row: { micro: unknown; n: unknown } | undefined;
  if (query.lastRounds !== undefined) {
    if (!Number.isInteger(query.lastRounds) || query.lastRounds <= 0) {
      throw new StoreError("config", `spend lastRounds must be a positive integer, got ${query.lastRounds}`);
    }
    const recent = base
      .select("cost_micro_usd")
      // No tie-breaker on purpose: ORDER BY created_at alone walks the (key|account, created_at)
      // index backwards; a second sort key makes PostgreSQL sort every row of the account.
      .orderBy("created_at", "desc")
      .limit(query.lastRounds)
      .as("recent");
    row = await store.db
      .selectFrom(recent)
      .select([sql<unknown>`sum(cost_micro_usd)`.as("micro"), sql<unknown>`count(*)`.as("n")])
      .executeTakeFirst();
  } else {
    row = await base.select([sql<unknown>`sum(cost_micro_usd)`.as("micro"), sql<unknown>`count(*)`.as("n")]).executeTakeFirst();
  }
  return { microUsd: Number(safeInteger(row?.micro)), requests: Number(safeInteger(row?.n)) };
}

/**
 * Delete ledger rows created before `before` (epoch ms), `chunk` rows per statement so a large
 * prune never holds long locks against the ledger's inserts. Returns the number of rows deleted.
 */
export async function pruneLedger(store: Store, before: number, options: { chunk?: number } = {}): Promise<number> {
  const chunk = options.chunk ?? 10_000;
  if (!Number.isInteger(chunk) || chunk <= 0) throw new StoreError("config", `pruneLedger chunk must be a positive integer, got ${chunk}`);
  let total = 0;
  for (;;) {
    let deleted: bigint;
    if (store.dialect === "mysql") {
      // MySQL has DELETE … LIMIT but no LIMIT inside an IN (subquery).
      const result = await store.db.deleteFrom("requests").where("created_at", "<", before).limit(chunk).executeTakeFirst();
      deleted = result.numDeletedRows;
    } else {
      const oldest = store.db.selectFrom("requests").select("id").where("created_at", "<", before).limit(chunk);
      const result = await store.db.deleteFrom("requests").where("id", "in", oldest).executeTakeFirst();
      deleted = result.numDeletedRows;
    }
    total += Number(deleted);
    if (Number(deleted) < chunk) return total;
  }
}
