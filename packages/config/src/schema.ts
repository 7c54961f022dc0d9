// The bitrouter.yaml schema. Field names mirror the YAML (snake_case). Every object is strict:
// an unknown key is reported (with the nearest valid key) instead of being silently dropped.
import { CUSTOM_PATTERN_DIRECTIONS, GUARDRAIL_ACTIONS, type GuardrailsConfig, LOG_LEVELS, type LogLevel, PARAM_RESTRICTION_ACTIONS } from "@bitrouter/core";
import {
  API_PROTOCOLS,
  MODALITIES,
  type ApiProtocolName,
  type ModelDefinition,
  type PricingDefinition,
  type ProviderDefinition,
  type UpstreamCodec,
} from "@bitrouter/providers/define";
import bytes from "bytes";
import ms from "ms";
import { z } from "zod";

/** Numbers may be written as strings (`default_deposit: "5000000"`, or a `${VAR}` that became one). */
function numberish<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => {
    if (typeof value === "string" && /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(value)) return Number(value);
    return value;
  }, schema);
}

/** Booleans may be written as "true"/"false" strings (e.g. from `${VAR}`). */
function booleanish() {
  return z.preprocess((value) => {
    if (value === "true") return true;
    if (value === "false") return false;
    return value;
  }, z.boolean());
}

// `.describe()` / `.meta({ description, default })` feed docs/reference/configuration.md (pnpm docs:build).
// `default` there is documentation only: defaults are settled in resolve.ts.
const count = () => numberish(z.number().int().nonnegative());
const price = () => numberish(z.number().nonnegative());
const bool = () => booleanish();

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

const httpUrl = () => z.string().refine(isHttpUrl, { message: "expected an http:// or https:// URL" });

/** `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListen(listen: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]*)):(\d{1,5})$/.exec(listen.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

export { API_PROTOCOLS, MODALITIES };
export const STRATEGIES = ["priority", "load_balance"] as const;

export const DEFAULT_LISTEN = "127.0.0.1:8787";
export const DEFAULT_CONTROL_SOCKET = "bitrouter.sock";
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10 * 60 * 1000;
/** Streams' response heads come at once from healthy upstreams (generation follows): a minute is generous. */
export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 60 * 1000;
export const DEFAULT_RESPONSE_LIMIT = 64 * 1024 * 1024;

/** `10mb`, `512kb`, `1048576` (binary units: 1mb = 1 MiB). */
const bodyLimit = () =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const parsed = typeof value === "number" ? value : bytes.parse(value);
    if (typeof parsed !== "number" || !Number.isInteger(parsed) || parsed <= 0) {
      ctx.addIssue({ code: "custom", message: 'expected a size such as "10mb", "512kb" or a number of bytes' });
      return z.NEVER;
    }
    return parsed;
  });

/** `60s`, `10m`, `500ms`, `1h`; a bare number is milliseconds. Resolves to milliseconds. */
const duration = () =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const parsed = typeof value === "number" ? value : ms(value as ms.StringValue);
    if (typeof parsed !== "number" || !Number.isFinite(parsed) || parsed <= 0) {
      ctx.addIssue({ code: "custom", message: 'expected a duration such as "60s", "10m", "500ms" or a number of milliseconds' });
      return z.NEVER;
    }
    return Math.round(parsed);
  });

// ── Server / database ────────────────────────────────────────────────

