/**
 * The downstream side: a Streamable HTTP MCP endpoint (POST, GET, DELETE, sessions) on Web-standard
 * Request/Response, built on the SDK's server and transport. One SDK server per session; each
 * session belongs to the key that opened it. The host authenticates every HTTP request and passes
 * the caller in.
 */
import { randomUUID } from "node:crypto";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListRootsResultSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { CallContext, Scope, ToolGateway } from "./gateway.js";
import { RESOURCE_PREFIX } from "./gateway.js";
import type { ToolCaller } from "./types.js";
import type { Relay } from "./upstream.js";
import { VERSION } from "./version.js";

export interface McpEndpointOptions {
  /** Open sessions kept; past it the least recently used is closed. Default 1,000. */
  maxSessions?: number;
  /** Largest accepted POST body in bytes. Default 4 MiB. */
  bodyLimit?: number;
}

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  server: Server;
  /** The key that opened the session (undefined in open mode); only it may use the session. */
  owner: string | undefined;
  /** Resource URIs (as the session names them) it subscribed to. */
  subscribed: Set<string>;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export class McpEndpoint {
  readonly #gateway: ToolGateway;
  readonly #scope: Scope;
  readonly #maxSessions: number;
  readonly #bodyLimit: number;
  /** Insertion order = least recently used first. */
  readonly #sessions = new Map<string, Session>();
  readonly #unsubscribe: () => void;
  readonly #unsubscribeUpdates: () => void;

  constructor(gateway: ToolGateway, scope: Scope, options: McpEndpointOptions = {}) {
    this.#gateway = gateway;
    this.#scope = scope;
    this.#maxSessions = options.maxSessions ?? 1000;
    this.#bodyLimit = options.bodyLimit ?? 4 * 1024 * 1024;
    this.#unsubscribe = gateway.onListChanged((kind, server) => {
      if (this.#scope.kind === "bridge" && server !== "*" && server !== this.#scope.server) return;
      for (const session of this.#sessions.values()) {
        const sent =
          kind === "tools"
            ? session.server.sendToolListChanged()
            : kind === "prompts"
              ? session.server.sendPromptListChanged()
              : session.server.sendResourceListChanged();
        // A session whose client is gone simply misses the notification.
        void sent.catch(() => {});
      }
    });
    // Subscribed resources: only the sessions that subscribed hear of a change.
    this.#unsubscribeUpdates = gateway.onResourceUpdated((server, uri) => {
      if (this.#scope.kind === "bridge" && server !== this.#scope.server) return;
      const named = this.#scope.kind === "bridge" ? uri : `${RESOURCE_PREFIX}${server}/${uri}`;
      for (const session of this.#sessions.values()) {
        if (session.subscribed.has(named)) void session.server.sendResourceUpdated({ uri: named }).catch(() => {});
      }
    });
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Largest accepted POST body in bytes (a host that reads the body itself applies it). */
  get bodyLimit(): number {
    return this.#bodyLimit;
  }

  /**
   * Serves one HTTP request of the MCP Streamable HTTP transport for an authenticated caller.
   * `parsedBody`: a POST's JSON body as the host already read and parsed it (within bodyLimit); the
   * request's own body is then left unread.
   */
  async handle(request: Request, caller: ToolCaller, parsedBody?: unknown): Promise<Response> {
    const owner = caller.principal?.keyId;
    const authInfo = { token: "", clientId: owner ?? "open", scopes: [], extra: { caller } };
    const options = parsedBody === undefined ? { authInfo } : { authInfo, parsedBody };
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId) {
      const session = this.#sessions.get(sessionId);
      // Another key's session is answered as unknown: session ids are not credentials.
      if (!session || session.owner !== owner) return jsonRpcError(404, -32001, "Session not found");
      this.#sessions.delete(sessionId);
      this.#sessions.set(sessionId, session);
      return session.transport.handleRequest(request, options);
    }
    if (request.method !== "POST") return jsonRpcError(400, -32000, "Bad Request: Mcp-Session-Id header is required");

    const subscribed = new Set<string>();
    const server = this.#createServer(subscribed);
    let opened: string | undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      maxRequestBodySize: this.#bodyLimit,
      onsessioninitialized: (id) => {
        opened = id;
        this.#sessions.set(id, { transport, server, owner, subscribed });
        this.#evict();
      },
      onsessionclosed: (id) => {
        this.#sessions.delete(id);
      },
    });
    transport.onclose = () => {
      if (opened) this.#sessions.delete(opened);
    };
    await server.connect(transport);
    const response = await transport.handleRequest(request, options);
    if (!opened) await server.close(); // not an initialize request: nothing to keep
    return response;
  }

  /**
   * Ends every session's server-to-client stream (GET): they last as long as the client stays,
   * so a draining server would otherwise wait for them. Calls in flight are left to finish.
   */
  closeStreams(): void {
    for (const session of this.#sessions.values()) session.transport.closeStandaloneSSEStream();
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    this.#unsubscribeUpdates();
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(sessions.map((s) => s.server.close().catch(() => {})));
  }

  #evict(): void {
    while (this.#sessions.size > this.#maxSessions) {
      const [id, oldest] = this.#sessions.entries().next().value as [string, Session];
      this.#sessions.delete(id);
      void oldest.server.close().catch(() => {});
    }
  }

  #createServer(subscribed: Set<string>): Server {
    const gateway = this.#gateway;
    const scope = this.#scope;
    const server = new Server(
      { name: scope.kind === "bridge" ? `bitrouter/${scope.server}` : "bitrouter", version: VERSION },
      {
        capabilities: {
          tools: { listChanged: true },
          prompts: { listChanged: true },
          resources: { subscribe: true, listChanged: true },
          logging: {},
          completions: {},
        },
      },
    );
    server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => ({
      tools: (await gateway.listTools(callerOf(extra), scope)).map((listed) => listed.tool),
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) =>
      relayed(extra, (context) => gateway.callTool(callerOf(extra), scope, request.params.name, request.params.arguments ?? {}, context, request.params._meta)),
    );
    server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: await gateway.listPrompts(scope) }));
    server.setRequestHandler(GetPromptRequestSchema, async (request, extra) =>
      relayed(extra, (context) => gateway.getPrompt(scope, request.params.name, request.params.arguments, context)),
    );
    server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: await gateway.listResources(scope) }));
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: await gateway.listResourceTemplates(scope) }));
    server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) =>
      relayed(extra, (context) => gateway.readResource(scope, request.params.uri, context)),
    );
    server.setRequestHandler(SubscribeRequestSchema, async (request) => {
      if (!subscribed.has(request.params.uri)) {
        await gateway.subscribe(scope, request.params.uri, true);
        subscribed.add(request.params.uri);
      }
      return {};
    });
    server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
      if (subscribed.delete(request.params.uri)) await gateway.subscribe(scope, request.params.uri, false);
      return {};
    });
    server.setRequestHandler(CompleteRequestSchema, async (request, extra) => relayed(extra, (context) => gateway.complete(scope, request.params, context)));
    return server;
  }
}

