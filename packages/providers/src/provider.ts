// The provider interface for provider packages: what one provider definition holds (its protocol,
// where it lives, how it authenticates, its model catalog with pricing) and what a package exports.
// Plain data and types only: @bitrouter/config validates definitions when it loads them.
import type { UpstreamCodec } from "./codec.js";

/** `api_protocol` values BitRouter knows without a package: three model protocols, two tool protocols. */
export const API_PROTOCOLS = ["openai", "anthropic", "google", "mcp", "rest"] as const;
export type ApiProtocol = (typeof API_PROTOCOLS)[number];
/** A built-in `api_protocol` or a protocol a provider package registers. */
export type ApiProtocolName = ApiProtocol | (string & {});

export const MODALITIES = ["text", "image", "file", "audio", "video"] as const;
export type Modality = (typeof MODALITIES)[number];

/** USD per million tokens. */
export interface PricingDefinition {
  input_tokens?: { no_cache?: number | undefined; cache_read?: number | undefined; cache_write?: number | undefined } | undefined;
  output_tokens?: { text?: number | undefined; reasoning?: number | undefined } | undefined;
}

/** One model of a provider's catalog. */
export interface ModelDefinition {
  name?: string | undefined;
  description?: string | undefined;
  max_input_tokens?: number | undefined;
  max_output_tokens?: number | undefined;
  input_modalities?: Modality[] | undefined;
  output_modalities?: Modality[] | undefined;
  pricing?: PricingDefinition | undefined;
  /** false for a model that rejects reasoning parameters (reasoning_effort, thinking): they are dropped. */
  reasoning?: boolean | undefined;
  /** The largest thinking budget the model takes; larger ones are clamped. */
  max_reasoning_tokens?: number | undefined;
}

export type AuthDefinition =
  | { type: "bearer"; api_key?: string | undefined }
  | { type: "header"; header_name: string; api_key?: string | undefined }
  | { type: "custom"; method: string; params?: Record<string, unknown> | undefined }
  | { type: "mpp" }
  | {
      type: "oauth";
      grant?: string | undefined;
      client_id?: string | undefined;
      scope?: string | undefined;
      device_auth_url?: string | undefined;
      token_url?: string | undefined;
    }
  | { type: "wallet" };

/** A provider as bitrouter.yaml's `providers.<name>` describes it (see docs/configuration.md). */
export interface ProviderDefinition {
  derives?: string | undefined;
  api_protocol?: ApiProtocolName | undefined;
  api_base?: string | undefined;
  api_key?: string | undefined;
  /** Keys come from `{PREFIX}_API_KEY`, and `{PREFIX}_BASE_URL` overrides api_base. */
  env_prefix?: string | undefined;
  default_headers?: Record<string, string> | undefined;
  auth?: AuthDefinition | undefined;
  models?: Record<string, ModelDefinition> | undefined;
  bridge?: boolean | undefined;
  responses_api?: boolean | undefined;
  command?: string | undefined;
  args?: string[] | undefined;
  env?: Record<string, string> | undefined;
  cwd?: string | undefined;
}

/**
 * What a provider package's entry module exports, as named exports:
 * `export const provider = defineProvider({...})` (or a default export), and optionally
 * `export const protocols = { "acme-v1": acmeCodec }` for protocols its provider speaks.
 */
export interface ProviderPackage {
  provider: ProviderDefinition;
  protocols?: Readonly<Record<string, UpstreamCodec>>;
}

/**
 * Declares a provider in a provider package. Types only: bitrouter.yaml's loader validates the
 * definition when the package is loaded and reports a mistake under `providers.<name>.package`.
 */
export function defineProvider(definition: ProviderDefinition): ProviderDefinition {
  return definition;
}