export const ServerSchema = z
  .strictObject({
    listen: z
      .string()
      .refine((v) => parseListen(v) !== undefined, { message: 'expected "host:port", e.g. "127.0.0.1:8787"' })
      .optional()
      .meta({ description: "Address the server listens on: host:port, [v6]:port, or :port (all interfaces).", default: "127.0.0.1:8787" }),
    log_level: z.enum(LOG_LEVELS).optional().meta({ description: "Lowest level of the log lines written.", default: "info" }),
    control: z
      .strictObject({
        socket: z
          .string()
          .optional()
          .meta({ description: "The daemon's control socket: relative to the run dir, an absolute path is used as is.", default: "bitrouter.sock" }),
      })
      .optional()
      .describe("Daemon control (bitrouter stop, reload, status)."),
    /** Our extension: largest accepted request body. Default 10 MiB. */
    body_limit: bodyLimit()
      .optional()
      .meta({ description: 'Largest accepted request body: a number of bytes or a size such as "512kb", "10mb" (1mb = 1 MiB).', default: "10mb" }),
    /** Our extension: overall deadline of one request, failovers included. Default 10 minutes. */
    request_timeout: duration()
      .optional()
      .meta({ description: 'Deadline of one request, failovers included: "500ms", "60s", "10m", "1h", or a number of milliseconds.', default: "10m" }),
    /** Our extension: per attempt, the longest wait for a stream's response head before failing over. Default 60 s. */
    first_byte_timeout: duration().optional().meta({
      description: "Per attempt of a streamed request, the longest wait for the response head before failing over; at most request_timeout.",
      default: "60s",
    }),
    /** Our extension: largest non-stream upstream answer read. Default 64 MiB. */
    response_limit: bodyLimit()
      .optional()
      .meta({ description: "Largest non-streamed upstream answer read; a larger one is answered 502 response_too_large.", default: "64mb" }),
    /** Our extension: web origins allowed to call from a browser (CORS). Default none. */
    cors_origins: z
      .array(
        z
          .string()
          .refine((v) => webOrigin(v) === v, { message: 'expected a web origin such as "https://app.example.com" (scheme, host and optional port; no path)' }),
      )
      .optional()
      .meta({ description: 'Web origins allowed to call from a browser (CORS), e.g. "https://app.example.com".', default: [] }),
  })
  .superRefine((server, ctx) => {
    const overall = server.request_timeout ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (server.first_byte_timeout !== undefined && server.first_byte_timeout > overall) {
      ctx.addIssue({ code: "custom", path: ["first_byte_timeout"], message: `must not exceed request_timeout (${overall} ms): it is a slice of it` });
    }
  });

/** The canonical origin of a URL string (scheme://host[:port]), or undefined if it is not a plain http(s) origin. */
export function webOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.username || url.password) return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

export const DatabaseSchema = z.strictObject({
  url: z.string().optional().meta({
    description: "Database URL: sqlite://, postgres:// or mysql://. BITROUTER_DATABASE_URL and --db override it.",
    default: "sqlite://<home>/bitrouter.db?mode=rwc",
  }),
});

/**
 * Our extension: OpenTelemetry traces exported over OTLP/HTTP. Off unless `enabled: true` or the
 * standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT variable is set (`enabled: false` wins over it).
 */
