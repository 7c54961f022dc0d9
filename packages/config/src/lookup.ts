import type { ModelInfo, ResolvedConfig, ResolvedProvider } from "./schema.js";

/** The key a provider would send, if any (a header-auth key falls back to the provider's api_key). */
export function providerApiKey(provider: ResolvedProvider): string | undefined {
  if (provider.auth.type === "header" || provider.auth.type === "bearer") return provider.auth.api_key || provider.api_key || undefined;
  return provider.api_key || undefined;
}

/**
 * Whether a provider has what it needs to authenticate: an API key for bearer / header / oauth
 * (the OAuth token), nothing more for custom, mpp and wallet auth (those sign per request).
 */
export function hasCredentials(provider: ResolvedProvider): boolean {
  switch (provider.auth.type) {
    case "custom":
    case "mpp":
    case "wallet":
      return true;
    default:
      return providerApiKey(provider) !== undefined;
  }
}

/** Providers that can be routed to now: an api_base and credentials (zero-config: key in env). */
export function availableProviders(config: ResolvedConfig): ResolvedProvider[] {
  return Object.values(config.providers).filter((p) => p.api_base !== undefined && hasCredentials(p));
}

/** A model's catalog entry (limits, modalities, pricing) for a provider, if known. */
export function findModel(config: ResolvedConfig, provider: string, modelId: string): ModelInfo | undefined {
  const models = config.providers[provider]?.models;
  return models && Object.hasOwn(models, modelId) ? models[modelId] : undefined;
}

/**
 * `"openai:gpt-4o"` -> `{ provider: "openai", modelId: "gpt-4o" }`. Splits at the FIRST colon:
 * model ids may contain ':' and '/' (`openrouter:meta-llama/llama-3:free`). Undefined when the
 * string has no colon or an empty side.
 */
export function parseDirectModel(model: string): { provider: string; modelId: string } | undefined {
  const colon = model.indexOf(":");
  if (colon <= 0 || colon === model.length - 1) return undefined;
  return { provider: model.slice(0, colon), modelId: model.slice(colon + 1) };
}
