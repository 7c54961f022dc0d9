/**
 * Callers pay the real server per request over HTTP 402 (mpp.enabled): the official OpenAI SDK with
 * the unmodified mppx client as its fetch, a real local Tempo chain (Anvil), the ledger in a real
 * database. Used credentials are remembered in the database: a restart, or a second instance on
 * the same PostgreSQL, refuses a replay.
 */
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { getRequestListener } from "@hono/node-server";
import { Store } from "mppx";
import { Mppx, evm, tempo } from "mppx/client";
import { McpClient } from "mppx/mcp/client";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { Mppx as MppxServer, tempo as tempoServer } from "mppx/server";
import { createClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { tempoLocalnet } from "viem/chains";
import { createAccount, mintToken, unlockAccount } from "@bitrouter/auth";
import {
  DEFAULT_MCP_TOOLS,
  type EvmTokens,
  type LocalChain,
  type McpMock,
  type MockUpstream,
  PATH_USD,
  type PaymentChains,
  startMcpMock,
  startMock,
  startPaymentChains,
} from "@bitrouter/testkit";
import { startTestServer, type TestServer } from "./harness.js";

const DB = `bitrouter_pay_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const psql = (sql: string) =>
  execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql], { stdio: "pipe" });
const DATABASE = `postgres://postgres@127.0.0.1:5432/${DB}`;

let chains: PaymentChains & { evm: EvmTokens<"usdc"> };
let chain: LocalChain;
let mock: MockUpstream;
let recipient: `0x${string}`;

function yaml(): string {
  return `
inherit_defaults: false
providers:
  oai:
    api_protocol: openai
    api_base: ${mock.baseUrl("openai-chat")}
    api_key: key-oai
    models:
      gpt-test:
        pricing: { input_tokens: { no_cache: 3 }, output_tokens: { text: 15 } }
mpp:
  enabled: true
  realm: bitrouter.test
  secret_key: \${MPP_SECRET_KEY}
  networks:
    tempo:
      rpc_url: ${chain.rpcUrl}
      recipient: "${recipient}"
      currency: "${PATH_USD}"
`;
}
const env = { MPP_SECRET_KEY: "a-test-secret-that-is-at-least-32-bytes-long" };

/** What the paying client sent with its payment: the credential, its header, and whether a Bearer token went along. */
interface Sent {
  credential: string;
  header: string;
  bearer: boolean;
}

/** The unmodified mppx client paying from a funded account; `seen` records each payment it sends. */
function payingFetch(seen: Sent[] = []): typeof fetch {
  const getClient = () => createClient({ chain: { ...tempoLocalnet, id: chain.chainId }, transport: http(chain.rpcUrl) });
  const client = Mppx.create({
    methods: [tempo({ account: privateKeyToAccount(chain.freshAccount().privateKey), getClient })],
    polyfill: false,
    fetch: (input, init) => {
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
      for (const header of ["payment-authorization", "authorization"]) {
        const credential = headers.get(header);
        if (credential?.startsWith("Payment ")) seen.push({ credential, header, bearer: /^Bearer /.test(headers.get("authorization") ?? "") });
      }
      return fetch(input, init);
    },
  });
  return client.fetch as typeof fetch;
}

const ask = { model: "oai:gpt-test", max_tokens: 40, messages: [{ role: "user" as const, content: "hi" }] };
// The prompt as BitRouter prices it ([system, messages, tools] as JSON) is 65 bytes:
// 3 USD/M x 65 + 15 USD/M x 40 max_tokens = 195 + 600 = 795 micro-USD = 795 base units of pathUSD.
const PRICE = 795n;

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function ledgerRows(server: TestServer) {
  await server.runtime.metering!.ledger.flush();
  return await server.runtime
    .metering!.store.db.selectFrom("requests")
    .select(["id", "status", "payment_amount", "payment_method", "payment_reference", "cost_micro_usd"])
    .orderBy("created_at")
    .execute();
}

beforeAll(async () => {
  psql(`CREATE DATABASE ${DB}`);
  // The plain EVM chain and its token are for the "two networks" describe.
  [chains, mock] = await Promise.all([startPaymentChains({ usdc: { name: "Test USD", decimals: 6 } }), startMock()]);
  ({ tempo: chain, recipient } = chains);
});
afterAll(async () => {
  await Promise.all([chains?.close(), mock?.close()]);
  psql(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
});
beforeEach(() => mock.reset());

describe("callers pay the server per request (mpp.enabled, Tempo charge)", () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    [a, b] = await Promise.all([startTestServer(yaml(), { env, database: DATABASE }), startTestServer(yaml(), { env, database: DATABASE })]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("an SDK without payment gets 402 naming the challenge; nothing goes upstream", async () => {
    const client = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const error = await client.chat.completions.create(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get("www-authenticate")).toMatch(/^Payment .*method="tempo".*intent="charge"/);
    expect(mock.requests).toHaveLength(0);
  });

  it("the OpenAI SDK paying through the mppx client: completion, receipt, exact amount on chain and in the ledger", async () => {
    const before = await chain.balanceOf(PATH_USD, recipient);
    const client = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: "unused", maxRetries: 0, fetch: payingFetch() });
    mock.enqueue({ text: "paid hello", usage: { input: 9, output: 3 } });
    const { data, response } = await client.chat.completions.create(ask).withResponse();
    expect(data.choices[0]!.message.content).toBe("paid hello");
    expect(response.headers.get("payment-receipt")).toBeTruthy();
    expect(response.headers.get("cache-control")).toBe("private");
    expect(await chain.balanceOf(PATH_USD, recipient)).toBe(before + PRICE);

    const paid = (await ledgerRows(a)).filter((row) => row.payment_amount !== null);
    expect(paid).toEqual([
      expect.objectContaining({ status: 200, payment_amount: String(PRICE), payment_method: "tempo:tempo/charge", cost_micro_usd: 9 * 3 + 3 * 15 }),
    ]);
    // The reference is the transaction that moved the money.
    const receipt = await chain.rpc<{ status: string }>("eth_getTransactionReceipt", [paid[0]!.payment_reference]);
    expect(receipt.status).toBe("0x1");
  });

  it("a paid stream through the SDK", async () => {
    const client = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: "unused", maxRetries: 0, fetch: payingFetch() });
    mock.enqueue({ text: ["str", "eamed"], usage: { input: 9, output: 2 } });
    const stream = await client.chat.completions.create({ ...ask, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("streamed");
    const rows = await ledgerRows(a);
    expect(rows.at(-1)).toMatchObject({ status: 200, payment_amount: String(PRICE), payment_method: "tempo:tempo/charge" });
  });

  it("a request that fails on every upstream costs nothing: no transfer on chain, no payment in the ledger (stream and not)", async () => {
    const payer = chain.freshAccount();
    const getClient = () => createClient({ chain: { ...tempoLocalnet, id: chain.chainId }, transport: http(chain.rpcUrl) });
    const mppx = Mppx.create({ methods: [tempo({ account: privateKeyToAccount(payer.privateKey), getClient })], polyfill: false });
    const client = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: "unused", maxRetries: 0, fetch: mppx.fetch as typeof fetch });
    const [payerBefore, recipientBefore] = [await chain.balanceOf(PATH_USD, payer.address), await chain.balanceOf(PATH_USD, recipient)];
    const rowsBefore = (await ledgerRows(a)).length;

    mock.enqueue({ error: "server_error", status: 500, message: "upstream broke" });
    const failed = await client.chat.completions.create(ask).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBeGreaterThanOrEqual(500);
    // A stream that breaks before its first content event fails the same way.
    mock.enqueue({ streamError: { afterChunks: 0, error: "overloaded", message: "busy" } });
    const broken = await client.chat.completions.create({ ...ask, stream: true }).catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(OpenAI.APIError);
    expect(mock.requests).toHaveLength(2);

    expect(await chain.balanceOf(PATH_USD, recipient)).toBe(recipientBefore);
    expect(await chain.balanceOf(PATH_USD, payer.address)).toBe(payerBefore);
    // Each call: the 402 that asked for payment, then the paid attempt that failed upstream.
    const rows = (await ledgerRows(a)).slice(rowsBefore);
    expect(rows.map((row) => [row.status >= 500 ? "failed" : row.status, row.payment_amount, row.payment_reference])).toEqual([
      [402, null, null],
      ["failed", null, null],
      [402, null, null],
      ["failed", null, null],
    ]);

    // The same payer's next request that is answered pays exactly once.
    mock.enqueue({ text: "fine now" });
    const answer = await client.chat.completions.create(ask);
    expect(answer.choices[0]!.message.content).toBe("fine now");
    expect(await chain.balanceOf(PATH_USD, recipient)).toBe(recipientBefore + PRICE);
  });

  it("a credential used on one instance is refused by the other (one PostgreSQL) and after a restart", async () => {
    const seen: Sent[] = [];
    const client = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: "unused", maxRetries: 0, fetch: payingFetch(seen) });
    mock.enqueue({ text: "once" });
    await client.chat.completions.create(ask);
    expect(seen).toHaveLength(1);
    const balance = await chain.balanceOf(PATH_USD, recipient);

    const replay = (server: TestServer) =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: seen[0]!.credential },
        body: JSON.stringify(ask),
      });
    const onB = await replay(b);
    expect(onB.status).toBe(402);
    expect(((await onB.json()) as { error: { message: string } }).error.message).toMatch(/payment credential refused/);

    await a.close();
    a = await startTestServer(yaml(), { env, database: DATABASE });
    expect((await replay(a)).status).toBe(402);
    expect(await chain.balanceOf(PATH_USD, recipient)).toBe(balance);
    expect(mock.requests).toHaveLength(1);
  });
});

