// The update notice at a terminal, against a registry stand-in on loopback (never the network).
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isNewer } from "../src/update-check.js";
import { tempDir } from "./daemon-helpers.js";
import { Terminal, freePort } from "./tui-tmux.js";

let registry: Server;
let registryUrl: string;
const hits: string[] = [];

beforeAll(async () => {
  registry = createServer((req, res) => {
    hits.push(req.url ?? "");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ name: "@bitrouter/cli", version: "99.0.0" }));
  });
  await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
  registryUrl = `http://127.0.0.1:${(registry.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => registry.close(() => resolve())));

/** `bitrouter status` at a terminal with this environment; the screen once it exited. */
async function statusAtTerminal(env: Record<string, string>): Promise<string> {
  const home = join(tempDir(), "home");
  const term = new Terminal(["status", "--home-dir", home], {
    env: { HOME: tempDir(), BITROUTER_NO_UPDATE_CHECK: "", ...env },
    cwd: tempDir(),
    cols: 160,
    rows: 60,
  });
  try {
    return await term.waitFor(/\[exited \d+\]/);
  } finally {
    term.close();
  }
}

describe("update notice", () => {
  it("says when a newer version is published, asks the registry at most once a day, and is silent offline or when turned off", async () => {
    hits.length = 0;
    const cache = tempDir();
    const first = await statusAtTerminal({ BITROUTER_UPDATE_REGISTRY: registryUrl, XDG_CACHE_HOME: cache });
    expect(first).toContain("[exited 0]");
    expect(first).toMatch(/BitRouter 99\.0\.0 is available \(this is \d+\.\d+\.\d+\): npm install -g @bitrouter\/cli/);
    expect(hits).toEqual(["/@bitrouter%2fcli/latest"]);
    expect(JSON.parse(readFileSync(join(cache, "bitrouter", "update-check.json"), "utf8"))).toMatchObject({ latest: "99.0.0" });

    // Within the day: the cached answer, no second request.
    const second = await statusAtTerminal({ BITROUTER_UPDATE_REGISTRY: registryUrl, XDG_CACHE_HOME: cache });
    expect(second).toContain("BitRouter 99.0.0 is available");
    expect(hits).toHaveLength(1);

    // Offline (nothing listens there): the command works and says nothing about it.
    const offline = await statusAtTerminal({ BITROUTER_UPDATE_REGISTRY: `http://127.0.0.1:${await freePort()}`, XDG_CACHE_HOME: tempDir() });
    expect(offline).toContain("[exited 0]");
    expect(offline).not.toContain("is available (this is");
    expect(offline).not.toMatch(/error/i);

    // Turned off: no request, no cache.
    const offCache = tempDir();
    const off = await statusAtTerminal({ BITROUTER_UPDATE_REGISTRY: registryUrl, XDG_CACHE_HOME: offCache, BITROUTER_NO_UPDATE_CHECK: "1" });
    expect(off).not.toContain("is available (this is");
    expect(hits).toHaveLength(1);
    expect(existsSync(join(offCache, "bitrouter"))).toBe(false);
  });

  it("compares versions numerically; a pre-release is never offered", () => {
    expect(isNewer("0.10.0", "0.9.9")).toBe(true);
    expect(isNewer("1.0.0", "1.0.0")).toBe(false);
    expect(isNewer("0.1.0", "0.2.0")).toBe(false);
    expect(isNewer("2.0.0-beta.1", "1.0.0")).toBe(false);
  });
});
