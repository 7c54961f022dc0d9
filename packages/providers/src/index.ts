export * from "./canonical.js";
export * from "./errors.js";
export * from "./codec.js";
export * from "./stream-error.js";
export * from "./codecs/index.js";
export * from "./client.js";
export * from "./sse.js";
