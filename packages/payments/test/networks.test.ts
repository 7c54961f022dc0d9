// Several mpp.networks at once: a Tempo chain and a plain EVM chain (two local Anvils) with two
// EIP-3009 tokens of 6 and 18 decimals deployed by the set-up. The unmodified mppx client pays
// with its `evm` method, choosing the evm challenge among those of every network.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { Challenge, Receipt } from "mppx";
import { Mppx as MppxClient, evm as evmClient } from "mppx/client";
import { getAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { findModel, parseConfig } from "@bitrouter/config";
import type { RequestPayment } from "@bitrouter/core";
import { createRouter, type Router } from "@bitrouter/router";
import { openStore, type Store } from "@bitrouter/store";
import { type EvmTokens, type LocalChain, type MockUpstream, PATH_USD, type PaymentChains, startMock, startPaymentChains } from "@bitrouter/testkit";
import { createPaymentGate, paymentsHook } from "../src/index.js";

let chains: PaymentChains & { evm: EvmTokens<"usd6" | "usd18"> };
let tempoChain: LocalChain;
let evmChain: LocalChain;
let mock: MockUpstream;
let store: Store;
let router: Router;
let recipient: `0x${string}`;
let usd6: `0x${string}`;
let usd18: `0x${string}`;
const payments: (RequestPayment | undefined)[] = [];

beforeAll(async () => {
  [chains, mock] = await Promise.all([
    startPaymentChains({ usd6: { name: "Test USD", decimals: 6 }, usd18: { name: "Test USD 18", decimals: 18 } }),
    startMock(),
  ]);
  ({ tempo: tempoChain, recipient } = chains);
  evmChain = chains.evm.chain;
  usd6 = getAddress(chains.evm.tokens.usd6);
  usd18 = getAddress(chains.evm.tokens.usd18);
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
        pricing: { input_tokens: { no_cache: 2.5 }, output_tokens: { text: 10 } }
mpp:
  enabled: true
  realm: bitrouter.test
  secret_key: test-secret-key-of-at-least-32-bytes!!
  networks:
    tempo: { rpc_url: "${tempoChain.rpcUrl}", recipient: "${recipient}" }
    usd6: { method: evm, rpc_url: "${evmChain.rpcUrl}", chain_id: ${evmChain.chainId}, recipient: "${recipient}", currency: "${usd6}", decimals: 6 }
    usd18: { method: evm, rpc_url: "${evmChain.rpcUrl}", recipient: "${recipient}", currency: "${usd18}" }
`,
    { env: {} },
  ).config;
  // The settling account submits the callers' signed transfers (and pays their gas).
  const settler = privateKeyToAccount(evmChain.freshAccount().privateKey);
  const gate = await createPaymentGate({ config: config.mpp!, store, requiresAuth: false, settler });
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

const ENDPOINT = "http://bitrouter.test/v1/chat/completions";
// The prompt as JSON is 68 bytes: 2.5 USD/M x 68 + 10 USD/M x 50 max_tokens = 670 micro-USD.
const PRICE_MICRO_USD = 670n;
const chat = () => JSON.stringify({ model: "oai:gpt-test", max_tokens: 50, messages: [{ role: "user", content: "hello" }] });
const init = () => ({ method: "POST", headers: { "content-type": "application/json" }, body: chat() });
const route = (input: string | URL | Request, requestInit?: RequestInit) => router.fetch(new Request(input, requestInit));

/** A payer holding `amount` of `token` (sent by the deployer), paying with mppx's evm method only. */
async function evmPayer(token: `0x${string}`, name: string, amount: bigint, onRequest?: (request: Request) => void) {
  const payer = await chains.evm.fund(token, amount);
  const client = MppxClient.create({
    methods: [evmClient.charge({ account: privateKeyToAccount(payer.privateKey), authorization: { name, version: "1" } })],
    polyfill: false,
    fetch: (input, requestInit) => {
      const request = new Request(input, requestInit);
      onRequest?.(request);
      return router.fetch(request);
    },
    // Several evm challenges (one per token): pay in this token.
    orderChallenges: (candidates) =>
      candidates.filter((c) => String((c.challenge.request as { currency?: string }).currency).toLowerCase() === token.toLowerCase()),
  });
  return { address: payer.address, client };
}

describe("several networks: a challenge per network, a credential for any of them", () => {
  test("the 402 offers one challenge per network, each priced in its token's base units", async () => {
    const response = await route(ENDPOINT, init());
    expect(response.status).toBe(402);
    const challenges = Challenge.fromResponseList(response);
    expect(challenges.map((c) => [c.method, c.request])).toEqual([
      ["tempo", expect.objectContaining({ amount: "670", currency: PATH_USD, methodDetails: expect.objectContaining({ chainId: tempoChain.chainId }) })],
      ["evm", expect.objectContaining({ amount: "670", currency: usd6, methodDetails: expect.objectContaining({ chainId: evmChain.chainId, decimals: 6 }) })],
      // 18 decimals: one micro-USD is 10^12 base units.
      [
        "evm",
        expect.objectContaining({
          amount: (PRICE_MICRO_USD * 10n ** 12n).toString(),
          currency: usd18,
          methodDetails: expect.objectContaining({ decimals: 18 }),
        }),
      ],
    ]);
    expect(new Set(challenges.map((c) => c.id)).size).toBe(3);
    expect(mock.requests).toHaveLength(0);
  });

  test("the mppx client pays with its evm method: the exact price moves on chain, once, and the ledger names the network", async () => {
    const { address, client } = await evmPayer(usd6, "Test USD", 1_000_000n);
    const before = await evmChain.balanceOf(usd6, recipient);
    mock.enqueue({ text: "paid in usd6", usage: { input: 5, output: 2 } });
    const response = await client.fetch(ENDPOINT, init());
    expect(response.status).toBe(200);
    expect(((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe("paid in usd6");
    const receipt = Receipt.deserialize(response.headers.get("payment-receipt")!);
    expect(receipt).toMatchObject({ method: "evm", status: "success" });
    expect(await evmChain.balanceOf(usd6, recipient)).toBe(before + 670n);
    expect(await evmChain.balanceOf(usd6, address)).toBe(1_000_000n - 670n);
    expect(payments).toEqual([undefined, { amount: "670", method: "usd6:evm/charge", reference: receipt.reference }]);
    const tx = await evmChain.rpc<{ to: string } | null>("eth_getTransactionByHash", [receipt.reference]);
    expect(tx?.to.toLowerCase()).toBe(usd6.toLowerCase());
  });

  test("an 18-decimals token is charged 10^12 base units per micro-USD", async () => {
    const price = PRICE_MICRO_USD * 10n ** 12n;
    const { client } = await evmPayer(usd18, "Test USD 18", 10n ** 18n);
    const before = await evmChain.balanceOf(usd18, recipient);
    mock.enqueue({ text: "paid in usd18" });
    const response = await client.fetch(ENDPOINT, init());
    expect(response.status).toBe(200);
    expect(await evmChain.balanceOf(usd18, recipient)).toBe(before + price);
    expect(payments.at(-1)).toMatchObject({ amount: price.toString(), method: "usd18:evm/charge" });
  });

  test("a paid stream on the evm network: the receipt on the SSE answer, the transfer on chain before the content", async () => {
    const { client, address } = await evmPayer(usd6, "Test USD", 1_000_000n);
    mock.enqueue({ text: ["str", "eam"] });
    const response = await client.fetch(ENDPOINT, { ...init(), body: JSON.stringify({ ...JSON.parse(chat()), stream: true }) });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    expect(Receipt.deserialize(response.headers.get("payment-receipt")!)).toMatchObject({ method: "evm", status: "success" });
    // Settled before the first content event went out: the money has moved already.
    expect(await evmChain.balanceOf(usd6, address)).toBe(1_000_000n - 670n);
    const text = await response.text();
    expect(text).toContain('"str"');
    expect(text).toContain('"eam"');
    expect(payments).toEqual([undefined, expect.objectContaining({ amount: "670", method: "usd6:evm/charge" })]);
  });

  test("an evm credential is good once: a replay is refused and moves nothing", async () => {
    let credential: string | undefined;
    const { client } = await evmPayer(usd6, "Test USD", 1_000_000n, (request) => {
      credential ??= request.headers.get("authorization") ?? undefined;
    });
    mock.enqueue({ text: "first" });
    expect((await client.fetch(ENDPOINT, init())).status).toBe(200);
    expect(credential).toMatch(/^Payment /);
    const balance = await evmChain.balanceOf(usd6, recipient);
    const replay = await route(ENDPOINT, { ...init(), headers: { "content-type": "application/json", authorization: credential! } });
    expect(replay.status).toBe(402);
    expect(((await replay.json()) as { error: { message: string } }).error.message).toMatch(/payment credential refused/);
    expect(await evmChain.balanceOf(usd6, recipient)).toBe(balance);
    expect(mock.requests).toHaveLength(1);
  });

  test("a payer short of funds is refused before anything goes upstream", async () => {
    const { client, address } = await evmPayer(usd6, "Test USD", 100n);
    const response = await client.fetch(ENDPOINT, init());
    expect(response.status).toBe(402);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/payment credential refused: the signed transfer would fail/);
    expect(await evmChain.balanceOf(usd6, address)).toBe(100n);
    expect(mock.requests).toHaveLength(0);
  });

  test("a request that fails upstream moves nothing on the evm chain", async () => {
    const { client, address } = await evmPayer(usd6, "Test USD", 1_000_000n);
    mock.enqueue({ error: "server_error", status: 500 });
    const response = await client.fetch(ENDPOINT, init());
    expect(response.status).toBeGreaterThanOrEqual(500);
    expect(await evmChain.balanceOf(usd6, address)).toBe(1_000_000n);
    expect(payments).toEqual([undefined, undefined]);
  });
});

describe("an evm network that cannot take effect is refused at start, naming the field", () => {
  const gate = (network: string, settler = true) =>
    createPaymentGate({
      config: parseConfig(`mpp:\n  enabled: true\n  secret_key: test-secret-key-of-at-least-32-bytes!!\n  networks:\n    usd: { ${network} }\n`, { env: {} })
        .config.mpp!,
      store,
      requiresAuth: false,
      ...(settler ? { settler: privateKeyToAccount(evmChain.freshAccount().privateKey) } : {}),
    }).then(
      () => "created",
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
  const base = () => `method: evm, rpc_url: "${evmChain.rpcUrl}", recipient: "${recipient}"`;

  test("no currency, a token without EIP-3009, a wrong chain_id, sessions fields, no settling account", async () => {
    expect(await gate(base())).toMatch(/mpp\.networks\.usd\.currency is required for method evm/);
    // An address without code (the recipient): not an EIP-3009 token.
    expect(await gate(`${base()}, currency: "${recipient}"`)).toMatch(/mpp\.networks\.usd\.currency .* does not answer name\(\), version\(\) and decimals\(\)/);
    expect(await gate(`${base()}, currency: "${usd6}", chain_id: 1`)).toMatch(/mpp\.networks\.usd\.chain_id is 1 but .* is chain 31337/);
    expect(await gate(`${base()}, currency: "${usd6}", escrow_contract: "${usd6}"`)).toMatch(
      /mpp\.networks\.usd\.escrow_contract applies to Tempo sessions only/,
    );
    expect(await gate(`${base()}, currency: "${usd6}"`, false)).toMatch(/mpp\.networks\.usd \(method evm\) needs the operator wallet/);
    expect(await gate(`${base()}, currency: "${usd6}"`)).toBe("created");
  });
});
