// The router's configuration as a typed camelCase object, for code that embeds it: mapped onto
// bitrouter.yaml's snake_case shape and resolved by @bitrouter/config exactly like the file (built-in
// providers, derives, env_prefix keys, cross-checks), so both forms mean the same thing.
import type { ApiProtocol, Modality, ResolvedConfig, Strategy } from "@bitrouter/config";
import { ConfigError, parseConfig, resolveConfig } from "@bitrouter/config";

/** USD per million tokens (bitrouter.yaml `pricing:`). */
export interface PricingOptions {
  inputTokens?: { noCache?: number; cacheRead?: number; cacheWrite?: number };
  outputTokens?: { text?: number; reasoning?: number };
}

/** One model of a provider's catalog (bitrouter.yaml `providers.<name>.models.<id>`). */
export interface ModelInfoOptions {
  name?: string;
  description?: string;
  maxInputTokens?: number;
  maxOutputTokens?: number;
  inputModalities?: Modality[];
  outputModalities?: Modality[];
  pricing?: PricingOptions;
  /** false for a model that rejects reasoning parameters: they are dropped. */
  reasoning?: boolean;
  maxReasoningTokens?: number;
}

/** A provider (bitrouter.yaml `providers.<name>`); a built-in's name overrides only the fields given. */
export interface ProviderOptions {
  derives?: string;
  apiProtocol?: Exclude<ApiProtocol, "mcp" | "rest">;
  apiBase?: string;
  apiKey?: string;
  /** Reads `{PREFIX}_API_KEY` / `{PREFIX}_BASE_URL` from `env`. */
  envPrefix?: string;
  defaultHeaders?: Record<string, string>;
  models?: Record<string, ModelInfoOptions>;
  /** OpenAI protocol only: the provider also serves the Responses API. */
  responsesApi?: boolean;
}

export interface EndpointOptions {
  provider: string;
  modelId: string;
  apiKey?: string;
  apiBase?: string;
}

/** A virtual model (bitrouter.yaml `models.<name>`): endpoints tried in strategy order. */
export interface ModelOptions {
  /** Default `priority` (failover in order); `load_balance` is round-robin. */
  strategy?: Strategy;
  endpoints: EndpointOptions[];
  name?: string;
  description?: string;
  maxInputTokens?: number;
  maxOutputTokens?: number;
}

/** The routing part of a router's configuration, in camelCase. */
export interface RoutesConfig {
  providers?: Record<string, ProviderOptions>;
  models?: Record<string, ModelOptions>;
  /** Start from the built-in providers (openai, anthropic, google, openrouter, ...). Default true. */
  inheritDefaults?: boolean;
  /** Where provider keys are read from (`OPENAI_API_KEY`, `{envPrefix}_API_KEY`). Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * A configuration in any form createRouter takes, split into the resolved configuration and the
 * router options a camelCase object carries beside its routes (`hooks`, `requestTimeoutMs`, ...).
 * Throws ConfigError naming each bad field as it was written.
 */
export function splitConfig<O extends object>(input: (RoutesConfig & O) | ResolvedConfig | string): { config: ResolvedConfig; options: Partial<O> } {
  if (typeof input === "string") return { config: parseConfig(input, { env: process.env }).config, options: {} };
  if (isResolved(input)) return { config: input, options: {} };
  const { providers, models, inheritDefaults, env, ...options } = input;
  const renamed = new Set<string>();
  const routes = snakeCase(renamed, {
    ...(providers === undefined ? {} : { providers }),
    ...(models === undefined ? {} : { models }),
    ...(inheritDefaults === undefined ? {} : { inheritDefaults }),
  });
  try {
    return { config: resolveConfig(routes, { env: env ?? process.env }).config, options: options as Partial<O> };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(
      error.issues.map((issue) => ({ ...issue, path: camelCaseFields(issue.path, renamed), message: camelCaseFields(issue.message, renamed) })),
    );
  }
}

function isResolved(input: RoutesConfig | ResolvedConfig): input is ResolvedConfig {
  return "server" in input && "database" in input;
}

/** RoutesConfig in bitrouter.yaml's shape: field names in snake_case, the names the caller chose (providers, models, headers) as written. */
function snakeCase(renamed: Set<string>, { providers, models, ...rest }: Omit<RoutesConfig, "env">): Record<string, unknown> {
  /** Every key of an object (nested objects and arrays included) in snake_case; the renamed ones noted for error messages. */
  const fields = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(fields);
    if (typeof value !== "object" || value === null) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => {
        const field = toSnake(key);
        if (field !== key) renamed.add(field);
        return [field, fields(item)];
      }),
    );
  };
  const out = fields(rest) as Record<string, unknown>;
  if (providers) {
    out.providers = mapValues(providers, ({ models: catalog, defaultHeaders, ...provider }) => ({
      ...(fields(provider) as object),
      ...(defaultHeaders === undefined ? {} : { default_headers: defaultHeaders }),
      ...(catalog === undefined ? {} : { models: mapValues(catalog, fields) }),
    }));
  }
  if (models) out.models = mapValues(models, fields);
  return out;
}

function mapValues<T>(record: Record<string, T>, map: (value: T) => unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}

function toSnake(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** A snake_case field name in an error path or message as the caller wrote it (`model_id` -> `modelId`). */
const SNAKE_FIELD = /\b([a-z]+(?:_[a-z]+)+)\b/g;

function camelCaseFields(text: string, renamed: ReadonlySet<string>): string {
  return text.replace(SNAKE_FIELD, (name) => (KNOWN_FIELDS.has(name) || renamed.has(name) ? toCamel(name) : name));
}

function toCamel(name: string): string {
  return name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** The snake_case fields RoutesConfig has (suggested in errors); with the keys the caller wrote in camelCase, the only names turned back (a provider named `my_llm` stays). */
const KNOWN_FIELDS = new Set([
  "inherit_defaults",
  "api_protocol",
  "api_base",
  "api_key",
  "env_prefix",
  "default_headers",
  "responses_api",
  "max_input_tokens",
  "max_output_tokens",
  "input_modalities",
  "output_modalities",
  "max_reasoning_tokens",
  "input_tokens",
  "output_tokens",
  "no_cache",
  "cache_read",
  "cache_write",
  "model_id",
]);
