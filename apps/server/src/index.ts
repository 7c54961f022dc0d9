export * from "./app.js";
export * from "./control.js";
export * from "./control-client.js";
export * from "./logger.js";
export * from "./node-handler.js";
export * from "./runtime.js";
export * from "./stats.js";
export * from "./metering.js";
