import type { Kysely, Migration, MigrationProvider } from "kysely";
import { LIMITS } from "./schema.js";
import type { DialectName } from "./url.js";

/**
 * Versioned migrations, in code so a bundled binary needs no migration files. Names sort in
 * order; never edit a released migration, add the next one.
 */
function migrations(dialect: DialectName): Record<string, Migration> {
  // SQLite has no boolean type: store 0/1 in an integer.
  const boolType = dialect === "sqlite" ? "integer" : "boolean";
  return {
    "0001_initial": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("requests")
          .addColumn("id", `varchar(${LIMITS.id})`, (c) => c.primaryKey())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("account_id", `varchar(${LIMITS.id})`)
          .addColumn("key_id", `varchar(${LIMITS.id})`)
          .addColumn("inbound_protocol", `varchar(${LIMITS.short})`, (c) => c.notNull())
          .addColumn("route", `varchar(${LIMITS.short})`, (c) => c.notNull())
          .addColumn("provider", `varchar(${LIMITS.short})`)
          .addColumn("model", `varchar(${LIMITS.short})`, (c) => c.notNull())
          .addColumn("stream", boolType, (c) => c.notNull())
          .addColumn("status", "integer", (c) => c.notNull())
          .addColumn("error_kind", `varchar(${LIMITS.short})`)
          .addColumn("latency_ms", "integer", (c) => c.notNull())
          .addColumn("ttfb_ms", "integer")
          .addColumn("input_tokens", "integer")
          .addColumn("output_tokens", "integer")
          .addColumn("cache_read_tokens", "integer")
          .addColumn("cache_write_tokens", "integer")
          .addColumn("reasoning_tokens", "integer")
          .addColumn("cost_micro_usd", "bigint")
          .addColumn("guardrail_violations", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(1))
          .execute();
        // Usage and spend queries filter by time, by key over time, by account over time.
        await db.schema.createIndex("requests_created_at_idx").on("requests").column("created_at").execute();
        await db.schema.createIndex("requests_key_created_idx").on("requests").columns(["key_id", "created_at"]).execute();
        await db.schema.createIndex("requests_account_created_idx").on("requests").columns(["account_id", "created_at"]).execute();

        await db.schema
          .createTable("accounts")
          .addColumn("id", `varchar(${LIMITS.id})`, (c) => c.primaryKey())
          .addColumn("label", `varchar(${LIMITS.short})`)
          .addColumn("solana_address", `varchar(${LIMITS.short})`)
          .addColumn("evm_address", `varchar(${LIMITS.short})`)
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();

        await db.schema
          .createTable("keys")
          .addColumn("id", `varchar(${LIMITS.id})`, (c) => c.primaryKey())
          .addColumn("account_id", `varchar(${LIMITS.id})`, (c) => c.notNull())
          .addColumn("name", `varchar(${LIMITS.short})`)
          .addColumn("scope", `varchar(${LIMITS.short})`, (c) => c.notNull())
          .addColumn("models", "text")
          .addColumn("tools", "text")
          .addColumn("budget_micro_usd", "bigint")
          .addColumn("budget_scope", `varchar(${LIMITS.short})`)
          .addColumn("budget_range", `varchar(${LIMITS.short})`)
          .addColumn("expires_at", "bigint")
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("keys_account_idx").on("keys").column("account_id").execute();

        await db.schema
          .createTable("key_revocations")
          .addColumn("key_id", `varchar(${LIMITS.id})`, (c) => c.primaryKey())
          .addColumn("revoked_at", "bigint", (c) => c.notNull())
          .addColumn("reason", `varchar(${LIMITS.reason})`)
          .execute();
        // Other instances poll "revoked since T": keep that an index range scan.
        await db.schema.createIndex("key_revocations_revoked_at_idx").on("key_revocations").column("revoked_at").execute();
      },
      async down(db: Kysely<unknown>) {
        for (const table of ["key_revocations", "keys", "accounts", "requests"]) {
          await db.schema.dropTable(table).ifExists().execute();
        }
      },
    },
    // The server makes every row's id; the caller's `x-request-id` is kept beside it. (It was the
    // primary key, so a caller repeating an id had its later requests skipped: budgets bypassed.)
    "0002_client_request_id": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("requests").addColumn("client_request_id", `varchar(${LIMITS.id})`).execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable("requests").dropColumn("client_request_id").execute();
      },
    },
    // Tool calls of the MCP gateway are ledger rows too; `tool` (server/tool) tells them apart.
    "0003_tool_calls": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("requests").addColumn("tool", `varchar(${LIMITS.short})`).execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable("requests").dropColumn("tool").execute();
      },
    },
    "0004_payments": {
      async up(db: Kysely<unknown>) {
        // What a paid request charged (MPP): the amount as an exact integer in the token's base
        // units (a decimal string: 18-decimal tokens overflow BIGINT), the method and its reference
        // (a transaction hash, or a channel id).
        await db.schema.alterTable("requests").addColumn("payment_amount", `varchar(${LIMITS.amount})`).execute();
        await db.schema.alterTable("requests").addColumn("payment_method", `varchar(${LIMITS.short})`).execute();
        await db.schema.alterTable("requests").addColumn("payment_reference", `varchar(${LIMITS.short})`).execute();
        // What the operator's wallet paid upstreams (provider auth: mpp): one row per payment.
        await db.schema
          .createTable("wallet_payments")
          .addColumn("reference", `varchar(${LIMITS.short})`, (c) => c.primaryKey())
          .addColumn("created_at", "bigint", (c) => c.notNull())
          .addColumn("provider", `varchar(${LIMITS.short})`, (c) => c.notNull())
          .addColumn("url", "text", (c) => c.notNull())
          .addColumn("amount", `varchar(${LIMITS.amount})`, (c) => c.notNull())
          .addColumn("method", `varchar(${LIMITS.short})`, (c) => c.notNull())
          .addColumn("chain_id", "bigint")
          .execute();
        await db.schema.createIndex("wallet_payments_created_at_idx").on("wallet_payments").column("created_at").execute();
        // Payment sessions and replay markers: one JSON value per key, changed only through a
        // compare-and-set on `version`, so every instance on one database sees the same balances.
        await db.schema
          .createTable("payment_state")
          .addColumn("key", `varchar(${LIMITS.id})`, (c) => c.primaryKey())
          .addColumn("value", "text", (c) => c.notNull())
          .addColumn("version", "bigint", (c) => c.notNull())
          .addColumn("updated_at", "bigint", (c) => c.notNull())
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable("payment_state").ifExists().execute();
        await db.schema.dropTable("wallet_payments").ifExists().execute();
        for (const column of ["payment_amount", "payment_method", "payment_reference"]) {
          await db.schema.alterTable("requests").dropColumn(column).execute();
        }
      },
    },
  };
}

export function migrationProvider(dialect: DialectName): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}

/** Names of all migrations this version knows, in order. */
export function knownMigrations(): string[] {
  return Object.keys(migrations("sqlite")).sort();
}