export const TracingSchema = z.strictObject({
  enabled: bool().optional().describe("Export traces. Default: on when endpoint or OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set; false wins over them."),
  /** The OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces (default: from OTEL_*). */
  endpoint: httpUrl()
    .optional()
    .meta({ description: "The OTLP/HTTP traces URL.", default: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces" }),
  service_name: z.string().min(1).optional().meta({ description: "Service name on the traces.", default: "OTEL_SERVICE_NAME, else bitrouter" }),
});

// ── Providers and their model catalog ────────────────────────────────

export const PricingSchema = z.strictObject({
  input_tokens: z
    .strictObject({
      no_cache: price().optional().describe("USD per million uncached input tokens."),
      cache_read: price().optional().describe("USD per million input tokens read from the cache (falls back to no_cache)."),
      cache_write: price().optional().describe("USD per million input tokens written to the cache (falls back to no_cache)."),
    })
    .optional()
    .describe("Input prices: cached tokens are part of the input."),
  output_tokens: z
    .strictObject({
      text: price().optional().describe("USD per million output tokens."),
      reasoning: price().optional().describe("USD per million reasoning tokens (falls back to text)."),
    })
    .optional()
    .describe("Output prices: reasoning tokens are part of the output."),
});

export const ModelInfoSchema = z.strictObject({
  name: z.string().optional().describe("Display name."),
  description: z.string().optional().describe("Free text about the model."),
  max_input_tokens: count().optional().describe("Context window, in tokens."),
  max_output_tokens: count().optional().describe("Largest output, in tokens: a request's output limit above it is lowered to it."),
  input_modalities: z.array(z.enum(MODALITIES)).optional().describe("What the model takes as input."),
  output_modalities: z.array(z.enum(MODALITIES)).optional().describe("What the model produces."),
  pricing: PricingSchema.optional().describe("Prices in USD per million tokens."),
  /** Our extension: false for a model that rejects reasoning parameters (reasoning_effort, thinking): they are dropped. */
  reasoning: bool().optional().describe("false: not a reasoning model; reasoning parameters (reasoning_effort, thinking) are dropped."),
  /** Our extension: the largest thinking budget the model takes (Gemini's thinkingBudget); larger ones are clamped. */
  max_reasoning_tokens: count().optional().describe("Largest thinking budget the model takes; a larger one is lowered to it."),
});

export const AuthSchema = z.discriminatedUnion("type", [
  /** Default: `Authorization: Bearer <api_key>`. */
  z.strictObject({ type: z.literal("bearer"), api_key: z.string().optional() }).describe("Authorization: Bearer <api_key> (the default)."),
  /** The key in a named header, e.g. `x-api-key`. Falls back to the provider's api_key. */
  z
    .strictObject({ type: z.literal("header"), header_name: z.string(), api_key: z.string().optional() })
    .describe("The key in the header named header_name (e.g. x-api-key); api_key falls back to the provider's."),
  /** A named custom scheme (e.g. x402, SIWx) with free-form parameters. */
  z
    .strictObject({
      type: z.literal("custom"),
      method: z.string(),
      params: z.record(z.string(), z.unknown()).optional(),
    })
    .describe("A named scheme (method: siwx signs Sign-In-With-X challenges) with free-form params."),
  /** Pay per request with the Machine Payment Protocol (see `mpp:` / `wallet:`). */
  z.strictObject({ type: z.literal("mpp") }).describe("Pay the provider's 402 challenges from the wallet (Machine Payment Protocol)."),
  /** OAuth (e.g. GitHub device-code flow); the obtained token is used as the bearer key. */
  z
    .strictObject({
      type: z.literal("oauth"),
      grant: z.string().optional(),
      client_id: z.string().optional(),
      scope: z.string().optional(),
      device_auth_url: httpUrl().optional(),
      token_url: httpUrl().optional(),
    })
    .describe("OAuth (e.g. GitHub's device-code flow); the token obtained is sent as the bearer key."),
  /** Sign requests with the configured wallet. */
  z.strictObject({ type: z.literal("wallet") }).describe("Sign requests with the configured wallet."),
]);

export const ProviderSchema = z.strictObject({
  /**
   * A provider package supplying this provider's definition (the entry's other fields override it):
   * an npm name installed in <home>/node_modules, or a path to the package (relative to this file).
   * Loaded by loadConfig at start and on every reload.
   */
  package: z
    .string()
    .min(1)
    .optional()
    .describe("A provider package supplying this provider's definition: an npm name installed in <home>/node_modules, or a path (relative to bitrouter.yaml)."),
  derives: z.string().optional().describe("Start from another provider (declared or built-in); its credentials are not inherited."),
  /** A built-in (API_PROTOCOLS) or a protocol a provider package registers: checked when resolving. */
  api_protocol: z
    .string()
    .min(1)
    .optional()
    .meta({ description: "The upstream's wire protocol: openai, anthropic, google, mcp, rest, or one a provider package registers.", default: "openai" }),
  api_base: httpUrl().optional().describe("The upstream's base URL."),
  api_key: z.string().optional().describe("Key for every endpoint of this provider."),
  env_prefix: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "expected an environment variable prefix such as OPENAI" })
    .optional()
    .describe("PREFIX_API_KEY and PREFIX_BASE_URL supply api_key and api_base when they are unset or empty."),
  default_headers: z.record(z.string(), z.string()).optional().describe("Headers sent with every request to this provider."),
  auth: AuthSchema.optional().meta({ description: "How the key is sent, or the request paid or signed.", default: { type: "bearer" } }),
  models: z.record(z.string(), ModelInfoSchema).optional().describe("Model catalog: metadata and pricing per upstream model id (merged into a built-in's)."),
  bridge: bool().optional().meta({ description: "MCP only: also serve this server alone at /mcp/<name>.", default: false }),
  /**
   * Our extension, `api_protocol: openai` only: the provider also serves OpenAI's Responses API
   * (`POST {api_base}/responses`), so Responses requests go there as written. Default: true for
   * OpenAI itself (api.openai.com), false for other OpenAI-compatible servers (Azure OpenAI included).
   */
  responses_api: bool().optional().meta({
    description: "openai protocol only: Responses API requests go to <api_base>/responses as written.",
    default: "true for api.openai.com, else false",
  }),
  /** MCP only: a local server run as a child process speaking stdio (instead of api_base). */
  command: z.string().min(1).optional().describe("MCP only: a local server run as a child process over stdio (instead of api_base)."),
  args: z.array(z.string()).optional().describe("MCP only: the arguments of command."),
  env: z.record(z.string(), z.string()).optional().describe("MCP only: variables added to command's minimal environment."),
  cwd: z.string().optional().describe("MCP only: the working directory of command."),
});

