// Callers pay BitRouter per request on a real local Tempo chain (Anvil), with the unmodified mppx
// client; the router answers from a mock upstream. Payment state lives in a real SQLite database.
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from "vitest";
import { Challenge, Credential, Receipt } from "mppx";
import { Mppx as MppxClient, tempo as tempoClient } from "mppx/client";
import { createClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { tempoLocalnet } from "viem/chains";
import { findModel, parseConfig } from "@bitrouter/config";
import type { RequestPayment } from "@bitrouter/core";
import type { Router } from "@bitrouter/router";
import { createRouter } from "@bitrouter/router";
import { openStore, type Store } from "@bitrouter/store";
import { type LocalChain, type MockUpstream, PATH_USD, type PaymentChains, startMock, startPaymentChains } from "@bitrouter/testkit";
import { createPaymentGate, paymentsHook } from "../src/index.js";

let chains: PaymentChains;
let chain: LocalChain;
let recipient: `0x${string}`;
let mock: MockUpstream;
let store: Store;
let router: Router;
const payments: (RequestPayment | undefined)[] = [];

beforeAll(async () => {
  [chains, mock] = await Promise.all([startPaymentChains(), startMock()]);
  ({ tempo: chain, recipient } = chains);
  store = await openStore(chains.databaseUrl);
  const config = parseConfig(
    `
inherit_defaults: false
providers:
  oai:
    api_protocol: openai
    api_base: ${mock.baseUrl("openai-chat")}
    api_key: key-oai
    models:
      gpt-test:
        max_output_tokens: 1000
        pricing: { input_tokens: { no_cache: 2.5 }, output_tokens: { text: 10 } }
      free-test: {}
      open-ended:
        pricing: { input_tokens: { no_cache: 1 }, output_tokens: { text: 1 } }
mpp:
  enabled: true
  realm: bitrouter.test
  secret_key: test-secret-key-of-at-least-32-bytes!!
  networks:
    tempo: { rpc_url: "${chain.rpcUrl}", recipient: "${recipient}" }
`,
    { env: {} },
  ).config;
  const gate = await createPaymentGate({ config: config.mpp!, store, requiresAuth: false });
  router = createRouter(config, {
    hooks: [
      paymentsHook(gate, (provider, modelId) => findModel(config, provider, modelId)),
      { name: "ledger", onComplete: (_record, ctx) => void payments.push(ctx.payment) },
    ],
  });
});
afterAll(async () => {
  await router?.close();
  await store?.close();
  await Promise.all([chains?.close(), mock?.close()]);
});
beforeEach(() => {
  mock.reset();
  payments.length = 0;
});

const URL = "http://bitrouter.test/v1/chat/completions";
const chat = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: "oai:gpt-test", max_tokens: 50, messages: [{ role: "user", content: "hello" }], ...extra });
const post = (body: string, headers: Record<string, string> = {}) =>
  router.fetch(new Request(URL, { method: "POST", body, headers: { "content-type": "application/json", ...headers } }));

/** The unmodified mppx client, paying from a funded account of the local chain. */
function payingClient(fetch: typeof globalThis.fetch = (input, init) => router.fetch(new Request(input, init))) {
  const getClient = () => createClient({ chain: { ...tempoLocalnet, id: chain.chainId }, transport: http(chain.rpcUrl) });
  return MppxClient.create({ methods: [tempoClient({ account: privateKeyToAccount(chain.freshAccount().privateKey), getClient })], polyfill: false, fetch });
}

