/**
 * The MCP tool gateway, end to end: the official MCP SDK client against the real server, with a
 * stdio upstream (@modelcontextprotocol/server-everything), Streamable HTTP upstreams (testkit), a
 * REST tool provider and a dead upstream; BitRouter tokens, guardrails.tools and the ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createAccount, mintToken, unlockAccount } from "@bitrouter/auth";
import type { Account } from "@bitrouter/auth";
import { startMcpMock } from "@bitrouter/testkit";
import type { McpMock } from "@bitrouter/testkit";
import { startTestServer } from "./harness.js";
import type { TestServer } from "./harness.js";

const everything = createRequire(import.meta.url).resolve("@modelcontextprotocol/server-everything/dist/index.js");

let web: McpMock;
let alt: McpMock;
let rest: HttpServer;
let restUrl: string;
const restCalls: { path: string; body: string; auth: string | undefined }[] = [];
let server: TestServer;
let account: Account;
const clients: Client[] = [];

function yaml(extra = ""): string {
  return `
inherit_defaults: false
providers:
  web:
    api_protocol: mcp
    api_base: ${web.url}
    api_key: web-secret
    bridge: true
  alt:
    api_protocol: mcp
    api_base: ${alt.url}
  every:
    api_protocol: mcp
    command: ${process.execPath}
    args: [${JSON.stringify(everything)}, stdio]
  dead:
    api_protocol: mcp
    api_base: http://127.0.0.1:9/mcp
  lookup:
    api_protocol: rest
    api_base: ${restUrl}
    api_key: rest-secret
${extra}
tools:
  shout:
    endpoints:
      - { provider: dead, service_id: echo }
      - { provider: web, service_id: echo }
    description: Echo, through a tools entry with failover
    pricing: { default: 0.002 }
  find:
    endpoints: [{ provider: lookup, service_id: search }]
    input_schema: { type: object, properties: { q: { type: string } } }
    pricing: { default: 0.001, overrides: { search: 0.003 } }
guardrails:
  enabled: true
  tools:
    providers:
      web:
        filter: { deny: [delete_all] }
        param_restrictions:
          rules:
            echo: { deny: [assignee], action: strip }
`;
}

beforeAll(async () => {
  const echo = {
    description: "Echoes the text back",
    inputSchema: { type: "object" as const, properties: { text: { type: "string" } } },
    run: (args: Record<string, unknown>) => `web:${String(args.text)}`,
  };
  web = await startMcpMock({ name: "web", tools: { echo, delete_all: { run: () => "deleted" } } });
  alt = await startMcpMock({ name: "alt", tools: { echo: { run: (args) => `alt:${String(args.text)}` } } });
  rest = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      restCalls.push({ path: req.url ?? "", body, auth: req.headers.authorization });
      if (req.url === "/search") res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ hits: [JSON.parse(body).q] }));
      else res.writeHead(500).end(`search index is down (request had authorization: ${req.headers.authorization})`); // echoes the credential
    });
  });
  await new Promise<void>((resolve) => rest.listen(0, "127.0.0.1", resolve));
  restUrl = `http://127.0.0.1:${(rest.address() as AddressInfo).port}`;

  const home = mkdtempSync(join(tmpdir(), "bitrouter-mcp-"));
  const keysDir = join(home, ".keys");
  await createAccount(keysDir, { label: "operator" });
  account = await unlockAccount(keysDir, 0);
  server = await startTestServer(yaml(), { home, keysDir, database: "sqlite://bitrouter.db" });
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await server?.close();
  await web?.close();
  await alt?.close();
  await new Promise<void>((resolve) => (rest ? rest.close(() => resolve()) : resolve()));
});

const token = (claims: Record<string, unknown> = {}) =>
  mintToken(account, { scope: "api", id: `key-${Math.random().toString(36).slice(2)}`, ...claims } as Parameters<typeof mintToken>[1], { chain: "solana" });

async function connect(key: string, path = "/mcp", capabilities: Record<string, object> = {}): Promise<Client> {
  const client = new Client({ name: "test", version: "1.0.0" }, { capabilities });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}${path}`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  clients.push(client);
  return client;
}

const text = (result: unknown) => ((result as CallToolResult).content[0] as { text: string }).text;

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the /mcp gateway", () => {
  it("lists and calls the tools of HTTP and stdio upstreams as <server>__<tool>; a dead upstream blocks nothing", async () => {
    const client = await connect(await token());
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["web__echo", "alt__echo", "every__get-sum", "every__echo", "shout", "find"]));
    expect(names.some((n) => n.startsWith("dead__"))).toBe(false);
    expect(names.every((n) => !n.includes("/"))).toBe(true);
    // Overlapping names reach their own servers; the upstream saw BitRouter's key for it.
    expect(text(await client.callTool({ name: "web__echo", arguments: { text: "hi" } }))).toBe("web:hi");
    expect(text(await client.callTool({ name: "alt__echo", arguments: { text: "hi" } }))).toBe("alt:hi");
    expect(web.calls.at(-1)!.headers.authorization).toBe("Bearer web-secret");
    expect(text(await client.callTool({ name: "every__get-sum", arguments: { a: 2, b: 3 } }))).toContain("5");
    // A tools: entry fails over from the dead endpoint to the live one.
    expect(text(await client.callTool({ name: "shout", arguments: { text: "loud" } }))).toBe("web:loud");
    const status = await server.runtime.mcp.status();
    expect(status.upstreams.find((u) => u.name === "dead")).toMatchObject({ state: "failed" });
    expect(status.upstreams.find((u) => u.name === "every")).toMatchObject({ state: "connected", transport: "stdio" });
  });

  it("refuses callers without a valid BitRouter token, on the gateway and on bridges", async () => {
    for (const path of ["/mcp", "/mcp/web"]) {
      const response = await fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } },
        }),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    await expect(connect("not-a-token")).rejects.toThrow();
  });

  it("enforces the token's tool patterns on list and call", async () => {
    const client = await connect(await token({ tools: ["web/*"] }));
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("web__echo");
    expect(names).toContain("shout"); // a tools: entry whose endpoint the pattern allows
    expect(names).not.toContain("alt__echo");
    expect(names).not.toContain("every__get-sum");
    await expect(client.callTool({ name: "alt__echo", arguments: { text: "x" } })).rejects.toThrow(/may not use tool "alt__echo"/);
  });

  it("applies guardrails.tools: a denied tool is hidden and refused; a denied parameter is stripped before it leaves", async () => {
    const client = await connect(await token());
    const tools = (await client.listTools()).tools;
    expect(tools.map((t) => t.name)).not.toContain("web__delete_all");
    await expect(client.callTool({ name: "web__delete_all", arguments: {} })).rejects.toThrow(/not allowed/);
    expect(web.calls.some((c) => c.tool === "delete_all")).toBe(false);
    await client.callTool({ name: "web__echo", arguments: { text: "t", assignee: "mallory" } });
    expect(web.calls.at(-1)!.arguments).toEqual({ text: "t" });
  });

  it("the text guardrails scan arguments on the way up", async () => {
    const client = await connect(await token());
    const leaked = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----";
    const before = web.calls.length;
    const result = (await client.callTool({ name: "web__echo", arguments: { text: leaked } })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/guardrail/i);
    expect(web.calls.length).toBe(before);
  });

  it("calls REST tools: POST {api_base}/{service_id} with the arguments; a non-2xx answer is an isError result", async () => {
    const client = await connect(await token());
    const ok = (await client.callTool({ name: "find", arguments: { q: "mcp" } })) as CallToolResult;
    expect(ok.isError).toBeFalsy();
    expect(JSON.parse(text(ok))).toEqual({ hits: ["mcp"] });
    expect(restCalls.at(-1)).toEqual({ path: "/search", body: JSON.stringify({ q: "mcp" }), auth: "Bearer rest-secret" });
    const failed = (await client.callTool({ name: "lookup__missing", arguments: {} })) as CallToolResult;
    expect(failed.isError).toBe(true);
    expect(text(failed)).toContain("500");
    expect(text(failed)).toContain("search index is down");
    // The provider's key never reaches the caller, even when the upstream echoes it.
    expect(text(failed)).not.toContain("rest-secret");
    expect(text(failed)).toContain("authorization: ***");
  });

  it("relays progress and sampling between the caller and a stdio upstream", async () => {
    const client = await connect(await token(), "/mcp", { sampling: {} });
    const prompts: string[] = [];
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const content = request.params.messages[0]!.content as { type: string; text?: string };
      prompts.push(content.text ?? "");
      return { role: "assistant", content: { type: "text", text: "sampled!" }, model: "test-model" };
    });
    const sampled = await client.callTool({ name: "every__trigger-sampling-request", arguments: { prompt: "ping", maxTokens: 5 } });
    expect(prompts.join()).toContain("ping");
    expect(JSON.stringify(sampled)).toContain("sampled!");

    const progress: number[] = [];
    await client.callTool({ name: "every__trigger-long-running-operation", arguments: { duration: 0.2, steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    // The last notification races the result inside the SDK (both can land in one chunk): the steps before it cannot.
    expect(progress.slice(0, 2)).toEqual([1, 2]);
  });

  it("cancels the upstream call when the caller cancels; the ledger says so", async () => {
    const id = `key-cancel-${Date.now()}`;
    const client = await connect(await mintToken(account, { scope: "api", id } as Parameters<typeof mintToken>[1], { chain: "solana" }));
    const abort = new AbortController();
    const call = client.callTool({ name: "every__trigger-long-running-operation", arguments: { duration: 60, steps: 60 } }, undefined, {
      signal: abort.signal,
      onprogress: () => abort.abort(), // cancel once the upstream is surely working on it
    });
    await expect(call).rejects.toThrow();
    const row = await waitFor(async () => {
      await server.runtime.metering!.ledger.flush();
      return server.runtime.metering!.store.db.selectFrom("requests").selectAll().where("key_id", "=", id).executeTakeFirst();
    }, "the cancelled call's ledger row");
    expect([row.tool, row.status, row.error_kind]).toEqual(["every/trigger-long-running-operation", 499, "cancelled"]);
  });

  it("relays elicitation and roots requests of an upstream to the caller", async () => {
    const client = await connect(await token(), "/mcp", { elicitation: {}, roots: {} });
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "decline" }));
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: "file:///work/project", name: "project" }] }));
    const elicited = await client.callTool({ name: "every__trigger-elicitation-request", arguments: {} });
    expect(JSON.stringify(elicited)).toMatch(/decline/i);
    const roots = await client.callTool({ name: "every__get-roots-list", arguments: {} });
    expect(JSON.stringify(roots)).toContain("file:///work/project");
  });

  it("serves prompts as <server>__<name> and resources as mcp://<server>/<uri>", async () => {
    const client = await connect(await token());
    const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
    expect(prompts).toContain("every__simple-prompt");
    const prompt = await client.getPrompt({ name: "every__simple-prompt" });
    expect(prompt.messages.length).toBeGreaterThan(0);
    const resources = (await client.listResources()).resources;
    const doc = resources.find((r) => r.uri.startsWith("mcp://every/demo://resource/static/document/"));
    expect(doc).toBeDefined();
    const read = await client.readResource({ uri: doc!.uri });
    expect(read.contents[0]!.uri).toBe(doc!.uri);
    await expect(client.readResource({ uri: "demo://resource/static/document/x" })).rejects.toThrow(/mcp:\/\/<server>\/<uri>/);
  });

  it("counts priced tool calls against the token's budget", async () => {
    const client = await connect(await token({ budget: 2000 }));
    await client.callTool({ name: "find", arguments: { q: "1" } }); // 3000 micro-USD: over the budget now
    await expect(client.callTool({ name: "find", arguments: { q: "2" } })).rejects.toThrow(/budget exceeded/);
  });

  it("puts every tool call on the ledger: server, tool, caller key, status, price; usage by tool", async () => {
    const id = `key-ledger-${Date.now()}`;
    const client = await connect(await mintToken(account, { scope: "api", id } as Parameters<typeof mintToken>[1], { chain: "solana" }));
    await client.callTool({ name: "find", arguments: { q: "a" } });
    await client.callTool({ name: "web__echo", arguments: { text: "b" } });
    await expect(client.callTool({ name: "nope__nothing", arguments: {} })).rejects.toThrow(/unknown tool/);
    await server.runtime.metering!.ledger.flush();
    const rows = await server.runtime.metering!.store.db.selectFrom("requests").selectAll().where("key_id", "=", id).orderBy("created_at").execute();
    expect(rows.map((r) => [r.inbound_protocol, r.provider, r.tool, r.status, r.error_kind, r.cost_micro_usd])).toEqual([
      ["mcp", "lookup", "lookup/search", 200, null, 3000],
      // A direct call is priced by the tools: entry naming that endpoint (shout: 0.002 USD).
      ["mcp", "web", "web/echo", 200, null, 2000],
      ["mcp", null, "nope__nothing", 404, "not_found", null],
    ]);
    const usage = await fetch(`${server.url}/v1/usage?group_by=tool`, { headers: { authorization: `Bearer ${await token({ scope: "admin" })}` } });
    const body = (await usage.json()) as { rows: { group: string; requests: number }[] };
    expect(body.rows.find((r) => r.group === "lookup/search")!.requests).toBeGreaterThanOrEqual(1);
  });

  it("serves GET /v1/tools in the OpenAI function-tool shape, filtered like the gateway", async () => {
    const response = await fetch(`${server.url}/v1/tools`, { headers: { authorization: `Bearer ${await token({ tools: ["alt/*"] })}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { type: string; function: { name: string; parameters: unknown } }[] };
    expect(body.data).toEqual([{ type: "function", function: { name: "alt__echo", parameters: { type: "object" } }, server: "alt" }]);
  });
});

describe("bridges /mcp/<name>", () => {
  it("serve one upstream under its own names, with the same filters and stripping", async () => {
    const client = await connect(await token(), "/mcp/web");
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["echo"]);
    await client.callTool({ name: "echo", arguments: { text: "b", assignee: "x" } });
    expect(web.calls.at(-1)!.arguments).toEqual({ text: "b" });
    // Only bridge: true providers are served.
    await expect(connect(await token(), "/mcp/alt")).rejects.toThrow();
  });
});

describe("upstream lifecycle", () => {
  it("an upstream that dies and comes back is reconnected; the others keep serving meanwhile", async () => {
    const client = await connect(await token());
    await web.stop();
    await expect(client.callTool({ name: "web__echo", arguments: { text: "x" } })).rejects.toThrow(/unavailable/);
    expect(text(await client.callTool({ name: "alt__echo", arguments: { text: "still" } }))).toBe("alt:still");
    await web.start();
    const answer = await waitFor(
      () => client.callTool({ name: "web__echo", arguments: { text: "back" } }).then(text, () => undefined),
      "the web upstream to come back",
    );
    expect(answer).toBe("web:back");
  });

  it("hot reload adds an MCP server; sessions are told the tool list changed", async () => {
    const client = await connect(await token());
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changed += 1;
    });
    const extra = await startMcpMock({ name: "extra", tools: { ping: { run: () => "pong" } } });
    try {
      server.setYaml(yaml(`  extra:\n    api_protocol: mcp\n    api_base: ${extra.url}\n`));
      expect(await server.runtime.reload()).toEqual({ ok: true });
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("extra__ping");
      expect(text(await client.callTool({ name: "extra__ping", arguments: {} }))).toBe("pong");
      await waitFor(() => (changed > 0 ? true : undefined), "tools/list_changed");
    } finally {
      server.setYaml(yaml());
      await server.runtime.reload();
      await extra.close();
    }
  });
});

describe("a server without tool servers", () => {
  it("still serves /mcp (an empty gateway, made on the first call) and a later reload adds tools to it", async () => {
    const own = await startTestServer("inherit_defaults: false\n");
    const upstream = await startMcpMock({ name: "late", tools: { ping: { run: () => "pong" } } });
    try {
      const client = new Client({ name: "empty", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${own.url}/mcp`)));
      expect((await client.listTools()).tools).toEqual([]);
      own.setYaml(`inherit_defaults: false\nproviders:\n  late:\n    api_protocol: mcp\n    api_base: ${upstream.url}\n`);
      expect(await own.runtime.reload()).toEqual({ ok: true });
      expect(text(await client.callTool({ name: "late__ping", arguments: {} }))).toBe("pong");
      await client.close();
    } finally {
      await own.close();
      await upstream.close();
    }
  });
});

describe("shutdown", () => {
  it("does not wait for connected MCP clients' server-to-client streams", async () => {
    const upstream = await startMcpMock();
    const own = await startTestServer(`inherit_defaults: false\nproviders:\n  m:\n    api_protocol: mcp\n    api_base: ${upstream.url}\n`);
    try {
      const client = new Client({ name: "idle", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${own.url}/mcp`)));
      await client.listTools(); // connected, its GET stream open and idle
      await own.close();
      await own.runtime.logger.flush();
      const log = readFileSync(join(own.home, "logs", "bitrouter.log"), "utf8");
      expect(log).toContain("stopped");
      expect(log).not.toContain("drain timeout");
      await client.close().catch(() => {});
    } finally {
      await upstream.close();
    }
  });
});

describe("open mode", () => {
  it("answers a POST body that is not JSON, or over server.body_limit, with a JSON-RPC error and keeps serving", async () => {
    const upstream = await startMcpMock();
    const own = await startTestServer(
      `inherit_defaults: false\nserver:\n  body_limit: 2048\nproviders:\n  m:\n    api_protocol: mcp\n    api_base: ${upstream.url}\n`,
    );
    const post = (body: string) =>
      fetch(`${own.url}/mcp`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body }).then(
        async (res) => ({ status: res.status, body: (await res.json()) as { error?: { code: number; message: string } } }),
      );
    try {
      const broken = await post('{"jsonrpc": "2.0", "id": 1, "method": "initialize", ');
      expect(broken.status).toBe(400);
      expect(broken.body.error).toEqual({ code: -32700, message: "Parse error: Invalid JSON" });
      const large = await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { padding: "x".repeat(4096) } }));
      expect(large.status).toBe(413);
      expect(large.body.error?.message).toContain("2048 bytes");
      const client = new Client({ name: "test", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${own.url}/mcp`)));
      expect(text(await client.callTool({ name: "m__echo", arguments: { text: "still here" } }))).toBe("still here");
      await client.close();
    } finally {
      await own.close();
      await upstream.close();
    }
  });

  it("serves localhost callers, and refuses another Host or Origin (DNS rebinding) with 403", async () => {
    const upstream = await startMcpMock();
    const own = await startTestServer(`inherit_defaults: false\nproviders:\n  m:\n    api_protocol: mcp\n    api_base: ${upstream.url}\n`);
    const post = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const body = JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } },
        });
        const req = httpRequest(
          `${own.url}/mcp`,
          { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    try {
      const port = new URL(own.url).port;
      expect(await post({ host: `localhost:${port}` })).toBe(200);
      expect(await post({ host: `evil.example:${port}` })).toBe(403);
      expect(await post({ host: `127.0.0.1:${port}`, origin: "http://evil.example" })).toBe(403);
    } finally {
      await own.close();
      await upstream.close();
    }
  });
});
