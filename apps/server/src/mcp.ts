/**
 * The MCP tool gateway in the server: `/mcp` (every upstream), `/mcp/<name>` (bridges),
 * `GET /v1/tools`, and `/tools/status` on the control API. Same credentials as the model
 * endpoints; guardrails.tools and the text guardrails apply; every tool call is a ledger row.
 */
import type { IncomingMessage } from "node:http";
import type { Env, Hono } from "hono";
import type { HttpBindings } from "@hono/node-server";
import { ConfigError, type ResolvedConfig } from "@bitrouter/config";
import type { VerifiedPrincipal as AuthPrincipal } from "@bitrouter/auth";
import { isLoopbackAddress } from "@bitrouter/auth/net";
import type { Guardrails } from "@bitrouter/guardrails";
import type { ListedTool, McpEndpoint, ToolCaller, ToolCallHooks, ToolCallRecord, ToolGateway, UpstreamStatus } from "@bitrouter/mcp";
import { BitrouterError, type JsonObject, type JsonValue } from "@bitrouter/core";
import { readCredential } from "@bitrouter/router";
import type { Logger } from "./logger.js";
import { readBody } from "./node-handler.js";
import type { Metering } from "./metering.js";
import { importOptional } from "./optional.js";
import type { AuthSetup } from "./security.js";
import { guardrailsOn } from "./security.js";

type McpLibrary = typeof import("@bitrouter/mcp");

/** Whether a configuration has tool servers or tools: what needs @bitrouter/mcp. */
function usesTools(config: ResolvedConfig): boolean {
  return Object.keys(config.tools).length > 0 || Object.values(config.providers).some((p) => p.api_protocol === "mcp" || p.api_protocol === "rest");
}

/**
 * @bitrouter/mcp (the MCP SDK and its HTTP stack: ~15 MB) is an optional peer dependency. A config
 * with tool servers needs it (a ConfigError names it when missing); without them, a missing
 * package leaves the gateway empty.
 */
async function loadMcp(config: ResolvedConfig): Promise<McpLibrary | undefined> {
  try {
    return await importOptional("@bitrouter/mcp", () => import("@bitrouter/mcp"), "providers (api_protocol: mcp or rest) and tools");
  } catch (error) {
    if (error instanceof ConfigError && !usesTools(config)) return undefined;
    throw error;
  }
}

/** What a configuration generation adds to the MCP upstreams: paying for tool calls, signing in with the wallet. */
export interface GenerationExtras {
  pay?: ToolCallHooks["pay"] | undefined;
  walletToken?: ((provider: string) => (() => Promise<string>) | undefined) | undefined;
}

export interface McpService {
  /**
   * Applies a configuration generation: upstreams added, removed, changed; new guardrails; with
   * `pay` (mpp.enabled), priced tool calls are paid for; `walletToken` signs in to the upstreams with
   * `auth: {type: wallet}` (without it they are left out).
   */
  apply(config: ResolvedConfig, extras?: GenerationExtras): Promise<void>;
  /** `/mcp`, `/mcp/:name`, `GET /v1/tools` on the public app. */
  mount<E extends Env>(app: Hono<E>): void;
  /** Each upstream's state; `ping` (default) measures a round trip to each connected one first. */
  status(options?: { ping?: boolean }): Promise<{ upstreams: (UpstreamStatus & { hidden?: number })[] }>;
  listTools(caller: ToolCaller): Promise<ListedTool[]>;
  /** Ends the sessions' long-lived GET streams (shutdown: in-flight calls still finish). */
  closeStreams(): void;
  close(): Promise<void>;
}

export interface McpServiceOptions {
  logger: Logger;
  auth: AuthSetup;
  metering?: Metering;
  /** server.body_limit at start (bridges added by a reload take the reloaded value). */
  bodyLimit: number;
  connectTimeoutMs?: number;
  /**
   * Open mode on a loopback address: refuse requests whose Host or Origin is not localhost (DNS
   * rebinding: a web page whose name resolves to 127.0.0.1 must not reach the operator's tools).
   */
  localOnly?: boolean;
}

/** Whether the Host and (if sent) Origin headers name this machine. */
function fromLocalhost(headers: Headers): boolean {
  const host = headers.get("host");
  if (host === null) return false;
  const hostname = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]!;
  if (!isLoopbackAddress(hostname)) return false;
  const origin = headers.get("origin");
  if (origin === null) return true;
  try {
    return isLoopbackAddress(new URL(origin).hostname);
  } catch {
    return false;
  }
}

