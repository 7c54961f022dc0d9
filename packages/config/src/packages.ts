// Provider packages named in bitrouter.yaml (`providers.<name>.package`): found in <home>/node_modules
// (or at a path), imported, and checked, so that parseConfig can merge their definitions like
// built-ins. Asynchronous (import), hence done by loadConfig before the synchronous parseConfig.
import { readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { protocolProblem, type UpstreamCodec } from "@bitrouter/providers/define";
import { issueAt, parseYaml, toData, type Env } from "./document.js";
import { ConfigError, formatPath, type ConfigIssue } from "./errors.js";
import { ProviderSchema, type ProviderConfig } from "./schema.js";
import { sortByPosition } from "./validate.js";

export interface LoadedPackages {
  /** Definitions by the provider name whose entry names the package. */
  providers: Record<string, ProviderConfig>;
  /** Protocols the packages register, by name. */
  protocols: Record<string, UpstreamCodec>;
}

interface PackageManifest {
  name?: string;
  version?: string;
  main?: string;
  exports?: unknown;
}

/**
 * Loads every package bitrouter.yaml names. `home` holds the node_modules searched for npm names;
 * a path (`./x`, `../x`, `/x`) is taken relative to the config file. Every problem is collected
 * into one ConfigError located at `providers.<name>.package`.
 */
export async function loadProviderPackages(
  text: string,
  options: {
    file: string;
    home: string;
    env: Env /** Registered already (a package cannot take these names). */;
    protocols: Readonly<Record<string, UpstreamCodec>>;
  },
): Promise<LoadedPackages> {
  const loaded: LoadedPackages = { providers: {}, protocols: { ...options.protocols } };
  const parsed = parseYaml(text, options.file, options.env);
  const data = toData(parsed);
  const providers = isRecord(data) && isRecord(data.providers) ? data.providers : {};
  const issues: ConfigIssue[] = [];
  for (const [name, entry] of Object.entries(providers)) {
    const spec = isRecord(entry) ? entry.package : undefined;
    if (typeof spec !== "string" || spec === "") continue; // a wrong type is the schema's to report
    const path = ["providers", name, "package"];
    const problem = (message: string) => issues.push(issueAt(parsed, path, message));
    const module = await importPackage(spec, options.home, dirname(options.file)).catch((error: Error) => {
      problem(error.message);
      return undefined;
    });
    if (!module) continue;
    const definition = module.provider ?? module.default;
    if (!isRecord(definition)) {
      problem(`"${spec}" does not export a provider definition: expected \`export const provider = defineProvider({...})\` (or a default export)`);
      continue;
    }
    const checked = ProviderSchema.safeParse(definition);
    if (!checked.success) {
      for (const issue of checked.error.issues) {
        const field = formatPath(issue.path.filter((p): p is string | number => typeof p !== "symbol"));
        problem(`"${spec}" exports an invalid provider definition: ${field === "" ? "" : `${field}: `}${issue.message}`);
      }
      continue;
    }
    loaded.providers[name] = checked.data;
    if (module.protocols === undefined) continue;
    if (!isRecord(module.protocols)) {
      problem(`"${spec}" exports \`protocols\` that is not a mapping of protocol names to codecs`);
      continue;
    }
    for (const [protocol, codec] of Object.entries(module.protocols)) {
      if (loaded.protocols[protocol] === codec) continue; // the same package named by two entries
      const why = protocolProblem(protocol, codec, loaded.protocols);
      if (why === undefined) loaded.protocols[protocol] = codec as UpstreamCodec;
      else problem(`"${spec}": ${why}`);
    }
  }
  if (issues.length > 0) throw new ConfigError(sortByPosition(issues));
  return loaded;
}

/** The package's entry module; throws an Error whose message says what to do. */
async function importPackage(spec: string, home: string, configDir: string): Promise<Record<string, unknown>> {
  const isPath = spec.startsWith("./") || spec.startsWith("../") || isAbsolute(spec);
  const dir = isPath ? resolve(configDir, spec) : join(home, "node_modules", spec);
  if (!isPath && !/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(spec)) {
    throw new Error(`"${spec}" is not a package name or a path (./dir, ../dir or /dir)`);
  }
  const entry = await entryFile(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw new Error(`"${spec}" cannot be read at ${dir}: ${error.message}`);
    throw new Error(
      isPath
        ? `"${spec}" not found: ${dir} does not exist`
        : `"${spec}" is not installed in ${join(home, "node_modules")}; run: npm install --prefix ${home} ${spec}`,
    );
  });
  // The query makes a reload import a changed package anew (ES modules are cached by URL); files
  // it imports itself stay cached until a restart.
  const { mtimeMs } = await stat(entry.file);
  const url = `${pathToFileURL(entry.file).href}?load=${encodeURIComponent(entry.version ?? "")}-${mtimeMs}`;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`"${spec}" could not be imported (${entry.file}): ${firstLine(error)}`);
  }
}

/** The file a package directory (or a file path) resolves to for `import`, and its version. */
async function entryFile(path: string): Promise<{ file: string; version?: string }> {
  if ((await stat(path)).isFile()) return { file: path };
  let manifest: PackageManifest = {};
  try {
    manifest = JSON.parse(await readFile(join(path, "package.json"), "utf8")) as PackageManifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const target = exportTarget(manifest.exports) ?? manifest.main ?? "index.js";
  return { file: resolve(path, target), ...(manifest.version === undefined ? {} : { version: manifest.version }) };
}

const CONDITIONS = ["node", "import", "default"];

/** The target of the package's "." export for an ES import in Node (conditions node, import, default). */
function exportTarget(exports: unknown): string | undefined {
  if (typeof exports === "string") return exports;
  if (Array.isArray(exports)) {
    for (const option of exports) {
      const target = exportTarget(option);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  if (!isRecord(exports)) return undefined;
  const keys = Object.keys(exports);
  if (keys.some((key) => key.startsWith("."))) return exportTarget(exports["."]);
  for (const key of keys) if (CONDITIONS.includes(key)) return exportTarget(exports[key]);
  return undefined;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Map);
}
