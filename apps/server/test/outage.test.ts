/**
 * While the database is down (a TCP proxy in front of the loopback PostgreSQL, cut and restored):
 * budget keys get an honest 503, revocations are enforced at once and written when it returns,
 * and a shutdown keeps every accepted row in a spill file that the next start writes exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { createAccount, mintToken, unlockAccount } from "@bitrouter/auth";
import type { Account } from "@bitrouter/auth";
import { isRevoked, openStore } from "@bitrouter/store";
import { startMock, startTcpProxy } from "@bitrouter/testkit";
import type { MockUpstream, TcpProxy } from "@bitrouter/testkit";
import { fetchOverSocket } from "../src/control-client.js";
import { providersYaml, startTestServer } from "./harness.js";
import type { TestServer } from "./harness.js";

const DB = `bitrouter_outage_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const psql = (sql: string) =>
  execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql], { stdio: "pipe" });

let mock: MockUpstream;
let proxy: TcpProxy;
let account: Account;
let keysDir: string;
let url: string;

beforeAll(async () => {
  psql(`CREATE DATABASE ${DB}`);
  mock = await startMock();
  proxy = await startTcpProxy(5432);
  keysDir = join(mkdtempSync(join(tmpdir(), "bitrouter-outage-")), ".keys");
  await createAccount(keysDir);
  account = await unlockAccount(keysDir, 0);
  url = `postgres://postgres@127.0.0.1:${proxy.port}/${DB}`;
});
afterAll(async () => {
  await proxy?.start();
  await proxy?.stop();
  await mock?.close();
  psql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
});

const key = (claims: Record<string, unknown>) =>
  mintToken(account, { scope: "api", id: `k-${Math.random().toString(36).slice(2)}`, ...claims } as Parameters<typeof mintToken>[1], { chain: "solana" });

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function withStore<T>(fn: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore(`postgres://postgres@127.0.0.1:5432/${DB}`);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

describe("the database goes down under a running server", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(providersYaml(mock), { keysDir, database: url, databaseCloseTimeoutMs: 500 });
  });
  afterAll(async () => {
    await proxy.start();
    await server?.close();
  });

  it("budget keys get 503 budget_unavailable in the caller's shape; keys without a budget are served", async () => {
    const budgeted = await key({ budget: 1_000_000 });
    const plain = await key({});
    // (A first request loads the revocation list; a server that never could fails closed with 503 too.)
    await new OpenAI({ baseURL: `${server.url}/v1`, apiKey: plain, maxRetries: 0 }).chat.completions.create({
      model: "oai:gpt-test",
      messages: [{ role: "user", content: "hi" }],
    });
    await proxy.stop();
    try {
      const anthropic = new Anthropic({ baseURL: server.url, apiKey: budgeted, maxRetries: 0 });
      // Anthropic's own status for "overloaded, try again" is 529 (its SDK retries it).
      await expect(anthropic.messages.create({ model: "oai:gpt-test", max_tokens: 5, messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({
        status: 529,
        error: { type: "error", error: { type: "overloaded_error", message: expect.stringContaining("cannot check the budget") } },
      });
      const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: budgeted, maxRetries: 0 });
      await expect(openai.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({
        status: 503,
        code: "budget_unavailable",
      });
      const ok = await new OpenAI({ baseURL: `${server.url}/v1`, apiKey: plain, maxRetries: 0 }).chat.completions.create({
        model: "oai:gpt-test",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(ok.choices[0]!.message.content).toBeTruthy();
    } finally {
      await proxy.start();
    }
    // Back up: the budget key works again.
    await waitFor("the budget key to be served", async () => {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${budgeted}` },
        body: JSON.stringify({ model: "oai:gpt-test", messages: [{ role: "user", content: "hi" }] }),
      });
      await res.text();
      return res.status === 200;
    });
  });

  it("a revocation is enforced at once, and written to the database when it is back", async () => {
    const id = `revoked-in-outage-${process.pid}`;
    const token = await key({ id });
    const ask = () =>
      new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 }).chat.completions.create({
        model: "oai:gpt-test",
        messages: [{ role: "user", content: "x" }],
      });
    await ask();
    await proxy.stop();
    try {
      const answer = await fetchOverSocket(server.runtime.controlSocket!, `/keys/${id}/revoke`, { method: "POST", body: { reason: "drill" } });
      expect(answer).toMatchObject({ status: 200, body: { enforced: true, stored: false } });
      await expect(ask()).rejects.toMatchObject({ status: 401 });
    } finally {
      await proxy.start();
    }
    await waitFor("the revocation in the database", () => withStore((store) => isRevoked(store, id)));
  });
});

describe("shutdown while the database is down", () => {
  it("exits cleanly, keeps the accepted rows in a spill file, and the next start writes them once", async () => {
    const home = mkdtempSync(join(tmpdir(), "bitrouter-spill-"));
    const first = await startTestServer(providersYaml(mock), { home, database: url, databaseCloseTimeoutMs: 500 });
    const pidFile = join(home, "run", "bitrouter.pid");
    expect(existsSync(pidFile)).toBe(true);
    await proxy.stop();
    const ids: string[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${first.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": `spill-${process.pid}-${i}` },
          body: JSON.stringify({ model: "oai:gpt-test", messages: [{ role: "user", content: "hi" }] }),
        });
        expect(res.status).toBe(200);
        await res.text();
        ids.push(`spill-${process.pid}-${i}`);
      }
      await first.close(); // resolves: no unhandled error
      expect(existsSync(pidFile)).toBe(false);
      const spill = join(home, "run", "ledger-spill.jsonl");
      expect(readFileSync(spill, "utf8").trim().split("\n")).toHaveLength(5);
    } finally {
      await proxy.start();
    }
    const second = await startTestServer(providersYaml(mock), { home, database: url });
    try {
      expect(existsSync(join(home, "run", "ledger-spill.jsonl"))).toBe(false);
      const rows = await withStore((store) =>
        store.db.selectFrom("requests").select(["client_request_id", "status"]).where("client_request_id", "in", ids).execute(),
      );
      expect(rows.map((r) => r.client_request_id).sort()).toEqual(ids);
      expect(rows.every((r) => r.status === 200)).toBe(true);
    } finally {
      await second.close();
    }
  });
});
