/**
 * One upstream MCP server, behind the official SDK client: connects (with a timeout), caches its
 * lists for a TTL, reconnects with backoff when the connection drops or a call finds it gone, and
 * relays the server's own requests (sampling, elicitation, roots) and notifications (logging) to
 * the downstream session whose call is in flight.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  CreateMessageResultSchema,
  ElicitRequestSchema,
  ElicitResultSchema,
  ErrorCode,
  ListRootsRequestSchema,
  ListRootsResultSchema,
  LoggingMessageNotificationSchema,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type {
  CallToolResult,
  CompleteRequest,
  CompleteResult,
  GetPromptResult,
  Prompt,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  ServerNotification,
  ServerRequest,
  Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { HttpClientTransport } from "./http-transport.js";
import type { McpUpstreamSpec } from "./types.js";
import { VERSION } from "./version.js";
import { scrub, secretsOf } from "./scrub.js";

export type ListKind = "tools" | "prompts" | "resources";

export interface UpstreamStatus {
  name: string;
  transport: "http" | "stdio" | "rest";
  state: "connecting" | "connected" | "failed" | "closed";
  /** Why the last connection attempt or the connection failed. */
  error?: string;
  /** Tools the upstream lists (before filters), when known. */
  tools?: number;
  /** Round trip of the last ping, in milliseconds. */
  lastPingMs?: number;
  bridge: boolean;
}

/** The downstream side of one call in flight: where the upstream's own requests go. */
export interface Relay {
  sendRequest(request: ServerRequest, kind: "sampling" | "elicitation" | "roots"): Promise<unknown>;
  sendNotification(notification: ServerNotification): Promise<void>;
}

export interface UpstreamOptions {
  connectTimeoutMs: number;
  listTtlMs: number;
  /** A list changed upstream (its notification, or a reconnect). */
  onListChanged(kind: ListKind): void;
  onStateChange?(status: UpstreamStatus): void;
  /** A subscribed resource changed upstream. */
  onResourceUpdated?(uri: string): void;
}

/** The upstream is not connected (or dropped during the call): the call never reached a tool. */
export class UpstreamUnavailable extends Error {
  constructor(
    readonly upstream: string,
    reason: string,
  ) {
    super(`MCP server "${upstream}" is unavailable: ${reason}`);
  }
}

const RECONNECT_MIN_MS = 500;
/** How much of a local server's stderr is kept to explain why it stopped. */
const STDERR_TAIL_CHARS = 2000;
const RECONNECT_MAX_MS = 30_000;

interface Cached<T> {
  value: T;
  at: number;
}

export class McpUpstream {
  readonly name: string;
  readonly spec: McpUpstreamSpec;
  #options: UpstreamOptions;
  #client: Client | undefined;
  #state: UpstreamStatus["state"] = "connecting";
  #error: string | undefined;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #connecting: Promise<void> | undefined;
  #lists = new Map<ListKind | "templates", Cached<unknown[]>>();
  #lastPingMs: number | undefined;
  /** Calls in flight, newest last: the upstream's own requests go to the newest one's session. */
  #relays: Relay[] = [];
  readonly #secrets: string[];
  /** The end of a local server's stderr (its last words, when it fails). */
  #stderrTail = "";

  constructor(spec: McpUpstreamSpec, options: UpstreamOptions) {
    this.name = spec.name;
    this.spec = spec;
    this.#options = options;
    this.#secrets = [...secretsOf(spec.headers), ...secretsOf(spec.env ?? {})];
  }

  /** Connects (bounded by connectTimeoutMs); never rejects: a failure is the status, and a retry is scheduled. */
  start(): Promise<void> {
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  status(): UpstreamStatus {
    const tools = this.#lists.get("tools")?.value.length;
    return {
      name: this.name,
      transport: this.spec.command ? "stdio" : "http",
      state: this.#state,
      ...(this.#error ? { error: this.#error } : {}),
      ...(tools === undefined ? {} : { tools }),
      ...(this.#lastPingMs === undefined ? {} : { lastPingMs: this.#lastPingMs }),
      bridge: this.spec.bridge,
    };
  }

  get connected(): boolean {
    return this.#state === "connected";
  }

  capabilities() {
    return this.#client?.getServerCapabilities();
  }

  async listTools(): Promise<Tool[]> {
    return this.#list("tools", async (client) => {
      const out: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : {});
        out.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    });
  }

