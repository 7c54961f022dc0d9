import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { Kysely, Migrator, MysqlDialect, PostgresDialect, SqliteDialect, sql, type Dialect, type SqliteDatabase as KyselySqliteDatabase } from "kysely";
import type pg from "pg";
import { StoreError } from "./errors.js";
import { migrationProvider } from "./migrations.js";
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, type Database } from "./schema.js";
import { installHint, isMissingPackage, redactUrl } from "@bitrouter/core";
import { type DialectName, type ParsedDatabaseUrl, parseDatabaseUrl } from "./url.js";

/** Where the store (and the ledger) report outages and recoveries. `console` fits. */
export interface StoreLogger {
  warn(message: string): void;
  info(message: string): void;
}

export interface OpenStoreOptions {
  logger?: StoreLogger;
  /** Directory that relative SQLite paths are resolved against (default: the process cwd). */
  baseDir?: string;
  /** Connections in the PostgreSQL/MySQL pool (default 10). */
  poolSize?: number;
  /** How long to wait for a PostgreSQL/MySQL connection before failing (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Run pending migrations on open (default true). */
  migrate?: boolean;
}

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: DialectName;
  /** The URL with its password replaced by `***`. */
  readonly url: string;
  readonly logger: StoreLogger;
  /** A one-line description of a driver error, safe to log (the password is scrubbed out). */
  describeError(error: unknown): string;
  /** Close the pool / file. Safe to call twice. */
  close(): Promise<void>;
}

const silentLogger: StoreLogger = { warn() {}, info() {} };

/**
 * Open the database named by `url`, run pending migrations, and return a `Store`.
 * `sqlite://path.db?mode=rwc` (default, WAL), `sqlite::memory:`, `postgres://…`, `mysql://…`.
 * Throws `StoreError` (kind `config`, `connect` or `migrate`) naming the host and port, never the password.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const parsed = parseDatabaseUrl(url, options.baseDir);
  const logger = options.logger ?? silentLogger;
  const secret = parsed.dialect === "sqlite" ? "" : parsed.password;
  const describeError = (error: unknown): string => scrub(errorText(error), secret);
  const where = describeTarget(parsed);

  let connection: BetterSqlite3.Database | undefined;
  const db = new Kysely<Database>({ dialect: await createDialect(parsed, options, (opened) => (connection = opened)) });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await db.destroy();
  };

  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await close().catch(() => {});
    throw new StoreError("connect", `cannot open ${where}: ${describeError(error)}`);
  }

  const readOnly = parsed.dialect === "sqlite" && parsed.mode === "ro";
  if (options.migrate !== false && !readOnly) {
    // Kysely's migrator takes a lock (pg_advisory_xact_lock / GET_LOCK) so that two instances
    // starting at once on one server run each migration exactly once.
    const migrator = new Migrator({
      db,
      provider: migrationProvider(parsed.dialect),
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error !== undefined) {
      await close().catch(() => {});
      const failed = results?.find((r) => r.status === "Error")?.migrationName;
      throw new StoreError("migrate", `migrating ${where}${failed ? ` (migration ${failed})` : ""} failed: ${describeError(error)}`);
    }
    const applied = results?.filter((r) => r.status === "Success").map((r) => r.migrationName) ?? [];
    if (applied.length > 0) logger.info(`store: applied migrations ${applied.join(", ")} to ${where}`);
  }

  const store: Store = { db, dialect: parsed.dialect, url: redactUrl(url), logger, describeError, close };
  if (connection) sqliteConnections.set(store, connection);
  return store;
}

/** The SQLite connection under each SQLite store (kysely opened it on the `select 1` above). */
const sqliteConnections = new WeakMap<Store, BetterSqlite3.Database>();

/**
 * A SQLite store's better-sqlite3 connection, for the ledger's insert (kysely's query building is
 * most of a batch's cost there); undefined for other databases. Not exported from the package.
 * Safe beside kysely: better-sqlite3 is synchronous, so a call never lands inside one of kysely's
 * queries, and the store opens no transactions after its migrations.
 */
export function sqliteConnection(store: Store): BetterSqlite3.Database | undefined {
  return sqliteConnections.get(store);
}

function describeTarget(p: ParsedDatabaseUrl): string {
  if (p.dialect === "sqlite") return p.memory ? "sqlite in-memory database" : `sqlite database ${p.path}`;
  return `${p.dialect} database "${p.database}" at ${p.host}:${p.port} as user "${p.user}"`;
}

/** Prepared statements kept per SQL text (the most recently used ones, up to this many). */
const STATEMENT_CACHE_SIZE = 64;

/**
 * Kysely prepares every query anew; the ledger sends the same multi-row INSERT batch after batch,
 * and SQLite's parse and plan of it cost more than running it. Statements are reused per SQL text
 * (kysely passes values as parameters, so the text repeats). Safe on one connection: kysely runs
 * one query at a time on it.
 */