describe("MCP tool calls are paid per call (mpp.enabled, the MCP binding of the Payment scheme)", () => {
  let tools: McpMock;
  let server: TestServer;
  const connect = async (path = "/mcp") => {
    const client = new Client({ name: "payer", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}${path}`)));
    return client;
  };
  /** mppx's own MCP client wrapper, paying from a funded account. */
  const paying = (client: Client) => {
    const getClient = () => createClient({ chain: { ...tempoLocalnet, id: chain.chainId }, transport: http(chain.rpcUrl) });
    return McpClient.wrap(client, { methods: [tempo({ account: privateKeyToAccount(chain.freshAccount().privateKey), getClient })] });
  };
  const toolRows = async () => {
    await server.runtime.metering!.ledger.flush();
    return server.runtime
      .metering!.store.db.selectFrom("requests")
      .select(["status", "tool", "payment_amount", "payment_method", "payment_reference"])
      .where("inbound_protocol", "=", "mcp")
      .orderBy("created_at")
      .execute();
  };

  beforeAll(async () => {
    tools = await startMcpMock({
      tools: {
        ...DEFAULT_MCP_TOOLS,
        broken: { run: () => ({ isError: true, content: [{ type: "text", text: "it broke" }] }) },
      },
    });
    const web = `  web:\n    api_protocol: mcp\n    api_base: ${tools.url}\n    bridge: true\n`;
    const config = `${yaml().replace("providers:\n", `providers:\n${web}`)}
tools:
  shout:
    endpoints: [{ provider: web, service_id: echo }]
    pricing: { default: 0.002 }
  flaky:
    endpoints: [{ provider: web, service_id: broken }]
    pricing: { default: 0.001 }
`;
    server = await startTestServer(config, { env, database: DATABASE });
  });
  afterAll(async () => {
    await server?.close();
    await tools?.close();
  });

  it("initialize and tools/list are free; a priced tools/call without payment is the -32042 challenge, and nothing runs", async () => {
    const client = await connect();
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("shout");
    const error = await client.callTool({ name: "shout", arguments: { text: "hi" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32042);
    const data = (error as McpError).data as { challenges: { method: string; intent: string; request: { amount: string } }[] };
    expect(data.challenges).toEqual([expect.objectContaining({ method: "tempo", intent: "charge", request: expect.objectContaining({ amount: "2000" }) })]);
    // A bridge serves the same upstream tool under its own name: priced by the tools: entry that names it.
    const bridged = await (await connect("/mcp/web")).callTool({ name: "echo", arguments: { text: "hi" } }).catch((e: unknown) => e);
    expect((bridged as McpError).code).toBe(-32042);
    // An unpriced tool is free.
    expect(await client.callTool({ name: "web__add", arguments: { a: 1, b: 2 } })).toMatchObject({ content: [{ type: "text", text: "3" }] });
    expect(tools.calls.map((call) => call.tool)).toEqual(["add"]);
  });

  it("mppx's MCP client pays: the answer, its receipt, the exact amount on chain and in the tool call's ledger row", async () => {
    const before = await chain.balanceOf(PATH_USD, recipient);
    const result = await paying(await connect()).callTool({ name: "shout", arguments: { text: "paid echo" } });
    expect(result.content).toEqual([{ type: "text", text: "paid echo" }]);
    const receipt = result._meta?.["org.paymentauth/receipt"] as { status: string; reference: string; challengeId: string };
    expect(receipt).toMatchObject({ status: "success", method: "tempo" });
    expect(await chain.balanceOf(PATH_USD, recipient)).toBe(before + 2000n);
    const row = (await toolRows()).filter((r) => r.payment_amount !== null).at(-1);
    expect(row).toMatchObject({
      status: 200,
      tool: "web/echo",
      payment_amount: "2000",
      payment_method: "tempo:tempo/charge",
      payment_reference: receipt.reference,
    });
    expect(await chain.rpc<{ status: string }>("eth_getTransactionReceipt", [receipt.reference])).toMatchObject({ status: "0x1" });
  });

  it("a tool that answers isError is not charged", async () => {
    const before = await chain.balanceOf(PATH_USD, recipient);
    const result = await paying(await connect()).callTool({ name: "flaky", arguments: {} });
    expect(result.isError).toBe(true);
    expect(await chain.balanceOf(PATH_USD, recipient)).toBe(before);
    expect((await toolRows()).at(-1)).toMatchObject({ status: 200, tool: "web/broken", payment_amount: null });
  });
});

describe("mpp configuration that cannot take effect stops the server with the field named", () => {
  const start = (mpp: string, database: string | null = DATABASE, vars: Record<string, string> = env) =>
    startTestServer(`inherit_defaults: false\nproviders: {}\nmpp:\n${mpp}`, { env: vars, ...(database ? { database } : {}) }).then(
      async (server) => {
        await server.close();
        return "started";
      },
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
  const network = (extra: string) => `  networks:\n    tempo: { rpc_url: "${chain.rpcUrl}", recipient: "${recipient}"${extra} }\n`;

  it("no secret, a bad recipient, fee_payer, a wrong chain_id, an evm network without a wallet, no database, an RPC that does not answer", async () => {
    expect(await start(`  enabled: true\n${network("")}`, DATABASE, {})).toMatch(/mpp\.secret_key \(or MPP_SECRET_KEY\) is required/);
    const secret = "  enabled: true\n  secret_key: ${MPP_SECRET_KEY}\n";
    expect(await start(`${secret}  networks:\n    tempo: { rpc_url: "${chain.rpcUrl}", recipient: "0x123" }\n`)).toMatch(
      /mpp\.networks\.tempo\.recipient must be the 0x address/,
    );
    expect(await start(`${secret}${network(", fee_payer: true")}`)).toMatch(/mpp\.networks\.tempo\.fee_payer: true is not supported yet/);
    expect(await start(`${secret}${network(", chain_id: 1")}`)).toMatch(/mpp\.networks\.tempo\.chain_id is 1 but .* is chain \d+/);
    // An evm network is settled by the operator wallet (it submits the signed transfer): none here.
    expect(
      await start(`${secret}${network("")}    usdc: { method: evm, rpc_url: "${chain.rpcUrl}", recipient: "${recipient}", currency: "${PATH_USD}" }\n`),
    ).toMatch(/mpp\.networks\.usdc \(method evm\) needs the operator wallet/);
    expect(await start(`${secret}${network("")}`, null)).toMatch(/mpp\.enabled needs a database/);
    expect(await start(`${secret}  networks:\n    tempo: { rpc_url: "http://127.0.0.1:9", recipient: "${recipient}" }\n`)).toMatch(
      /mpp\.networks\.tempo\.rpc_url http:\/\/127\.0\.0\.1:9 does not answer eth_chainId/,
    );
    // Disabled: none of it is checked, nothing is charged.
    expect(await start(`  enabled: false\n`)).toBe("started");
  });
});

describe("with accounts (JWT auth), the payment rides in Payment-Authorization beside the token", () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    const keysDir = join(mkdtempSync(join(tmpdir(), "bitrouter-pay-")), ".keys");
    await createAccount(keysDir);
    token = await mintToken(await unlockAccount(keysDir, 0), { scope: "api", id: "payer-key" }, { chain: "base" });
    server = await startTestServer(yaml(), { env, database: DATABASE, keysDir });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("no token: 401 before any payment talk; token and payment: paid answer", async () => {
    const anonymous = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ask),
    });
    expect(anonymous.status).toBe(401);

    const seen: Sent[] = [];
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0, fetch: payingFetch(seen) });
    mock.enqueue({ text: "hello account" });
    const answer = await client.chat.completions.create(ask);
    expect(answer.choices[0]!.message.content).toBe("hello account");
    // The challenge told the client where to put the credential; the SDK's token stayed in Authorization.
    expect(seen).toEqual([expect.objectContaining({ header: "payment-authorization", bearer: true })]);
    await server.runtime.metering!.ledger.flush();
    const flushed = await server.runtime
      .metering!.store.db.selectFrom("requests")
      .select(["key_id", "payment_amount"])
      .where("key_id", "=", "payer-key")
      .where("payment_amount", "is not", null)
      .execute();
    expect(flushed).toEqual([{ key_id: "payer-key", payment_amount: String(PRICE) }]);
  });
});

describe("two networks, tempo and evm: the operator's account submits the evm payments", () => {
  let evmChain: LocalChain;
  let server: TestServer;
  let token: string;
  let usdc: `0x${string}`;
  let operator: `0x${string}`;
  let tools: McpMock;
  beforeAll(async () => {
    evmChain = chains.evm.chain;
    usdc = chains.evm.tokens.usdc;
    tools = await startMcpMock();
    const keysDir = join(mkdtempSync(join(tmpdir(), "bitrouter-pay-")), ".keys");
    await createAccount(keysDir);
    const account = await unlockAccount(keysDir, 0);
    operator = account.evmAddress as `0x${string}`;
    // The operator pays the gas of the transfers it submits.
    await evmChain.rpc("anvil_setBalance", [operator, "0xde0b6b3a7640000"]);
    token = await mintToken(account, { scope: "api", id: "evm-payer" }, { chain: "base" });
    const web = `  web:\n    api_protocol: mcp\n    api_base: ${tools.url}\n`;
    const twoNetworks = `${yaml().replace("providers:\n", `providers:\n${web}`)}    local-usdc: { method: evm, rpc_url: "${evmChain.rpcUrl}", recipient: "${recipient}", currency: "${usdc}" }
tools:
  shout:
    endpoints: [{ provider: web, service_id: echo }]
    pricing: { default: 0.002 }
`;
    server = await startTestServer(twoNetworks, { env, database: DATABASE, keysDir });
  });
  afterAll(async () => {
    await server?.close();
    await tools?.close();
  });

  /** A payer holding 1 TUSD, paying with mppx's evm method only. */
  const evmPayer = async () => {
    const payer = await chains.evm.fund(usdc, 1_000_000n);
    return {
      address: payer.address,
      method: evm.charge({ account: privateKeyToAccount(payer.privateKey), authorization: { name: "Test USD", version: "1" } }),
    };
  };

  it("the 402 offers both; mppx's evm client pays the exact price in the token, the ledger names the network", async () => {
    const challenged = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(ask),
    });
    expect(challenged.status).toBe(402);
    expect(challenged.headers.get("www-authenticate")).toMatch(/^Payment .*method="tempo".*, Payment .*method="evm"/);

    const payer = await evmPayer();
    const mppx = Mppx.create({ methods: [payer.method], polyfill: false });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0, fetch: mppx.fetch as typeof fetch });
    mock.enqueue({ text: "paid in usdc" });
    const answer = await client.chat.completions.create(ask);
    expect(answer.choices[0]!.message.content).toBe("paid in usdc");
    expect(await evmChain.balanceOf(usdc, recipient)).toBe(PRICE);
    expect(await evmChain.balanceOf(usdc, payer.address)).toBe(1_000_000n - PRICE);
    const rows = await ledgerRows(server);
    expect(rows.at(-1)).toMatchObject({ status: 200, payment_amount: String(PRICE), payment_method: "local-usdc:evm/charge" });
    // The operator's account sent the transfer.
    const tx = await evmChain.rpc<{ from: string }>("eth_getTransactionByHash", [rows.at(-1)!.payment_reference]);
    expect(tx.from.toLowerCase()).toBe(operator.toLowerCase());
  });

  it("an MCP tool call offers both challenges and is paid with mppx's MCP client on the evm network", async () => {
    const client = new Client({ name: "payer", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    const error = await client.callTool({ name: "shout", arguments: { text: "hi" } }).catch((e: unknown) => e);
    expect((error as McpError).code).toBe(-32042);
    expect(((error as McpError).data as { challenges: { method: string }[] }).challenges.map((c) => c.method)).toEqual(["tempo", "evm"]);

    const payer = await evmPayer();
    const before = await evmChain.balanceOf(usdc, recipient);
    const result = await McpClient.wrap(client, { methods: [payer.method] }).callTool({ name: "shout", arguments: { text: "paid in usdc" } });
    expect(result.content).toEqual([{ type: "text", text: "paid in usdc" }]);
    expect(await evmChain.balanceOf(usdc, recipient)).toBe(before + 2000n);
    expect(await evmChain.balanceOf(usdc, payer.address)).toBe(1_000_000n - 2000n);
    await server.runtime.metering!.ledger.flush();
    // The database is shared with the other describes: this network's tool payments only.
    const rows = await server.runtime
      .metering!.store.db.selectFrom("requests")
      .select(["tool", "payment_amount", "payment_reference"])
      .where("inbound_protocol", "=", "mcp")
      .where("payment_method", "=", "local-usdc:evm/charge")
      .execute();
    const receipt = result._meta?.["org.paymentauth/receipt"] as { method: string; reference: string };
    expect(receipt.method).toBe("evm");
    expect(rows).toEqual([{ tool: "web/echo", payment_amount: "2000", payment_reference: receipt.reference }]);
  });
});

describe("paying an upstream that answers 402 (provider auth: mpp) from the operator's wallet", () => {
  let upstream: Server;
  let upstreamUrl: string;
  let upstreamRecipient: `0x${string}`;
  let server: TestServer;
  let token: string;
  let wallet: `0x${string}`;

  beforeAll(async () => {
    // The upstream: a Tempo charge in front of the mock, 0.0042 pathUSD per request ("gpt-dear": 0.02).
    upstreamRecipient = chain.freshAccount().address;
    const getClient = () => createClient({ chain: { ...tempoLocalnet, id: chain.chainId }, transport: http(chain.rpcUrl) });
    const seller = MppxServer.create({
      methods: [tempoServer.charge({ recipient: upstreamRecipient, currency: PATH_USD, chainId: chain.chainId, getClient, store: Store.memory() })],
      secretKey: "the-upstream-secret-that-is-32-bytes-or-more",
      realm: "paid-upstream",
    });
    upstream = createServer(
      getRequestListener(async (request) => {
        const body = await request.text();
        const amount = (JSON.parse(body) as { model: string }).model === "gpt-dear" ? "0.02" : "0.0042";
        const paid = await seller.charge({ amount })(request);
        if (paid.status === 402) return paid.challenge;
        const answer = await fetch(`${mock.baseUrl("openai-chat")}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        return paid.withReceipt(new Response(answer.body, { status: answer.status, headers: answer.headers }));
      }),
    );
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/v1`;

    // The operator's wallet is the active `bitrouter account`; fund its EVM address with pathUSD.
    const keysDir = join(mkdtempSync(join(tmpdir(), "bitrouter-wallet-")), ".keys");
    await createAccount(keysDir);
    const account = await unlockAccount(keysDir, 0);
    wallet = account.evmAddress as `0x${string}`;
    token = await mintToken(account, { scope: "api", id: "caller" }, { chain: "base" });
    await chain.transfer(chain.freshAccount().address, PATH_USD, wallet, 1_000_000n);
    expect(await chain.balanceOf(PATH_USD, wallet)).toBe(1_000_000n);

    const config = `
inherit_defaults: false
providers:
  paid:
    api_protocol: openai
    api_base: ${upstreamUrl}
    auth: { type: mpp }
    models: { gpt-paid: {}, gpt-dear: {} }
wallet:
  payment:
    tempo_rpc_url: ${chain.rpcUrl}
    session_max_deposit: 10000
`;
    server = await startTestServer(config, { database: DATABASE, keysDir });
  });
  afterAll(async () => {
    await server?.close();
    await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
  });

  it("the upstream's 402 is paid from the wallet, exactly its price, and the request retried once", async () => {
    const before = await chain.balanceOf(PATH_USD, upstreamRecipient);
    mock.enqueue({ text: "bought answer" });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: "paid:gpt-paid", max_tokens: 20, messages: [{ role: "user", content: "hi" }] });
    expect(answer.choices[0]!.message.content).toBe("bought answer");
    expect(await chain.balanceOf(PATH_USD, upstreamRecipient)).toBe(before + 4200n);
    // The wallet paid the price (and its own gas, also in pathUSD on Tempo).
    expect(await chain.balanceOf(PATH_USD, wallet)).toBeLessThanOrEqual(1_000_000n - 4200n);
    // One row per payment, naming the provider, the exact amount and the transaction.
    // (written beside the request, not before its answer: wait for it)
    const rows = await waitFor(async () => {
      const found = await server.runtime.metering!.store.db.selectFrom("wallet_payments").selectAll().execute();
      return found.length > 0 ? found : undefined;
    });
    expect(rows).toEqual([expect.objectContaining({ provider: "paid", amount: "4200", method: "tempo/charge", url: `${upstreamUrl}/chat/completions` })]);
    const receipt = await chain.rpc<{ status: string; from: string }>("eth_getTransactionReceipt", [rows[0]!.reference]);
    expect(receipt).toMatchObject({ status: "0x1", from: wallet.toLowerCase() });
    expect(mock.requests).toHaveLength(1);
  });

  it("a price above wallet.payment.session_max_deposit is not paid: the caller gets an upstream error naming the cap", async () => {
    const walletBefore = await chain.balanceOf(PATH_USD, wallet);
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
    const error = await client.chat.completions
      .create({ model: "paid:gpt-dear", max_tokens: 20, messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toMatch(
      /could not pay the upstream's 402: the upstream asks 20000 base units, more than wallet.payment.session_max_deposit \(10000\)/,
    );
    expect(await chain.balanceOf(PATH_USD, wallet)).toBe(walletBefore);
    expect(mock.requests).toHaveLength(0);
  });
});
