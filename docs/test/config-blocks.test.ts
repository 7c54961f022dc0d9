// Every bitrouter.yaml block of the docs runs: a real server starts on it and serves what it
// configures, so an example that drifts from the product fails here instead of misleading a reader.
// - each model (virtual, or a provider's `provider:model_id`) gets one request in its upstream's
//   inbound protocol, which must reach the mock as the model_id the block maps it to, with the
//   endpoint's key; a priority model fails over to its second endpoint, a load_balance one reaches
//   every endpoint;
// - guardrails block a private key, redact an API key; MCP and REST tool providers list and answer
//   their tools through /mcp; a database gets the request's ledger row; traces reach a collector;
//   a body above server.body_limit is refused;
//   payments (payments-env.ts): callers get one challenge per network and pay, the wallet pays a
//   charging upstream, a Sign-In-With-X upstream gets its proof; every server answers /health;
// - `yaml bad`: the server refuses to start with a ConfigError naming the field;
// - `yaml plain` (the Prometheus config): its target and scrape path answer Prometheus text;
// - the json block (a GET /v1/routes answer): the real answer has its shape;
// - payments.md's client examples pay a server on payments.md's configuration.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ConfigError, parseConfig, providerApiKey, type ResolvedConfig } from "@bitrouter/config";
import { createLogger, type Runtime, startRuntime } from "@bitrouter/server";
import { DEFAULT_MCP_TOOLS, importExample, type McpMock, type MockUpstream, PATH_USD, startMcpMock, startMock } from "@bitrouter/testkit";
import { protocols as acmeProtocols, provider as acmeProvider } from "@bitrouter-examples/provider-acme";
import { parse as parseYaml } from "yaml";
import { type AcmeMock, startAcmeMock } from "../../examples/custom-provider/test/acme-mock.ts";
import { type Block, blocksOf, docFiles, kindOf, ROOT } from "./blocks.js";
import { needsPayments, type PaymentsEnv, startPaymentsEnv } from "./payments-env.js";

const blocks = docFiles()
  .flatMap(blocksOf)
  .filter((block) => !block.flags.includes("norun"));
const yamlBlocks = blocks.filter((block) => kindOf(block) === "yaml");
const configs = yamlBlocks.filter((block) => !block.flags.includes("plain") && !block.flags.includes("bad"));

