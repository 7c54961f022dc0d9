// The built-in providers and their model catalogs: catalog/*.yaml (shipped in the published
// package), compiled to dist/catalog.json at build time for a fast start. Read once and frozen:
// the data never changes at run time, so caching it is not mutable state.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
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

/** The built-in providers by name, as their catalog YAML defines them. */
export type Catalog = Record<string, ProviderConfig>;
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

/** What scripts/build-catalog.mjs writes: the catalog and a hash of the YAML it came from. */
export interface CompiledCatalog {
  sources: string;
  providers: Catalog;
}

/**
 * A hash of catalog/*.yaml's contents. The compiled catalog is trusted only when it matches: file
 * times would not do, since a git checkout makes the YAML newer than a build of the same text
 * (and a start-up that parses the YAML takes a second and ~25 MB more memory).
 */
export function catalogSourceHash(): string {
  const hash = createHash("sha256");
  for (const name of BUILTIN_PROVIDER_NAMES) hash.update(readFileSync(new URL(`${name}.yaml`, CATALOG_DIR))).update("\0");
  return hash.digest("hex");
}

/** The compiled catalog, unless it is missing or was built from other YAML (then: undefined). */
function readCompiledCatalog(): Catalog | undefined {
  try {
    const compiled = JSON.parse(readFileSync(COMPILED_CATALOG, "utf8")) as Partial<CompiledCatalog>;
    return compiled.providers && compiled.sources === catalogSourceHash() ? compiled.providers : undefined;
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
