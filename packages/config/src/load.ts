// The loading pipeline, step by step:
//   1. environment: <home>/.env, then the process environment on top (process wins)
//   2. ${VAR} substitution in every string value (on the parsed document, see document.ts)
//   3. YAML -> validated ConfigFile (unknown keys and bad values reported with line:col)
//   4. merge built-in providers (unless inherit_defaults: false)
//   5. resolve derives chains
//   6. env_prefix: {PREFIX}_API_KEY / {PREFIX}_BASE_URL
// then cross-reference checks and path-dependent values (database URL, control socket).
// No global state: hot reload calls loadConfig again and swaps the result.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseDotenv } from "dotenv";
import { protocolProblem, type UpstreamCodec } from "@bitrouter/providers/define";
import { builtinProviders } from "./catalog.js";
import { issueAt, parseYaml, toData, type Env, type ParsedDocument } from "./document.js";
import { ConfigError, formatPath } from "./errors.js";
import { resolveDatabaseUrl, resolvePaths, type DatabaseUrlSource, type GlobalFlags, type ResolvedPaths } from "./paths.js";
import { loadProviderPackages } from "./packages.js";
import { resolveFile } from "./resolve.js";
import { ConfigFileSchema, ProviderSchema, type ConfigFile, type ProviderConfig, type ResolvedConfig } from "./schema.js";
import { sortByPosition, validate } from "./validate.js";

/** The paths the configuration was loaded with (any extra fields of the caller's kept), and the database it names. */
export type LoadedPaths<P extends ResolvedPaths = ResolvedPaths> = P & {
  databaseUrl: string;
  databaseUrlSource: DatabaseUrlSource;
};

export interface LoadedConfig<P extends ResolvedPaths = ResolvedPaths> {
  config: ResolvedConfig;
  paths: LoadedPaths<P>;
  /** The merged environment (.env under the process environment). Holds secrets: never log it. */
  env: Record<string, string>;
  /** Things worth telling the user that do not stop BitRouter from running. */
  warnings: string[];
}

export interface LoadOptions<P extends ResolvedPaths = ResolvedPaths> {
  /** Global CLI flags; used to resolve paths (unless `paths` is given) and for --db. */
  flags?: GlobalFlags;
  /** Already resolved paths (skips home resolution); returned with the database added. */
  paths?: P;
  /** The process environment (default: process.env). */
  env?: Env;
  /** The user's working directory (default: process.cwd()). */
  cwd?: string;
  /** Extra provider definitions treated like built-ins (see ParseOptions.providers). */
  providers?: Readonly<Record<string, ProviderConfig>>;
  /** Extra protocols, beside those of provider packages (see ParseOptions.protocols). */
  protocols?: Readonly<Record<string, UpstreamCodec>>;
}

export interface ParseOptions {
  /** The merged environment used for ${VAR} and env_prefix. */
  env?: Env;
  /** Named in error messages. */
  file?: string;
  /** Base of relative SQLite paths and of the default database. */
  home?: string;
  cwd?: string;
  /** The --db flag (undefined: not given). */
  db?: string | undefined;
  /**
   * Extra provider definitions, treated like built-ins (bitrouter.yaml can override their fields
   * or `derives` from them). This is how a custom provider package plugs in: see defineProvider.
   */
  providers?: Readonly<Record<string, ProviderConfig>>;
  /**
   * The definitions of entries naming a provider package (`providers.<name>.package`), by provider
   * name. loadConfig imports the packages and fills this in; parseConfig cannot (it is synchronous).
   */
  packages?: Readonly<Record<string, ProviderConfig>>;
  /**
   * Protocols beyond the built-in ones, by name: outbound codecs a provider package exports (or an
   * embedder registers), usable as `api_protocol: <name>`. A built-in name cannot be taken.
   */
  protocols?: Readonly<Record<string, UpstreamCodec>>;
}

