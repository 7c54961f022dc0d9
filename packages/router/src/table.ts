import { distance } from "fastest-levenshtein";
import type { Protocol } from "@bitrouter/core";
import { BitrouterError } from "@bitrouter/core";
import type { ProviderEndpoint, UpstreamPayer } from "@bitrouter/providers";
import { upstreamProtocol } from "@bitrouter/providers";
import type { Pricing, ResolvedConfig, ResolvedProvider } from "@bitrouter/config";
import { hasCredentials, providerApiKey } from "@bitrouter/config";
import type { Strategy } from "./balancer.js";
import type { DynamicRoutes } from "./dynamic-routes.js";

/** One endpoint of a route, fully resolved against its provider. */
export interface RouteTarget {
  provider: string;
  modelId: string;
  endpoint: ProviderEndpoint;
  /** Distinguishes endpoints of one provider that differ only by key, for load-balancer health. */
  keyId?: string;
  maxOutputTokens?: number;
  /** The catalog's largest thinking budget for the model. */
  maxReasoningTokens?: number;
  /** The catalog's `reasoning`: false for a model that rejects reasoning parameters. */
  reasoning?: boolean;
  pricing?: Pricing;
  /** openai-chat upstreams other than OpenAI's own take the output limit as `max_tokens`. */
  maxTokensField?: "max_tokens";
  /** An OpenAI provider that also serves the Responses API (`responses_api`): Responses requests go there. */
  servesResponses?: boolean;
}

/**
 * The target as it serves a request of `inbound` protocol: a Responses request to an OpenAI provider
 * that serves the Responses API goes to that API (the same-protocol fast path); anything else to the
 * provider's own protocol.
 */
export function targetFor(target: RouteTarget, inbound: Protocol | "canonical"): RouteTarget {
  if (inbound !== "openai-responses" || !target.servesResponses) return target;
  return { ...target, endpoint: { ...target.endpoint, protocol: "openai-responses" } };
}

/** A route's own key or base URL for one provider (a virtual model's endpoint), or none. */
type EndpointOverride = { readonly api_key?: string; readonly api_base?: string };
const NO_OVERRIDE: EndpointOverride = Object.freeze({});

/** A target's parts that depend only on its provider and override. */
interface TargetBase {
  endpoint: Readonly<ProviderEndpoint>;
  maxTokensField?: "max_tokens";
  servesResponses?: boolean;
}

export interface ResolvedRoute {
  /** The virtual/dynamic model name, or `provider:model_id`. */
  name: string;
  kind: "virtual" | "dynamic" | "direct";
  strategy: Strategy;
  targets: RouteTarget[];
}

export interface RouteResolver {
  resolve(model: string): ResolvedRoute;
}

/** Metadata of one model name callers can use, for GET /v1/models. */
export interface ModelListing {
  id: string;
  kind: "virtual" | "dynamic" | "direct";
  name?: string;
  description?: string;
  provider?: string;
  maxInputTokens?: number;
  maxOutputTokens?: number;
  inputModalities?: string[];
  outputModalities?: string[];
  pricing?: Pricing;
  /** For virtual and dynamic routes: their `provider:model_id` endpoints. */
  endpoints?: string[];
}

/**
 * Resolves model names to routes: a dynamic route, then a virtual model from `models:`, then direct
 * `provider:model_id`. Built from one resolved configuration; a reload builds a new table.
 */
export class RoutingTable implements RouteResolver {
  constructor(
    private readonly config: ResolvedConfig,
    private readonly dynamic?: DynamicRoutes,
    /** Who pays a provider's 402 answers (providers with `auth: {type: mpp}`); none: such providers are unavailable. */
    private readonly upstreamPayer?: (provider: string) => UpstreamPayer | undefined,
    /** Supplies the token of providers with `auth: {type: wallet}`; none: such providers are unavailable. */
    private readonly walletToken?: (provider: string) => (() => Promise<string>) | undefined,
  ) {}

  /** Endpoints by provider and override (see #base): bounded by the configuration, not by callers. */
  readonly #bases = new Map<string, Map<EndpointOverride, TargetBase>>();

