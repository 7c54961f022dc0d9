// The payment side of the docs' configurations, for real: local Anvil chains stand in for the public
// ones the docs name (Tempo's testnet, chain 42431; Base, chain 8453, with an EIP-3009 test token for
// its USDC), an operator account in a keys directory (the wallet; funded), callers that pay with the
// unmodified mppx client, and two upstreams in front of the mock: one that charges per request over
// HTTP 402 (mppx's server), one that asks for a Sign-In-With-X proof.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Store } from "mppx";
import { Mppx, tempo } from "mppx/client";
import { Mppx as MppxServer, tempo as tempoServer } from "mppx/server";
import { createClient, http, isAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { tempoLocalnet } from "viem/chains";
import { createAccount, mintToken, unlockAccount } from "@bitrouter/auth";
import type { ResolvedConfig } from "@bitrouter/config";
import { type LocalChain, PATH_USD, startPaymentChains } from "@bitrouter/testkit";

/** The public RPCs the docs name, and the chain ids they answer. */
const TEMPO_TESTNET = { url: "https://rpc.moderato.tempo.xyz", chainId: 42431 };
const BASE = { url: "https://mainnet.base.org", chainId: 8453 };

export interface PaymentsEnv {
  tempo: LocalChain;
  evm: LocalChain;
  /**
   * A new operator: a keys directory whose active account is the wallet (funded), and a caller's API
   * key it signed. One per server: Anvil takes one payment per sending account.
   */
  newOperator(): Promise<{ keysDir: string; token: string }>;
  /** Where callers' payments go (for a recipient the docs leave as "0x…"). */
  recipient: `0x${string}`;
  /** An OpenAI-protocol upstream that charges 0.0042 pathUSD per request; `paid` counts the answered ones. */
  paidUpstream: { url: string; paid: number };
  /** An OpenAI-protocol upstream that asks for a Sign-In-With-X proof; `signedIn` counts the requests that carried one. */
  siwxUpstream: { url: string; signedIn: number };
  /** A fetch that pays 402s on Tempo from a funded account of its own (Anvil takes one payment per account). */
  payingFetch(): typeof fetch;
  /** The payer's private key for an example that makes its own client. */
  payerKey(): `0x${string}`;
  /** The local chains answer for the public RPC URLs (in this process's fetch) until the returned function is called. */
  answerPublicRpcs(): () => void;
  /** Points the configuration's payment fields at the local chains (see substitutePayments). */
  substitute(config: ResolvedConfig): void;
  close(): Promise<void>;
}

/** Whether a configuration charges callers or pays or signs in to upstreams (it then needs this environment). */
export function needsPayments(config: ResolvedConfig): boolean {
  return config.mpp?.enabled === true || config.wallet !== undefined || Object.values(config.providers).some((p) => ["mpp", "custom"].includes(p.auth.type));
}

export async function startPaymentsEnv(upstreamBase: string): Promise<PaymentsEnv> {
  const chains = await startPaymentChains({ usdc: { name: "USD Coin", decimals: 6 } }, { chainIds: { tempo: TEMPO_TESTNET.chainId, evm: BASE.chainId } });
  const { tempo: tempoChain, recipient } = chains;
  const { chain: evm, tokens } = chains.evm;
  const usdc = tokens.usdc;
  const getClient = () => createClient({ chain: { ...tempoLocalnet, id: tempoChain.chainId }, transport: http(tempoChain.rpcUrl) });

  const paidUpstream = { url: "", paid: 0 };
  const seller = MppxServer.create({
    methods: [
      tempoServer.charge({ recipient: tempoChain.freshAccount().address, currency: PATH_USD, chainId: tempoChain.chainId, getClient, store: Store.memory() }),
    ],
    secretKey: "the-paid-upstream-secret-that-is-32-bytes-or-more",
    realm: "paid-upstream",
  });
  const paid = await listen(async (request) => {
    const charged = await seller.charge({ amount: "0.0042" })(request);
    if (charged.status === 402) return charged.challenge;
    paidUpstream.paid++;
    return charged.withReceipt(await forward(request, upstreamBase));
  });
  paidUpstream.url = `${paid.url}/v1`;

  const siwxUpstream = { url: "", signedIn: 0 };
  const siwx = await listen(async (request) => {
    if (request.headers.get("sign-in-with-x")) {
      siwxUpstream.signedIn++;
      return await forward(request, upstreamBase);
    }
    // An x402 v2 PAYMENT-REQUIRED with only the sign-in-with-x extension (the proof itself is checked by apps/server's siwx test).
    const url = new URL(request.url);
    const info = {
      domain: url.host,
      uri: url.href,
      version: "1",
      nonce: randomBytes(12).toString("hex"),
      issuedAt: new Date().toISOString(),
      statement: "Sign in",
    };
    const required = {
      x402Version: 2,
      resource: { url: url.href },
      accepts: [],
      extensions: { "sign-in-with-x": { info, supportedChains: [{ chainId: "eip155:1", type: "eip191" }] } },
    };
    return new Response(JSON.stringify({ error: "sign in first" }), {
      status: 402,
      headers: { "content-type": "application/json", "payment-required": Buffer.from(JSON.stringify(required)).toString("base64") },
    });
  });
  siwxUpstream.url = `${siwx.url}/v1`;

  return {
    tempo: tempoChain,
    evm,
    async newOperator() {
      const keysDir = join(mkdtempSync(join(tmpdir(), "bitrouter-docs-wallet-")), ".keys");
      await createAccount(keysDir);
      const operator = await unlockAccount(keysDir, 0);
      // The wallet pays upstreams in pathUSD on Tempo; on Base it pays the gas of the transfers it submits.
      await tempoChain.transfer(tempoChain.freshAccount().address, PATH_USD, operator.evmAddress, 1_000_000n);
      await evm.rpc("anvil_setBalance", [operator.evmAddress, "0xde0b6b3a7640000"]);
      return { keysDir, token: await mintToken(operator, { scope: "api", id: "docs-caller" }, { chain: "base" }) };
    },
    recipient,
    paidUpstream,
    siwxUpstream,
    payingFetch: () =>
      Mppx.create({ methods: [tempo({ account: privateKeyToAccount(tempoChain.freshAccount().privateKey), getClient })], polyfill: false })
        .fetch as typeof fetch,
    payerKey: () => tempoChain.freshAccount().privateKey,
    answerPublicRpcs() {
      const real = globalThis.fetch;
      const local: Record<string, string> = { [TEMPO_TESTNET.url]: tempoChain.rpcUrl, [BASE.url]: evm.rpcUrl };
      globalThis.fetch = (input, init) => {
        const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
        const publicUrl = Object.keys(local).find((u) => url.startsWith(u));
        return publicUrl ? real(url.replace(publicUrl, local[publicUrl]!), init) : real(input, init);
      };
      return () => {
        globalThis.fetch = real;
      };
    },
    substitute(config) {
      // Every network's rpc_url is the local chain of its method (a chain_id written must then
      // match: the chains answer the public ids); a recipient the docs leave as "0x…" is a test
      // address; an evm network's token is the test token; a tempo currency left as "0x…" is pathUSD.
      for (const network of Object.values(config.mpp?.networks ?? {})) {
        const evmNetwork = network.method === "evm";
        network.rpc_url = evmNetwork ? evm.rpcUrl : tempoChain.rpcUrl;
        if (!isAddress(network.recipient ?? "")) network.recipient = recipient;
        if (evmNetwork) network.currency = usdc;
        else if (network.currency !== undefined && !isAddress(network.currency)) network.currency = PATH_USD;
      }
      if (config.wallet?.payment) config.wallet.payment.tempo_rpc_url = tempoChain.rpcUrl;
      for (const provider of Object.values(config.providers)) {
        if (provider.auth.type === "mpp") provider.api_base = paidUpstream.url;
        if (provider.auth.type === "custom") provider.api_base = siwxUpstream.url;
      }
    },
    async close() {
      await Promise.all([paid.close(), siwx.close(), chains.close()]);
    },
  };
}

/** The request's path and body, sent on to the OpenAI-protocol mock. */
async function forward(request: Request, upstreamBase: string): Promise<Response> {
  const path = new URL(request.url).pathname.replace(/^\/v1/, "");
  const answer = await fetch(`${upstreamBase}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: await request.text() });
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

/** A loopback HTTP server answering with a fetch-style handler. */
async function listen(handle: (request: Request) => Promise<Response>): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
    const answer = await handle(new Request(`http://${req.headers.host}${req.url}`, { method: req.method ?? "GET", headers, ...(body ? { body } : {}) }));
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
