/**
 * Tokens signed by the operator account work as the API key of every official SDK; each refusal
 * answers in the caller's protocol (401 bad token, 403 model not allowed / not admin, 429 budget).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { createAccount, mintToken, unlockAccount } from "@bitrouter/auth";
import type { Account } from "@bitrouter/auth";
import { startMock } from "@bitrouter/testkit";
import type { MockUpstream } from "@bitrouter/testkit";
import { fetchOverSocket } from "../src/control-client.js";
import { providersYaml, startTestServer } from "./harness.js";
import type { TestServer } from "./harness.js";

let mock: MockUpstream;
let server: TestServer;
let account: Account;
let stranger: Account;

beforeAll(async () => {
  mock = await startMock();
  const home = mkdtempSync(join(tmpdir(), "bitrouter-auth-"));
  const keysDir = join(home, ".keys");
  await createAccount(keysDir, { label: "operator" });
  account = await unlockAccount(keysDir, 0);
  const otherDir = mkdtempSync(join(tmpdir(), "bitrouter-other-"));
  await createAccount(otherDir);
  stranger = await unlockAccount(otherDir, 0);
  server = await startTestServer(providersYaml(mock), { home, keysDir, database: "sqlite://bitrouter.db" });
});
afterAll(async () => {
  await server?.close();
  await mock?.close();
});
beforeEach(() => mock.reset());

const token = (claims: Record<string, unknown> = {}, chain: "solana" | "base" = "solana", signer = () => account) =>
  mintToken(signer(), { scope: "api", id: `key-${Math.random().toString(36).slice(2)}`, ...claims } as Parameters<typeof mintToken>[1], { chain });

describe("API keys", () => {
  it("work as the API key of the OpenAI, Anthropic and Google SDKs (both chains)", async () => {
    const sol = await token();
    const evm = await token({}, "base");
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: sol, maxRetries: 0 });
    expect(
      (await openai.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "hi" }] })).choices[0]!.message.content,
    ).toBeTruthy();
    const anthropic = new Anthropic({ baseURL: server.url, apiKey: evm, maxRetries: 0 });
    expect((await anthropic.messages.create({ model: "ant:claude-test", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })).content).toHaveLength(
      1,
    );
    const google = new GoogleGenAI({ apiKey: sol, httpOptions: { baseUrl: server.url } });
    expect((await google.models.generateContent({ model: "goo:gemini-test", contents: "hi" })).text).toBeTruthy();
    // The provider sees BitRouter's key, never the caller's token.
    expect(mock.requests.map((r) => JSON.stringify(r.headers))).not.toContain(sol);
  });

  it("work as Gemini's `?key=` query parameter (the REST form of the Google API key)", async () => {
    const key = await token();
    const url = (k: string) => `${server.url}/v1beta/models/goo:gemini-test:generateContent?alt=json&key=${encodeURIComponent(k)}`;
    const init = {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    };
    const ok = await fetch(url(key), init);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { candidates?: unknown[] }).candidates).toHaveLength(1);
    const refused = await fetch(url("not-a-token"), init);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 401, status: "UNAUTHENTICATED" } });
  });

  it("refuse a missing, tampered, expired or foreign token with 401 in the caller's shape", async () => {
    const anthropic = (key: string) => new Anthropic({ baseURL: server.url, apiKey: key, maxRetries: 0 });
    const call = (key: string) => anthropic(key).messages.create({ model: "ant:x", max_tokens: 5, messages: [{ role: "user", content: "x" }] });
    const good = await token();
    const [h, p, s] = good.split(".");
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, "base64url").toString()), scope: "admin" })).toString("base64url")}.${s}`;
    const expired = await token({ exp: Math.floor(Date.now() / 1000) - 10 });
    const foreign = await token({}, "solana", () => stranger);
    for (const bad of ["not-a-token", tampered, expired, foreign]) {
      await expect(call(bad)).rejects.toMatchObject({ status: 401, error: { type: "error", error: { type: "authentication_error" } } });
    }
    const none = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "oai:gpt-test", messages: [] }) });
    expect(none.status).toBe(401);
    expect(mock.requests).toHaveLength(0);
    // No token ever in an error body or the log.
    await server.runtime.logger.flush();
    const log = readFileSync(join(server.home, "logs", "bitrouter.log"), "utf8");
    for (const t of [good, tampered, expired, foreign]) expect(log).not.toContain(t.split(".")[2]!);
  });

  it("enforce model allowlists with 403 naming the model", async () => {
    const key = await token({ models: ["oai:*"] });
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });
    await openai.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "ok" }] });
    await expect(openai.chat.completions.create({ model: "ant:claude-test", messages: [{ role: "user", content: "no" }] })).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining("ant:claude-test"),
    });
  });

  it("list only the models a key may use, and no models without a key", async () => {
    const none = await fetch(`${server.url}/v1/models`);
    expect(none.status).toBe(401);
    const all = (await (await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${await token()}` } })).json()) as {
      data: Array<{ id: string }>;
    };
    expect(all.data.some((m) => m.id === "oai:gpt-test")).toBe(true);
    const list = async (models: string[]) => {
      const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: await token({ models }), maxRetries: 0 });
      const ids: string[] = [];
      for await (const model of openai.models.list()) ids.push(model.id);
      return ids;
    };
    expect(await list(["oai:*"])).toEqual(all.data.filter((m) => m.id.startsWith("oai:")).map((m) => m.id));
    expect(await list(["ant:*"])).toEqual([]);
  });

  it("answer single models and Google's model list only to a key, and only its models", async () => {
    expect((await fetch(`${server.url}/v1/models/oai:gpt-test`)).status).toBe(401);
    const googleNone = await fetch(`${server.url}/v1beta/models`);
    expect(googleNone.status).toBe(401);
    expect(((await googleNone.json()) as { error: { status: string } }).error.status).toBe("UNAUTHENTICATED");
    const key = await token({ models: ["oai:*"] });
    const own = await fetch(`${server.url}/v1/models/oai:gpt-test`, { headers: { authorization: `Bearer ${key}` } });
    expect(own.status).toBe(200);
    const other = await fetch(`${server.url}/v1/models/ant:claude-test`, { headers: { authorization: `Bearer ${key}` } });
    expect(other.status).toBe(404);
    const google = (await (await fetch(`${server.url}/v1beta/models`, { headers: { "x-goog-api-key": key } })).json()) as { models: Array<{ name: string }> };
    expect(google.models.length).toBeGreaterThan(0);
    expect(google.models.every((m) => m.name.startsWith("models/oai:"))).toBe(true);
  });

  it("stop a key at its budget with 429", async () => {
    const key = await token({ models: ["oai:*"], budget: 100, budget_scope: "session" });
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });
    // gpt-test costs 1 uUSD per input token and 2 per output token: 60 + 40 = 100 uUSD.
    mock.enqueue({ text: "spent", usage: { input: 60, output: 20 } });
    await openai.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "x" }] });
    await expect(openai.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "x" }] })).rejects.toMatchObject({ status: 429 });
  });

  it("are revoked at once, and admin endpoints need an admin token", async () => {
    const id = "key-to-revoke";
    const key = await token({ id });
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });
    await openai.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "x" }] });

    const denied = await fetch(`${server.url}/admin/routes`, { headers: { authorization: `Bearer ${key}` } });
    expect(denied.status).toBe(403);
    const admin = await token({ scope: "admin" });
    const routes = await fetch(`${server.url}/admin/routes`, { headers: { authorization: `Bearer ${admin}` } });
    expect(routes.status).toBe(200);

    expect((await fetchOverSocket(server.runtime.controlSocket!, `/keys/${id}/revoke`, { method: "POST" })).status).toBe(200);
    await expect(openai.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "x" }] })).rejects.toMatchObject({ status: 401 });
  });

  it("show each key its own usage, and an admin everyone's", async () => {
    const id = `usage-${Date.now()}`;
    const key = await token({ id });
    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });
    mock.enqueue({ text: "x", usage: { input: 10, output: 5 } });
    await openai.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "x" }] });
    const own = (await (await fetch(`${server.url}/v1/usage?group_by=key`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
      rows: Array<{ group: string; costMicroUsd: number }>;
    };
    expect(own.rows).toEqual([expect.objectContaining({ group: id, requests: 1, costMicroUsd: 20 })]);
    const admin = await token({ scope: "admin" });
    const all = (await (await fetch(`${server.url}/v1/usage?group_by=key`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { rows: unknown[] };
    expect(all.rows.length).toBeGreaterThan(1);
  });
});
