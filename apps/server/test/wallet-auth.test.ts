/**
 * A provider with `auth: {type: wallet}`: BitRouter A sends `Authorization: Bearer <JWT>` signed by
 * its operator account. The upstream is another real BitRouter, B, whose operator is that same
 * account: B requires API keys and accepts A's token, so one BitRouter serves as another's upstream.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createAccount, decodeToken, mintToken, setActiveAccount, unlockAccount } from "@bitrouter/auth";
import { type McpMock, type MockUpstream, startMcpMock, startMock } from "@bitrouter/testkit";
import { startTestServer, type TestServer } from "./harness.js";

let mock: MockUpstream;
let tools: McpMock;
let a: TestServer;
let b: TestServer;
let token: string;
let solanaAddress: string;
let keysDir: string;

const chat = (server: TestServer, model: string, apiKey = token) =>
  new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 }).chat.completions.create({
    model,
    max_tokens: 10,
    messages: [{ role: "user", content: "hi" }],
  });

beforeAll(async () => {
  mock = await startMock();
  tools = await startMcpMock({ name: "web" });
  keysDir = join(mkdtempSync(join(tmpdir(), "bitrouter-wallet-")), ".keys");
  await createAccount(keysDir);
  const account = await unlockAccount(keysDir, 0);
  solanaAddress = account.solanaAddress;
  token = await mintToken(account, { id: "caller" });
  // B: its operator account is A's, so it requires keys that account signed.
  b = await startTestServer(
    `
inherit_defaults: false
providers:
  mockp:
    api_protocol: openai
    api_base: ${mock.baseUrl("openai-chat")}
    api_key: key-b
    models: { m: {} }
  web:
    api_protocol: mcp
    api_base: ${tools.url}
    api_key: key-b-tools
`,
    { keysDir },
  );
  a = await startTestServer(
    `
inherit_defaults: false
providers:
  up:
    api_protocol: openai
    api_base: ${b.url}/v1
    auth: { type: wallet }
  direct:
    api_protocol: openai
    api_base: ${mock.baseUrl("openai-chat")}
    auth: { type: wallet }
    models: { m: {} }
  cloud:
    api_protocol: mcp
    api_base: ${b.url}/mcp
    auth: { type: wallet }
`,
    { keysDir },
  );
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await mock?.close();
  await tools?.close();
});
beforeEach(() => mock.reset());

describe("auth: {type: wallet}", () => {
  it("B requires a key: a request without one is refused", async () => {
    const error = await chat(b, "mockp:m", "not-a-token").catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
    expect(mock.requests).toHaveLength(0);
  });

  it("a request through A reaches the mock via B: B accepted the token A's account signed", async () => {
    mock.enqueue({ text: "via B" });
    const answer = await chat(a, "up:mockp:m");
    expect(answer.choices[0]!.message.content).toBe("via B");
    expect(mock.requests).toHaveLength(1);
    // B sent its own key to the mock, not A's token.
    expect(mock.requests[0]!.headers.authorization).toBe("Bearer key-b");
  });

  it("the token is an hour-long api key of the operator account, reused across requests", async () => {
    mock.enqueue({ text: "one" });
    mock.enqueue({ text: "two" });
    await chat(a, "direct:m");
    await chat(a, "direct:m");
    const sent = mock.requests.map((r) => r.headers.authorization);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sent[1]).toBe(sent[0]);
    const claims = decodeToken(sent[0]!.slice("Bearer ".length));
    expect(claims.iss).toBe(`solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp:${solanaAddress}`);
    expect(claims.scope).toBe("api");
    expect(claims.exp! - claims.iat!).toBe(3600);
    // Not the caller's token: A signs its own.
    expect(sent[0]).not.toBe(`Bearer ${token}`);
    // A reload with the same account keeps the token.
    expect(await a.runtime.reload()).toEqual({ ok: true });
    mock.enqueue({ text: "three" });
    await chat(a, "direct:m");
    expect(mock.requests[2]!.headers.authorization).toBe(sent[0]);
  });

  it("after the active account changes (and a reload), the new account signs", async () => {
    mock.enqueue({ text: "new account" });
    const other = await createAccount(keysDir, { label: "other" });
    await setActiveAccount(keysDir, "other");
    try {
      expect(await a.runtime.reload()).toEqual({ ok: true });
      const otherAccount = await unlockAccount(keysDir, "other");
      await chat(a, "direct:m", await mintToken(otherAccount, { id: "caller-2" }));
      const claims = decodeToken(mock.requests[0]!.headers.authorization!.slice("Bearer ".length));
      expect(claims.iss).toBe(`solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp:${other.solanaAddress}`);
    } finally {
      await setActiveAccount(keysDir, 0);
      await a.runtime.reload();
    }
  });

  it("an MCP upstream with wallet auth: A's tools include B's, and a call reaches B's upstream with A's token accepted", async () => {
    const client = new Client({ name: "test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${a.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain("cloud__web__echo");
      const result = (await client.callTool({ name: "cloud__web__echo", arguments: { text: "through B" } })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      expect((result.content[0] as { text: string }).text).toBe("through B");
      expect(tools.calls.at(-1)?.headers.authorization).toBe("Bearer key-b-tools");
    } finally {
      await client.close();
    }
  });

  it("without an active account the providers are unavailable, with a logged reason and a clear error", async () => {
    const lone = await startTestServer(
      `
inherit_defaults: false
providers:
  up:
    api_protocol: openai
    api_base: ${b.url}/v1
    auth: { type: wallet }
    models: { m: {} }
  cloud:
    api_protocol: mcp
    api_base: ${b.url}/mcp
    auth: { type: wallet }
`,
    );
    try {
      const client = new OpenAI({ baseURL: `${lone.url}/v1`, apiKey: "unused", maxRetries: 0 });
      expect((await client.models.list()).data.map((m) => m.id)).not.toContain("up:m");
      const error = await chat(lone, "up:m", "unused").catch((e: unknown) => e);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
      expect((error as Error).message).toMatch(/provider 'up' authenticates with the wallet \(auth: wallet\) and no operator account is unlocked/);
      await lone.runtime.logger.flush();
      const log = readFileSync(join(lone.home, "logs", "bitrouter.log"), "utf8");
      expect(log).toMatch(/authenticate with the wallet \(auth: wallet\) are unavailable: no active account/);
      expect(log).toMatch(/unavailable: .* providers="up, cloud"\n/);
      const listed = (await (await fetch(`${lone.url}/v1/tools`)).json()) as { data: unknown[] };
      expect(listed.data).toEqual([]); // the MCP upstream is left out, not called without a token
      expect(mock.requests).toHaveLength(0);
    } finally {
      await lone.close();
    }
  });
});
