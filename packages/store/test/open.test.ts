import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, test } from "vitest";
import { knownMigrations, openStore, type Store, StoreError } from "../src/index.js";
import { allBackends, memoryLogger, mysqlAdmin, pgAdmin, serverBackends, type TestDatabase, uniqueName } from "./backends.js";

async function migrationRows(store: Store): Promise<string[]> {
  const result = await sql<{ name: string }>`select name from bitrouter_migration order by name`.execute(store.db);
  return result.rows.map((r) => r.name);
}

async function openError(url: string): Promise<StoreError> {
  try {
    const store = await openStore(url, { connectTimeoutMs: 3000 });
    await store.close();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
  }
  throw new Error(`openStore(${url}) unexpectedly succeeded`);
}

describe.each(allBackends)("$name: open and migrate", (backend) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  test("migrates an empty database, and re-opening is a no-op", async () => {
    database = await backend.create();
    const logger = memoryLogger();
    const first = await openStore(database.url, { logger });
    expect(first.dialect).toBe(backend.name);
    expect(await migrationRows(first)).toEqual(knownMigrations());
    expect(logger.infos.join("\n")).toMatch(/applied migrations 0001_initial/);
    // All tables answer queries.
    for (const table of ["requests", "accounts", "keys", "key_revocations"] as const) {
      expect(await first.db.selectFrom(table).selectAll().execute()).toEqual([]);
    }
    await first.close();
    await first.close(); // closing twice is harmless

    const again = memoryLogger();
    const second = await openStore(database.url, { logger: again });
    expect(await migrationRows(second)).toEqual(knownMigrations());
    expect(again.infos).toEqual([]);
    await second.close();
  });
});

describe.each(serverBackends)("$name: shared server", (backend) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.drop();
    database = undefined;
  });

  test("several instances starting at once on a fresh database migrate exactly once", async () => {
    database = await backend.create();
    const url = database.url;
    const stores = await Promise.all([openStore(url), openStore(url), openStore(url), openStore(url)]);
    try {
      expect(await migrationRows(stores[0])).toEqual(knownMigrations());
      // Every instance can use the schema.
      await Promise.all(
        stores.map((s, i) =>
          s.db
            .insertInto("accounts")
            .values({ id: `a${i}`, created_at: i })
            .execute(),
        ),
      );
      expect(await stores[3].db.selectFrom("accounts").select("id").orderBy("id").execute()).toHaveLength(4);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});

describe.each(allBackends)("$name: a migration that cannot run", (backend) => {
  test("fails with kind migrate, naming the migration and the database", async () => {
    const database = await backend.create();
    try {
      // Someone else's table with the same name, in the way of 0001_initial.
      const plain = await openStore(database.url, { migrate: false });
      await sql`create table accounts (x integer)`.execute(plain.db);
      await plain.close();
      let caught: unknown;
      try {
        await openStore(database.url);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(StoreError);
      expect((caught as StoreError).kind).toBe("migrate");
      expect((caught as Error).message).toMatch(/^migrating .* \(migration 0001_initial\) failed: .*accounts/);
    } finally {
      await database.drop();
    }
  });
});

describe("connection errors", () => {
  test("unreachable PostgreSQL: names host and port, never the password", async () => {
    const error = await openError("postgres://app:Sup3rS3cret@127.0.0.1:1/bitrouter");
    expect(error.kind).toBe("connect");
    expect(error.message).toContain("127.0.0.1:1");
    expect(error.message).toContain('"bitrouter"');
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).not.toContain("Sup3rS3cret");
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain("Sup3rS3cret");
  });

  test("unreachable MySQL: names host and port, never the password", async () => {
    const error = await openError("mysql://app:Sup3rS3cret@127.0.0.1:1/bitrouter");
    expect(error.kind).toBe("connect");
    expect(error.message).toContain("127.0.0.1:1");
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).not.toContain("Sup3rS3cret");
  });

  test("a database that does not exist on a reachable server", async () => {
    await pgAdmin(async () => {}); // fails clearly if PostgreSQL is down
    const name = uniqueName();
    const error = await openError(`postgres://postgres:Sup3rS3cret@127.0.0.1:5432/${name}`);
    expect(error.message).toContain("127.0.0.1:5432");
    expect(error.message).toContain(name);
    expect(error.message).toMatch(/does not exist/);
    expect(error.message).not.toContain("Sup3rS3cret");

    await mysqlAdmin(async () => {});
    const myError = await openError(`mysql://root@127.0.0.1:3306/${name}`);
    expect(myError.message).toContain("127.0.0.1:3306");
    expect(myError.message).toMatch(/Unknown database/i);
  });

  test("MySQL wrong password: the password is not in the error", async () => {
    await mysqlAdmin(async () => {});
    const error = await openError("mysql://root:Wr0ngPassw0rd@127.0.0.1:3306/test");
    expect(error.message).toContain("127.0.0.1:3306");
    expect(error.message).toMatch(/Access denied/);
    expect(error.message).not.toContain("Wr0ngPassw0rd");
  });
});

describe("sqlite files", () => {
  test("mode=rwc creates the file and its directory; mode=rw and ro need an existing file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bitrouter-store-"));
    try {
      const missing = await openError(`sqlite://${join(dir, "none.db")}?mode=rw`);
      expect(missing.kind).toBe("connect");
      expect(missing.message).toContain(join(dir, "none.db"));

      const store = await openStore("sqlite://nested/dir/br.db?mode=rwc", { baseDir: dir });
      expect(existsSync(join(dir, "nested/dir/br.db"))).toBe(true);
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
      expect(mode.rows[0]?.journal_mode).toBe("wal");
      await store.db.insertInto("accounts").values({ id: "acct", created_at: 1 }).execute();
      await store.close();

      const readOnly = await openStore(`sqlite://${join(dir, "nested/dir/br.db")}?mode=ro`);
      expect(await readOnly.db.selectFrom("accounts").select("id").execute()).toEqual([{ id: "acct" }]);
      await expect(readOnly.db.insertInto("accounts").values({ id: "x", created_at: 1 }).execute()).rejects.toThrow(/readonly/);
      await readOnly.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("in-memory database", async () => {
    const store = await openStore("sqlite::memory:");
    expect(await migrationRows(store)).toEqual(knownMigrations());
    await store.close();
  });
});
