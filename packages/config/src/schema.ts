// The bitrouter.yaml schema. Field names mirror the YAML (snake_case). Every object is strict:
// an unknown key is reported (with the nearest valid key) instead of being silently dropped.
import { CUSTOM_PATTERN_DIRECTIONS, GUARDRAIL_ACTIONS, type GuardrailsConfig, LOG_LEVELS, type LogLevel, PARAM_RESTRICTION_ACTIONS } from "@bitrouter/core";
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

export const API_PROTOCOLS = ["openai", "anthropic", "google", "mcp", "rest"] as const;
export const STRATEGIES = ["priority", "load_balance"] as const;
export const MODALITIES = ["text", "image", "file", "audio", "video"] as const;

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
      .optional(),
    log_level: z.enum(LOG_LEVELS).optional(),
    control: z.strictObject({ socket: z.string().optional() }).optional(),
    /** Our extension: largest accepted request body. Default 10 MiB. */
    body_limit: bodyLimit().optional(),
    /** Our extension: overall deadline of one request, failovers included. Default 10 minutes. */
    request_timeout: duration().optional(),
    /** Our extension: per attempt, the longest wait for a stream's response head before failing over. Default 60 s. */
    first_byte_timeout: duration().optional(),
    /** Our extension: largest non-stream upstream answer read. Default 64 MiB. */
    response_limit: bodyLimit().optional(),
    /** Our extension: web origins allowed to call from a browser (CORS). Default none. */
    cors_origins: z
      .array(
        z
          .string()
          .refine((v) => webOrigin(v) === v, { message: 'expected a web origin such as "https://app.example.com" (scheme, host and optional port; no path)' }),
      )
      .optional(),
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

export const DatabaseSchema = z.strictObject({ url: z.string().optional() });

/**
 * Our extension: OpenTelemetry traces exported over OTLP/HTTP. Off unless `enabled: true` or the
 * standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT variable is set (`enabled: false` wins over it).
 */
export const TracingSchema = z.strictObject({
  enabled: bool().optional(),
  /** The OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces (default: from OTEL_*). */
  endpoint: httpUrl().optional(),
  service_name: z.string().min(1).optional(),
});

// ── Providers and their model catalog ────────────────────────────────

export const PricingSchema = z.strictObject({
  input_tokens: z.strictObject({ no_cache: price().optional(), cache_read: price().optional(), cache_write: price().optional() }).optional(),
  output_tokens: z.strictObject({ text: price().optional(), reasoning: price().optional() }).optional(),
});

export const ModelInfoSchema = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  max_input_tokens: count().optional(),
  max_output_tokens: count().optional(),
  input_modalities: z.array(z.enum(MODALITIES)).optional(),
  output_modalities: z.array(z.enum(MODALITIES)).optional(),
  pricing: PricingSchema.optional(),
  /** Our extension: false for a model that rejects reasoning parameters (reasoning_effort, thinking): they are dropped. */
  reasoning: bool().optional(),
  /** Our extension: the largest thinking budget the model takes (Gemini's thinkingBudget); larger ones are clamped. */
  max_reasoning_tokens: count().optional(),
});

export const AuthSchema = z.discriminatedUnion("type", [
  /** Default: `Authorization: Bearer <api_key>`. */
  z.strictObject({ type: z.literal("bearer"), api_key: z.string().optional() }),
  /** The key in a named header, e.g. `x-api-key`. Falls back to the provider's api_key. */
  z.strictObject({ type: z.literal("header"), header_name: z.string(), api_key: z.string().optional() }),
  /** A named custom scheme (e.g. x402, SIWx) with free-form parameters. */
  z.strictObject({
    type: z.literal("custom"),
    method: z.string(),
    params: z.record(z.string(), z.unknown()).optional(),
  }),
  /** Pay per request with the Machine Payment Protocol (see `mpp:` / `wallet:`). */
  z.strictObject({ type: z.literal("mpp") }),
  /** OAuth (e.g. GitHub device-code flow); the obtained token is used as the bearer key. */
  z.strictObject({
    type: z.literal("oauth"),
    grant: z.string().optional(),
    client_id: z.string().optional(),
    scope: z.string().optional(),
    device_auth_url: httpUrl().optional(),
    token_url: httpUrl().optional(),
  }),
  /** Sign requests with the configured wallet. */
  z.strictObject({ type: z.literal("wallet") }),
]);

