// Pipeline steps 4-6 on the validated file: merge built-in providers, flatten `derives`, apply
// `env_prefix`; then check cross-references. Pure: inputs in, a new ResolvedConfig out.
import { didYouMean, type PathSegment } from "./errors.js";
import type { Env } from "./document.js";
import {
  API_PROTOCOLS,
  DEFAULT_BODY_LIMIT,
  DEFAULT_CONTROL_SOCKET,
  DEFAULT_LISTEN,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_FIRST_BYTE_TIMEOUT_MS,
  DEFAULT_RESPONSE_LIMIT,
  isHttpUrl,
  type ConfigFile,
  type ProviderConfig,
  type ResolvedConfig,
  type ResolvedModelEndpoint,
  type ResolvedProvider,
  type ResolvedVirtualModel,
} from "./schema.js";

export interface RawIssue {
  path: PathSegment[];
  message: string;
  atKey?: boolean;
}

export interface ResolveResult {
  config: Omit<ResolvedConfig, "database">;
  issues: RawIssue[];
  warnings: string[];
}

type PlainObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is PlainObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Deep merge where `over`'s set fields win; arrays and scalars are replaced, mappings merged. */
function deepMerge<T>(base: T, over: T): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over);
  const out: PlainObject = structuredClone(base);
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    out[key] = key in out ? deepMerge(out[key], value) : structuredClone(value);
  }
  return out as T;
}

/** Override a provider definition with a user's fields. `auth` is replaced whole, never blended. */
function mergeProvider(base: ProviderConfig, over: ProviderConfig): ProviderConfig {
  const merged = deepMerge(base, over);
  if (over.auth !== undefined) merged.auth = structuredClone(over.auth);
  return merged;
}

/**
 * What a child inherits from its parent: everything except credentials. api_key, env_prefix and
 * an auth key belong to the parent's account; inheriting them would send one provider's key to
 * another host (e.g. `moonshot: {derives: anthropic}` must never read ANTHROPIC_API_KEY).
 */
function inheritable(parent: ProviderConfig): ProviderConfig {
  const { api_key: _key, env_prefix: _prefix, derives: _derives, ...rest } = structuredClone(parent);
  if (rest.auth && "api_key" in rest.auth) delete rest.auth.api_key;
  return rest;
}

/** What provider packages bring: definitions by provider name (`providers.<name>.package`), and protocols. */
export interface Packaged {
  providers: Readonly<Record<string, ProviderConfig>>;
  protocols: ReadonlySet<string>;
}

