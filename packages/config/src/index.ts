export {
  API_PROTOCOLS,
  ConfigFileSchema,
  DEFAULT_BODY_LIMIT,
  DEFAULT_CONTROL_SOCKET,
  DEFAULT_LISTEN,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MODALITIES,
  STRATEGIES,
  isHttpUrl,
  parseListen,
  type AgentConfig,
  type ApiProtocol,
  type AuthConfig,
  type ConfigFile,
  type ModelEndpointConfig,
  type ModelInfo,
  type Modality,
  type MppConfig,
  type MppNetworkConfig,
  type Pricing,
  type ProviderConfig,
  type ResolvedConfig,
  type ResolvedModelEndpoint,
  type ResolvedProvider,
  type ResolvedServer,
  type ResolvedVirtualModel,
  type ServerConfig,
  type Strategy,
  type ToolConfig,
  type TracingConfig,
  type VirtualModelConfig,
  type WalletConfig,
} from "./schema.js";
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