export const ProviderSchema = z.strictObject({
  derives: z.string().optional(),
  api_protocol: z.enum(API_PROTOCOLS).optional(),
  api_base: httpUrl().optional(),
  api_key: z.string().optional(),
  env_prefix: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: "expected an environment variable prefix such as OPENAI" })
    .optional(),
  default_headers: z.record(z.string(), z.string()).optional(),
  auth: AuthSchema.optional(),
  models: z.record(z.string(), ModelInfoSchema).optional(),
  bridge: bool().optional(),
  /**
   * Our extension, `api_protocol: openai` only: the provider also serves OpenAI's Responses API
   * (`POST {api_base}/responses`), so Responses requests go there as written. Default: true for
   * OpenAI itself (api.openai.com), false for other OpenAI-compatible servers (Azure OpenAI included).
   */
  responses_api: bool().optional(),
  /** MCP only: a local server run as a child process speaking stdio (instead of api_base). */
  command: z.string().min(1).optional(),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
});

// ── Model and tool routing ───────────────────────────────────────────

export const ModelEndpointSchema = z
  .strictObject({
    provider: z.string(),
    model_id: z.string().optional(),
    /** Synonym of model_id, accepted because configurations written for the Rust BitRouter use it; normalised to model_id. */
    service_id: z.string().optional(),
    api_key: z.string().optional(),
    api_base: httpUrl().optional(),
  })
  .superRefine((endpoint, ctx) => {
    if (endpoint.model_id === undefined && endpoint.service_id === undefined) {
      ctx.addIssue({ code: "custom", path: ["model_id"], message: "required (service_id is accepted as a synonym)" });
    } else if (endpoint.model_id !== undefined && endpoint.service_id !== undefined && endpoint.model_id !== endpoint.service_id) {
      ctx.addIssue({ code: "custom", path: ["service_id"], message: "conflicts with model_id: set only one of them" });
    }
  });

export const VirtualModelSchema = z.strictObject({
  strategy: z.enum(STRATEGIES).default("priority"),
  endpoints: z.array(ModelEndpointSchema).min(1),
  name: z.string().optional(),
  description: z.string().optional(),
  max_input_tokens: count().optional(),
  max_output_tokens: count().optional(),
});

export const ToolSchema = z.strictObject({
  strategy: z.enum(STRATEGIES).default("priority"),
  endpoints: z.array(z.strictObject({ provider: z.string(), service_id: z.string() })).min(1),
  description: z.string().optional(),
  /** A JSON Schema, passed through as written. */
  input_schema: z.record(z.string(), z.unknown()).optional(),
  skill: z.string().optional(),
  pricing: z.strictObject({ default: price().optional(), overrides: z.record(z.string(), price()).optional() }).optional(),
});

/** An upstream agent: a remote A2A agent (its agent card under `url`) or a local ACP agent (`command`). */
export const AgentSchema = z
  .strictObject({
    url: httpUrl().optional(),
    command: z.string().min(1).optional(),
    args: z.array(z.string()).optional(),
    description: z.string().optional(),
  })
  .superRefine((agent, ctx) => {
    if ((agent.url === undefined) === (agent.command === undefined)) {
      ctx.addIssue({ code: "custom", path: ["url"], message: "set either url (a remote A2A agent) or command (a local ACP agent)" });
    }
  });

// ── Guardrails ───────────────────────────────────────────────────────

const actionMap = () => z.record(z.string(), z.enum(GUARDRAIL_ACTIONS));