  resolve(model: string): ResolvedRoute {
    const dynamic = this.dynamic?.get(model);
    if (dynamic) {
      return {
        name: dynamic.name,
        kind: "dynamic",
        strategy: dynamic.strategy,
        targets: dynamic.endpoints.map((spec, i) => {
          const { provider, modelId } = splitDirect(spec, `dynamic route '${dynamic.name}' endpoint ${i}`);
          return this.#target(provider, modelId, NO_OVERRIDE, `dynamic route '${dynamic.name}'`);
        }),
      };
    }
    const virtual = ownValue(this.config.models, model);
    if (virtual) {
      return {
        name: model,
        kind: "virtual",
        strategy: virtual.strategy ?? "priority",
        targets: virtual.endpoints.map((endpoint, i) => {
          const target = this.#target(endpoint.provider, endpoint.model_id, endpoint, `models.${model}.endpoints[${i}]`);
          if (endpoint.api_key) target.keyId = `endpoint${i}`;
          return target;
        }),
      };
    }
    const colon = model.indexOf(":");
    if (colon > 0) {
      const provider = model.slice(0, colon);
      const modelId = model.slice(colon + 1);
      const config = ownValue(this.config.providers, provider);
      if (config && modelId) {
        if (!this.isAvailable(provider)) {
          throw new BitrouterError({
            kind: "not_found",
            code: "provider_not_configured",
            message: paidPerRequest(config.auth)
              ? `model '${model}' is not available: provider '${provider}' is paid per request (auth: ${config.auth.type}) and no wallet can pay it (see wallet: and the server log)`
              : config.auth.type === "wallet"
                ? `model '${model}' is not available: provider '${provider}' authenticates with the wallet (auth: wallet) and no operator account is unlocked to sign its token (see the server log)`
                : `model '${model}' is not available: provider '${provider}' has no API key (set ${envHint(provider, config.env_prefix)} or providers.${provider}.api_key)`,
            param: "model",
          });
        }
        return { name: model, kind: "direct", strategy: "priority", targets: [this.#target(provider, modelId, NO_OVERRIDE, `model '${model}'`)] };
      }
    }
    throw this.#unknownModel(model);
  }

  /** A provider can serve direct routes when it has a key (or needs none: a keyless custom provider). */
  isAvailable(provider: string): boolean {
    const p = ownValue(this.config.providers, provider);
    if (p && paidPerRequest(p.auth) && !this.upstreamPayer?.(provider)) return false; // it would go out unpaid
    if (p?.auth.type === "wallet" && !this.walletToken?.(provider)) return false; // it would go out unauthenticated
    return p !== undefined && p.api_base !== undefined && upstreamProtocol(p.api_protocol, this.config.protocols) !== undefined && hasCredentials(p);
  }

  /** Every model name a caller can use now: dynamic, virtual, then each available provider's catalog. */
  listModels(): ModelListing[] {
    const out: ModelListing[] = [];
    for (const route of this.dynamic?.list() ?? []) {
      out.push({ id: route.name, kind: "dynamic", endpoints: route.endpoints });
    }
    for (const [id, m] of Object.entries(this.config.models ?? {})) {
      const listing: ModelListing = { id, kind: "virtual", endpoints: m.endpoints.map((e) => `${e.provider}:${e.model_id}`) };
      if (m.name) listing.name = m.name;
      if (m.description) listing.description = m.description;
      if (m.max_input_tokens) listing.maxInputTokens = m.max_input_tokens;
      if (m.max_output_tokens) listing.maxOutputTokens = m.max_output_tokens;
      out.push(listing);
    }
    for (const [provider, p] of Object.entries(this.config.providers)) {
      if (!this.isAvailable(provider)) continue;
      for (const [modelId, info] of Object.entries(p.models ?? {})) {
        const listing: ModelListing = { id: `${provider}:${modelId}`, kind: "direct", provider };
        if (info.name) listing.name = info.name;
        if (info.description) listing.description = info.description;
        if (info.max_input_tokens) listing.maxInputTokens = info.max_input_tokens;
        if (info.max_output_tokens) listing.maxOutputTokens = info.max_output_tokens;
        if (info.input_modalities) listing.inputModalities = info.input_modalities;
        if (info.output_modalities) listing.outputModalities = info.output_modalities;
        if (info.pricing) listing.pricing = info.pricing;
        out.push(listing);
      }
    }
    return out;
  }

  #target(provider: string, modelId: string, override: EndpointOverride, where: string): RouteTarget {
    const p = ownValue(this.config.providers, provider);
    if (!p) {
      const near = nearest(provider, Object.keys(this.config.providers));
      throw configError(`${where}: unknown provider '${provider}'${near.length ? ` (did you mean '${near[0]}'?)` : ""}`);
    }
    const base = this.#base(provider, p, override, where);
    const target: RouteTarget = { provider, modelId, endpoint: base.endpoint };
    if (base.maxTokensField) target.maxTokensField = base.maxTokensField;
    if (base.servesResponses) target.servesResponses = true;
    const info = p.models?.[modelId];
    if (info?.max_output_tokens) target.maxOutputTokens = info.max_output_tokens;
    if (info?.max_reasoning_tokens) target.maxReasoningTokens = info.max_reasoning_tokens;
    if (info?.reasoning !== undefined) target.reasoning = info.reasoning;
    if (info?.pricing) target.pricing = info.pricing;
    return target;
  }

  /**
   * The provider's endpoint (with a route's key and base override) and what follows from its URL.
   * The same for every request of this configuration, so it is built once per provider and
   * override (parsing the base URL, picking the key) and shared, frozen; a reload builds a new
   * table. Providers that pay or sign per request get theirs each time: whether a wallet can pay
   * or sign changes while the server runs.
   */
  #base(provider: string, p: ResolvedProvider, override: EndpointOverride, where: string): TargetBase {
    const perRequest = paidPerRequest(p.auth) || p.auth.type === "wallet";
    const cached = perRequest ? undefined : this.#bases.get(provider)?.get(override);
    if (cached) return cached;
    const protocol = upstreamProtocol(p.api_protocol, this.config.protocols);
    if (!protocol) throw configError(`${where}: provider '${provider}' speaks '${p.api_protocol}', which cannot serve model requests`);
    const apiBase = override.api_base || p.api_base;
    if (!apiBase) throw configError(`${where}: provider '${provider}' has no api_base`);
    const endpoint: ProviderEndpoint = { provider, protocol, apiBase: apiBase.replace(/\/+$/, "") };
    const apiKey = override.api_key || providerApiKey(p);
    if (apiKey) endpoint.apiKey = apiKey;
    if (p.auth.type === "header") endpoint.auth = { type: "header", headerName: p.auth.header_name };
    if (paidPerRequest(p.auth)) {
      const pay = this.upstreamPayer?.(provider);
      if (!pay)
        throw new BitrouterError({
          kind: "not_found",
          code: "provider_not_configured",
          message: `${where}: provider '${provider}' answers 402 until paid or signed in (auth: ${p.auth.type}) and no wallet is unlocked (see wallet:)`,
        });
      endpoint.pay = pay;
    }
    if (p.auth.type === "wallet") {
      const token = this.walletToken?.(provider);
      if (!token)
        throw new BitrouterError({
          kind: "not_found",
          code: "provider_not_configured",
          message: `${where}: provider '${provider}' authenticates with the wallet (auth: wallet) and no operator account is unlocked to sign its token`,
        });
      endpoint.apiKeySupplier = token;
      endpoint.auth = { type: "bearer" };
    }
    if (Object.keys(p.default_headers).length > 0) endpoint.defaultHeaders = p.default_headers;
    const base: TargetBase = { endpoint: Object.freeze(endpoint) };
    if (protocol === "openai-chat" && !isOpenAiItself(endpoint.apiBase)) base.maxTokensField = "max_tokens";
    // Azure OpenAI's Responses path depends on its base URL style (deployments or /openai/v1): opt in there.
    if (protocol === "openai-chat" && (p.responses_api ?? hostOf(endpoint.apiBase) === "api.openai.com")) base.servesResponses = true;
    if (!perRequest) {
      let byOverride = this.#bases.get(provider);
      if (!byOverride) this.#bases.set(provider, (byOverride = new Map()));
      byOverride.set(override, base);
    }
    return base;
  }