export function createMcpService(options: McpServiceOptions): McpService {
  const { logger, auth, metering } = options;
  // Created by the first apply() (the package loads then); absent when it is not installed.
  let mcp: { lib: McpLibrary; gateway: ToolGateway; endpoint: McpEndpoint } | undefined;
  const bridges = new Map<string, McpEndpoint>();
  let matchesTool: ((patterns: readonly string[] | undefined, tool: string) => boolean) | undefined;

  const onComplete = (record: ToolCallRecord) => {
    const principal = record.caller.principal as AuthPrincipal | undefined;
    if (principal && record.costMicroUsd && auth.authenticator) auth.authenticator.addSpend(principal, record.costMicroUsd);
    logger.info("tool call", {
      id: record.id,
      tool: record.name,
      server: record.server,
      status: record.status,
      ...(record.errorKind ? { error: record.errorKind } : {}),
      latency_ms: record.latencyMs,
      ...(principal?.keyId ? { key: principal.keyId } : {}),
    });
    metering?.ledger.record({
      id: record.id,
      createdAt: record.startedAt,
      accountId: principal?.accountId ?? null,
      keyId: principal?.keyId ?? null,
      inboundProtocol: "mcp",
      route: record.name,
      provider: record.server ?? null,
      model: record.tool ?? record.name,
      stream: false,
      status: record.status,
      errorKind: record.errorKind ?? null,
      latencyMs: record.latencyMs,
      costMicroUsd: record.costMicroUsd ?? null,
      payment: record.payment ?? null,
      guardrailViolations: record.guardrailViolations,
      attempts: record.attempts,
      tool: record.server && record.tool ? `${record.server}/${record.tool}` : record.name,
    });
  };

  /** The caller of one HTTP request, or an HTTP error response in JSON-RPC shape. */
  const callerFor = async (request: Request): Promise<ToolCaller | Response> => {
    if (!auth.authenticator) {
      if (options.localOnly && !fromLocalhost(request.headers)) {
        return Response.json(
          { jsonrpc: "2.0", error: { code: -32001, message: "Forbidden: open mode serves localhost only (Host/Origin)" }, id: null },
          { status: 403 },
        );
      }
      return {};
    }
    let principal: AuthPrincipal;
    try {
      principal = await auth.authenticator.authenticate(readCredential(request.headers, new URL(request.url)), {});
    } catch (error) {
      const status = typeof (error as { status?: unknown }).status === "number" ? (error as { status: number }).status : 401;
      const message = error instanceof Error ? error.message : "unauthorized";
      return Response.json(
        { jsonrpc: "2.0", error: { code: -32001, message }, id: null },
        { status, ...(status === 401 ? { headers: { "www-authenticate": 'Bearer realm="bitrouter"' } } : {}) },
      );
    }
    matchesTool ??= (await import("@bitrouter/auth")).matchesTool;
    const patterns = principal.claims.tools;
    const match = matchesTool;
    return { principal, ...(patterns === undefined ? {} : { mayUse: (tool: string) => match(patterns, tool) }) };
  };

  const serve = async (endpoint: McpEndpoint | undefined, request: Request, incoming?: IncomingMessage): Promise<Response> => {
    const caller = await callerFor(request);
    if (caller instanceof Response) return caller;
    if (!endpoint) {
      const message = mcp ? "no such MCP bridge" : "no MCP tool servers here (@bitrouter/mcp is not installed)";
      return Response.json({ jsonrpc: "2.0", error: { code: -32001, message }, id: null }, { status: 404 });
    }
    const parsed = incoming ? await readJsonRpcBody(request, incoming, endpoint.bodyLimit) : undefined;
    if (parsed instanceof Response) return parsed;
    return endpoint.handle(request, caller, parsed?.body);
  };

  const newGateway = (lib: McpLibrary) => {
    const gateway = new lib.ToolGateway({
      ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      onStateChange: (status) => {
        if (status.state === "failed") logger.warn("MCP server unavailable", { server: status.name, error: status.error });
        else if (status.state === "connected") logger.info("MCP server connected", { server: status.name, transport: status.transport });
      },
    });
    return { lib, gateway, endpoint: new lib.McpEndpoint(gateway, { kind: "gateway" }, { bodyLimit: options.bodyLimit }) };
  };

  // The last configuration applied, kept for a gateway created later (see apply).
  let applied: { config: ResolvedConfig; extras: GenerationExtras } | undefined;
  let starting: Promise<void> | undefined;

  const applyNow = async (config: ResolvedConfig, { pay, walletToken }: GenerationExtras): Promise<void> => {
    if (!mcp) {
      const lib = await loadMcp(config);
      if (!lib) return;
      // Another caller may have made it while the library loaded.
      mcp ??= newGateway(lib);
    }
    const { lib, gateway } = mcp;
    await gateway.apply(lib.specFromConfig(config, walletToken ? { walletToken } : {}), {
      ...(await toolHooks(lib, config, logger, onComplete)),
      ...(pay ? { pay } : {}),
    });
    for (const [name, endpoint] of bridges) {
      if (gateway.isBridge(name)) continue;
      bridges.delete(name);
      void endpoint.close();
    }
    for (const provider of Object.values(config.providers)) {
      if (gateway.isBridge(provider.name) && !bridges.has(provider.name)) {
        bridges.set(provider.name, new lib.McpEndpoint(gateway, { kind: "bridge", server: provider.name }, { bodyLimit: config.server.body_limit }));
      }
    }
  };

  /** `/mcp` of a server without tools: an empty gateway, made on its first request. */
  const gatewayEndpoint = async (): Promise<McpEndpoint | undefined> => {
    if (!mcp && applied) {
      const { config, extras } = applied;
      starting ??= applyNow(config, extras).finally(() => {
        starting = undefined;
      });
      await starting;
    }
    return mcp?.endpoint;
  };

  return {
    async apply(config, extras = {}) {
      applied = { config, extras };
      await starting; // a gateway being made for /mcp: this configuration goes on top of it
      // Without tools the MCP SDK (and ajv, cross-spawn: ~15 MB) is not loaded until /mcp is called.
      if (!mcp && !usesTools(config)) return;
      await applyNow(config, extras);
    },
    mount(app) {
      app.all("/mcp", async (c) => serve(await gatewayEndpoint(), c.req.raw, nodeRequest(c.env)));
      app.all("/mcp/:name", (c) => serve(bridges.get(c.req.param("name")), c.req.raw, nodeRequest(c.env)));
      // The tools a caller may use, as OpenAI function tools (ready to hand to a model).
      app.get("/v1/tools", async (c) => {
        const caller = await callerFor(c.req.raw);
        if (caller instanceof Response) return caller;
        const tools = mcp ? await mcp.gateway.listTools(caller, { kind: "gateway" }) : [];
        return c.json({
          object: "list",
          data: tools.map(({ tool, server }) => ({
            type: "function",
            function: { name: tool.name, ...(tool.description ? { description: tool.description } : {}), parameters: tool.inputSchema },
            ...(server ? { server } : {}),
          })),
        });
      });
    },
    async status({ ping = true } = {}) {
      if (!mcp) return { upstreams: [] };
      const { gateway } = mcp;
      const [upstreams, hidden] = await Promise.all([ping ? gateway.probe() : gateway.status(), gateway.hiddenCounts()]);
      return {
        upstreams: upstreams.map((u) => {
          const count = hidden[u.name];
          return count ? { ...u, hidden: count } : u;
        }),
      };
    },
    listTools: async (caller) => (mcp ? mcp.gateway.listTools(caller, { kind: "gateway" }) : []),
    closeStreams() {
      mcp?.endpoint.closeStreams();
      for (const bridge of bridges.values()) bridge.closeStreams();
    },
    async close() {
      await Promise.all([mcp?.endpoint.close(), ...[...bridges.values()].map((b) => b.close())]);
      await mcp?.gateway.close();
    },
  };
}