export const GuardrailsSchema = z.strictObject({
  enabled: bool().optional(),
  disabled_patterns: z.array(z.string()).optional(),
  custom_patterns: z.array(z.strictObject({ name: z.string(), regex: z.string(), direction: z.enum(CUSTOM_PATTERN_DIRECTIONS).optional() })).optional(),
  upgoing: actionMap().optional(),
  downgoing: actionMap().optional(),
  custom_upgoing: actionMap().optional(),
  custom_downgoing: actionMap().optional(),
  block_message: z.strictObject({ include_details: bool().optional(), include_help_link: bool().optional() }).optional(),
  tools: z
    .strictObject({
      enabled: bool().optional(),
      providers: z
        .record(
          z.string(),
          z.strictObject({
            filter: z.strictObject({ allow: z.array(z.string()).optional(), deny: z.array(z.string()).optional() }).optional(),
            param_restrictions: z
              .strictObject({
                rules: z.record(z.string(), z.strictObject({ deny: z.array(z.string()), action: z.enum(PARAM_RESTRICTION_ACTIONS).optional() })),
              })
              .optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});

// The shape is GuardrailsConfig from @bitrouter/core (the guardrails package reads the same type);
// this schema must describe exactly that type, which the compiler checks here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const guardrailsSchemaIsGuardrailsConfig: Same<z.output<typeof GuardrailsSchema>, GuardrailsConfig> = true;
void guardrailsSchemaIsGuardrailsConfig;

// ── Wallet / MPP ─────────────────────────────────────────────────────

export const WalletSchema = z.strictObject({
  name: z.string().optional(),
  vault_path: z.string().optional(),
  payment: z
    .strictObject({
      tempo_rpc_url: httpUrl().optional(),
      solana_rpc_url: httpUrl().optional(),
      session_max_deposit: count().optional(),
      session_default_deposit: count().optional(),
    })
    .optional(),
});

export const MppNetworkSchema = z.strictObject({
  recipient: z.string().optional(),
  escrow_contract: z.string().optional(),
  rpc_url: httpUrl().optional(),
  currency: z.string().optional(),
  fee_payer: bool().optional(),
  default_deposit: count().optional(),
});

export const MppSchema = z.strictObject({
  enabled: bool().optional(),
  realm: z.string().optional(),
  secret_key: z.string().optional(),
  networks: z.record(z.string(), MppNetworkSchema).optional(),
});

// ── The whole file ───────────────────────────────────────────────────

export const ConfigFileSchema = z.strictObject({
  server: ServerSchema.optional(),
  database: DatabaseSchema.optional(),
  tracing: TracingSchema.optional(),
  inherit_defaults: bool().optional(),
  providers: z.record(z.string(), ProviderSchema).optional(),
  models: z.record(z.string(), VirtualModelSchema).optional(),
  tools: z.record(z.string(), ToolSchema).optional(),
  agents: z.record(z.string(), AgentSchema).optional(),
  guardrails: GuardrailsSchema.optional(),
  wallet: WalletSchema.optional(),
  mpp: MppSchema.optional(),
  solana_rpc_url: httpUrl().optional(),
});

export type ApiProtocol = (typeof API_PROTOCOLS)[number];
export type Strategy = (typeof STRATEGIES)[number];
export type Modality = (typeof MODALITIES)[number];

/** bitrouter.yaml as written (validated, before built-ins, derives and env_prefix). */
export type ConfigFile = z.output<typeof ConfigFileSchema>;
export type ServerConfig = z.output<typeof ServerSchema>;
export type ProviderConfig = z.output<typeof ProviderSchema>;
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
  api_protocol: ApiProtocol;
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
  models: Record<string, ResolvedVirtualModel>;
  tools: Record<string, ToolConfig>;
  agents: Record<string, AgentConfig>;
  guardrails?: GuardrailsConfig;
  tracing?: TracingConfig;
  wallet?: WalletConfig;
  mpp?: MppConfig;
  solana_rpc_url?: string;
}
