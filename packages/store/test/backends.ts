// Real databases for the store tests: a temp SQLite file, and a fresh database with a unique name
// on the loopback PostgreSQL and MariaDB services (dropped after). If a service is down the test
// FAILS with a message saying so: CI starts both, and a silent skip would hide a broken store.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import pg from "pg";

export const PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const MYSQL_ADMIN = { host: "127.0.0.1", port: 3306, user: "root", password: "" };

export interface TestDatabase {
  url: string;
  /** For server databases: name, host and port (to build URLs that go through a proxy). */
  name?: string;
  drop(): Promise<void>;
}

export interface Backend {
  name: "sqlite" | "postgres" | "mysql";
  create(): Promise<TestDatabase>;
}

export function uniqueName(): string {
  return `bitrouter_test_${randomBytes(6).toString("hex")}`;
}

function unreachable(service: string, where: string, error: unknown): Error {
  const detail = error instanceof Error ? error.message || (error as { code?: string }).code : String(error);
  return new Error(
    `${service} is not reachable at ${where} (${detail}). The @bitrouter/store tests need it running ` +
      `(CI starts it; locally start it on loopback). Not skipping on purpose.`,
  );
}

export const sqliteBackend: Backend = {
  name: "sqlite",
  async create() {
    const dir = mkdtempSync(join(tmpdir(), "bitrouter-store-"));
    return {
      url: `sqlite://${join(dir, "test.db")}?mode=rwc`,
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

export async function pgAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw unreachable("PostgreSQL", "127.0.0.1:5432 (user postgres, db postgres)", error);
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export const postgresBackend: Backend = {
  name: "postgres",
  async create() {
    const name = uniqueName();
    await pgAdmin((c) => c.query(`CREATE DATABASE ${name}`));
    return {
      url: `postgres://postgres@127.0.0.1:5432/${name}`,
      name,
      async drop() {
        await pgAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      },
    };
  },
};

export async function mysqlAdmin<T>(fn: (conn: mysql.Connection) => Promise<T>): Promise<T> {
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection({ ...MYSQL_ADMIN, connectTimeout: 5000 });
  } catch (error) {
    throw unreachable("MariaDB/MySQL", "127.0.0.1:3306 (user root, no password)", error);
  }
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

export const mysqlBackend: Backend = {
  name: "mysql",
  async create() {
    const name = uniqueName();
    await mysqlAdmin((c) => c.query(`CREATE DATABASE ${name}`));
    return {
      url: `mysql://root@127.0.0.1:3306/${name}`,
      name,
      async drop() {
        await mysqlAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name}`));
      },
    };
  },
};

export const allBackends: Backend[] = [sqliteBackend, postgresBackend, mysqlBackend];
export const serverBackends: Backend[] = [postgresBackend, mysqlBackend];

/** A logger that remembers what it was told. */
export function memoryLogger() {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, warn: (m: string) => void warnings.push(m), info: (m: string) => void infos.push(m) };
}