// ── Model and tool routing ───────────────────────────────────────────

export const ModelEndpointSchema = z
  .strictObject({
    provider: z.string().describe("A provider name (declared or built-in)."),
    model_id: z.string().optional().describe("The upstream model id."),
    /** Synonym of model_id, accepted because configurations written for the Rust BitRouter use it; normalised to model_id. */
    service_id: z.string().optional().describe("Synonym of model_id (configurations written for the Rust BitRouter)."),
    api_key: z.string().optional().describe("This endpoint's key, instead of the provider's."),
    api_base: httpUrl().optional().describe("This endpoint's base URL, instead of the provider's."),
  })
  .superRefine((endpoint, ctx) => {
    if (endpoint.model_id === undefined && endpoint.service_id === undefined) {
      ctx.addIssue({ code: "custom", path: ["model_id"], message: "required (service_id is accepted as a synonym)" });
    } else if (endpoint.model_id !== undefined && endpoint.service_id !== undefined && endpoint.model_id !== endpoint.service_id) {
      ctx.addIssue({ code: "custom", path: ["service_id"], message: "conflicts with model_id: set only one of them" });
    }
  });

export const VirtualModelSchema = z.strictObject({
  strategy: z.enum(STRATEGIES).default("priority").describe("priority: in order, failing over on error; load_balance: round-robin."),
  endpoints: z.array(ModelEndpointSchema).min(1).describe("Where the model is served; at least one."),
  name: z.string().optional().describe("Display name."),
  description: z.string().optional().describe("Free text about the model."),
  max_input_tokens: count().optional().describe("Context window advertised for the model, in tokens."),
  max_output_tokens: count().optional().describe("Largest output advertised for the model, in tokens."),
});

export const ToolSchema = z.strictObject({
  strategy: z.enum(STRATEGIES).default("priority").describe("priority: in order, failing over on error; load_balance: round-robin."),
  endpoints: z
    .array(z.strictObject({ provider: z.string().describe("An MCP or REST provider."), service_id: z.string().describe("The tool's name at that provider.") }))
    .min(1)
    .describe("Where the tool is served; at least one."),
  description: z.string().optional().describe("Free text about the tool."),
  /** A JSON Schema, passed through as written. */
  input_schema: z.record(z.string(), z.unknown()).optional().describe("The tool's parameters as a JSON Schema, passed through as written."),
  skill: z.string().optional().describe("The skill the tool belongs to."),
  pricing: z
    .strictObject({
      default: price().optional().describe("USD per answered call."),
      overrides: z.record(z.string(), price()).optional().describe("USD per answered call, per service_id."),
    })
    .optional(),
});

