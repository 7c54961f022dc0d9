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
  input_tokens?: { no_cache?: number; cache_read?: number; cache_write?: number };
  output_tokens?: { text?: number; reasoning?: number };
}

/** One model of a provider's catalog. */
export interface ModelDefinition {
  name?: string;
  description?: string;
  max_input_tokens?: number;
  max_output_tokens?: number;
  input_modalities?: Modality[];
  output_modalities?: Modality[];
  pricing?: PricingDefinition;
  /** false for a model that rejects reasoning parameters (reasoning_effort, thinking): they are dropped. */
  reasoning?: boolean;
  /** The largest thinking budget the model takes; larger ones are clamped. */
  max_reasoning_tokens?: number;
}

export type AuthDefinition =
  | { type: "bearer"; api_key?: string }
  | { type: "header"; header_name: string; api_key?: string }
  | { type: "custom"; method: string; params?: Record<string, unknown> }
  | { type: "mpp" }
  | { type: "oauth"; grant?: string; client_id?: string; scope?: string; device_auth_url?: string; token_url?: string }
  | { type: "wallet" };

/** A provider as bitrouter.yaml's `providers.<name>` describes it (see docs/configuration.md). */
export interface ProviderDefinition {
  derives?: string;
  api_protocol?: ApiProtocolName;
  api_base?: string;
  api_key?: string;
  /** Keys come from `{PREFIX}_API_KEY`, and `{PREFIX}_BASE_URL` overrides api_base. */
  env_prefix?: string;
  default_headers?: Record<string, string>;
  auth?: AuthDefinition;
  models?: Record<string, ModelDefinition>;
  bridge?: boolean;
  responses_api?: boolean;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
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
