// The built-in providers and their model catalogs, read from the package's catalog/*.yaml
// (shipped in the published package). Read once and frozen: the data never changes at run time,
// so caching it is not mutable state.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError } from "./errors.js";
import { parseYaml, toData } from "./document.js";
import { ProviderSchema, type ProviderConfig } from "./schema.js";
import { validate } from "./validate.js";

/** The spec's built-ins, plus github-copilot (OAuth device-code auth; usable once a token is set). */
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

let cached: Readonly<Record<string, Readonly<ProviderConfig>>> | undefined;

/** Built-in provider definitions (api_protocol, api_base, env_prefix, auth, models). Frozen. */
export function builtinProviders(): Readonly<Record<string, Readonly<ProviderConfig>>> {
  if (cached) return cached;
  const out: Record<string, ProviderConfig> = {};
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
  cached = deepFreeze(out);
  return cached;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
