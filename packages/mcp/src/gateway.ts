/**
 * The tool registry and router: every upstream's tools, prompts and resources under gateway names
 * (`<server>__<name>`, `mcp://<server>/<uri>`), the `tools:` entries with failover, and one call
 * path that applies the caller's token patterns, the host's guardrails and reports a record.
 *
 * A scope is either the gateway (everything, prefixed) or one bridge (one upstream, its own names).
 */
import { newRequestId } from "@bitrouter/core";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type {
  CallToolResult,
  CompleteRequest,
  CompleteResult,
  GetPromptResult,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { RestUpstream } from "./rest.js";
import type { GatewaySpec, HeldPayment, NamedToolSpec, ToolCallContext, ToolCallHooks, ToolCaller, ToolCallRecord, UpstreamSpec } from "./types.js";
import type { CallOptions, ListKind, UpstreamStatus } from "./upstream.js";
import { McpUpstream, UpstreamUnavailable } from "./upstream.js";

/** Joins a server and its tool/prompt name. Never `/`: Gemini rejects it in function names. */
export const NAME_SEPARATOR = "__";
/** Gateway resource URIs: `mcp://<server>/<the upstream's own URI>`. */
export const RESOURCE_PREFIX = "mcp://";

export type Scope = { kind: "gateway" } | { kind: "bridge"; server: string };

/** A tool as a caller sees it, with where it goes. */
export interface ListedTool {
  tool: Tool;
  /** Upstream server and its own name for the tool; absent for `tools:` entries. */
  server?: string;
  upstreamName?: string;
}

/** A call refused by policy (token patterns, filters, guardrails): never reached the upstream. */
export class ToolCallRefused extends Error {
  constructor(
    readonly kind: "permission" | "guardrail",
    message: string,
  ) {
    super(message);
  }
}

export interface GatewayOptions {
  /** Each upstream's connection attempt at start (and on reconnect). Default 10 s. */
  connectTimeoutMs?: number;
  /** How long listed tools/prompts/resources are reused. Default 60 s. */
  listTtlMs?: number;
  /** Overall deadline of one tool call. Default 10 minutes. */
  callTimeoutMs?: number;
  onStateChange?(status: UpstreamStatus): void;
}

/** What a downstream call passes through to the upstream (the gateway adds the timeout). */
export type CallContext = Pick<CallOptions, "signal" | "onprogress" | "relay">;

type Upstream = McpUpstream | RestUpstream;

/** Where a `tools:` entry's `skill` appears in tools/list: MCP `_meta`, under a prefix of our own as MCP requires. */
export const SKILL_META_KEY = "bitrouter/skill";

export class ToolGateway {
  #options: Required<Omit<GatewayOptions, "onStateChange">> & { onStateChange: GatewayOptions["onStateChange"] | undefined };
  #upstreams = new Map<string, Upstream>();
  #tools = new Map<string, NamedToolSpec>();
  #hooks: ToolCallHooks = {};
  #listeners = new Set<(kind: ListKind, server: string) => void>();
  #updateListeners = new Set<(server: string, uri: string) => void>();
  /** Downstream subscriptions per `server` + NUL + `uri`: the upstream is told on the first and the last. */
  #subscriptions = new Map<string, number>();
  #roundRobin = new Map<string, number>();

  constructor(options: GatewayOptions = {}) {
    this.#options = {
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      listTtlMs: options.listTtlMs ?? 60_000,
      callTimeoutMs: options.callTimeoutMs ?? 600_000,
      onStateChange: options.onStateChange,
    };
  }

  /**
   * Applies a configuration: new upstreams connect (in parallel, each bounded by the connect
   * timeout), removed ones close, changed ones are replaced; unchanged ones keep their connection.
   * Resolves once every new upstream connected or failed (a failed one keeps retrying).
   */
  async apply(spec: GatewaySpec, hooks: ToolCallHooks = {}): Promise<void> {
    this.#hooks = hooks;
    this.#tools = new Map(spec.tools.map((tool) => [tool.name, tool]));
    const wanted = new Map(spec.upstreams.map((upstream) => [upstream.name, upstream]));
    const closing: Promise<void>[] = [];
    for (const [name, upstream] of this.#upstreams) {
      const next = wanted.get(name);
      if (next && sameSpec(upstream.spec, next)) continue;
      this.#upstreams.delete(name);
      closing.push(upstream.close());
    }
    const starting: Promise<void>[] = [];
    for (const [name, next] of wanted) {
      if (this.#upstreams.has(name)) continue;
      const upstream = this.#create(next);
      this.#upstreams.set(name, upstream);
      if (upstream instanceof McpUpstream) starting.push(upstream.start());
    }
    await Promise.all([...closing, ...starting]);
    if (closing.length > 0 || starting.length > 0) for (const kind of ["tools", "prompts", "resources"] as const) this.#emit(kind, "*");
  }

  /** Called with (kind, server) when a list may have changed; server "*" means any. */
  onListChanged(listener: (kind: ListKind, server: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called with (server, the upstream's URI) when a subscribed resource changed. */
  onResourceUpdated(listener: (server: string, uri: string) => void): () => void {
    this.#updateListeners.add(listener);
    return () => this.#updateListeners.delete(listener);
  }

  status(): UpstreamStatus[] {
    return [...this.#upstreams.values()].map((u) => u.status()).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Pings every connected MCP upstream (in parallel) and returns the status. */
  async probe(): Promise<UpstreamStatus[]> {
    await Promise.allSettled([...this.#upstreams.values()].map((u) => (u instanceof McpUpstream && u.connected ? u.ping() : undefined)));
    return this.status();
  }

  /** Whether `/mcp/<name>` is served. */
  isBridge(name: string): boolean {
    const upstream = this.#upstreams.get(name);
    return upstream instanceof McpUpstream && upstream.spec.bridge;
  }

  /** Tools the caller may use in a scope, in a stable order (servers by name, then `tools:` entries). */
  async listTools(caller: ToolCaller, scope: Scope): Promise<ListedTool[]> {
    const out: ListedTool[] = [];
    const lists = await this.#eachMcp(scope, (u) => u.listTools());
    for (const [server, tools] of lists) {
      for (const tool of tools) {
        if (!this.#visible(caller, server, tool.name)) continue;
        const described = this.#hooks.describeTool ? this.#hooks.describeTool(server, tool) : tool;
        const name = scope.kind === "gateway" ? `${server}${NAME_SEPARATOR}${tool.name}` : tool.name;
        out.push({ server, upstreamName: tool.name, tool: { ...described, name } });
      }
    }
    if (scope.kind === "gateway") {
      for (const named of [...this.#tools.values()].sort((a, b) => a.name.localeCompare(b.name))) {
        if (!this.#namedAllowed(caller, named)) continue;
        out.push({ tool: await this.#describeNamed(named) });
      }
    }
    return out;
  }

  /** Tools hidden by the guardrails filter, per server (for `tools status`). */
  async hiddenCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [server, tools] of await this.#eachMcp({ kind: "gateway" }, (u) => u.listTools())) {
      out[server] = tools.filter((t) => this.#hooks.isToolAllowed && !this.#hooks.isToolAllowed(server, t.name)).length;
    }
    return out;
  }

  /** `meta`: the request's `_meta` (a payer's credential rides there, see ToolCallHooks.pay). */
  async callTool(
    caller: ToolCaller,
    scope: Scope,
    name: string,
    args: Record<string, unknown>,
    context: CallContext = {},
    meta?: Record<string, unknown>,
  ): Promise<CallToolResult> {
    const started = Date.now();
    const id = newRequestId();
    const counters: Record<string, number> = {};
    let attempts = 0;
    let last: { server: string; tool: string } | undefined;
    let payment: HeldPayment | undefined;
    const finish = (fields: Pick<ToolCallRecord, "status"> & Partial<ToolCallRecord>) => {
      const paid = payment?.paid;
      if (payment && !paid) payment.release(); // not answered: nothing is charged
      this.#hooks.onComplete?.({
        ...(paid ? { payment: paid } : {}),
        id,
        startedAt: started,
        latencyMs: Date.now() - started,
        caller,
        name,
        ...(last ? { server: last.server, tool: last.tool } : {}),
        attempts,
        guardrailViolations: counters.guardrail_violations ?? 0,
        ...fields,
      });
    };

    const target = this.#resolveTool(scope, name);
    last = target?.endpoints[0];
    if (!target || !last) {
      finish({ status: 404, errorKind: "not_found" });
      throw new McpError(ErrorCode.InvalidParams, `unknown tool "${name}"${scope.kind === "bridge" ? ` on MCP server "${scope.server}"` : ""}`);
    }
    const candidates = target.endpoints.filter((e) => !this.#hooks.isToolAllowed || this.#hooks.isToolAllowed(e.server, e.tool));
    const permitted = target.named ? this.#namedAllowed(caller, target.named) : this.#tokenAllows(caller, last.server, last.tool);
    if (!permitted || candidates.length === 0) {
      finish({ status: 403, errorKind: "permission" });
      const who = caller.principal?.keyId ? `key ${caller.principal.keyId}` : "this caller";
      throw new McpError(ErrorCode.InvalidParams, permitted ? `tool "${name}" is not allowed by the guardrails` : `${who} may not use tool "${name}"`);
    }

    const price = this.#hooks.pay ? this.#ceiling(target.named, candidates) : undefined;
    if (price !== undefined && price > 0) {
      try {
        payment = await this.#hooks.pay!({ requestId: id, caller, name, priceMicroUsd: price, meta });
      } catch (error) {
        finish({ status: 402, errorKind: "payment_required" });
        throw error;
      }
    }

    let lastError: unknown;
    for (const endpoint of this.#order(target.named, candidates)) {
      last = endpoint;
      const upstream = this.#upstreams.get(endpoint.server);
      const call: ToolCallContext = { requestId: id, caller, server: endpoint.server, tool: endpoint.tool, counters };
      let sent: Record<string, unknown>;
      try {
        sent = this.#hooks.beforeCall ? this.#hooks.beforeCall(call, args) : args;
      } catch (error) {
        if (!(error instanceof ToolCallRefused)) {
          finish({ status: 500, errorKind: "internal" }); // a hook's bug: still one ledger row
          throw error;
        }
        finish({ status: 400, errorKind: error.kind });
        return { isError: true, content: [{ type: "text", text: error.message }] };
      }
      attempts += 1;
      let result: CallToolResult;
      try {
        if (!upstream) throw new UpstreamUnavailable(endpoint.server, "not configured");
        const options = { timeoutMs: this.#options.callTimeoutMs, ...context };
        result =
          upstream instanceof McpUpstream ? await upstream.callTool(endpoint.tool, sent, options) : await upstream.callTool(endpoint.tool, sent, options);
      } catch (error) {
        lastError = error;
        if (context.signal?.aborted) {
          finish({ status: 499, errorKind: "cancelled" });
          throw error;
        }
        if (error instanceof UpstreamUnavailable || (error instanceof McpError && error.code === ErrorCode.RequestTimeout)) continue;
        finish({ status: 502, errorKind: "upstream_error" });
        throw error;
      }
      try {
        if (this.#hooks.afterCall) result = this.#hooks.afterCall(call, result);
      } catch (error) {
        if (!(error instanceof ToolCallRefused)) {
          finish({ status: 500, errorKind: "internal" }); // a hook's bug: still one ledger row
          throw error;
        }
        finish({ status: 400, errorKind: error.kind });
        return { isError: true, content: [{ type: "text", text: error.message }] };
      }
      const cost = result.isError ? undefined : this.#price(target.named, endpoint);
      if (payment && !result.isError) {
        try {
          result = await payment.settle(result);
        } catch (error) {
          finish({ status: 402, errorKind: "payment_required" });
          throw error;
        }
      }
      finish({ status: 200, ...(result.isError ? { errorKind: "tool_error" } : {}), ...(cost === undefined ? {} : { costMicroUsd: cost }) });
      return result;
    }
    finish({ status: 503, errorKind: "upstream_unavailable" });
    throw new McpError(ErrorCode.InternalError, lastError instanceof Error ? lastError.message : `no MCP server could take tool "${name}"`);
  }

  async listPrompts(scope: Scope): Promise<Prompt[]> {
    const out: Prompt[] = [];
    for (const [server, prompts] of await this.#eachMcp(scope, (u) => u.listPrompts())) {
      for (const prompt of prompts) out.push(scope.kind === "gateway" ? { ...prompt, name: `${server}${NAME_SEPARATOR}${prompt.name}` } : prompt);
    }
    return out;
  }

  async getPrompt(scope: Scope, name: string, args: Record<string, string> | undefined, context: CallContext): Promise<GetPromptResult> {
    const target = this.#split(scope, name, NAME_SEPARATOR);
    if (!target) throw new McpError(ErrorCode.InvalidParams, `unknown prompt "${name}"`);
    return this.#mcp(target.server).getPrompt(target.rest, args, context);
  }

  async listResources(scope: Scope): Promise<Resource[]> {
    const out: Resource[] = [];
    for (const [server, resources] of await this.#eachMcp(scope, (u) => u.listResources())) {
      for (const resource of resources) out.push(scope.kind === "gateway" ? { ...resource, uri: `${RESOURCE_PREFIX}${server}/${resource.uri}` } : resource);
    }
    return out;
  }

  async listResourceTemplates(scope: Scope): Promise<ResourceTemplate[]> {
    const out: ResourceTemplate[] = [];
    for (const [server, templates] of await this.#eachMcp(scope, (u) => u.listResourceTemplates())) {
      for (const template of templates) {
        out.push(scope.kind === "gateway" ? { ...template, uriTemplate: `${RESOURCE_PREFIX}${server}/${template.uriTemplate}` } : template);
      }
    }
    return out;
  }

  async readResource(scope: Scope, uri: string, context: CallContext): Promise<ReadResourceResult> {
    if (scope.kind === "bridge") return this.#mcp(scope.server).readResource(uri, context);
    const target = uri.startsWith(RESOURCE_PREFIX) ? this.#split(scope, uri.slice(RESOURCE_PREFIX.length), "/") : undefined;
    if (!target) throw new McpError(ErrorCode.InvalidParams, `unknown resource "${uri}": gateway resource URIs are ${RESOURCE_PREFIX}<server>/<uri>`);
    const result = await this.#mcp(target.server).readResource(target.rest, context);
    const prefix = `${RESOURCE_PREFIX}${target.server}/`;
    return { ...result, contents: result.contents.map((c) => ({ ...c, uri: `${prefix}${c.uri}` })) };
  }

  /** Argument completion for a prompt or resource template, by the scope's names. */
  async complete(scope: Scope, params: CompleteRequest["params"], context: CallContext): Promise<CompleteResult> {
    const ref = params.ref;
    const target =
      ref.type === "ref/prompt"
        ? this.#split(scope, ref.name, NAME_SEPARATOR)
        : scope.kind === "bridge"
          ? { server: scope.server, rest: ref.uri }
          : ref.uri.startsWith(RESOURCE_PREFIX)
            ? this.#split(scope, ref.uri.slice(RESOURCE_PREFIX.length), "/")
            : undefined;
    if (!target) throw new McpError(ErrorCode.InvalidParams, `unknown ${ref.type === "ref/prompt" ? `prompt "${ref.name}"` : `resource "${ref.uri}"`}`);
    const upstreamRef = ref.type === "ref/prompt" ? { ...ref, name: target.rest } : { ...ref, uri: target.rest };
    return this.#mcp(target.server).complete({ ...params, ref: upstreamRef }, context);
  }

  /** Subscribes to (or unsubscribes from) a resource by the scope's URI; returns the server and its own URI. */
  async subscribe(scope: Scope, uri: string, subscribe: boolean): Promise<{ server: string; uri: string }> {
    const target =
      scope.kind === "bridge"
        ? { server: scope.server, rest: uri }
        : uri.startsWith(RESOURCE_PREFIX)
          ? this.#split(scope, uri.slice(RESOURCE_PREFIX.length), "/")
          : undefined;
    if (!target) throw new McpError(ErrorCode.InvalidParams, `unknown resource "${uri}"`);
    const key = `${target.server}\0${target.rest}`;
    const count = this.#subscriptions.get(key) ?? 0;
    const next = Math.max(0, count + (subscribe ? 1 : -1));
    if (next === 0) this.#subscriptions.delete(key);
    else this.#subscriptions.set(key, next);
    if ((subscribe && count === 0) || (!subscribe && count === 1)) await this.#mcp(target.server).subscribe(target.rest, subscribe);
    return { server: target.server, uri: target.rest };
  }

  async close(): Promise<void> {
    const all = [...this.#upstreams.values()];
    this.#upstreams.clear();
    this.#listeners.clear();
    await Promise.all(all.map((u) => u.close()));
  }

  // ── internals ──────────────────────────────────────────────────────

  #create(spec: UpstreamSpec): Upstream {
    if (spec.kind === "rest") return new RestUpstream(spec);
    return new McpUpstream(spec, {
      connectTimeoutMs: this.#options.connectTimeoutMs,
      listTtlMs: this.#options.listTtlMs,
      onListChanged: (kind) => this.#emit(kind, spec.name),
      onResourceUpdated: (uri) => {
        for (const listener of this.#updateListeners) listener(spec.name, uri);
      },
      ...(this.#options.onStateChange ? { onStateChange: this.#options.onStateChange } : {}),
    });
  }

  #emit(kind: ListKind, server: string): void {
    for (const listener of this.#listeners) listener(kind, server);
  }

  /** The MCP upstreams of a scope, each with its list (an unreachable one is left out, never waited on). */
  async #eachMcp<T>(scope: Scope, list: (u: McpUpstream) => Promise<T[]>): Promise<[string, T[]][]> {
    const upstreams = [...this.#upstreams.values()]
      .filter((u): u is McpUpstream => u instanceof McpUpstream && (scope.kind === "gateway" || u.name === scope.server))
      .sort((a, b) => a.name.localeCompare(b.name));
    const settled = await Promise.allSettled(upstreams.map((u) => list(u)));
    const out: [string, T[]][] = [];
    settled.forEach((result, i) => {
      const upstream = upstreams[i];
      if (result.status === "fulfilled" && upstream) out.push([upstream.name, result.value]);
    });
    return out;
  }

  #mcp(server: string): McpUpstream {
    const upstream = this.#upstreams.get(server);
    if (!(upstream instanceof McpUpstream)) throw new McpError(ErrorCode.InvalidParams, `unknown MCP server "${server}"`);
    return upstream;
  }

  /** `<server><sep><rest>` with the longest configured server name that fits (names may contain the separator). */
  #split(scope: Scope, name: string, separator: string): { server: string; rest: string } | undefined {
    if (scope.kind === "bridge") return { server: scope.server, rest: name };
    let best: string | undefined;
    for (const server of this.#upstreams.keys()) {
      if (name.startsWith(`${server}${separator}`) && name.length > server.length + separator.length && (!best || server.length > best.length)) best = server;
    }
    return best === undefined ? undefined : { server: best, rest: name.slice(best.length + separator.length) };
  }

  #resolveTool(scope: Scope, name: string): { endpoints: { server: string; tool: string }[]; named?: NamedToolSpec } | undefined {
    if (scope.kind === "gateway") {
      const named = this.#tools.get(name);
      if (named) return { named, endpoints: named.endpoints.map((e) => ({ server: e.provider, tool: e.serviceId })) };
    }
    const split = this.#split(scope, name, NAME_SEPARATOR);
    return split ? { endpoints: [{ server: split.server, tool: split.rest }] } : undefined;
  }

  #order<E>(named: NamedToolSpec | undefined, endpoints: E[]): E[] {
    if (!named || named.strategy !== "load_balance" || endpoints.length < 2) return endpoints;
    const n = this.#roundRobin.get(named.name) ?? 0;
    this.#roundRobin.set(named.name, n + 1);
    const start = n % endpoints.length;
    return [...endpoints.slice(start), ...endpoints.slice(0, start)];
  }

  /** Token patterns name upstream tools `server/tool` (the `--tools` flag of keygen). */
  #tokenAllows(caller: ToolCaller, server: string, tool: string): boolean {
    return !caller.mayUse || caller.mayUse(`${server}/${tool}`);
  }

  #visible(caller: ToolCaller, server: string, tool: string): boolean {
    return this.#tokenAllows(caller, server, tool) && (!this.#hooks.isToolAllowed || this.#hooks.isToolAllowed(server, tool));
  }

  /** A `tools:` entry is matched by its own name, or by any of its endpoints' `server/tool`. */
  #namedAllowed(caller: ToolCaller, named: NamedToolSpec): boolean {
    const allowedEndpoint = named.endpoints.some((e) => !this.#hooks.isToolAllowed || this.#hooks.isToolAllowed(e.provider, e.serviceId));
    if (!allowedEndpoint) return false;
    if (!caller.mayUse) return true;
    return caller.mayUse(named.name) || named.endpoints.some((e) => this.#tokenAllows(caller, e.provider, e.serviceId));
  }

  async #describeNamed(named: NamedToolSpec): Promise<Tool> {
    let upstreamTool: Tool | undefined;
    if (!named.description || !named.inputSchema) {
      const first = named.endpoints[0];
      const upstream = first && this.#upstreams.get(first.provider);
      if (first && upstream instanceof McpUpstream && upstream.connected) {
        upstreamTool = (await upstream.listTools().catch(() => [] as Tool[])).find((t) => t.name === first.serviceId);
        if (upstreamTool && this.#hooks.describeTool) upstreamTool = this.#hooks.describeTool(first.provider, upstreamTool);
      }
    }
    const description = named.description ?? upstreamTool?.description;
    return {
      name: named.name,
      ...(description ? { description } : {}),
      inputSchema: (named.inputSchema ?? upstreamTool?.inputSchema ?? { type: "object" }) as Tool["inputSchema"],
      ...(named.skill ? { _meta: { [SKILL_META_KEY]: named.skill } } : {}),
    };
  }

  /** The most a call can cost in micro-USD: the highest price among its endpoints (undefined: free). */
  #ceiling(named: NamedToolSpec | undefined, endpoints: readonly { server: string; tool: string }[]): number | undefined {
    const prices = endpoints.map((endpoint) => this.#price(named, endpoint)).filter((p): p is number => p !== undefined);
    return prices.length === 0 ? undefined : Math.max(...prices);
  }

  /**
   * Price of one answered call in micro-USD: the `tools:` entry's override for the service id,
   * else its default. A direct `server__tool` call is priced by the entry that names that endpoint.
   */
  #price(named: NamedToolSpec | undefined, endpoint: { server: string; tool: string }): number | undefined {
    const entry =
      named ?? [...this.#tools.values()].find((t) => t.pricing && t.endpoints.some((e) => e.provider === endpoint.server && e.serviceId === endpoint.tool));
    const pricing = entry?.pricing;
    if (!pricing) return undefined;
    const usd = pricing.overrides?.[endpoint.tool] ?? pricing.default;
    return usd === undefined ? undefined : Math.round(usd * 1_000_000);
  }
}

function sameSpec(a: UpstreamSpec, b: UpstreamSpec): boolean {
  // Another token supplier signs for another account: reconnect with it.
  return JSON.stringify(a) === JSON.stringify(b) && a.bearerToken === b.bearerToken;
}
