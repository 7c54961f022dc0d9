// The home's layout as the CLI runs the daemon from it (src/home.ts): run and logs directories, the
// PID file, the control socket, and first-use scaffolding.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "@bitrouter/config";
import { controlSocketPath, resolveHomePaths, scaffoldHome } from "../src/home.js";

const tempDir = () => mkdtempSync(join(tmpdir(), "bitrouter-home-"));

describe("the home's layout", () => {
  it("run and logs directories default into the home; flags move them (PID file in the run directory)", () => {
    const paths = resolveHomePaths({ homeDir: "/h", configFile: "c.yaml", runDir: "r", logsDir: "~/l" }, { HOME: "/u" }, "/work");
    expect(paths).toMatchObject({ home: "/h", configFile: "/work/c.yaml", runDir: "/work/r", logsDir: "/u/l", pidFile: "/work/r/bitrouter.pid" });
    expect(resolveHomePaths({ homeDir: "/h" }, {}, "/")).toMatchObject({ runDir: "/h/run", logsDir: "/h/logs", pidFile: "/h/run/bitrouter.pid" });
  });
  it("the control socket is server.control.socket under the run directory, or an absolute path as is", () => {
    expect(controlSocketPath("/h/run", "bitrouter.sock")).toBe("/h/run/bitrouter.sock");
    expect(controlSocketPath("/h/run", "/tmp/br.sock")).toBe("/tmp/br.sock");
  });
});

describe("scaffoldHome", () => {
  it("creates the layout with private modes, and a template that loads as the default config", async () => {
    const home = join(tempDir(), "new-home");
    const paths = resolveHomePaths({ homeDir: home }, {}, "/");
    const created = await scaffoldHome(paths);
    expect(created.sort()).toEqual(
      [home, join(home, ".env"), join(home, ".gitignore"), join(home, "bitrouter.yaml"), join(home, "logs"), join(home, "run")].sort(),
    );
    expect(statSync(join(home, ".env")).mode & 0o777).toBe(0o600);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, "run")).isDirectory()).toBe(true);
    expect(readFileSync(join(home, ".gitignore"), "utf8").split("\n")).toEqual(
      expect.arrayContaining([".env", "logs/", "run/", ".keys/", "bitrouter.db", "bitrouter.db-wal", "bitrouter.db-shm"]),
    );
    expect(readFileSync(join(home, ".env"), "utf8")).toMatch(/^#/);
    const template = readFileSync(join(home, "bitrouter.yaml"), "utf8");
    expect(template).toContain("#   listen: 127.0.0.1:8787");
    const loaded = await loadConfig({ paths, env: {} });
    expect(loaded.config.models).toEqual({});
    expect(loaded.warnings).toEqual([]);
  });

  it("never overwrites existing files", async () => {
    const home = tempDir();
    writeFileSync(join(home, "bitrouter.yaml"), "server:\n  listen: 0.0.0.0:1\n");
    writeFileSync(join(home, ".env"), "A=1\n", { mode: 0o600 });
    mkdirSync(join(home, "run"));
    const created = await scaffoldHome(resolveHomePaths({ homeDir: home }, {}, "/"));
    expect(created.sort()).toEqual([join(home, ".gitignore"), join(home, "logs")]);
    expect(readFileSync(join(home, "bitrouter.yaml"), "utf8")).toBe("server:\n  listen: 0.0.0.0:1\n");
    expect(readFileSync(join(home, ".env"), "utf8")).toBe("A=1\n");
  });

  it("does not create files at paths the user chose with flags", async () => {
    const home = tempDir();
    const elsewhere = tempDir();
    await scaffoldHome(resolveHomePaths({ homeDir: home, configFile: join(elsewhere, "c.yaml"), envFile: join(elsewhere, "e.env") }, {}, "/"));
    expect(existsSync(join(elsewhere, "c.yaml"))).toBe(false);
    expect(existsSync(join(elsewhere, "e.env"))).toBe(false);
    expect(existsSync(join(home, "bitrouter.yaml"))).toBe(false);
  });
});
