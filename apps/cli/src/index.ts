export { buildCli } from "./cli.js";
export { BitrouterCommand, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, isUsageError } from "./base.js";
export { daemonStatus, processExists, readPidFile, type DaemonState } from "./daemon.js";
export { VERSION } from "./version.js";