  async listPrompts(): Promise<Prompt[]> {
    if (!this.capabilities()?.prompts) return [];
    return this.#list("prompts", async (client) => {
      const out: Prompt[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listPrompts(cursor ? { cursor } : {});
        out.push(...page.prompts);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    });
  }

  async listResources(): Promise<Resource[]> {
    if (!this.capabilities()?.resources) return [];
    return this.#list("resources", async (client) => {
      const out: Resource[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listResources(cursor ? { cursor } : {});
        out.push(...page.resources);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    });
  }

  async listResourceTemplates(): Promise<ResourceTemplate[]> {
    if (!this.capabilities()?.resources) return [];
    return this.#list("templates", async (client) => {
      const out: ResourceTemplate[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listResourceTemplates(cursor ? { cursor } : {});
        out.push(...page.resourceTemplates);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    });
  }

  async callTool(tool: string, args: Record<string, unknown>, options: CallOptions): Promise<CallToolResult> {
    return this.#withRelay(
      options,
      (client) => client.callTool({ name: tool, arguments: args }, CallToolResultSchema, requestOptions(options)) as Promise<CallToolResult>,
    );
  }

  async getPrompt(name: string, args: Record<string, string> | undefined, options: CallOptions): Promise<GetPromptResult> {
    return this.#withRelay(options, (client) => client.getPrompt({ name, ...(args ? { arguments: args } : {}) }, requestOptions(options)));
  }

  async readResource(uri: string, options: CallOptions): Promise<ReadResourceResult> {
    return this.#withRelay(options, (client) => client.readResource({ uri }, requestOptions(options)));
  }

  async complete(params: CompleteRequest["params"], options: CallOptions): Promise<CompleteResult> {
    if (!this.capabilities()?.completions) return { completion: { values: [] } };
    return this.#withRelay(options, (client) => client.complete(params, requestOptions(options)));
  }

  async subscribe(uri: string, subscribe: boolean): Promise<void> {
    const client = this.#ready();
    await this.#guard(client, () => (subscribe ? client.subscribeResource({ uri }) : client.unsubscribeResource({ uri })));
  }

  /** Pings the upstream; records and returns the round trip in milliseconds. */
  async ping(): Promise<number> {
    const client = this.#ready();
    const started = performance.now();
    await this.#guard(client, () => client.ping({ timeout: this.#options.connectTimeoutMs }));
    this.#lastPingMs = Math.round((performance.now() - started) * 10) / 10;
    return this.#lastPingMs;
  }

  async close(): Promise<void> {
    this.#state = "closed";
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => {});
  }

  // ── internals ──────────────────────────────────────────────────────

  async #connect(): Promise<void> {
    if (this.#state === "closed") return;
    const client = new Client({ name: "bitrouter", version: VERSION }, { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } });
    this.#installRelays(client);
    try {
      await client.connect(this.#transport(), { timeout: this.#options.connectTimeoutMs });
    } catch (error) {
      await client.close().catch(() => {});
      this.#fail(scrub(describe(error), this.#secrets));
      return;
    }
    if (this.#isClosed()) {
      await client.close().catch(() => {}); // closed while connecting
      return;
    }
    client.onclose = () => {
      if (this.#client === client) this.#fail("connection closed");
    };
    const wasConnectedBefore = this.#failures > 0 || this.#lists.size > 0;
    this.#client = client;
    this.#state = "connected";
    this.#error = undefined;
    this.#failures = 0;
    this.#lists.clear();
    this.#options.onStateChange?.(this.status());
    // A server that came back may list other tools than before.
    if (wasConnectedBefore) for (const kind of ["tools", "prompts", "resources"] as const) this.#options.onListChanged(kind);
  }

  #isClosed(): boolean {
    return this.#state === "closed";
  }

  #transport(): Transport {
    const spec = this.spec;
    if (spec.command) {
      const transport = new StdioClientTransport({
        command: spec.command,
        ...(spec.args ? { args: spec.args } : {}),
        // The SDK passes only a safe default environment unless told otherwise: keep it, add the configured one.
        env: { ...getDefaultEnvironment(), ...spec.env },
        ...(spec.cwd ? { cwd: spec.cwd } : {}),
        stderr: "pipe",
      });
      this.#stderrTail = "";
      transport.stderr?.on("data", (chunk: Buffer) => {
        this.#stderrTail = (this.#stderrTail + chunk.toString()).slice(-STDERR_TAIL_CHARS);
      });
      return transport;
    }
    const { bearerToken } = spec;
    return new HttpClientTransport(new URL(spec.url as string), { headers: spec.headers, ...(bearerToken ? { bearerToken } : {}) });
  }

  #fail(failure: string): void {
    if (this.#state === "closed") return;
    // A local server usually says on stderr why it stopped: its last line goes with the reason.
    const lastWords = this.#stderrTail.trim().split("\n").at(-1)?.trim();
    const reason = lastWords ? `${failure} (stderr: ${scrub(lastWords, this.#secrets).slice(0, 300)})` : failure;
    const client = this.#client;
    this.#client = undefined;
    if (client) void client.close().catch(() => {});
    this.#state = "failed";
    this.#error = reason;
    this.#failures += 1;
    this.#options.onStateChange?.(this.status());
    clearTimeout(this.#retryTimer);
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(this.#failures - 1, 10));
    this.#retryTimer = setTimeout(() => void this.start(), delay);
    this.#retryTimer.unref();
  }

  #ready(): Client {
    if (this.#client && this.#state === "connected") return this.#client;
    // A caller should not wait for the whole backoff when the server may be back: try now.
    if (this.#state === "failed" && !this.#connecting) {
      clearTimeout(this.#retryTimer);
      void this.start();
    }
    throw new UpstreamUnavailable(this.name, this.#error ?? "not connected yet");
  }

  /** Runs an operation; a transport failure (not an answer from the server) marks the upstream down. */
  async #guard<T>(client: Client, run: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (signal?.aborted) throw error; // the caller cancelled: the upstream is fine
      if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed) {
        throw new McpError(error.code, scrub(error.message.replace(/^MCP error -?\d+: /, ""), this.#secrets), error.data);
      }
      const reason = scrub(describe(error), this.#secrets);
      if (this.#client === client) this.#fail(reason);
      throw new UpstreamUnavailable(this.name, reason);
    }
  }

  async #list<T>(kind: ListKind | "templates", fetch: (client: Client) => Promise<T[]>): Promise<T[]> {
    const cached = this.#lists.get(kind);
    if (cached && Date.now() - cached.at < this.#options.listTtlMs) return cached.value as T[];
    const client = this.#ready();
    const value = await this.#guard(client, () => fetch(client));
    if (this.#client === client) this.#lists.set(kind, { value, at: Date.now() });
    return value;
  }

  async #withRelay<T>(options: CallOptions, run: (client: Client) => Promise<T>): Promise<T> {
    const client = this.#ready();
    const relay = options.relay;
    if (relay) this.#relays.push(relay);
    try {
      return await this.#guard(client, () => run(client), options.signal);
    } finally {
      if (relay) this.#relays.splice(this.#relays.lastIndexOf(relay), 1);
    }
  }

  #installRelays(client: Client): void {
    const relayTo = (kind: "sampling" | "elicitation" | "roots") => {
      const relay = this.#relays.at(-1);
      if (!relay) throw new McpError(ErrorCode.InvalidRequest, `no client session to relay ${kind} to: no call to "${this.name}" is in flight`);
      return relay;
    };
    client.setRequestHandler(CreateMessageRequestSchema, async (request) =>
      CreateMessageResultSchema.parse(await relayTo("sampling").sendRequest(request, "sampling")),
    );
    client.setRequestHandler(ElicitRequestSchema, async (request) =>
      ElicitResultSchema.parse(await relayTo("elicitation").sendRequest(request, "elicitation")),
    );
    client.setRequestHandler(ListRootsRequestSchema, async (request) => ListRootsResultSchema.parse(await relayTo("roots").sendRequest(request, "roots")));
    client.setNotificationHandler(LoggingMessageNotificationSchema, async (notification) => {
      await this.#relays.at(-1)?.sendNotification(notification);
    });
    const changed = (kind: ListKind) => () => {
      this.#lists.delete(kind);
      if (kind === "resources") this.#lists.delete("templates");
      this.#options.onListChanged(kind);
    };
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (notification) => {
      this.#options.onResourceUpdated?.(notification.params.uri);
    });
    client.setNotificationHandler(ToolListChangedNotificationSchema, changed("tools"));
    client.setNotificationHandler(PromptListChangedNotificationSchema, changed("prompts"));
    client.setNotificationHandler(ResourceListChangedNotificationSchema, changed("resources"));
  }
}

export interface CallOptions {
  signal?: AbortSignal;
  /** The downstream caller's progress token: upstream progress is forwarded under it. */
  onprogress?: RequestOptions["onprogress"];
  relay?: Relay;
  /** Overall deadline of the call, in milliseconds. */
  timeoutMs?: number;
}

function requestOptions(options: CallOptions): RequestOptions {
  return {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onprogress ? { onprogress: options.onprogress, resetTimeoutOnProgress: true } : {}),
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
