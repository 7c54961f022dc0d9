export { buildCli, withPlaceholders } from "./cli.js";
export { BitrouterCommand, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, isUsageError, type DaemonFiles, type LoadedHome } from "./base.js";
export type { Paint } from "./colour.js";
export {
  cleanStale,
  daemonStatus,
  inspectDaemon,
  processExists,
  queryServer,
  readPidFile,
  startDaemon,
  stopDaemon,
  type DaemonPaths,
  type DaemonState,
  type ServerStatus,
  type StartOptions,
  type StartResult,
  type StopResult,
} from "./daemon.js";
export { VERSION } from "./version.js";
export type { CliFlags, HomePaths } from "./home.js";