function callerOf(extra: Extra): ToolCaller {
  return (extra.authInfo?.extra?.caller as ToolCaller | undefined) ?? {};
}

/**
 * Runs an upstream operation with the downstream request's context (cancellation, progress, the
 * upstream's own requests), and answers only once the notifications it relayed have been sent:
 * the answer ends the request's stream, and a notification still on its way (the upstream's last
 * progress, sent just before its result) would be lost.
 */
async function relayed<T>(extra: Extra, run: (context: CallContext) => Promise<T>): Promise<T> {
  const sending = new Set<Promise<void>>();
  const send = (notification: ServerNotification): Promise<void> => {
    const sent = extra.sendNotification(notification).catch(() => {}); // a client that is gone misses it
    sending.add(sent);
    void sent.then(() => sending.delete(sent));
    return sent;
  };
  const progressToken = extra._meta?.progressToken;
  const relay: Relay = {
    sendRequest: (request, kind) =>
      extra.sendRequest(request, kind === "sampling" ? CreateMessageResultSchema : kind === "elicitation" ? ElicitResultSchema : ListRootsResultSchema),
    sendNotification: send,
  };
  const context: CallContext = {
    signal: extra.signal,
    relay,
    ...(progressToken === undefined
      ? {}
      : { onprogress: (progress) => void send({ method: "notifications/progress", params: { ...progress, progressToken } }) }),
  };
  try {
    return await run(context);
  } finally {
    await Promise.all(sending);
  }
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });
}