/**
 * guardrails.tools (filter, param_restrictions) and the text patterns, on tool calls. The guardrails
 * package loads only for a configuration that turns them on (as in security.ts).
 */
async function toolHooks(lib: McpLibrary, config: ResolvedConfig, logger: Logger, onComplete: (record: ToolCallRecord) => void): Promise<ToolCallHooks> {
  if (!guardrailsOn(config)) return { onComplete };
  const { createGuardrails, GuardrailError } = await import("@bitrouter/guardrails");
  /** A guardrail's block, thrown from a scan, refuses the tool call in MCP's terms. */
  const refuseOnBlock = <T>(run: () => T): T => {
    try {
      return run();
    } catch (error) {
      if (error instanceof GuardrailError) throw new lib.ToolCallRefused("guardrail", error.message);
      throw error;
    }
  };
  const guardrails = createGuardrails(config.guardrails, {
    logger: { warn: (violation, message) => logger.warn(message, { ...violation }) },
  });
  if (!guardrails) return { onComplete };
  const tools = guardrails.tools;
  return {
    onComplete,
    ...(tools
      ? {
          isToolAllowed: (server, tool) => tools.isToolAllowed(server, tool),
          describeTool: (server, tool) => tools.filterTools(server, [tool])[0] ?? tool,
        }
      : {}),
    beforeCall(call, args) {
      const ctx = { requestId: call.requestId, counters: call.counters, target: { provider: call.server } };
      let out = args as JsonObject;
      if (tools) {
        const verdict = tools.restrictToolCall(call.server, call.tool, out);
        if (verdict.action === "block") {
          call.counters.guardrail_violations = (call.counters.guardrail_violations ?? 0) + 1;
          logger.warn("guardrail blocked a tool call", { pattern: "param_restrictions", requestId: call.requestId, tool: `${call.server}/${call.tool}` });
          throw new lib.ToolCallRefused("guardrail", `Blocked by guardrails: ${verdict.reason}`);
        }
        if (verdict.action === "strip") {
          call.counters.guardrail_violations = (call.counters.guardrail_violations ?? 0) + 1;
          logger.warn("guardrail stripped tool parameters", {
            pattern: "param_restrictions",
            requestId: call.requestId,
            tool: `${call.server}/${call.tool}`,
            stripped: verdict.stripped.join(","),
          });
          out = verdict.arguments;
        }
      }
      return refuseOnBlock(() => scanJson(guardrails, out, "upgoing", ctx, "arguments") as JsonObject);
    },
    afterCall(call, result) {
      const ctx = { requestId: call.requestId, counters: call.counters, target: { provider: call.server } };
      return refuseOnBlock(() => ({
        ...result,
        content: result.content.map((item, i) =>
          item.type === "text" ? { ...item, text: guardrails.scanText(item.text, "downgoing", ctx, `content[${i}]`) } : item,
        ),
        ...(result.structuredContent
          ? { structuredContent: scanJson(guardrails, result.structuredContent as JsonObject, "downgoing", ctx, "structuredContent") as JsonObject }
          : {}),
      }));
    },
  };
}

