import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, resolveDatabaseUrl, resolvePaths } from "../src/index.js";
import { tempDir } from "./helpers.js";

describe("home directory precedence", () => {
  const user = tempDir();
  const project = tempDir();
  writeFileSync(join(project, "bitrouter.yaml"), "");
  const envHome = tempDir();
  const empty = tempDir();

  it("--home-dir beats everything", () => {
    const paths = resolvePaths({ homeDir: "flag-home" }, { BITROUTER_HOME: envHome, HOME: user }, project);
    expect(paths).toMatchObject({ home: join(project, "flag-home"), homeSource: "flag" });
  });
  it("then the cwd when it holds bitrouter.yaml", () => {
    expect(resolvePaths({}, { BITROUTER_HOME: envHome, HOME: user }, project)).toMatchObject({ home: project, homeSource: "cwd" });
  });
  it("then BITROUTER_HOME if it is an existing directory", () => {
    expect(resolvePaths({}, { BITROUTER_HOME: envHome, HOME: user }, empty)).toMatchObject({ home: envHome, homeSource: "env" });
    expect(resolvePaths({}, { BITROUTER_HOME: join(envHome, "missing"), HOME: user }, empty)).toMatchObject({ homeSource: "default" });
  });
  it("then ~/.bitrouter", () => {
    expect(resolvePaths({}, { HOME: user }, empty)).toMatchObject({ home: join(user, ".bitrouter"), homeSource: "default" });
    expect(resolvePaths({ homeDir: "~/br" }, { HOME: user }, empty).home).toBe(join(user, "br"));
  });
  it("file flags override the layout", () => {
    const paths = resolvePaths({ homeDir: "/h", configFile: "c.yaml", envFile: "/e/.env" }, {}, "/work");
    expect(paths).toMatchObject({ home: "/h", configFile: "/work/c.yaml", envFile: "/e/.env" });
    expect(resolvePaths({ homeDir: "/h" }, {}, "/")).toMatchObject({ configFile: "/h/bitrouter.yaml", envFile: "/h/.env" });
  });
});

describe("database URL precedence", () => {
  const base = { home: "/home/u/.bitrouter", cwd: "/work" };
  it("--db > BITROUTER_DATABASE_URL > database.url > sqlite in home", () => {
    const env = { BITROUTER_DATABASE_URL: "postgres://u:p@127.0.0.1/env" };
    expect(resolveDatabaseUrl({ ...base, flag: "mysql://root@127.0.0.1/flag", env, configUrl: "sqlite://c.db" })).toEqual({
      url: "mysql://root@127.0.0.1/flag",
      source: "flag",
    });
    expect(resolveDatabaseUrl({ ...base, env, configUrl: "sqlite://c.db" })).toEqual({ url: "postgres://u:p@127.0.0.1/env", source: "env" });
    expect(resolveDatabaseUrl({ ...base, env: {}, configUrl: "sqlite://c.db?mode=rwc" })).toEqual({
      url: "sqlite:///home/u/.bitrouter/c.db?mode=rwc",
      source: "config",
    });
    expect(resolveDatabaseUrl({ ...base, env: {} })).toEqual({ url: "sqlite:///home/u/.bitrouter/bitrouter.db?mode=rwc", source: "default" });
  });
  it("relative sqlite paths: config and env against home, --db against cwd; absolute and memory kept", () => {
    expect(resolveDatabaseUrl({ ...base, env: {}, flag: "sqlite://x.db" }).url).toBe("sqlite:///work/x.db");
    expect(resolveDatabaseUrl({ ...base, env: { BITROUTER_DATABASE_URL: "sqlite:data/x.db" } }).url).toBe("sqlite:///home/u/.bitrouter/data/x.db");
    expect(resolveDatabaseUrl({ ...base, env: {}, configUrl: "sqlite:///var/db/x.db" }).url).toBe("sqlite:///var/db/x.db");
    expect(resolveDatabaseUrl({ ...base, env: {}, configUrl: "sqlite::memory:" }).url).toBe("sqlite::memory:");
  });
  it("the pipeline applies it, with BITROUTER_DATABASE_URL from .env", async () => {
    const home = tempDir();
    writeFileSync(join(home, "bitrouter.yaml"), "database:\n  url: sqlite://from-config.db\n");
    const fromConfig = await loadConfig({ flags: { homeDir: home }, env: {} });
    expect(fromConfig.paths).toMatchObject({ databaseUrl: `sqlite://${home}/from-config.db`, databaseUrlSource: "config" });
    writeFileSync(join(home, ".env"), "BITROUTER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test\n", { mode: 0o600 });
    const fromEnv = await loadConfig({ flags: { homeDir: home }, env: {} });
    expect(fromEnv.config.database.url).toBe("postgres://postgres@127.0.0.1:5432/test");
    const fromFlag = await loadConfig({ flags: { homeDir: home, db: "sqlite::memory:" }, env: {} });
    expect(fromFlag.paths.databaseUrlSource).toBe("flag");
  });
});
