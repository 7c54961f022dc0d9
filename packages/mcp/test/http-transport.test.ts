/**
 * The upstream side of Streamable HTTP (HttpClientTransport) under the official SDK client, against
 * real SDK servers (testkit): what the gateway relies on from it.
 */
import { createServer, request as httpRequest, type Server as HttpServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { CallToolResultSchema, type CallToolResult, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { startConformanceMock, startMcpMock } from "@bitrouter/testkit";
import type { McpHost, McpMock } from "@bitrouter/testkit";
import { HttpClientTransport } from "../src/http-transport.js";

let echo: McpMock;
let conformance: McpHost;
/** In front of `echo`: `/old` redirects to `/mcp` (same origin), `/away` to echo's own port (another origin), the rest is proxied. */
let front: HttpServer;
let frontUrl: string;
const clients: Client[] = [];
const servers: HttpServer[] = [];

/**
 * A hand-made Streamable HTTP server: initialize answered as JSON (session "s1"), notifications
 * with 202, other requests by `call`, GETs by `get` (405 without it).
 */
async function handMade(handlers: { get?(res: ServerResponse): void; call?(id: number, res: ServerResponse): void }): Promise<string> {
  const server = createServer((req, res) => {
    if (req.method === "GET") return handlers.get ? handlers.get(res) : void res.writeHead(405).end();
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const message = JSON.parse(body) as { id?: number; method: string };
      if (message.id === undefined) return void res.writeHead(202).end();
      if (message.method !== "initialize") return handlers.call?.(message.id, res);
      const result = { protocolVersion: "2025-06-18", capabilities: { tools: { listChanged: true } }, serverInfo: { name: "hand-made", version: "1" } };
      res.writeHead(200, { "content-type": "application/json", "mcp-session-id": "s1" }).end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

beforeAll(async () => {
  echo = await startMcpMock({ name: "echo" });
  conformance = await startConformanceMock();
  const target = new URL(echo.url);
  front = createServer((req, res) => {
    if (req.url === "/old") return void res.writeHead(308, { location: "/mcp" }).end();
    if (req.url === "/away") return void res.writeHead(307, { location: echo.url }).end();
    const proxied = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(proxied);
  });
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close().catch(() => {})));
  await echo?.close();
  await conformance?.stop();
  for (const server of [front, ...servers]) {
    if (!server) continue;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function connect(url: string, options: ConstructorParameters<typeof HttpClientTransport>[1] = {}): Promise<Client> {
  const client = new Client({ name: "test", version: "1.0.0" });
  clients.push(client);
  await client.connect(new HttpClientTransport(new URL(url), options));
  return client;
}

const text = (result: unknown) => ((result as CallToolResult).content[0] as { text: string }).text;

describe("HttpClientTransport", () => {
  it("calls tools on a Streamable HTTP server, in a session", async () => {
    const client = await connect(echo.url);
    expect(text(await client.callTool({ name: "echo", arguments: { text: "one" } }))).toBe("one");
    expect(text(await client.callTool({ name: "add", arguments: { a: 2, b: 3 } }))).toBe("5");
    const [first, second] = echo.calls.slice(-2);
    expect(first?.headers["mcp-session-id"]).toBeTruthy();
    expect(second?.headers["mcp-session-id"]).toBe(first?.headers["mcp-session-id"]);
    expect(second?.headers["mcp-protocol-version"]).toBeTruthy();
  });

  it("hands over every progress notification of a call before its answer (sent in one read)", async () => {
    const client = await connect(conformance.url);
    const progress: number[] = [];
    const result = await client.request(
      { method: "tools/call", params: { name: "test_tool_with_progress", arguments: {}, _meta: { progressToken: "p" } } },
      CallToolResultSchema,
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(progress).toEqual([0, 50, 100]);
    expect(text(result)).toMatch(/executed successfully/);
  });

  it("sends the configured headers and asks for the bearer token on every request", async () => {
    let issued = 0;
    const client = await connect(echo.url, { headers: { "X-Team": "tools" }, bearerToken: async () => `token-${++issued}` });
    await client.callTool({ name: "echo", arguments: { text: "a" } });
    await client.callTool({ name: "echo", arguments: { text: "b" } });
    const [first, second] = echo.calls.slice(-2);
    expect(first?.headers["x-team"]).toBe("tools");
    expect(first?.headers.authorization).toMatch(/^Bearer token-\d+$/);
    expect(second?.headers.authorization).not.toBe(first?.headers.authorization);
  });

  it("follows a redirect within the server's origin, and names one to another origin instead of following it", async () => {
    const moved = await connect(`${frontUrl}/old`);
    expect(text(await moved.callTool({ name: "echo", arguments: { text: "moved" } }))).toBe("moved");
    await expect(connect(`${frontUrl}/away`)).rejects.toThrow(`Redirect to ${echo.url} not followed`);
  });

  it("reopens the server's GET stream when it ends, trying again when a reopening fails", async () => {
    // Its first GET stream ends at once (asking for a 20 ms retry), the next GET is refused with
    // 503, the third stays open and carries a notification.
    const gets: number[] = [];
    const url = await handMade({
      get(res) {
        gets.push(Date.now());
        if (gets.length === 2) return void res.writeHead(503).end();
        res.writeHead(200, { "content-type": "text/event-stream" });
        if (gets.length === 1) return void res.end("retry: 20\n\n");
        res.write(`data: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/tools/list_changed" })}\n\n`);
      },
    });
    const client = new Client({ name: "test", version: "1.0.0" });
    clients.push(client);
    const changed = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, async () => resolve()));
    await client.connect(new HttpClientTransport(new URL(url)));
    await changed;
    expect(gets).toHaveLength(3);
  });

  it("refuses a message over maxMessageBytes, as JSON or as an SSE event, at once", async () => {
    const big = { content: [{ type: "text", text: "x".repeat(4096) }] };
    for (const framing of ["json", "sse"] as const) {
      const url = await handMade({
        call(id, res) {
          const body = JSON.stringify({ jsonrpc: "2.0", id, result: big });
          if (framing === "json") res.writeHead(200, { "content-type": "application/json" }).end(body);
          else res.writeHead(200, { "content-type": "text/event-stream" }).end(`data: ${body}\n\n`);
        },
      });
      const client = new Client({ name: "test", version: "1.0.0" });
      clients.push(client);
      const errors: string[] = [];
      const transport = new HttpClientTransport(new URL(url), { maxMessageBytes: 1024 });
      await client.connect(transport);
      client.onerror = (error) => errors.push(error.message);
      const started = Date.now();
      await expect(client.callTool({ name: "anything", arguments: {} })).rejects.toThrow(framing === "json" ? /over 1024 bytes/ : /Connection closed/);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(errors.join("\n")).toContain("the MCP server sent a message over 1024 bytes");
    }
  });

  it("reports a refusal with its status and body", async () => {
    const refusing = createServer((_req, res) => void res.writeHead(403, { "content-type": "text/plain" }).end("this key may not use tools"));
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/mcp`;
      await expect(connect(url)).rejects.toMatchObject({ code: 403, message: expect.stringContaining("this key may not use tools") });
    } finally {
      refusing.closeAllConnections();
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });
});