/** Scans every string in a JSON value (redactions applied; a block throws GuardrailError). */
function scanJson(
  guardrails: Guardrails,
  value: JsonValue,
  direction: "upgoing" | "downgoing",
  ctx: Parameters<Guardrails["scanText"]>[2],
  location: string,
): JsonValue {
  if (typeof value === "string") return guardrails.scanText(value, direction, ctx, location);
  if (Array.isArray(value)) return value.map((v, i) => scanJson(guardrails, v, direction, ctx, `${location}[${i}]`));
  if (value && typeof value === "object") {
    const out: JsonObject = {};
    for (const [key, v] of Object.entries(value)) out[key] = scanJson(guardrails, v, direction, ctx, `${location}.${key}`);
    return out;
  }
  return value;
}

/** The Node request under a Hono context on @hono/node-server (absent elsewhere, e.g. app.request() in tests). */
function nodeRequest(env: unknown): IncomingMessage | undefined {
  return (env as Partial<HttpBindings> | undefined)?.incoming;
}

/**
 * A JSON-RPC POST body read straight from the Node request and parsed, for the SDK's transport to
 * take as `parsedBody`: its own way reads the body through a Web Request and its streams (a third
 * of a tool call's allocations through the gateway). Only for a request the transport would go on
 * to parse (it accepts JSON and SSE, it sends JSON), so its answers to other requests stay its own;
 * errors are answered as the transport answers them.
 */
async function readJsonRpcBody(request: Request, incoming: IncomingMessage, limit: number): Promise<{ body: unknown } | Response | undefined> {
  if (request.method !== "POST") return undefined;
  const accept = request.headers.get("accept") ?? "";
  const type = request.headers.get("content-type")?.split(";", 1)[0]?.trim().toLowerCase();
  if (!accept.includes("application/json") || !accept.includes("text/event-stream") || type !== "application/json") return undefined;
  let bytes: Uint8Array;
  try {
    bytes = await readBody(incoming, limit);
  } catch (error) {
    if (error instanceof BitrouterError && error.kind === "payload_too_large") return jsonRpcError(413, -32000, error.message);
    return jsonRpcError(400, -32000, "Bad Request: the request body could not be read");
  }
  try {
    return { body: JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")) };
  } catch {
    return jsonRpcError(400, -32700, "Parse error: Invalid JSON");
  }
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });
}
