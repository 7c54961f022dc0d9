import { redactUrl } from "@bitrouter/core";
import { isAbsolute, resolve } from "node:path";
import { StoreError } from "./errors.js";

export type DialectName = "sqlite" | "postgres" | "mysql";

/** SQLite open modes, as in `?mode=` of the URL: read-only, read-write, read-write-create (default). */
export type SqliteMode = "ro" | "rw" | "rwc";

export type ParsedDatabaseUrl =
  | { dialect: "sqlite"; memory: true; mode: SqliteMode }
  | { dialect: "sqlite"; memory: false; path: string; mode: SqliteMode }
  | {
      dialect: "postgres" | "mysql";
      /** The URL to hand to the driver (scheme normalised, password intact). */
      url: string;
      host: string;
      port: number;
      database: string;
      user: string;
      /** Kept only to scrub it out of driver error messages. */
      password: string;
    };

const DEFAULT_PORTS = { postgres: 5432, mysql: 3306 } as const;

/**
 * Parse a database URL. `baseDir` resolves relative SQLite paths (the server passes its home
 * directory, so `sqlite://bitrouter.db` lands in `<home>/bitrouter.db`).
 */
export function parseDatabaseUrl(url: string, baseDir: string = process.cwd()): ParsedDatabaseUrl {
  const trimmed = url.trim();
  const lower = trimmed.toLowerCase();
  if (lower.startsWith("sqlite:")) return parseSqlite(trimmed, baseDir);
  if (lower.startsWith("postgres://") || lower.startsWith("postgresql://")) return parseServer(trimmed, "postgres");
  if (lower.startsWith("mysql://") || lower.startsWith("mariadb://")) return parseServer(trimmed, "mysql");
  throw new StoreError(
    "config",
    `database URL "${redactUrl(trimmed)}" has an unsupported scheme: expected sqlite://, postgres://, postgresql://, mysql:// or mariadb://`,
  );
}

function parseSqlite(url: string, baseDir: string): ParsedDatabaseUrl {
  // Accepted: sqlite::memory:, sqlite://:memory:, sqlite://rel/path.db, sqlite:///abs/path.db, sqlite:rel.db
  let rest = url.slice("sqlite:".length);
  if (rest.startsWith("//")) rest = rest.slice(2);
  const q = rest.indexOf("?");
  const pathPart = decodeURIComponent(q === -1 ? rest : rest.slice(0, q));
  const params = new URLSearchParams(q === -1 ? "" : rest.slice(q + 1));
  const modeParam = params.get("mode") ?? "rwc";
  if (modeParam === "memory" || pathPart === ":memory:") return { dialect: "sqlite", memory: true, mode: "rwc" };
  if (modeParam !== "ro" && modeParam !== "rw" && modeParam !== "rwc") {
    throw new StoreError("config", `database URL "${url}": mode "${modeParam}" is not one of ro, rw, rwc, memory`);
  }
  if (pathPart === "") throw new StoreError("config", `database URL "${url}" has no file path (e.g. sqlite://bitrouter.db)`);
  const path = isAbsolute(pathPart) ? pathPart : resolve(baseDir, pathPart);
  return { dialect: "sqlite", memory: false, path, mode: modeParam };
}

function parseServer(url: string, dialect: "postgres" | "mysql"): ParsedDatabaseUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreError("config", `database URL "${redactUrl(url)}" is not a valid URL`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (database === "") {
    throw new StoreError("config", `database URL "${redactUrl(url)}" names no database (e.g. ${dialect}://user@host:port/bitrouter)`);
  }
  if (u.hostname === "") throw new StoreError("config", `database URL "${redactUrl(url)}" names no host`);
  const port = u.port === "" ? DEFAULT_PORTS[dialect] : Number(u.port);
  // mysql2 only understands mysql://; MariaDB speaks the same protocol.
  if (dialect === "mysql") u.protocol = "mysql:";
  return {
    dialect,
    url: u.toString(),
    host: u.hostname,
    port,
    database,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}
