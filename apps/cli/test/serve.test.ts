/**
 * `bitrouter serve` as users run it: SDK traffic, dynamic routes from the CLI while serving, SIGHUP
 * reload, SIGTERM drain, and `bitrouter usage` reading the ledger back — on SQLite (the default),
 * PostgreSQL and MariaDB.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMock, type MockUpstream } from "@bitrouter/testkit";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
});
afterAll(async () => {
  await mock?.close();
});

function yaml(extra = ""): string {
  return `inherit_defaults: false
providers:
  oai:
    api_protocol: openai
    api_base: ${mock.baseUrl("openai-chat")}
    api_key: upstream-key-123456
    models:
      gpt-test:
        pricing: { input_tokens: { no_cache: 2.5, cache_read: 1.25 }, output_tokens: { text: 10 } }
  ant:
    api_protocol: anthropic
    api_base: ${mock.baseUrl("anthropic")}
    api_key: upstream-key-abcdef
${extra}`;
}

const cleanEnv = (home: string) => ({ PATH: process.env.PATH ?? "", HOME: home });

function cli(home: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, "--home-dir", home], { env: cleanEnv(home), encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Served {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<number | null>;
}

async function serve(home: string, extraArgs: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [BIN, "serve", "--home-dir", home, "--listen", "127.0.0.1:0", ...extraArgs], { env: cleanEnv(home) });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 20_000);
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", check);
    child.on("exit", () => reject(new Error(`serve exited:\n${out}`)));
  });
  return {
    child,
    url,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", (code) => resolve(code));
        child.kill("SIGTERM");
      }),
  };
}

function newHome(extra = ""): string {
  const home = mkdtempSync(join(tmpdir(), "bitrouter-serve-"));
  writeFileSync(join(home, "bitrouter.yaml"), yaml(extra));
  return home;
}

async function sendTraffic(url: string): Promise<void> {
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
  mock.enqueue({ text: "one", usage: { input: 1000, output: 100, cacheRead: 400 } }, { text: ["t", "wo"], usage: { input: 200, output: 20 } });
  await client.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "a" }] });
  const stream = await client.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "b" }], stream: true });
  for await (const _ of stream) void _;
}

// 600 uncached x 2.5 + 400 cached x 1.25 + 100 x 10 = 3000; 200 x 2.5 + 20 x 10 = 700 micro-USD.
const EXPECTED_COST = 3700;

describe("bitrouter serve", () => {
  it("serves SDK traffic, takes dynamic routes and SIGHUP reloads, drains on SIGTERM, and the ledger shows the spend", async () => {
    const home = newHome();
    const server = await serve(home);
    try {
      await sendTraffic(server.url);

      const added = cli(home, ["route", "add", "research", "ant:claude-test", "oai:gpt-test", "--strategy", "priority"]);
      expect(added.stderr).toBe("");
      expect(added.code).toBe(0);
      const listed = cli(home, ["route", "list", "--json"]);
      expect(JSON.parse(listed.stdout)).toContainEqual(
        expect.objectContaining({ name: "research", source: "dynamic", endpoints: ["ant:claude-test", "oai:gpt-test"] }),
      );
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      mock.reset();
      await client.chat.completions.create({ model: "research", messages: [{ role: "user", content: "q" }] });
      expect(mock.requests[0]!.path).toBe("/v1/messages");

      // Edit the config and reload with SIGHUP: the new virtual model serves, the dynamic route stays.
      writeFileSync(join(home, "bitrouter.yaml"), yaml("models:\n  fresh:\n    endpoints:\n      - { provider: oai, model_id: gpt-test }\n"));
      server.child.kill("SIGHUP");
      await expect.poll(() => server.output()).toContain("configuration reloaded");
      await client.chat.completions.create({ model: "fresh", messages: [{ role: "user", content: "q" }] });
      expect(cli(home, ["route", "list", "--json"]).stdout).toContain("research");

      // A broken config is refused by `bitrouter reload`, and the old one keeps serving.
      writeFileSync(join(home, "bitrouter.yaml"), yaml("models:\n  fresh:\n    strategy: fastest\n    endpoints: []\n"));
      const reload = cli(home, ["reload"]);
      expect(reload.code).toBe(1);
      expect(reload.stderr).toMatch(/strategy/);
      await client.chat.completions.create({ model: "fresh", messages: [{ role: "user", content: "still" }] });

      expect(cli(home, ["route", "rm", "research"]).code).toBe(0);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(server.output()).not.toContain("upstream-key-123456");
    const noServer = cli(home, ["reload"]);
    expect(noServer.stderr).toMatch(/^Error: no BitRouter server is running/);
    expect(noServer.stderr).not.toMatch(/at \w/); // a sentence, not a stack trace

    writeFileSync(join(home, "bitrouter.yaml"), yaml()); // usage reads database.url from a valid config

    const usage = cli(home, ["usage", "--by", "model", "--json"]);
    expect(usage.code).toBe(0);
    const rows = JSON.parse(usage.stdout).rows as Array<{ group: string; requests: number; costMicroUsd: number }>;
    const gpt = rows.find((r) => r.group === "gpt-test");
    expect(gpt).toMatchObject({ requests: 4 });
    expect(gpt!.costMicroUsd).toBeGreaterThanOrEqual(EXPECTED_COST);
    const table = cli(home, ["usage"]);
    expect(table.stdout).toMatch(/REQUESTS/);
  }, 60_000);

  const databases = [
    {
      name: "PostgreSQL",
      create: (db: string) => execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", `CREATE DATABASE ${db}`]),
      drop: (db: string) => execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`]),
      url: (db: string) => `postgres://postgres@127.0.0.1:5432/${db}`,
    },
    {
      name: "MariaDB",
      create: (db: string) => execFileSync("mariadb", ["-h", "127.0.0.1", "-uroot", "-e", `CREATE DATABASE ${db}`]),
      drop: (db: string) => execFileSync("mariadb", ["-h", "127.0.0.1", "-uroot", "-e", `DROP DATABASE IF EXISTS ${db}`]),
      url: (db: string) => `mysql://root@127.0.0.1:3306/${db}`,
    },
  ];

  it.each(databases)(
    "--db on $name works like the SQLite default",
    async (database) => {
      const db = `bitrouter_cli_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      database.create(db);
      try {
        const home = newHome();
        const server = await serve(home, ["--db", database.url(db)]);
        try {
          mock.reset();
          await sendTraffic(server.url);
        } finally {
          expect(await server.stop()).toBe(0);
        }
        const usage = cli(home, ["usage", "--by", "provider", "--json", "--db", database.url(db)]);
        expect(usage.code).toBe(0);
        expect(JSON.parse(usage.stdout).rows).toEqual([
          expect.objectContaining({ group: "oai", requests: 2, costMicroUsd: EXPECTED_COST, cacheReadTokens: 400 }),
        ]);
      } finally {
        database.drop(db);
      }
    },
    60_000,
  );
});