  #unknownModel(model: string): BitrouterError {
    const candidates = [
      ...(this.dynamic?.list().map((r) => r.name) ?? []),
      ...Object.keys(this.config.models ?? {}),
      ...Object.entries(this.config.providers)
        .filter(([name]) => this.isAvailable(name))
        .flatMap(([name, p]) => Object.keys(p.models ?? {}).map((id) => `${name}:${id}`)),
    ];
    const near = nearest(model, candidates);
    const hint = near.length > 0 ? ` Did you mean ${near.map((n) => `'${n}'`).join(", ")}?` : " Use a model from GET /v1/models, or provider:model_id.";
    return new BitrouterError({ kind: "not_found", code: "model_not_found", param: "model", message: `unknown model '${model}'.${hint}` });
  }
}

/** Splits `provider:model_id` at the first colon (model ids may contain ':' and '/'). */
export function splitDirect(spec: string, where = "model"): { provider: string; modelId: string } {
  const colon = spec.indexOf(":");
  if (colon <= 0 || colon === spec.length - 1) throw configError(`${where}: '${spec}' is not of the form provider:model_id`);
  return { provider: spec.slice(0, colon), modelId: spec.slice(colon + 1) };
}

/** Up to three names closest to `name`, nearest first, among those reasonably close. */
export function nearest(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const lower = name.toLowerCase();
  const scored: Array<[string, number]> = [];
  for (const candidate of new Set(candidates)) {
    const c = candidate.toLowerCase();
    let score = distance(lower, c);
    // A model id typed without its provider prefix ("gpt-4o" for "openai:gpt-4o") is a near miss.
    const bare = c.slice(c.indexOf(":") + 1);
    if (bare === lower) score = 0;
    else if (c !== bare) score = Math.min(score, distance(lower, bare) + 1);
    if (score <= Math.max(2, Math.floor(lower.length / 3))) scored.push([candidate, score]);
  }
  return scored
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([c]) => c);
}

/** OpenAI's own API (and Azure OpenAI) want max_completion_tokens; compatible servers want max_tokens. */
function isOpenAiItself(apiBase: string): boolean {
  const host = hostOf(apiBase);
  return host === "api.openai.com" || host.endsWith(".openai.azure.com");
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}

function envHint(provider: string, envPrefix?: string): string {
  return `${envPrefix || provider.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_API_KEY`;
}

function configError(message: string): BitrouterError {
  return new BitrouterError({ kind: "internal", status: 500, code: "route_misconfigured", message });
}

/**
 * A record's own entry: model and provider names come from callers, and "valueOf" or "constructor"
 * must be an unknown model, not Object.prototype's function.
 */
function ownValue<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Providers whose 402 answers the operator's wallet settles: MPP payments, or a Sign-In-With-X login. */
export function paidPerRequest(auth: ResolvedProvider["auth"]): boolean {
  return auth.type === "mpp" || (auth.type === "custom" && auth.method === "siwx");
}