/** An upstream agent: a remote A2A agent (its agent card under `url`) or a local ACP agent (`command`). */
export const AgentSchema = z
  .strictObject({
    url: httpUrl().optional().describe("A remote A2A agent (its card at /.well-known/agent-card.json); set url or command."),
    command: z.string().min(1).optional().describe("A local ACP agent, looked up on PATH; set url or command."),
    args: z.array(z.string()).optional().describe("The arguments of command."),
    description: z.string().optional().describe("Free text about the agent."),
  })
  .superRefine((agent, ctx) => {
    if ((agent.url === undefined) === (agent.command === undefined)) {
      ctx.addIssue({ code: "custom", path: ["url"], message: "set either url (a remote A2A agent) or command (a local ACP agent)" });
    }
  });

// ── Guardrails ───────────────────────────────────────────────────────

const actionMap = () => z.record(z.string(), z.enum(GUARDRAIL_ACTIONS));

export const GuardrailsSchema = z.strictObject({
  enabled: bool().optional().meta({ description: "Pattern checks on or off (the section's presence turns them on).", default: true }),
  disabled_patterns: z.array(z.string()).optional().describe("Built-in patterns not checked."),
  custom_patterns: z
    .array(
      z.strictObject({
        name: z.string().describe("The name custom_upgoing / custom_downgoing refer to."),
        regex: z.string().describe("A JavaScript regular expression."),
        direction: z.enum(CUSTOM_PATTERN_DIRECTIONS).optional().describe("upgoing: requests; downgoing: answers."),
      }),
    )
    .optional()
    .describe("Your own patterns, each named for custom_upgoing / custom_downgoing."),
  upgoing: actionMap().optional().describe("Action per built-in pattern found in requests."),
  downgoing: actionMap().optional().describe("Action per built-in pattern found in answers."),
  custom_upgoing: actionMap().optional().describe("Action per custom pattern found in requests."),
  custom_downgoing: actionMap().optional().describe("Action per custom pattern found in answers."),
  block_message: z
    .strictObject({
      include_details: bool().optional().meta({ description: "Name the pattern in the error.", default: true }),
      include_help_link: bool().optional().meta({ description: "Append a link to the guardrails docs.", default: true }),
    })
    .optional()
    .describe("What a blocked request's error says: the pattern's details, a help link."),
  tools: z
    .strictObject({
      enabled: bool().optional().describe("Tool filters on or off."),
      providers: z
        .record(
          z.string(),
          z.strictObject({
            filter: z
              .strictObject({
                allow: z.array(z.string()).optional().describe("The only tools offered."),
                deny: z.array(z.string()).optional().describe("Tools never offered."),
              })
              .optional()
              .describe("Tool names this provider may (allow) or may not (deny) offer."),
            param_restrictions: z
              .strictObject({
                rules: z.record(
                  z.string(),
                  z.strictObject({
                    deny: z.array(z.string()).describe("Argument names not allowed."),
                    action: z.enum(PARAM_RESTRICTION_ACTIONS).optional().describe("strip the arguments or block the call."),
                  }),
                ),
              })
              .optional()
              .describe("Per tool name, arguments a call may not carry."),
          }),
        )
        .optional()
        .describe("Per MCP provider: which tools and arguments pass."),
    })
    .optional()
    .describe("Filters on the tools of MCP providers."),
});

// The shape is GuardrailsConfig from @bitrouter/core (the guardrails package reads the same type);
// this schema must describe exactly that type, which the compiler checks here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const guardrailsSchemaIsGuardrailsConfig: Same<z.output<typeof GuardrailsSchema>, GuardrailsConfig> = true;
void guardrailsSchemaIsGuardrailsConfig;

// ── Wallet / MPP ─────────────────────────────────────────────────────

