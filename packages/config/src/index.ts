export * from "./schema.js";
export { ConfigError, formatIssue, formatPath, suggest, type ConfigIssue, type PathSegment } from "./errors.js";
export { substituteVars, type Env } from "./document.js";
export { BUILTIN_PROVIDER_NAMES, builtinProviders, loadCatalogYaml, type BuiltinProviderName } from "./catalog.js";
export {
  CONFIG_FILE_NAME,
  ENV_FILE_NAME,
  PID_FILE_NAME,
  resolveDatabaseUrl,
  resolvePaths,
  scaffoldHome,
  type DatabaseUrlSource,
  type GlobalFlags,
  type HomeSource,
  type ResolvedPaths,
} from "./paths.js";
export { defineProvider, loadConfig, loadEnv, parseConfig, type LoadedConfig, type LoadedPaths, type LoadOptions, type ParseOptions } from "./load.js";
export { costMicroUsd } from "./cost.js";
export { availableProviders, findModel, hasCredentials, parseDirectModel, providerApiKey } from "./lookup.js";
