/** bitrouter.yaml (resolved) -> the gateway's spec: `api_protocol: mcp|rest` providers and `tools:` entries. */
import type { ResolvedConfig, ResolvedProvider } from "@bitrouter/config";
import type { GatewaySpec, UpstreamSpec } from "./types.js";

/** The credentials and extra headers a provider sends: `api_key` as Bearer unless `auth` names a header. */
export function providerHeaders(provider: ResolvedProvider): Record<string, string> {
  const headers: Record<string, string> = { ...provider.default_headers };
  const auth = provider.auth;
  const key = (auth.type === "bearer" || auth.type === "header" ? auth.api_key : undefined) ?? provider.api_key;
  if (key) {
    if (auth.type === "header") headers[auth.header_name] = key;
    else headers.authorization = `Bearer ${key}`;
  }
  return headers;
}

/**
 * The gateway's spec. `walletToken` supplies the bearer token of providers with `auth: {type: wallet}`
 * (the operator account's, see the server); such a provider without one is left out (the server logs why).
 */
export function specFromConfig(
  config: Pick<ResolvedConfig, "providers" | "tools">,
  options: { walletToken?: (provider: string) => (() => Promise<string>) | undefined } = {},
): GatewaySpec {
  const upstreams: UpstreamSpec[] = [];
  for (const provider of Object.values(config.providers)) {
    const bearerToken = provider.auth.type === "wallet" ? options.walletToken?.(provider.name) : undefined;
    if (provider.auth.type === "wallet" && !bearerToken) continue; // it would go out unauthenticated
    const auth = bearerToken ? { bearerToken } : {};
    if (provider.api_protocol === "mcp") {
      const transport =
        provider.command !== undefined
          ? {
              command: provider.command,
              ...(provider.args ? { args: provider.args } : {}),
              ...(provider.env ? { env: provider.env } : {}),
              ...(provider.cwd ? { cwd: provider.cwd } : {}),
            }
          : provider.api_base !== undefined
            ? { url: provider.api_base }
            : null;
      if (transport === null) continue; // neither command nor api_base: warned about by the config loader
      upstreams.push({ kind: "mcp", name: provider.name, headers: providerHeaders(provider), ...auth, bridge: provider.bridge, ...transport });
    } else if (provider.api_protocol === "rest" && provider.api_base !== undefined) {
      upstreams.push({ kind: "rest", name: provider.name, url: provider.api_base, headers: providerHeaders(provider), ...auth });
    }
  }
  const tools = Object.entries(config.tools).map(([name, tool]) => ({
    name,
    strategy: tool.strategy,
    endpoints: tool.endpoints.map((e) => ({ provider: e.provider, serviceId: e.service_id })),
    ...(tool.description ? { description: tool.description } : {}),
    ...(tool.input_schema ? { inputSchema: tool.input_schema } : {}),
    ...(tool.skill ? { skill: tool.skill } : {}),
    ...(tool.pricing ? { pricing: stripUndefined(tool.pricing) } : {}),
  }));
  return { upstreams, tools };
}

function stripUndefined(pricing: { default?: number | undefined; overrides?: Record<string, number> | undefined }): {
  default?: number;
  overrides?: Record<string, number>;
} {
  return {
    ...(pricing.default === undefined ? {} : { default: pricing.default }),
    ...(pricing.overrides === undefined ? {} : { overrides: pricing.overrides }),
  };
}
