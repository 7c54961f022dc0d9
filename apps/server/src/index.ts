// @bitrouter/server: the HTTP server as a library. The CLI starts it with startRuntime; the rest is
// for hosts that assemble their own (createApp on any Hono-compatible host, the logger, the stats).
export { createApp, type AppRuntime, type CallerPrincipal, type Env } from "./app.js";
export type { CrossSitePolicy } from "./cross-site.js";
export type { GenerationExtras, McpService } from "./mcp.js";
export type { AuthSetup } from "./security.js";
export { startRuntime, handleSignals, type Generation, type Runtime, type RuntimeOptions } from "./runtime.js";
export { createLogger, type Logger } from "./logger.js";
export { SERVING_NODE_FLAGS } from "./heap.js";
export type { Stats, StatsSnapshot } from "./stats.js";
export type { Metering } from "./metering.js";