export const WalletSchema = z.strictObject({
  name: z.string().optional().describe("No effect yet."),
  vault_path: z.string().optional().describe("No effect yet."),
  payment: z
    .strictObject({
      tempo_rpc_url: httpUrl().optional().describe("The Tempo chain's RPC URL, to pay upstreams on."),
      solana_rpc_url: httpUrl().optional().describe("No effect yet."),
      session_max_deposit: count().optional().describe("The most one payment may cost, in base units; a larger challenge is not paid."),
      session_default_deposit: count().optional().describe("No effect yet."),
    })
    .optional()
    .describe("Paying upstreams (auth type mpp); the wallet is the active bitrouter account."),
});

export const MppNetworkSchema = z.strictObject({
  method: z.enum(["tempo", "evm"]).optional().meta({
    description: "How callers pay on this network: tempo (a TIP-20 transfer on a Tempo chain) or evm (an EIP-3009 ERC-20 transfer).",
    default: "tempo",
  }),
  recipient: z.string().optional().describe("Your address: payments go here (required)."),
  escrow_contract: z.string().optional().describe("Sessions only: accepted, no effect yet."),
  rpc_url: httpUrl().optional().describe("The chain's RPC URL (required); asked for its chain id at start."),
  chain_id: count().optional().describe("The chain id the RPC must answer (checked at start); default: whatever it answers."),
  currency: z
    .string()
    .optional()
    .meta({ description: "The token charged (required for evm: an ERC-20 with EIP-3009 transferWithAuthorization).", default: "the chain default TIP-20" }),
  decimals: count().optional().meta({ description: "evm: the token's decimals.", default: "the token's decimals()" }),
  fee_payer: bool().optional().describe("true is refused for now."),
  default_deposit: count().optional().describe("Sessions only: accepted, no effect yet."),
});

export const MppSchema = z.strictObject({
  enabled: bool().optional().describe("Charge callers per request."),
  realm: z.string().optional().meta({ description: "Shown in challenges.", default: "bitrouter" }),
  secret_key: z.string().optional().meta({ description: "Signs challenges; at least 32 bytes.", default: "MPP_SECRET_KEY" }),
  networks: z.record(z.string(), MppNetworkSchema).optional().describe("Payment networks by name; the 402 offers a challenge for each."),
});

// ── The whole file ───────────────────────────────────────────────────

export const ConfigFileSchema = z.strictObject({
  server: ServerSchema.optional().describe("The HTTP server."),
  database: DatabaseSchema.optional().describe("Where keys, usage and payments are stored."),
  tracing: TracingSchema.optional().describe("OpenTelemetry traces over OTLP/HTTP (docs/observability.md)."),
  inherit_defaults: bool().optional().meta({ description: "false: only the providers declared in the file exist.", default: true }),
  providers: z.record(z.string(), ProviderSchema).optional().describe("Upstream providers by name: built-ins to override, or new ones."),
  models: z.record(z.string(), VirtualModelSchema).optional().describe("Virtual models: a name routed to endpoints."),
  tools: z.record(z.string(), ToolSchema).optional().describe("Named tools routed to MCP or REST providers (docs/mcp.md)."),
  agents: z.record(z.string(), AgentSchema).optional().describe("Upstream agents, listed by bitrouter agents."),
  guardrails: GuardrailsSchema.optional().describe("Pattern checks on requests and answers, and tool filters (docs/guardrails.md)."),
  wallet: WalletSchema.optional().describe("The operator's wallet, to pay upstreams (docs/payments.md)."),
  mpp: MppSchema.optional().describe("Callers pay per request with the Machine Payment Protocol (docs/payments.md)."),
  solana_rpc_url: httpUrl().optional().describe("No effect yet."),
});

export type { ApiProtocol, ApiProtocolName, Modality } from "@bitrouter/providers/define";
export type Strategy = (typeof STRATEGIES)[number];

