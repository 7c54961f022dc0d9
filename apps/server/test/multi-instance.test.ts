/**
 * Two server instances on one PostgreSQL database share the ledger: an account's budget spent on
 * one is enforced on the other, and a key revoked on one is refused by the other after its poll.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { createAccount, mintToken, unlockAccount } from "@bitrouter/auth";
import type { Account } from "@bitrouter/auth";
import { startMock } from "@bitrouter/testkit";
import type { MockUpstream } from "@bitrouter/testkit";
import { fetchOverSocket } from "../src/control-client.js";
import { providersYaml, startTestServer } from "./harness.js";
import type { TestServer } from "./harness.js";

const DB = `bitrouter_multi_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const psql = (sql: string) =>
  execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql], { stdio: "pipe" });

let mock: MockUpstream;
let a: TestServer;
let b: TestServer;
let account: Account;

beforeAll(async () => {
  psql(`CREATE DATABASE ${DB}`);
  mock = await startMock();
  const keysDir = join(mkdtempSync(join(tmpdir(), "bitrouter-multi-")), ".keys");
  await createAccount(keysDir);
  account = await unlockAccount(keysDir, 0);
  const database = `postgres://postgres@127.0.0.1:5432/${DB}`;
  [a, b] = await Promise.all([startTestServer(providersYaml(mock), { keysDir, database }), startTestServer(providersYaml(mock), { keysDir, database })]);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await mock?.close();
  psql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
});

const client = (server: TestServer, key: string) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });
const ask = (server: TestServer, key: string) =>
  client(server, key).chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "x" }] });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("two instances on one PostgreSQL", () => {
  it("enforce an account budget spent across both", async () => {
    const claims = { scope: "api" as const, budget: 150, budget_scope: "account" as const, models: ["oai:*"] };
    const keyA = await mintToken(account, { ...claims, id: "acct-a" }, { chain: "solana" });
    const keyB = await mintToken(account, { ...claims, id: "acct-b" }, { chain: "solana" });
    // gpt-test: 1 uUSD per input token, 2 per output token -> 60 + 40 = 100 per request.
    mock.enqueue({ text: "a", usage: { input: 60, output: 20 } }, { text: "b", usage: { input: 60, output: 20 } });
    await ask(a, keyA);
    await ask(b, keyB); // 100 spent: under 150 everywhere
    await a.runtime.metering!.ledger.flush();
    await b.runtime.metering!.ledger.flush();
    await sleep(1200); // past the spend cache's TTL: both instances re-read the shared ledger
    await expect(ask(a, keyA)).rejects.toMatchObject({ status: 429 });
    await expect(ask(b, keyB)).rejects.toMatchObject({ status: 429 });
  });

  it("see a revocation made on the other instance", async () => {
    const key = await mintToken(account, { scope: "api", id: "shared-key" }, { chain: "base" });
    await ask(b, key);
    expect((await fetchOverSocket(a.runtime.controlSocket!, "/keys/shared-key/revoke", { method: "POST" })).status).toBe(200);
    await expect(ask(a, key)).rejects.toMatchObject({ status: 401 });
    await b.runtime.auth.authenticator!.refreshRevocations(); // what its 5 s poll does
    await expect(ask(b, key)).rejects.toMatchObject({ status: 401 });
  });
});
