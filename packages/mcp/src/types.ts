/** The plain shapes the gateway is built from (see `specFromConfig` for how bitrouter.yaml maps to them). */
import type { Principal, RequestPayment } from "@bitrouter/core";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";

/** An upstream MCP server: Streamable HTTP (`url`) or a local child process over stdio (`command`). */
export interface McpUpstreamSpec {
  kind: "mcp";
  name: string;
  url?: string;
  /** Sent with every HTTP request (credentials included). */
  headers: Record<string, string>;
  /** Supplies the `Authorization: Bearer` token of each HTTP request (`auth: {type: wallet}`); it caches the token itself. */
  bearerToken?: () => Promise<string>;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Also served alone at `/mcp/<name>`. */
  bridge: boolean;
}

/** A plain-HTTP tool provider: a call is `POST {url}/{service_id}` with the JSON arguments. */
export interface RestUpstreamSpec {
  kind: "rest";
  name: string;
  url: string;
  headers: Record<string, string>;
  /** As McpUpstreamSpec.bearerToken. */
  bearerToken?: () => Promise<string>;
}

export type UpstreamSpec = McpUpstreamSpec | RestUpstreamSpec;

/** A `tools:` entry: a named tool calling `service_id` on its endpoints in strategy order. */
export interface NamedToolSpec {
  name: string;
  strategy: "priority" | "load_balance";
  endpoints: { provider: string; serviceId: string }[];
  description?: string;
  inputSchema?: Record<string, unknown>;
  /** The agent skill that teaches a client to use this tool: listed as `_meta["bitrouter/skill"]`. */
  skill?: string;
  pricing?: { default?: number; overrides?: Record<string, number> };
}

export interface GatewaySpec {
  upstreams: UpstreamSpec[];
  tools: NamedToolSpec[];
}

/** Who is calling: the verified principal (none in open mode) and what its token allows. */
export interface ToolCaller {
  principal?: Principal;
  /**
   * The token's `tools` patterns: whether it may use `server/tool` (an upstream tool) or a
   * `tools:` entry's name. Absent: every tool.
   */
  mayUse?(tool: string): boolean;
}

/** One tool call, as the gateway reports it once it ended (the ledger row). */
export interface ToolCallRecord {
  id: string;
  /** Epoch milliseconds. */
  startedAt: number;
  latencyMs: number;
  caller: ToolCaller;
  /** The name the caller used (`server__tool`, a `tools:` name, or the upstream's own name on a bridge). */
  name: string;
  /** The upstream server that answered (or was last tried). */
  server?: string;
  /** The upstream's own tool name. */
  tool?: string;
  /** 200 answered (isError results included), 4xx refused, 5xx upstream failure. */
  status: number;
  /** Set when the call failed or the tool reported an error (`tool_error`). */
  errorKind?: string;
  /** Integer micro-USD from the `tools:` pricing (charged when the tool answered without isError). */
  costMicroUsd?: number;
  /** What the caller paid for the call (see ToolCallHooks.pay), once the money moved. */
  payment?: RequestPayment;
  attempts: number;
  guardrailViolations: number;
}

/** What the host plugs in: guardrails on the way up and down, and the ledger. */
export interface ToolCallHooks {
  /** Whether `tool` of `server` is visible and callable at all (`guardrails.tools` filter). */
  isToolAllowed?(server: string, tool: string): boolean;
  /** Adjusts a listed tool (e.g. removes denied parameters from its schema). */
  describeTool?(server: string, tool: Tool): Tool;
  /**
   * Before a call leaves: returns the arguments to send (stripped / redacted), or throws a
   * `ToolCallRefused` to block it. `counters.guardrail_violations` ends up in the record.
   */
  beforeCall?(call: ToolCallContext, args: Record<string, unknown>): Record<string, unknown>;
  /** The answer on its way back (scan / redact); may throw `ToolCallRefused`. */
  afterCall?(call: ToolCallContext, result: CallToolResult): CallToolResult;
  /**
   * Before a priced call's first attempt (`tools:` pricing): holds the caller's payment for
   * `priceMicroUsd` (the highest price among the call's endpoints), or throws the error to answer
   * (e.g. a JSON-RPC error asking for payment). Free calls (no price) skip it.
   */
  pay?(call: { requestId: string; caller: ToolCaller; name: string; priceMicroUsd: number; meta: Record<string, unknown> | undefined }): Promise<HeldPayment>;
  /** After the call ended. Must not throw or block. */
  onComplete?(record: ToolCallRecord): void;
}

/** A payment held for one tool call (see ToolCallHooks.pay). */
export interface HeldPayment {
  /** The tool answered (without isError): settle, and return the result to send (with a receipt); may throw. */
  settle(result: CallToolResult): Promise<CallToolResult>;
  /** The call failed or the tool reported an error: nothing is charged. */
  release(): void;
  /** Set once the money moved (the ledger row). */
  readonly paid: RequestPayment | undefined;
}

export interface ToolCallContext {
  requestId: string;
  caller: ToolCaller;
  server: string;
  tool: string;
  counters: Record<string, number>;
}