/** bitrouter.yaml as written (validated, before built-ins, derives and env_prefix). */
export type ConfigFile = z.output<typeof ConfigFileSchema>;
export type ServerConfig = z.output<typeof ServerSchema>;
export type ProviderConfig = z.output<typeof ProviderSchema>;
/**
 * The schema and @bitrouter/providers' ProviderDefinition (what packages write) describe one shape:
 * the same keys, each assignable both ways. Checked at compile time for the provider and its models.
 */
type Mutual<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type SameShape<A, B> = Mutual<A, B> extends true ? Mutual<keyof A, keyof B> : false;
const _shapes: [SameShape<Omit<ProviderConfig, "package">, ProviderDefinition>, SameShape<ModelInfo, ModelDefinition>, SameShape<Pricing, PricingDefinition>] =
  [true, true, true];
void _shapes;
export type AuthConfig = z.output<typeof AuthSchema>;
export type ModelInfo = z.output<typeof ModelInfoSchema>;
export type Pricing = z.output<typeof PricingSchema>;
export type ModelEndpointConfig = z.output<typeof ModelEndpointSchema>;
export type VirtualModelConfig = z.output<typeof VirtualModelSchema>;
export type ToolConfig = z.output<typeof ToolSchema>;
export type AgentConfig = z.output<typeof AgentSchema>;
export type TracingConfig = z.output<typeof TracingSchema>;
export type WalletConfig = z.output<typeof WalletSchema>;
export type MppConfig = z.output<typeof MppSchema>;
export type MppNetworkConfig = z.output<typeof MppNetworkSchema>;

// ── The resolved configuration handed to the rest of BitRouter ───────

/** A provider after built-ins, derives and env_prefix: every field a client needs is settled. */
export interface ResolvedProvider {
  name: string;
  api_protocol: ApiProtocolName;
  /** Absent only for a custom provider that never set one (it cannot be routed to). */
  api_base?: string;
  api_key?: string;
  env_prefix?: string;
  default_headers: Record<string, string>;
  auth: AuthConfig;
  models: Record<string, ModelInfo>;
  bridge: boolean;
  /** Set: whether this OpenAI-protocol provider serves the Responses API; unset: decided by its api_base. */
  responses_api?: boolean;
  /** MCP stdio servers: the child process to run (`api_base` is unset for them). */
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** The direct parent named by `derives`, if any. */
  derives?: string;
  /** Defined by the built-in catalog (possibly overridden by bitrouter.yaml). */
  builtin: boolean;
}

export interface ResolvedModelEndpoint {
  provider: string;
  model_id: string;
  api_key?: string;
  api_base?: string;
}

/** A virtual model as written, with each endpoint settled (key and base from the endpoint or its provider). */
export type ResolvedVirtualModel = Omit<VirtualModelConfig, "endpoints"> & { endpoints: ResolvedModelEndpoint[] };

export interface ResolvedServer {
  listen: string;
  log_level: LogLevel;
  control: { socket: string };
  /** Bytes. */
  body_limit: number;
  /** Milliseconds. */
  request_timeout: number;
  /** Milliseconds; never more than request_timeout. */
  first_byte_timeout: number;
  /** Bytes. */
  response_limit: number;
  /** Origins a browser may call from (CORS); empty: none. */
  cors_origins: string[];
}

export interface ResolvedConfig {
  server: ResolvedServer;
  /** `url` is final: --db > BITROUTER_DATABASE_URL > database.url > sqlite in the home dir. */
  database: { url: string };
  inherit_defaults: boolean;
  providers: Record<string, ResolvedProvider>;
  /** Protocols provider packages registered (outbound codecs by name); absent when none. */
  protocols?: Readonly<Record<string, UpstreamCodec>>;
  models: Record<string, ResolvedVirtualModel>;
  tools: Record<string, ToolConfig>;
  agents: Record<string, AgentConfig>;
  guardrails?: GuardrailsConfig;
  tracing?: TracingConfig;
  wallet?: WalletConfig;
  mpp?: MppConfig;
  solana_rpc_url?: string;
}