export function resolveFile(
  file: ConfigFile,
  env: Env,
  builtins: Readonly<Record<string, Readonly<ProviderConfig>>>,
  packaged: Packaged = { providers: {}, protocols: new Set() },
): ResolveResult {
  const issues: RawIssue[] = [];
  const warnings: string[] = [];
  const inherit = file.inherit_defaults ?? true;
  const userProviders = file.providers ?? {};

  // Step 4: built-ins, with the user's fields on top. A user entry with `derives` is a new
  // definition (its parent supplies the rest), so it is not blended with a same-named built-in.
  const declared: Record<string, ProviderConfig> = {};
  if (inherit) for (const [name, def] of Object.entries(builtins)) declared[name] = structuredClone(def) as ProviderConfig;
  // A `package` entry's base is the package's definition, whatever inherit_defaults says.
  for (const [name, { package: pkg, ...def }] of Object.entries(userProviders)) {
    if (pkg !== undefined) {
      const base = packaged.providers[name];
      if (def.derives !== undefined) issues.push({ path: ["providers", name, "derives"], message: "set either package or derives, not both" });
      else if (!base) issues.push({ path: ["providers", name, "package"], message: `"${pkg}" was not loaded: provider packages are loaded by loadConfig` });
      else declared[name] = mergeProvider(structuredClone(base), def);
      continue;
    }
    const base = declared[name];
    declared[name] = base && def.derives === undefined ? mergeProvider(base, def) : structuredClone(def);
  }

  // Step 5: flatten derives chains. A parent may be any declared provider or any built-in
  // (even with inherit_defaults: false, a built-in can serve as a template).
  const flat = new Map<string, ProviderConfig>();
  const failed = new Set<string>();
  const lookup = (name: string): ProviderConfig | undefined => declared[name] ?? (builtins[name] as ProviderConfig | undefined);
  const allNames = [...new Set([...Object.keys(declared), ...Object.keys(builtins)])];

  const flatten = (name: string, chain: string[]): ProviderConfig | undefined => {
    const done = flat.get(name);
    if (done) return done;
    if (failed.has(name)) return undefined;
    const def = lookup(name);
    if (!def) return undefined;
    if (def.derives === undefined) {
      flat.set(name, def);
      return def;
    }
    const here = [...chain, name];
    const parentName = def.derives;
    const loopStart = here.indexOf(parentName);
    if (loopStart !== -1) {
      const loop = [...here.slice(loopStart), parentName];
      issues.push({ path: ["providers", name, "derives"], message: `derives cycle: ${loop.join(" -> ")}` });
      for (const member of loop) failed.add(member);
      return undefined;
    }
    if (!lookup(parentName)) {
      issues.push({
        path: ["providers", name, "derives"],
        message: `unknown provider "${parentName}" in derives chain ${[...here, parentName].join(" -> ")}${didYouMean(parentName, allNames)}`,
      });
      failed.add(name);
      return undefined;
    }
    const parent = flatten(parentName, here);
    if (!parent) {
      failed.add(name);
      return undefined;
    }
    const { derives: _derives, ...own } = def;
    const result = mergeProvider(inheritable(parent), own);
    flat.set(name, result);
    return result;
  };

  // Step 6: env_prefix. {PREFIX}_API_KEY / {PREFIX}_BASE_URL fill a field the user's own entry
  // leaves unset (a built-in default api_base does not count: the variable overrides it).
  const providers: Record<string, ResolvedProvider> = {};
  for (const name of Object.keys(declared)) {
    const def = flatten(name, []);
    if (!def) continue;
    const own = userProviders[name];
    const resolved: ResolvedProvider = {
      name,
      api_protocol: def.api_protocol ?? "openai",
      default_headers: def.default_headers ?? {},
      auth: def.auth ?? { type: "bearer" },
      models: def.models ?? {},
      bridge: def.bridge ?? false,
      builtin: inherit && name in builtins && own?.derives === undefined,
    };
    if (def.api_base !== undefined) resolved.api_base = def.api_base;
    if (def.api_key !== undefined) resolved.api_key = def.api_key;
    if (def.env_prefix !== undefined) resolved.env_prefix = def.env_prefix;
    if (def.responses_api !== undefined) resolved.responses_api = def.responses_api;
    if (own?.derives !== undefined) resolved.derives = own.derives;
    if (def.command !== undefined) resolved.command = def.command;
    if (def.args !== undefined) resolved.args = def.args;
    if (def.env !== undefined) resolved.env = def.env;
    if (def.cwd !== undefined) resolved.cwd = def.cwd;
    const prefix = def.env_prefix;
    if (prefix !== undefined) {
      const key = env[`${prefix}_API_KEY`];
      if (own?.api_key === undefined && key) resolved.api_key = key;
      const base = env[`${prefix}_BASE_URL`];
      if (own?.api_base === undefined && base) {
        if (isHttpUrl(base)) resolved.api_base = base;
        else issues.push({ path: ["providers", name, "api_base"], message: `${prefix}_BASE_URL: expected an http:// or https:// URL` });
      }
    }
    const protocol = resolved.api_protocol;
    if (!(API_PROTOCOLS as readonly string[]).includes(protocol) && !packaged.protocols.has(protocol)) {
      const known = [...API_PROTOCOLS, ...packaged.protocols];
      // Echo only a word: a long value may be a key pasted into the wrong field.
      const got = /^[A-Za-z0-9_.-]{1,32}$/.test(protocol) ? `"${protocol}"${didYouMean(protocol, known)}` : "another string";
      issues.push({ path: ["providers", name, "api_protocol"], message: `expected ${known.join("|")} or a protocol a provider package registers, got ${got}` });
    }
    if (resolved.responses_api !== undefined && resolved.api_protocol !== "openai") {
      issues.push({ path: ["providers", name, "responses_api"], message: `only valid with api_protocol: openai (got ${resolved.api_protocol})` });
    }
    if (resolved.bridge && resolved.api_protocol !== "mcp") {
      issues.push({ path: ["providers", name, "bridge"], message: `only valid with api_protocol: mcp (got ${resolved.api_protocol})` });
    }
    if (resolved.command !== undefined && resolved.api_protocol !== "mcp") {
      issues.push({ path: ["providers", name, "command"], message: `only valid with api_protocol: mcp (got ${resolved.api_protocol})` });
    } else if (resolved.command !== undefined && resolved.api_base !== undefined) {
      issues.push({
        path: ["providers", name, "command"],
        message: "set either command (a local stdio server) or api_base (a Streamable HTTP server), not both",
      });
    }
    if (resolved.api_base === undefined && resolved.command === undefined && own !== undefined) {
      warnings.push(`provider "${name}" has no api_base: requests cannot be routed to it`);
    }
    providers[name] = resolved;
  }

  // Cross-references: model endpoints must name a provider.
  const providerNames = Object.keys(providers);
  const models: Record<string, ResolvedVirtualModel> = {};
  for (const [modelName, model] of Object.entries(file.models ?? {})) {
    const endpoints: ResolvedModelEndpoint[] = model.endpoints.map((endpoint, index) => {
      const known = endpoint.provider in providers || failed.has(endpoint.provider);
      if (!known) {
        issues.push({
          path: ["models", modelName, "endpoints", index, "provider"],
          message: `model "${modelName}" endpoint ${index}: unknown provider "${endpoint.provider}"${didYouMean(endpoint.provider, providerNames)}`,
        });
      }
      const out: ResolvedModelEndpoint = { provider: endpoint.provider, model_id: (endpoint.model_id ?? endpoint.service_id) as string };
      if (endpoint.api_key !== undefined) out.api_key = endpoint.api_key;
      if (endpoint.api_base !== undefined) out.api_base = endpoint.api_base;
      return out;
    });
    const { endpoints: _endpoints, ...rest } = model;
    models[modelName] = { ...rest, endpoints };
  }

  // Tool endpoints may name MCP/REST providers registered elsewhere: warn, do not fail.
  for (const [toolName, tool] of Object.entries(file.tools ?? {})) {
    tool.endpoints.forEach((endpoint, index) => {
      const provider = providers[endpoint.provider];
      if (!provider) {
        warnings.push(`tools.${toolName}.endpoints[${index}]: provider "${endpoint.provider}" is not configured`);
      } else if (provider.api_protocol !== "mcp" && provider.api_protocol !== "rest") {
        warnings.push(
          `tools.${toolName}.endpoints[${index}]: provider "${endpoint.provider}" speaks ${provider.api_protocol}, not mcp or rest: calls to it fail`,
        );
      }
    });
  }

  const mpp = file.mpp === undefined ? undefined : { ...file.mpp };
  if (mpp && mpp.secret_key === undefined && env.MPP_SECRET_KEY) mpp.secret_key = env.MPP_SECRET_KEY;

  const server = file.server ?? {};
  const config: Omit<ResolvedConfig, "database"> = {
    server: {
      listen: server.listen ?? DEFAULT_LISTEN,
      log_level: server.log_level ?? "info",
      control: { socket: server.control?.socket ?? DEFAULT_CONTROL_SOCKET },
      body_limit: server.body_limit ?? DEFAULT_BODY_LIMIT,
      request_timeout: server.request_timeout ?? DEFAULT_REQUEST_TIMEOUT_MS,
      // The default is a slice of a shorter request_timeout (an explicit value larger than it is refused).
      first_byte_timeout: server.first_byte_timeout ?? Math.min(DEFAULT_FIRST_BYTE_TIMEOUT_MS, server.request_timeout ?? DEFAULT_REQUEST_TIMEOUT_MS),
      response_limit: server.response_limit ?? DEFAULT_RESPONSE_LIMIT,
      cors_origins: server.cors_origins ?? [],
    },
    inherit_defaults: inherit,
    providers,
    models,
    tools: file.tools ?? {},
    agents: file.agents ?? {},
  };
  if (file.guardrails !== undefined) config.guardrails = file.guardrails;
  if (file.tracing !== undefined) config.tracing = file.tracing;
  if (file.wallet !== undefined) config.wallet = file.wallet;
  if (mpp !== undefined) config.mpp = mpp;
  if (file.solana_rpc_url !== undefined) config.solana_rpc_url = file.solana_rpc_url;
  return { config, issues, warnings };
}