/** Read the .env file (missing is fine) and lay the process environment over it. */
export async function loadEnv(envFile: string, processEnv: Env, warnings: string[] = []): Promise<Record<string, string>> {
  const merged: Record<string, string> = {};
  let text: string | undefined;
  try {
    text = await readFile(envFile, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EISDIR") throw isADirectory("env file", envFile, ".env");
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  if (text !== undefined) {
    Object.assign(merged, parseDotenv(text));
    const { mode } = await stat(envFile);
    if ((mode & 0o077) !== 0) warnings.push(`${envFile} is readable by other users; run: chmod 600 ${envFile}`);
  }
  for (const [key, value] of Object.entries(processEnv)) if (value !== undefined) merged[key] = value;
  return merged;
}

/** A config read from text: the resolved config, its warnings, and where its database URL came from. */
export type ParsedConfig = { config: ResolvedConfig; warnings: string[]; databaseUrlSource: DatabaseUrlSource };

/**
 * Steps 2-6 on YAML text already in memory: substitute, validate, merge, resolve. Throws
 * ConfigError listing every problem. Empty text is a valid (default) configuration.
 */
export function parseConfig(text: string, options: ParseOptions = {}): ParsedConfig {
  const file = options.file ?? "bitrouter.yaml";
  const parsed = parseYaml(text, file, options.env ?? {});
  const warnings: string[] = [];
  if (parsed.missingVars.length > 0) {
    warnings.push(`${file}: environment variables referenced but not set (replaced with ""): ${parsed.missingVars.join(", ")}`);
  }
  const data = toData(parsed) ?? {}; // an empty file (or only comments) is a valid config
  const result = resolveData(data, parsed, options);
  return { ...result, warnings: [...warnings, ...result.warnings] };
}

/**
 * Steps 3-6 on a configuration already in memory as data in bitrouter.yaml's shape (snake_case, no
 * ${VAR} substitution): validated, merged with the built-ins and resolved exactly like the file.
 */
export function resolveConfig(data: unknown, options: ParseOptions = {}): ParsedConfig {
  return resolveData(data ?? {}, undefined, options);
}

function resolveData(data: unknown, parsed: ParsedDocument | undefined, options: ParseOptions): ParsedConfig {
  const env = options.env ?? {};
  const cwd = options.cwd ?? process.cwd();
  const home = options.home ?? cwd;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError([issueAt(parsed, [], "expected a mapping of sections (server:, providers:, models:, ...)")]);
  }
  const fileConfig: ConfigFile = validate(ConfigFileSchema, data, parsed);

  const protocols = checkProtocols(options.protocols ?? {});
  const builtins = options.providers ? { ...builtinProviders(), ...checkProviders(options.providers) } : builtinProviders();
  const resolved = resolveFile(fileConfig, env, builtins, { providers: checkProviders(options.packages ?? {}), protocols: new Set(Object.keys(protocols)) });
  if (resolved.issues.length > 0) {
    throw new ConfigError(sortByPosition(resolved.issues.map((issue) => issueAt(parsed, issue.path, issue.message, issue.atKey))));
  }

  const database = resolveDatabaseUrl({
    flag: options.db,
    env,
    configUrl: fileConfig.database?.url,
    home,
    cwd,
  });
  const config: ResolvedConfig = { ...resolved.config, database: { url: database.url } };
  if (Object.keys(protocols).length > 0) config.protocols = protocols;
  return { config, warnings: [...resolved.warnings], databaseUrlSource: database.source };
}

function checkProtocols(protocols: Readonly<Record<string, UpstreamCodec>>): Readonly<Record<string, UpstreamCodec>> {
  const issues = Object.entries(protocols).flatMap(([name, codec]) => {
    const problem = protocolProblem(name, codec);
    return problem === undefined ? [] : [{ path: formatPath(["protocols", name]), message: problem }];
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({ ...protocols });
}

function checkProviders(providers: Readonly<Record<string, ProviderConfig>>): Record<string, ProviderConfig> {
  const out: Record<string, ProviderConfig> = {};
  for (const [name, definition] of Object.entries(providers)) {
    const result = ProviderSchema.safeParse(definition);
    if (!result.success) {
      throw new ConfigError(
        result.error.issues.map((issue) => ({
          path: formatPath(["providers", name, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))]),
          message: issue.message,
        })),
      );
    }
    out[name] = result.data;
  }
  return out;
}

/** The whole pipeline: paths, .env, bitrouter.yaml. A missing config file is a valid config. */
export async function loadConfig<P extends ResolvedPaths = ResolvedPaths>(options: LoadOptions<P> = {}): Promise<LoadedConfig<P>> {
  const processEnv = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const flags = options.flags ?? {};
  const paths = (options.paths ?? resolvePaths(flags, processEnv, cwd)) as P;
  const warnings: string[] = [];

  const env = await loadEnv(paths.envFile, processEnv, warnings);
  if (paths.explicit?.envFile && !(await exists(paths.envFile))) warnings.push(`env file ${paths.envFile} does not exist`);

  let text = "";
  try {
    text = await readFile(paths.configFile, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EISDIR") throw isADirectory("config file", paths.configFile, "bitrouter.yaml");
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    if (paths.explicit?.configFile) warnings.push(`config file ${paths.configFile} does not exist; using the defaults`);
  }

  // Provider packages are imported anew on every load, so a reload picks up added or updated ones.
  const packages = await loadProviderPackages(text, { file: paths.configFile, home: paths.home, env, protocols: options.protocols ?? {} });
  const result = parseConfig(text, {
    env,
    file: paths.configFile,
    home: paths.home,
    cwd,
    db: flags.db,
    packages: packages.providers,
    protocols: packages.protocols,
    ...(options.providers ? { providers: options.providers } : {}),
  });
  return {
    config: result.config,
    paths: {
      ...paths,
      databaseUrl: result.config.database.url,
      databaseUrlSource: result.databaseUrlSource,
    },
    env,
    warnings: [...warnings, ...result.warnings],
  };
}

/** A file path that names a directory (`--config-file ~/.bitrouter`): say which, and what was meant. */
function isADirectory(what: string, path: string, name: string): Error {
  return new Error(`${what} ${path} is a directory, not a file: give the file itself (${join(path, name)}), or the directory as --home-dir`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
