// @bitrouter/router: the public API. Embedders need createRouter and the hook contract; the server
// also uses the HTTP matching, the inbound request shape and the runtime state that survives reloads.
export { createRouter, notFound, type CallOptions, type Router, type RouterConfig, type RouterOptions } from "./router.js";
export type { EndpointOptions, ModelInfoOptions, ModelOptions, PricingOptions, ProviderOptions, RoutesConfig } from "./router-config.js";
export type { CompletionRecord, Principal, RequestContext, RouterHook } from "@bitrouter/core";
export { Balancer, type Strategy } from "./balancer.js";
export { costMicroUsd } from "./cost.js";
export { DynamicRoutes, type DynamicRoute } from "./dynamic-routes.js";
export { callerProtocol, callerRequestId, matchPath, readCredential, type RouteMatch } from "./http.js";
export type { InboundRequest, InboundResult } from "./pipeline.js";
export type { RawBody } from "./body.js";
export type { ChunkWriter, StreamBody } from "./stream-pipe.js";
export { paidPerRequest, type ModelListing, type ResolvedRoute, type RouteResolver, type RouteTarget, type RoutingTable } from "./table.js";
