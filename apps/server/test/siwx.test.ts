/**
 * A provider with `auth: {type: custom, method: siwx}`: the upstream answers 402 with an x402
 * Sign-In-With-X challenge; BitRouter signs it with the operator account and retries. The upstream
 * checks the proof with x402's own verifier (@x402/extensions), nonce, origin and signature included.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { getRequestListener } from "@hono/node-server";
import { parseSIWxHeader, SOLANA_DEVNET, validateSIWxMessage, verifySIWxSignature } from "@x402/extensions/sign-in-with-x";
import { createAccount, mintToken, unlockAccount } from "@bitrouter/auth";
import { type MockUpstream, startMock } from "@bitrouter/testkit";
import { startTestServer, type TestServer } from "./harness.js";

let mock: MockUpstream;
let upstream: Server;
let upstreamUrl: string;
let server: TestServer;
let token: string;
let wallet: string;
let solanaAddress: string;
/** Who the upstream let in, and the nonces it handed out (each good once). */
const signedIn: string[] = [];
const nonces = new Set<string>();
/** The challenge's domain; a test swaps it to see that a foreign one is not signed. */
let challengeDomain: (url: URL) => string = (url) => url.host;

beforeAll(async () => {
  mock = await startMock();
  upstream = createServer(
    getRequestListener(async (request) => {
      const url = new URL(request.url);
      const proof = request.headers.get("sign-in-with-x");
      if (!proof) {
        const nonce = randomBytes(12).toString("hex");
        nonces.add(nonce);
        const info = {
          domain: challengeDomain(url),
          uri: url.href,
          version: "1",
          nonce,
          issuedAt: new Date().toISOString(),
          statement: "Sign in to the test upstream",
        };
        const required = {
          x402Version: 2,
          resource: { url: url.href },
          accepts: [],
          extensions: {
            "sign-in-with-x": {
              info,
              supportedChains: [
                { chainId: "eip155:1", type: "eip191" },
                { chainId: SOLANA_DEVNET, type: "ed25519" },
              ],
            },
          },
        };
        return new Response(JSON.stringify({ error: "sign in first" }), {
          status: 402,
          headers: { "content-type": "application/json", "payment-required": Buffer.from(JSON.stringify(required)).toString("base64") },
        });
      }
      const payload = parseSIWxHeader(proof);
      const valid = await validateSIWxMessage(payload, url, { checkNonce: (nonce) => nonces.delete(nonce) });
      const verified = await verifySIWxSignature(payload);
      if (!valid.isValid) return Response.json({ error: valid.invalidMessage }, { status: 401 });
      if (!verified.isValid) return Response.json({ error: verified.invalidMessage }, { status: 401 });
      signedIn.push(verified.payer);
      return fetch(`${mock.baseUrl("openai-chat")}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: await request.text(),
      });
    }),
  );
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/v1`;

  const keysDir = join(mkdtempSync(join(tmpdir(), "bitrouter-siwx-")), ".keys");
  await createAccount(keysDir);
  const account = await unlockAccount(keysDir, 0);
  wallet = account.evmAddress;
  solanaAddress = account.solanaAddress;
  token = await mintToken(account, { scope: "api", id: "caller" }, { chain: "base" });
  server = await startTestServer(
    `
inherit_defaults: false
providers:
  signed:
    api_protocol: openai
    api_base: ${upstreamUrl}
    auth: { type: custom, method: siwx, params: { chain_id: 1 } }
    models: { m: {} }
  signed-sol:
    api_protocol: openai
    api_base: ${upstreamUrl}
    auth: { type: custom, method: siwx, params: { chain_id: "${SOLANA_DEVNET}" } }
    models: { m: {} }
  unpaid:
    api_protocol: openai
    api_base: ${upstreamUrl}
    auth: { type: mpp }
    models: { m: {} }
`,
    { keysDir },
  );
});
afterAll(async () => {
  await server?.close();
  await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
  await mock?.close();
});
beforeEach(() => {
  mock.reset();
  signedIn.length = 0;
  challengeDomain = (url) => url.host;
});

describe("signing in to an upstream with Sign-In-With-X (auth: custom, method: siwx)", () => {
  it("an mpp provider without wallet.payment is unavailable (it would go out unpaid); the siwx one needs no chain", async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
    const models = (await client.models.list()).data.map((m) => m.id);
    expect(models).toContain("signed:m");
    expect(models).not.toContain("unpaid:m");
    const error = await client.chat.completions
      .create({ model: "unpaid:m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
    expect((error as Error).message).toMatch(/paid per request \(auth: mpp\) and no wallet can pay it/);
    expect(mock.requests).toHaveLength(0);
  });

  it("the 402's challenge is signed by the operator account, verified by the upstream, and the request retried", async () => {
    mock.enqueue({ text: "signed in" });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: "signed:m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    expect(answer.choices[0]!.message.content).toBe("signed in");
    expect(signedIn).toEqual([wallet]);
    expect(mock.requests).toHaveLength(1);
  });

  it("the Solana form (chain_id solana:<genesis>): signed with the account's Solana key, verified by the upstream", async () => {
    mock.enqueue({ text: "signed in on solana" });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: "signed-sol:m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    expect(answer.choices[0]!.message.content).toBe("signed in on solana");
    expect(signedIn).toEqual([solanaAddress]);
  });

  it("a challenge that names another domain is not signed: the caller gets an upstream error saying so", async () => {
    challengeDomain = () => "evil.example.com";
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
    const error = await client.chat.completions
      .create({ model: "signed:m", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toMatch(/names evil\.example\.com .* not signed/);
    expect(signedIn).toEqual([]);
    expect(mock.requests).toHaveLength(0);
  });
});