function withStatementCache(db: KyselySqliteDatabase): KyselySqliteDatabase {
  const cache = new Map<string, ReturnType<KyselySqliteDatabase["prepare"]>>();
  return {
    close: () => db.close(),
    prepare(text) {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text); // re-inserted below: the Map's order is least recently used first
      } else {
        statement = db.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

/** pg and mysql2 are optional peer dependencies: only a database.url of theirs needs one installed. */
async function driver<T>(dialect: string, name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, name))
      throw new StoreError("config", `database.url: a ${dialect} database needs the package ${name}, which is not installed: ${installHint(name)}`);
    throw error;
  }
}

/** Only the configured database's driver is loaded (each costs memory and start-up time). */
async function createDialect(p: ParsedDatabaseUrl, options: OpenStoreOptions, onSqlite: (db: BetterSqlite3.Database) => void): Promise<Dialect> {
  const poolSize = options.poolSize ?? 10;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  if (p.dialect === "sqlite") {
    const { default: SqliteDatabase } = await import("better-sqlite3");
    return new SqliteDialect({
      database: async () => {
        if (p.memory) {
          const memory = new SqliteDatabase(":memory:");
          onSqlite(memory);
          return withStatementCache(memory);
        }
        if (p.mode === "rwc") mkdirSync(dirname(p.path), { recursive: true });
        const file = new SqliteDatabase(p.path, { readonly: p.mode === "ro", fileMustExist: p.mode !== "rwc" });
        onSqlite(file);
        if (p.mode !== "ro") {
          // WAL: readers never block the writer. NORMAL sync is durable across app crashes in WAL.
          file.pragma("journal_mode = WAL");
          file.pragma("synchronous = NORMAL");
        }
        // Several processes may share the file: wait for the write lock instead of failing.
        file.pragma("busy_timeout = 5000");
        return withStatementCache(file);
      },
    });
  }
  if (p.dialect === "postgres") {
    const { default: pgDriver } = await driver("postgres", "pg", () => import("pg"));
    const pool = new pgDriver.Pool({
      connectionString: p.url,
      max: poolSize,
      connectionTimeoutMillis: connectTimeoutMs,
      types: { getTypeParser: pgTypeParser(pgDriver.types) },
    });
    // A dropped connection emits 'error': on the pool when idle, on the client itself while a
    // query holds it (kysely adds no listener). Unhandled, either crashes the process; the query
    // in flight is rejected anyway, the pool discards the client, and the ledger reports outages.
    pool.on("error", () => {});
    pool.on("connect", (client) => client.on("error", () => {}));
    return new PostgresDialect({ pool });
  }
  const { createPool: createMysqlPool } = await driver("mysql", "mysql2", () => import("mysql2"));
  const pool = createMysqlPool({
    uri: p.url,
    connectionLimit: poolSize,
    connectTimeout: connectTimeoutMs,
    // BIGINT as a number when it is a safe integer, as a string otherwise: never silently rounded.
    supportBigNumbers: true,
    bigNumberStrings: false,
    timezone: "Z",
  });
  return new MysqlDialect({ pool });
}

const PG_INT8_OID = 20;

/** int8 (BIGINT, COUNT(*)) as a number when it is a safe integer; other types as pg does by default. */
function pgTypeParser(types: typeof pg.types): typeof pg.types.getTypeParser {
  return ((oid: number, format?: "text" | "binary") => {
    if (oid === PG_INT8_OID && format !== "binary") return (value: string) => safeInteger(value);
    return format === undefined ? types.getTypeParser(oid) : types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser;
}

/**
 * An integer from a driver value (number, bigint or decimal string): a JS number when it is a safe
 * integer, otherwise the exact decimal string. `null`/`undefined` become 0.
 */
export function safeInteger(value: unknown): number | string {
  if (value === null || value === undefined) return 0;
  if (typeof value === "number") return value;
  const text = typeof value === "bigint" ? value.toString() : String(value);
  // SUM() over integers comes back as DECIMAL/NUMERIC text, possibly with a ".0…" tail.
  const integer = text.replace(/\.0*$/, "");
  const n = Number(integer);
  return Number.isSafeInteger(n) ? n : integer;
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    // Node's happy-eyeballs connect raises an AggregateError with an empty message.
    return errorText(error.errors[0]);
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = error.message.trim();
    if (message === "") return typeof code === "string" ? code : error.name;
    return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(error);
}

/**
 * Remove the password from a driver message. Drivers do not normally echo it, so this is a safety
 * net: a URL-shaped `:password@` always goes; a bare occurrence goes when the password is long
 * enough not to be a common substring (a 1-3 character password would mangle ordinary words).
 */
function scrub(text: string, secret: string): string {
  if (secret.length === 0) return text;
  let out = text.split(`:${secret}@`).join(":***@");
  out = out.split(`:${encodeURIComponent(secret)}@`).join(":***@");
  if (secret.length >= 4) out = out.split(secret).join("***");
  return out;
}
