/**
 * A mock upstream MCP server over Streamable HTTP (the official SDK's server and transport), for
 * the gateway's tests and benchmarks. Tools are plain functions of their arguments; every call and
 * the headers it came with are recorded. It can stop and start again on the same port (an upstream
 * that dies and comes back), and add tools at runtime (announced with list_changed).
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

export interface MockTool {
  description?: string;
  /** JSON Schema of the arguments (default: any object). */
  inputSchema?: { type: "object"; properties?: Record<string, object>; required?: string[] };
  /** The result; a string becomes one text content item. */
  run(args: Record<string, unknown>): CallToolResult | string | Promise<CallToolResult | string>;
}

export interface McpCall {
  tool: string;
  arguments: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

export interface McpMockOptions {
  name?: string;
  tools?: Record<string, MockTool>;
  port?: number;
  host?: string;
}

export interface McpMock {
  readonly url: string;
  /** Every tools/call received, in order. */
  readonly calls: McpCall[];
  /** Adds (or replaces) a tool and sends tools/list_changed to every open session. */
  addTool(name: string, tool: MockTool): void;
  /** Stops listening and drops every session (the server "dies"). */
  stop(): Promise<void>;
  /** Listens again on the same port, with no sessions (the server "comes back"). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The default tools: `echo` returns its text, `add` sums a and b. */
export const DEFAULT_MCP_TOOLS: Record<string, MockTool> = {
  echo: {
    description: "Echoes the text back",
    inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
    run: (args) => String(args.text ?? ""),
  },
  add: {
    description: "Adds two numbers",
    inputSchema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] },
    run: (args) => String(Number(args.a) + Number(args.b)),
  },
};

export async function startMcpMock(options: McpMockOptions = {}): Promise<McpMock> {
  const tools = new Map(Object.entries(options.tools ?? DEFAULT_MCP_TOOLS));
  const calls: McpCall[] = [];
  const host = await serveMcp(() => {
    const server = new Server({ name: options.name ?? "mock-mcp", version: "1.0.0" }, { capabilities: { tools: { listChanged: true } } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({
      tools: [...tools].map(([name, tool]) => ({
        name,
        ...(tool.description ? { description: tool.description } : {}),
        inputSchema: tool.inputSchema ?? { type: "object" as const },
      })),
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const tool = tools.get(request.params.name);
      if (!tool) throw new McpError(ErrorCode.InvalidParams, `unknown tool ${request.params.name}`);
      const args = request.params.arguments ?? {};
      calls.push({ tool: request.params.name, arguments: args, headers: { ...(extra.requestInfo?.headers ?? {}) } });
      const result = await tool.run(args);
      return typeof result === "string" ? { content: [{ type: "text" as const, text: result }] } : result;
    });
    return server;
  }, options);
  return {
    url: host.url,
    calls,
    addTool(name, tool) {
      tools.set(name, tool);
      for (const server of host.servers()) void server.sendToolListChanged().catch(() => {});
    },
    stop: host.stop,
    start: host.start,
    close: host.stop,
  };
}

/** An MCP server (one SDK `Server` per session) on Streamable HTTP at `/mcp`, able to stop and start again on its port. */
export interface McpHost {
  readonly url: string;
  /** The servers of the open sessions. */
  servers(): Server[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function serveMcp(create: () => Server, options: { port?: number; host?: string } = {}): Promise<McpHost> {
  const sessions = new Map<string, { server: Server; transport: StreamableHTTPServerTransport }>();
  const host = options.host ?? "127.0.0.1";
  let port = options.port ?? 0;
  let http: HttpServer | undefined;

  const newSession = async (): Promise<StreamableHTTPServerTransport> => {
    const server = create();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { server, transport });
      },
    });
    await server.connect(transport);
    return transport;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const id = req.headers["mcp-session-id"];
    const existing = typeof id === "string" ? sessions.get(id) : undefined;
    if (typeof id === "string" && !existing) {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: "Session not found" }, id: null }));
      return;
    }
    const transport = existing?.transport ?? (await newSession());
    await transport.handleRequest(req, res);
  };

  const start = async () => {
    const server = createServer((req, res) => {
      handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    http = server;
  };

  const stop = async () => {
    const server = http;
    http = undefined;
    const open = [...sessions.values()];
    sessions.clear();
    await Promise.all(open.map((s) => s.server.close().catch(() => {})));
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };

  await start();
  return {
    url: `http://${host}:${port}/mcp`,
    servers: () => [...sessions.values()].map((session) => session.server),
    stop,
    start,
  };
}
