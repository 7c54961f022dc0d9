/** Log levels, least to most severe. `bitrouter.yaml`'s `server.log_level` takes one of these. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];