describe("charging callers over HTTP 402 (tempo charge, local chain)", () => {
  test("without a credential: 402 with a Payment challenge for the request's price, in the caller's protocol; nothing is sent upstream", async () => {
    const response = await post(chat());
    expect(response.status).toBe(402);
    const challenge = Challenge.fromResponse(response);
    expect(challenge).toMatchObject({ method: "tempo", intent: "charge", realm: "bitrouter.test" });
    // The prompt as JSON, [system, messages, tools], is 68 bytes:
    //   2.5 USD/M x 68 + 10 USD/M x 50 max_tokens = 170 + 500 micro-USD = 670 base units of pathUSD
    expect(challenge.request).toMatchObject({ amount: "670", recipient, currency: PATH_USD, methodDetails: { chainId: chain.chainId } });
    const body = (await response.json()) as { error: { message: string; code: string } };
    expect(body.error).toMatchObject({ code: "payment_required" });
    expect(body.error.message).toMatch(/WWW-Authenticate/);
    expect(mock.requests).toHaveLength(0);
  });

  test("the mppx client pays on chain; the answer carries the receipt; the recipient got exactly the price", async () => {
    const before = await chain.balanceOf(PATH_USD, recipient);
    mock.enqueue({ text: "paid answer", usage: { input: 5, output: 2 } });
    const response = await payingClient().fetch(URL, { method: "POST", headers: { "content-type": "application/json" }, body: chat() });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe("paid answer");
    expect(response.headers.get("cache-control")).toBe("private");
    const receipt = Receipt.deserialize(response.headers.get("payment-receipt")!);
    expect(receipt).toMatchObject({ method: "tempo", status: "success" });
    expect(await chain.balanceOf(PATH_USD, recipient)).toBe(before + 670n);
    // Two requests reached the router: the refused one (no payment) and the paid one.
    expect(payments).toEqual([undefined, { amount: "670", method: "tempo:tempo/charge", reference: receipt.reference }]);
    expect(mock.requests).toHaveLength(1);
  });

  test("a credential is good once: replaying it is refused, and nothing more moves on chain", async () => {
    let credential: string | undefined;
    const client = payingClient((input, init) => {
      const request = new Request(input, init);
      credential ??= request.headers.get("authorization") ?? undefined;
      return router.fetch(request);
    });
    mock.enqueue({ text: "first" });
    expect((await client.fetch(URL, { method: "POST", headers: { "content-type": "application/json" }, body: chat() })).status).toBe(200);
    expect(credential).toMatch(/^Payment /);
    const balance = await chain.balanceOf(PATH_USD, recipient);

    const replay = await post(chat(), { authorization: credential! });
    expect(replay.status).toBe(402);
    expect(((await replay.json()) as { error: { message: string } }).error.message).toMatch(/payment credential refused/);
    expect(await chain.balanceOf(PATH_USD, recipient)).toBe(balance);
    expect(mock.requests).toHaveLength(1);
  });

  test("one credential sent twice at once: one answer is paid, the other is refused before anything goes upstream", async () => {
    const credential = await payingClientCredential(chat());
    const balance = await chain.balanceOf(PATH_USD, recipient);
    mock.enqueue({ text: "slow answer", delayMs: 300 });
    const [first, second] = await Promise.all([
      post(chat(), { authorization: credential }),
      new Promise((resolve) => setTimeout(resolve, 100)).then(() => post(chat(), { authorization: credential })),
    ]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(402);
    expect(((await second.json()) as { error: { message: string } }).error.message).toMatch(/already paid \(or is being paid\)/);
    expect(mock.requests).toHaveLength(1);
    expect(await chain.balanceOf(PATH_USD, recipient)).toBe(balance + 670n);
  });

  test("a request that fails upstream is not charged, and its credential still pays for the retry", async () => {
    const credential = await payingClientCredential(chat());
    const balance = await chain.balanceOf(PATH_USD, recipient);
    mock.enqueue({ error: "server_error", status: 500 });
    const failed = await post(chat(), { authorization: credential });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(failed.headers.get("payment-receipt")).toBeNull();
    expect(await chain.balanceOf(PATH_USD, recipient)).toBe(balance);
    mock.enqueue({ text: "second try" });
    await vi.waitFor(async () => expect((await post(chat(), { authorization: credential })).status).toBe(200));
    expect(await chain.balanceOf(PATH_USD, recipient)).toBe(balance + 670n);
    expect(payments.filter(Boolean)).toEqual([expect.objectContaining({ amount: "670" })]);
  });

  test("a transfer that fails when settled (the payer spent the money meanwhile): 402 with a fresh challenge, not the answer", async () => {
    const payer = chain.freshAccount();
    const getClient = () => createClient({ chain: { ...tempoLocalnet, id: chain.chainId }, transport: http(chain.rpcUrl) });
    const client = MppxClient.create({ methods: [tempoClient({ account: privateKeyToAccount(payer.privateKey), getClient })], polyfill: false });
    const credential = await client.createCredential(await post(chat()));
    const balance = await chain.balanceOf(PATH_USD, recipient);
    mock.enqueue({ text: "answer that must not leak", delayMs: 500 });
    const answer = post(chat(), { authorization: credential });
    // While the upstream works, the payer empties its account (all but less than the price).
    await new Promise((resolve) => setTimeout(resolve, 150));
    await chain.transfer(payer.address, PATH_USD, chain.freshAccount().address, (await chain.balanceOf(PATH_USD, payer.address)) - 500n);
    const response = await answer;
    expect(response.status).toBe(402);
    expect(response.headers.get("www-authenticate")).toMatch(/^Payment /);
    const text = await response.text();
    expect(text).not.toContain("must not leak");
    expect(text).toMatch(/payment credential refused/);
    expect(await chain.balanceOf(PATH_USD, recipient)).toBe(balance);
    expect(payments.filter(Boolean)).toEqual([]);
  });

  test("a credential for another challenge (tampered id) or another price is refused", async () => {
    const challenge = Challenge.fromResponse(await post(chat()));
    const forged = Credential.serialize({ challenge: { ...challenge, id: "A".repeat(43) }, payload: { type: "hash", hash: `0x${"11".repeat(32)}` } });
    const refused = await post(chat(), { authorization: forged });
    expect(refused.status).toBe(402);
    // A real credential for a cheap request does not pay for a dearer one.
    const cheap = await payingClientCredential(chat({ max_tokens: 1 }));
    const dearer = await post(chat({ max_tokens: 500 }), { authorization: cheap });
    expect(dearer.status).toBe(402);
    expect(mock.requests).toHaveLength(0);
  });

  test("a credential for a challenge that has expired is refused, and nothing moves on chain", async () => {
    const challenge = await post(chat());
    const expires = Date.parse(Challenge.fromResponse(challenge).expires!);
    const credential = await payingClient().createCredential(challenge);
    const balance = await chain.balanceOf(PATH_USD, recipient);
    // Only the clock moves (an hour past the challenge's expiry); sockets and timers stay real.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(expires + 3_600_000);
      const late = await post(chat(), { authorization: credential });
      expect(late.status).toBe(402);
      expect(((await late.json()) as { error: { message: string } }).error.message).toMatch(/payment credential refused: .*expired/i);
    } finally {
      vi.useRealTimers();
    }
    expect(await chain.balanceOf(PATH_USD, recipient)).toBe(balance);
    expect(mock.requests).toHaveLength(0);
  });

  test("the credential is found beside a Bearer token and in Payment-Authorization", async () => {
    mock.enqueue({ text: "a" }, { text: "b" });
    const beside = await post(chat(), { authorization: `Bearer some.jwt.token, ${await payingClientCredential(chat())}` });
    expect(beside.status).toBe(200);
    const separate = await post(chat(), { "payment-authorization": await payingClientCredential(chat()) });
    expect(separate.status).toBe(200);
    expect(mock.requests).toHaveLength(2);
  });

  test("a paid stream: receipt on the SSE answer, content intact", async () => {
    mock.enqueue({ text: ["str", "eam"] });
    const response = await payingClient().fetch(URL, { method: "POST", headers: { "content-type": "application/json" }, body: chat({ stream: true }) });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    expect(response.headers.get("cache-control")).toBe("no-cache, private");
    expect(response.headers.get("payment-receipt")).toBeTruthy();
    const text = await response.text();
    expect(text).toContain('"str"');
    expect(text).toContain('"eam"');
    expect(payments).toEqual([undefined, expect.objectContaining({ amount: "670", method: "tempo:tempo/charge" })]);
  });

  test("all four protocols answer 402 with the challenge, each in its own error shape", async () => {
    const ask = (path: string, body: unknown) =>
      router.fetch(
        new Request(`http://bitrouter.test${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
      );
    const answers = await Promise.all([
      ask("/v1/chat/completions", { model: "oai:gpt-test", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
      ask("/v1/responses", { model: "oai:gpt-test", max_output_tokens: 5, input: "x" }),
      ask("/v1/messages", { model: "oai:gpt-test", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
      ask("/v1beta/models/oai:gpt-test:generateContent", { contents: [{ role: "user", parts: [{ text: "x" }] }], generationConfig: { maxOutputTokens: 5 } }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(402);
      expect(Challenge.fromResponse(answer)).toMatchObject({ method: "tempo", intent: "charge" });
    }
    const [chatBody, responsesBody, anthropicBody, googleBody] = await Promise.all(answers.map((a) => a.json()));
    expect(chatBody).toMatchObject({ error: { code: "payment_required" } });
    expect(responsesBody).toMatchObject({ error: { code: "payment_required" } });
    expect(anthropicBody).toMatchObject({ type: "error", error: { message: expect.stringMatching(/payment required/) } });
    expect(googleBody).toMatchObject({ error: { code: 402, message: expect.stringMatching(/payment required/) } });
    expect(mock.requests).toHaveLength(0);
  });

  test("a model without pricing cannot be paid for; a request without max_tokens names the field", async () => {
    const unpriced = await post(JSON.stringify({ model: "oai:free-test", max_tokens: 5, messages: [{ role: "user", content: "x" }] }));
    expect(unpriced.status).toBe(403);
    expect(((await unpriced.json()) as { error: { message: string } }).error.message).toMatch(/no pricing/);
    // No max_tokens and no catalog limit: no ceiling to charge.
    const unbounded = await post(JSON.stringify({ model: "oai:open-ended", messages: [{ role: "user", content: "x" }] }));
    expect(unbounded.status).toBe(400);
    expect(await unbounded.json()).toMatchObject({ error: { param: "max_tokens" } });
    const anthropic = await router.fetch(
      new Request("http://bitrouter.test/v1/messages", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "oai:gpt-test", max_tokens: 50, messages: [{ role: "user", content: "hello" }] }),
      }),
    );
    // The Anthropic caller gets its own error shape, with the challenge.
    expect(anthropic.status).toBe(402);
    expect(anthropic.headers.get("www-authenticate")).toMatch(/^Payment /);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: expect.any(String) } });
    expect(mock.requests).toHaveLength(0);
  });
});

/** A credential the unmodified client made for `body` (paid on chain, not yet presented). */
async function payingClientCredential(body: string): Promise<string> {
  const challenge = await post(body);
  const client = payingClient();
  return await client.createCredential(challenge);
}
