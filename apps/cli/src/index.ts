export { buildCli, withPlaceholders } from "./cli.js";
export { BitrouterCommand, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, isUsageError } from "./base.js";
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