/** A REST tool provider: records each `POST /{service_id}` and answers its arguments back. */
interface RestMock {
  url: string;
  calls: { path: string; body: string; auth: string | undefined }[];
  server: Server;
}
async function startRestMock(): Promise<RestMock> {
  const calls: RestMock["calls"] = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    calls.push({ path: req.url ?? "", body, auth: req.headers.authorization });
    res.writeHead(200, { "content-type": "application/json" }).end(body || "{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, calls, server };
}

let mock: MockUpstream;
let acme: AcmeMock;
let mcp: McpMock;
let rest: RestMock;
let payments: PaymentsEnv;
/** An OpenTelemetry collector: the paths of the OTLP/HTTP exports it received. */
let collector: { url: string; exports: string[]; server: Server };
/** A real stdio MCP server (the reference "everything" server) for `command:` providers. */
const everything = createRequire(join(ROOT, "apps/server/package.json")).resolve("@modelcontextprotocol/server-everything/dist/index.js");

beforeAll(async () => {
  [mock, acme, mcp, rest] = await Promise.all([
    startMock(),
    startAcmeMock(),
    // The tools the docs' MCP examples name (create_issue), and one a guardrail denies.
    startMcpMock({
      tools: {
        ...DEFAULT_MCP_TOOLS,
        create_issue: { run: (args) => `created ${String(args.title)}` },
        delete_repo: { run: () => "deleted" },
        search: { run: (args) => `results for ${String(args.q)}` },
      },
    }),
    startRestMock(),
  ]);
  payments = await startPaymentsEnv(mock.baseUrl("openai-chat"));
  const exports: string[] = [];
  const server = createServer((req, res) => {
    exports.push(req.url ?? "");
    req.resume().on("end", () => res.writeHead(200).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  collector = { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, exports, server };
}, 60_000);
afterAll(async () => {
  await Promise.all([
    mock?.close(),
    acme?.close(),
    mcp?.close(),
    new Promise((resolve) => rest?.server.close(resolve)),
    new Promise((resolve) => collector?.server.close(resolve)),
    payments?.close(),
  ]);
});

/** Where the mocks listen for a provider of this protocol. */
function mockBase(protocol: string): string | undefined {
  const bases: Record<string, string> = {
    openai: mock.baseUrl("openai-chat"),
    anthropic: mock.baseUrl("anthropic"),
    google: mock.baseUrl("google"),
    "acme-v1": acme.baseUrl,
    mcp: mcp.url,
    rest: rest.url,
  };
  return bases[protocol];
}

/** The test value of an environment variable a block references (a URL for *_URL, else a 40+ character string). */
const testValue = (name: string) => (name.endsWith("_URL") ? "http://127.0.0.1:9/v1" : `${name.toLowerCase()}-docs-test-value-0123456789abcdef`);

interface Written {
  providers?: Record<string, { package?: unknown; models?: Record<string, unknown> } | null>;
  models?: Record<string, unknown>;
  database?: unknown;
  server?: { body_limit?: unknown };
}

/** The block's configuration as the server would run it, with the substitutions below. */
function load(block: Block, home: string): ResolvedConfig {
  const written = (parseYaml(block.code) ?? {}) as Written;
  // A provider named by `package:` gets the example provider package's definition in its place, as
  // loadConfig would hand over an installed package's (this test installs nothing).
  const named = Object.entries(written.providers ?? {});
  const packages = Object.fromEntries(named.filter(([, p]) => p?.package !== undefined).map(([name]) => [name, acmeProvider]));
  const parse = (env: Record<string, string>) =>
    parseConfig(block.code, { env, file: block.where, home, cwd: home, packages, protocols: acmeProtocols }).config;
  // The environment: every ${VAR} the block names, and the key variable (<env_prefix>_API_KEY) of
  // every provider it routes to (a built-in reads its key from there), filled with test values.
  const env = Object.fromEntries([...block.code.matchAll(/\$\{(\w+)\}/g)].map(([, name]) => [name!, testValue(name!)]));
  const first = parse(env);
  for (const name of usedProviders(first, written)) {
    const prefix = first.providers[name]?.env_prefix;
    if (prefix) env[`${prefix}_API_KEY`] ??= testValue(`${prefix}_API_KEY`);
  }
  const config = parse(env);
  // The substitution: every provider's and endpoint's api_base (written, inherited or from the
  // environment) points at the testkit mock for its protocol (acme-v1: the example package's mock);
  // a stdio MCP server (`command:`) is the reference "everything" server run by this Node; the
  // listen address is a free port; payments run on local chains (payments-env.ts); traces go to a
  // local collector. Nothing else changes.
  for (const provider of Object.values(config.providers)) {
    if (provider.command !== undefined) {
      Object.assign(provider, { command: process.execPath, args: [everything, "stdio"], cwd: home });
      continue;
    }
    const base = mockBase(provider.api_protocol);
    if (base) provider.api_base = base;
  }
  for (const model of Object.values(config.models)) {
    for (const endpoint of model.endpoints) {
      const base = mockBase(config.providers[endpoint.provider]?.api_protocol ?? "");
      if (base) endpoint.api_base = base;
    }
  }
  if (needsPayments(config)) payments.substitute(config);
  if (config.tracing?.enabled !== false && config.tracing?.endpoint) config.tracing.endpoint = `${collector.url}/v1/traces`;
  return config;
}

/** The providers a block routes to: its models' endpoints and its own LLM providers; openai for a block with neither (the probe below). */
function usedProviders(config: ResolvedConfig, written: Written): string[] {
  const names = new Set(Object.values(config.models).flatMap((model) => model.endpoints.map((endpoint) => endpoint.provider)));
  for (const name of Object.keys(written.providers ?? {})) if (isLlm(config, name)) names.add(name);
  if (names.size === 0) names.add("openai");
  return [...names];
}
const isLlm = (config: ResolvedConfig, name: string) => !["mcp", "rest"].includes(config.providers[name]?.api_protocol ?? "mcp");

async function start(block: Block, home: string): Promise<{ runtime: Runtime; config: ResolvedConfig; caller: Caller }> {
  const config = load(block, home);
  const written = (parseYaml(block.code) ?? {}) as Written;
  const operator = needsPayments(config) ? await payments.newOperator() : undefined;
  const runtime = await startRuntime({
    load: () => load(block, home),
    paths: { runDir: home },
    listen: "127.0.0.1:0",
    logger: createLogger({ level: "error" }),
    env: {}, // no OTEL_* variables from this process
    ...(written.database !== undefined ? { database: { url: config.database.url, baseDir: home } } : {}),
    // The operator account: the wallet that pays upstreams and submits evm payments (callers then need an API key).
    ...(operator ? { auth: { keysDir: operator.keysDir } } : {}),
  });
  // How a caller reaches it: with an API key when it has an operator account, paying when it charges.
  const caller: Caller = !operator
    ? OPEN
    : { headers: { authorization: `Bearer ${operator.token}` }, fetch: () => (config.mpp?.enabled ? payments.payingFetch() : fetch) };
  return { runtime, config, caller };
}

interface Caller {
  headers: Record<string, string>;
  fetch(): typeof fetch;
}
const OPEN: Caller = { headers: {}, fetch: () => fetch };

/** What reached an upstream: the model it was asked for and the credential headers, in order. */
interface Seen {
  model: string;
  headers: string;
  body: string;
}
function seenSince(marks: { mock: number; acme: number }): Seen[] {
  const fromMock = mock.requests.slice(marks.mock).map((request) => ({
    model: String((request.body as { model?: unknown } | undefined)?.model ?? decodeURIComponent(/\/models\/([^:]+):/.exec(request.path)?.[1] ?? "")),
    headers: JSON.stringify(request.headers),
    body: request.rawBody.toString(),
  }));
  const fromAcme = acme.requests
    .slice(marks.acme)
    .map((request) => ({ model: String(request.body.model), headers: JSON.stringify(request.headers), body: JSON.stringify(request.body) }));
  return [...fromMock, ...fromAcme];
}
const marks = () => ({ mock: mock.requests.length, acme: acme.requests.length });

/** One request for `model` in the inbound protocol of `protocol` (the upstream's own, so the fast path runs where it can). */
async function ask(url: string, protocol: string, model: string, text = "Hi", caller: Caller = OPEN): Promise<Response> {
  acme.enqueue({ text: "acme answers" });
  const fetch = caller.fetch();
  if (protocol === "anthropic")
    return await fetch(`${url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...caller.headers },
      body: JSON.stringify({ model, max_tokens: 32, messages: [{ role: "user", content: text }] }),
    });
  if (protocol === "google")
    return await fetch(`${url}/v1beta/models/${encodeURIComponent(model)}:generateContent`, {
      method: "POST",
      headers: { "content-type": "application/json", ...caller.headers },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text }] }] }),
    });
  return await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...caller.headers },
    body: JSON.stringify({ model, max_tokens: 32, messages: [{ role: "user", content: text }] }),
  });
}

/** Each route of a block: the name a caller asks for, its strategy and the targets it maps to. */
function routesOf(config: ResolvedConfig, written: Written) {
  const routes = Object.entries(config.models).map(([name, model]) => ({
    name,
    strategy: model.strategy ?? "priority",
    targets: model.endpoints.map((endpoint) => ({
      provider: endpoint.provider,
      model: endpoint.model_id,
      key: endpoint.api_key || providerApiKey(config.providers[endpoint.provider]!),
    })),
  }));
  for (const name of Object.keys(written.providers ?? {}).filter((name) => isLlm(config, name))) {
    const provider = config.providers[name]!;
    const model = Object.keys(written.providers?.[name]?.models ?? {})[0] ?? Object.keys(provider.models)[0] ?? "docs-model";
    routes.push({ name: `${name}:${model}`, strategy: "priority", targets: [{ provider: name, model, key: providerApiKey(provider) }] });
  }
  return routes;
}

describe("yaml blocks: a server runs on each bitrouter.yaml", () => {
  it("there are such blocks", () => expect(configs.length).toBeGreaterThan(10));
  it.each(configs.map((block) => [block.where, block] as const))("%s", { timeout: 60_000 }, async (_where, block) => {
    const home = mkdtempSync(join(tmpdir(), "bitrouter-docs-yaml-"));
    const { runtime, config, caller } = await start(block, home);
    const written = (parseYaml(block.code) ?? {}) as Written;
    const protocolOf = (provider: string) => config.providers[provider]?.api_protocol ?? "openai";
    const before = { paid: payments.paidUpstream.paid, signedIn: payments.siwxUpstream.signedIn };
    const traces = collector.exports.length;
    try {
      expect((await fetch(`${runtime.url}/health`)).status).toBe(200);
      const routes = routesOf(config, written);
      // A route for the checks below: the block's first, else a built-in model.
      const probe = routes[0] ?? { name: "openai:gpt-4o-mini", targets: [{ provider: "openai", model: "gpt-4o-mini" }] };
      const probeProtocol = protocolOf(probe.targets[0]!.provider);
      if (config.mpp?.enabled) {
        // Unpaid: 402 with one challenge per network, in the order written.
        const unpaid = await ask(runtime.url, probeProtocol, probe.name, "Hi", { ...caller, fetch: () => fetch });
        expect(unpaid.status, await unpaid.clone().text()).toBe(402);
        const methods = [...(unpaid.headers.get("www-authenticate") ?? "").matchAll(/method="(\w+)"/g)].map((m) => m[1]);
        expect(methods).toEqual(Object.values(config.mpp.networks ?? {}).map((network) => network.method ?? "tempo"));
      }
      for (const route of routes) {
        const protocol = protocolOf(route.targets[0]!.provider);
        const asks = route.strategy === "load_balance" ? route.targets.length : 1;
        const mark = marks();
        for (let i = 0; i < asks; i++) {
          const answer = await ask(runtime.url, protocol, route.name, "Hi", caller);
          expect(answer.status, `${route.name}: ${await answer.clone().text()}`).toBe(200);
        }
        const seen = seenSince(mark);
        // Each target reached once (load_balance round-robin), or the first (priority), with its model id and key.
        const expected = route.strategy === "load_balance" ? route.targets : route.targets.slice(0, 1);
        expect(seen.map((s) => s.model).sort(), route.name).toEqual(expected.map((t) => t.model).sort());
        for (const target of expected)
          expect(
            seen.some((s) => s.model === target.model && s.headers.includes(target.key ?? "")),
            `${route.name}: key of ${target.provider}`,
          ).toBe(true);
        if (route.strategy === "priority" && route.targets.length > 1 && protocolOf(route.targets[0]!.provider) !== "acme-v1") {
          // The first endpoint fails (503): the request fails over to the second.
          const failover = marks();
          mock.enqueue({ error: "overloaded", status: 503 });
          const answer = await ask(runtime.url, protocol, route.name, "Hi", caller);
          expect(answer.status, `${route.name} fails over: ${await answer.clone().text()}`).toBe(200);
          expect(seenSince(failover).map((s) => s.model)).toEqual([route.targets[0]!.model, route.targets[1]!.model]);
        }
      }
      if (written.server?.body_limit !== undefined) {
        // A body above server.body_limit is refused before anything else.
        const content = "x".repeat(config.server.body_limit);
        const tooLarge = await fetch(`${runtime.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", ...caller.headers },
          body: JSON.stringify({ model: probe.name, messages: [{ role: "user", content }] }),
        });
        expect(tooLarge.status, "server.body_limit").toBe(413);
      }
      if (config.guardrails && config.guardrails.enabled !== false) {
        const upgoing = config.guardrails.upgoing ?? {};
        if ((upgoing.private_keys ?? "block") === "block") {
          const mark = marks();
          const refused = await ask(
            runtime.url,
            probeProtocol,
            probe.name,
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
            caller,
          );
          expect(refused.status, "a private key is blocked").toBe(400);
          expect(await refused.text()).toContain("private_keys");
          expect(seenSince(mark), "nothing went upstream").toEqual([]);
        }
        if ((upgoing.api_keys ?? "redact") === "redact") {
          const mark = marks();
          const key = "sk-proj-abc123def456ghi789jkl012mno345";
          expect((await ask(runtime.url, probeProtocol, probe.name, `my key is ${key}`, caller)).status).toBe(200);
          const [sent] = seenSince(mark);
          expect(sent?.body).toContain("[REDACTED:api_keys]");
          expect(sent?.body).not.toContain(key);
        }
      }
      const toolProviders = Object.values(config.providers).filter((provider) => ["mcp", "rest"].includes(provider.api_protocol));
      if (toolProviders.length > 0 || Object.keys(config.tools).length > 0) await checkTools(runtime, config, caller);
      // Upstreams paid from the wallet (auth: mpp) were paid; those asking for a sign-in got one.
      const authTypes = Object.keys(written.providers ?? {}).map((name) => config.providers[name]?.auth.type);
      if (authTypes.includes("mpp")) expect(payments.paidUpstream.paid).toBeGreaterThan(before.paid);
      if (authTypes.includes("custom")) expect(payments.siwxUpstream.signedIn).toBeGreaterThan(before.signedIn);
      if (written.database !== undefined) {
        // The requests above were metered into the block's database.
        if (routes.length === 0) expect((await ask(runtime.url, probeProtocol, probe.name, "Hi", caller)).status).toBe(200);
        await runtime.metering!.ledger.flush();
        const rows = await runtime.metering!.store.db.selectFrom("requests").select(["model", "status"]).execute();
        expect(rows.length, "ledger rows in the block's database").toBeGreaterThan(0);
      }
    } finally {
      await runtime.shutdown();
      rmSync(home, { recursive: true, force: true });
    }
    // Tracing on: the spans of the requests above reached the collector (at the latest on shutdown).
    if (config.tracing?.endpoint) expect(collector.exports.slice(traces)).toContain("/v1/traces");
  });
});

