export * from "./hooks.js";
export * from "./balancer.js";
export * from "./dynamic-routes.js";
export * from "./table.js";
export * from "./http.js";
export * from "./pipeline.js";
export * from "./upstream.js";
export * from "./router.js";
