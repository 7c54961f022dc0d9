import { resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { parseDatabaseUrl, StoreError } from "../src/index.js";

describe("parseDatabaseUrl", () => {
  test("sqlite relative paths resolve against baseDir, absolute ones stay", () => {
    expect(parseDatabaseUrl("sqlite://bitrouter.db?mode=rwc", "/home/u/.bitrouter")).toEqual({
      dialect: "sqlite",
      memory: false,
      path: "/home/u/.bitrouter/bitrouter.db",
      mode: "rwc",
    });
    expect(parseDatabaseUrl("sqlite://data/x.db", "/srv")).toMatchObject({ path: "/srv/data/x.db", mode: "rwc" });
    expect(parseDatabaseUrl("sqlite:///var/lib/br.db?mode=ro")).toMatchObject({ path: "/var/lib/br.db", mode: "ro" });
    expect(parseDatabaseUrl("sqlite:rel.db")).toMatchObject({ path: resolve("rel.db") });
  });

  test("sqlite in-memory forms", () => {
    for (const url of ["sqlite::memory:", "sqlite://:memory:", "sqlite://x.db?mode=memory"]) {
      expect(parseDatabaseUrl(url)).toEqual({ dialect: "sqlite", memory: true, mode: "rwc" });
    }
  });

  test("server URLs: scheme aliases, default ports, names", () => {
    expect(parseDatabaseUrl("postgresql://app:pw@db.internal/bitrouter")).toMatchObject({
      dialect: "postgres",
      host: "db.internal",
      port: 5432,
      database: "bitrouter",
      user: "app",
    });
    const maria = parseDatabaseUrl("mariadb://root@127.0.0.1:3307/br");
    expect(maria).toMatchObject({ dialect: "mysql", port: 3307, database: "br" });
    expect(maria.dialect === "mysql" && maria.url).toBe("mysql://root@127.0.0.1:3307/br");
  });

  test("bad URLs name the problem and never echo the password", () => {
    const cases: [string, RegExp][] = [
      ["redis://u:topsecret@h/0", /unsupported scheme/],
      ["postgres://u:topsecret@h:5432/", /names no database/],
      ["sqlite://x.db?mode=rwx", /mode "rwx"/],
      ["sqlite://", /no file path/],
    ];
    for (const [url, message] of cases) {
      let caught: unknown;
      try {
        parseDatabaseUrl(url);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(StoreError);
      expect((caught as StoreError).kind).toBe("config");
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).not.toContain("topsecret");
    }
  });
});
