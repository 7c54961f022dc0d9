// The built-in providers and their model catalogs: catalog/*.yaml (shipped in the published
// package), compiled to dist/catalog.json at build time for a fast start. Read once and frozen:
// the data never changes at run time, so caching it is not mutable state.
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError } from "./errors.js";
import { parseYaml, toData } from "./document.js";
import { ProviderSchema, type ProviderConfig } from "./schema.js";
import { validate } from "./validate.js";

/**
 * The providers BitRouter ships (catalog/<name>.yaml), in the order `bitrouter status` lists them.
 * github-copilot authenticates with an OAuth device-code token: it is usable once a token is set.
 */
export const BUILTIN_PROVIDER_NAMES = [
  "openai",
  "anthropic",
  "google",
  "openrouter",
  "deepseek",
  "minimax",
  "zai",
  "moonshot",
  "qwen",
  "bitrouter",
  "github-copilot",
] as const;

export type BuiltinProviderName = (typeof BUILTIN_PROVIDER_NAMES)[number];

// src/ and dist/ both sit one level below the package root, beside catalog/.
const CATALOG_DIR = new URL("../catalog/", import.meta.url);
/** The catalog compiled to JSON at build time (scripts/build-catalog.mjs): YAML parsing costs ~1 s. */
const COMPILED_CATALOG = new URL("../dist/catalog.json", import.meta.url);

type Catalog = Record<string, ProviderConfig>;
let cached: Readonly<Record<string, Readonly<ProviderConfig>>> | undefined;

/** Built-in provider definitions (api_protocol, api_base, env_prefix, auth, models). Frozen. */
export function builtinProviders(): Readonly<Record<string, Readonly<ProviderConfig>>> {
  cached ??= deepFreeze(readCompiledCatalog() ?? loadCatalogYaml());
  return cached;
}

/** Parse and validate catalog/*.yaml (the source of truth; the build compiles it to JSON). */
export function loadCatalogYaml(): Catalog {
  const out: Catalog = {};
  for (const name of BUILTIN_PROVIDER_NAMES) {
    const file = fileURLToPath(new URL(`${name}.yaml`, CATALOG_DIR));
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new ConfigError([{ path: "", file, message: `built-in catalog is missing: ${(error as Error).message}` }]);
    }
    const parsed = parseYaml(text, file, {});
    out[name] = validate(ProviderSchema, toData(parsed), parsed);
  }
  return out;
}

/** The compiled catalog, unless it is missing or older than any YAML file (then: undefined). */
function readCompiledCatalog(): Catalog | undefined {
  try {
    const compiledAt = statSync(COMPILED_CATALOG).mtimeMs;
    for (const name of BUILTIN_PROVIDER_NAMES) {
      if (statSync(new URL(`${name}.yaml`, CATALOG_DIR)).mtimeMs > compiledAt) return undefined;
    }
    return JSON.parse(readFileSync(COMPILED_CATALOG, "utf8")) as Catalog;
  } catch {
    return undefined;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