/** The block's tool providers through /mcp: each lists its tools, each named tool is called and reaches its upstream; a bridge serves its provider alone. */
async function checkTools(runtime: Runtime, config: ResolvedConfig, caller: Caller): Promise<void> {
  const connect = async (path: string) => {
    const client = new Client({ name: "docs", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${runtime.url}${path}`), { requestInit: { headers: caller.headers } }));
    return client;
  };
  const client = await connect("/mcp");
  try {
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    for (const provider of Object.values(config.providers).filter((p) => p.api_protocol === "mcp"))
      expect(
        names.some((name) => name.startsWith(`${provider.name}__`)),
        `tools of ${provider.name}`,
      ).toBe(true);
    for (const [name, tool] of Object.entries(config.tools)) {
      const endpoint = tool.endpoints.find((e) => config.providers[e.provider]);
      if (!endpoint) continue; // its provider is not in this block (a warning, as documented)
      expect(names, `tools: ${name}`).toContain(name);
      const before = { mcp: mcp.calls.length, rest: rest.calls.length };
      const result = await client.callTool({ name, arguments: { title: "from the docs", q: "bitrouter" } });
      expect(result.isError, JSON.stringify(result)).toBeFalsy();
      if (config.providers[endpoint.provider]!.api_protocol === "rest")
        expect(rest.calls.slice(before.rest).map((c) => c.path)).toEqual([`/${endpoint.service_id}`]);
      else expect(mcp.calls.slice(before.mcp).map((c) => c.tool)).toEqual([endpoint.service_id]);
    }
  } finally {
    await client.close();
  }
  for (const provider of Object.values(config.providers).filter((p) => p.api_protocol === "mcp" && p.bridge)) {
    const bridge = await connect(`/mcp/${provider.name}`);
    expect((await bridge.listTools()).tools.length, `the bridge /mcp/${provider.name}`).toBeGreaterThan(0);
    await bridge.close();
  }
}

const bad = yamlBlocks.filter((block) => block.flags.includes("bad"));
describe.runIf(bad.length > 0)("yaml bad blocks: the server refuses to start, naming the field", () => {
  it.each(bad.map((block) => [block.where, block] as const))("%s", async (_where, block) => {
    const home = mkdtempSync(join(tmpdir(), "bitrouter-docs-bad-"));
    try {
      const error = await start(block, home).then(
        async ({ runtime }) => {
          await runtime.shutdown();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues.every((issue) => issue.path.length > 0)).toBe(true);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("yaml plain blocks (a Prometheus config): what it names answers", () => {
  const plain = yamlBlocks.filter((block) => block.flags.includes("plain"));
  it("there is such a block", () => expect(plain.length).toBeGreaterThan(0));
  it.each(plain.map((block) => [block.where, block] as const))("%s", async (_where, block) => {
    const { scrape_configs: jobs } = parseYaml(block.code) as {
      scrape_configs: { metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    // Its target is the server's default address; a server (on a free port) answers its scrape path.
    expect(jobs.flatMap((job) => job.static_configs.flatMap((s) => s.targets))).toEqual([parseConfig("").config.server.listen]);
    const home = mkdtempSync(join(tmpdir(), "bitrouter-docs-plain-"));
    const runtime = await startRuntime({
      load: () => parseConfig("").config,
      paths: { runDir: home },
      listen: "127.0.0.1:0",
      logger: createLogger({ level: "error" }),
    });
    try {
      for (const job of jobs) {
        const answer = await fetch(`${runtime.url}${job.metrics_path ?? "/metrics"}`);
        expect(answer.status).toBe(200);
        expect(answer.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
        expect(await answer.text()).toMatch(/^# TYPE bitrouter_requests_total counter$/m);
      }
    } finally {
      await runtime.shutdown();
      rmSync(home, { recursive: true, force: true });
    }
  });
});

/** The shape of a JSON value: its keys and their types, arrays by their first element. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return [value.length > 0 ? shape(value[0]) : "empty"];
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  return value === null ? "null" : typeof value;
}

describe("json blocks: the server's answer has the documented shape", () => {
  const json = blocks.filter((block) => kindOf(block) === "json");
  // Each documented answer, by its block, with the request and configuration that produce it.
  const answers: Record<string, { path: string; yaml: string }> = {
    "docs/observability.md:46": {
      path: "/v1/routes",
      yaml: "models:\n  smart:\n    strategy: priority\n    endpoints:\n      - { provider: anthropic, model_id: claude-sonnet-4-20250514 }\n      - { provider: openai, model_id: gpt-4o }\n",
    },
  };
  it("every json block is an answer listed here", () => expect(json.map((block) => block.where).sort()).toEqual(Object.keys(answers).sort()));
  it.each(json.map((block) => [block.where, block] as const))("%s", async (where, block) => {
    const { path, yaml } = answers[where]!;
    const home = mkdtempSync(join(tmpdir(), "bitrouter-docs-json-"));
    const env = {
      ANTHROPIC_API_KEY: "sk-ant-docs",
      ANTHROPIC_BASE_URL: mock.baseUrl("anthropic"),
      OPENAI_API_KEY: "sk-docs",
      OPENAI_BASE_URL: mock.baseUrl("openai-chat"),
    };
    const runtime = await startRuntime({
      load: () => parseConfig(yaml, { env }).config,
      paths: { runDir: home },
      listen: "127.0.0.1:0",
      logger: createLogger({ level: "error" }),
    });
    try {
      // A request first, so the counters are there.
      expect((await ask(runtime.url, "anthropic", "smart")).status).toBe(200);
      const answer = await fetch(`${runtime.url}${path}`);
      expect(answer.status).toBe(200);
      expect(shape(await answer.json())).toEqual(shape(JSON.parse(block.code)));
    } finally {
      await runtime.shutdown();
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("payments.md's client examples pay a server on payments.md's configuration", () => {
  const setup = yamlBlocks.find((block) => block.where.startsWith("docs/payments.md:") && block.code.includes("mpp:"))!;
  const clients = blocks.filter((block) => kindOf(block) === "ts" && block.where.startsWith("docs/payments.md:"));
  it("there are such blocks", () => expect(clients.length).toBeGreaterThan(1));
  it.each(clients.map((block) => [block.where, block] as const))("%s", { timeout: 60_000 }, async (_where, block) => {
    // The configuration block, plus the priced `search` tool the MCP example calls (on the MCP mock).
    const tool =
      "providers:\n  tools-mcp: { api_protocol: mcp, api_base: http://127.0.0.1:9/mcp }\ntools:\n  search:\n    endpoints: [{ provider: tools-mcp, service_id: search }]\n    pricing: { default: 0.001 }\n";
    const home = mkdtempSync(join(tmpdir(), "bitrouter-docs-pay-"));
    const { runtime, caller } = await start({ ...setup, code: `${setup.code}\n${tool}` }, home);
    // The reader's environment: a funded payer key, the caller's API key; the payer's mppx client
    // finds Tempo's testnet RPC (its default for the chain) answered by the local chain.
    const saved = { PAYER_KEY: process.env.PAYER_KEY, AGENT_PRIVATE_KEY: process.env.AGENT_PRIVATE_KEY, BITROUTER_TOKEN: process.env.BITROUTER_TOKEN };
    Object.assign(process.env, {
      PAYER_KEY: payments.payerKey(),
      AGENT_PRIVATE_KEY: payments.payerKey(),
      BITROUTER_TOKEN: caller.headers.authorization!.replace("Bearer ", ""),
    });
    const restore = payments.answerPublicRpcs();
    const received = await payments.tempo.balanceOf(PATH_USD, payments.recipient);
    const calls = mcp.calls.length;
    try {
      await importExample(block.code.replaceAll("127.0.0.1:8787", new URL(runtime.url).host), import.meta.url);
      // Paid on chain to the configured recipient, and recorded with the request.
      expect(await payments.tempo.balanceOf(PATH_USD, payments.recipient)).toBeGreaterThan(received);
      await runtime.metering!.ledger.flush();
      const rows = await runtime
        .metering!.store.db.selectFrom("requests")
        .select(["inbound_protocol", "payment_amount"])
        .where("payment_amount", "is not", null)
        .execute();
      expect(rows).toHaveLength(1);
      if (block.code.includes("callTool")) expect(mcp.calls.slice(calls).map((call) => call.tool)).toEqual(["search"]);
    } finally {
      restore();
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await runtime.shutdown();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
