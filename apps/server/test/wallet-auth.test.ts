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
import { createAccount, decodeToken, mintToken, unlockAccount } from "@bitrouter/auth";
import { type MockUpstream, startMock } from "@bitrouter/testkit";
import { startTestServer, type TestServer } from "./harness.js";

let mock: MockUpstream;
let a: TestServer;
let b: TestServer;
let token: string;
let solanaAddress: string;

const chat = (server: TestServer, model: string, apiKey = token) =>
  new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 }).chat.completions.create({
    model,
    max_tokens: 10,
    messages: [{ role: "user", content: "hi" }],
  });

beforeAll(async () => {
  mock = await startMock();
  const keysDir = join(mkdtempSync(join(tmpdir(), "bitrouter-wallet-")), ".keys");
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
`,
    { keysDir },
  );
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await mock?.close();
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
  });

  it("without an active account the provider is unavailable, with a logged reason and a clear error", async () => {
    const lone = await startTestServer(
      `
inherit_defaults: false
providers:
  up:
    api_protocol: openai
    api_base: ${b.url}/v1
    auth: { type: wallet }
    models: { m: {} }
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
      expect(log).toMatch(/unavailable: .* providers=up\n/);
      expect(mock.requests).toHaveLength(0);
    } finally {
      await lone.close();
    }
  });
});
