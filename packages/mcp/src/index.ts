export { ToolGateway, ToolCallRefused, NAME_SEPARATOR, RESOURCE_PREFIX, SKILL_META_KEY } from "./gateway.js";
export type { CallContext, GatewayOptions, ListedTool, Scope } from "./gateway.js";
export { McpEndpoint } from "./endpoint.js";
export type { McpEndpointOptions } from "./endpoint.js";
export { UpstreamUnavailable } from "./upstream.js";
export type { CallOptions, ListKind, Relay, UpstreamStatus } from "./upstream.js";
export { providerHeaders, specFromConfig } from "./config.js";
export type * from "./types.js";
