// What the init wizard (interactive or not) decided, and how it lands on disk: bitrouter.yaml is
// edited as a YAML Document (comments and unknown sections survive), keys go to .env (0600) and the
// YAML only references them as ${VAR}.
import { chmod, readFile, rename, stat, writeFile } from "node:fs/promises";
import { BUILTIN_PROVIDER_NAMES, parseConfig, parseListen, type LoadedConfig, type ResolvedProvider } from "@bitrouter/config";
import { parse as parseDotenv } from "dotenv";
import { isMap, isScalar, parseDocument, type Document } from "yaml";

export type Strategy = "priority" | "load_balance";

export interface ProviderChoice {
  name: string;
  /** The variable bitrouter.yaml references: `api_key: ${VAR}`. */
  keyVar: string;
  /** A key to store in .env under keyVar; undefined when the variable is set elsewhere. Secret. */
  key?: string;
  /** Another endpoint than the built-in one (a local or compatible server, a proxy). */
  apiBase?: string;
}

export interface WizardPlan {
  providers: ProviderChoice[];
  model?: { name: string; strategy: Strategy; endpoints: string[] };
  listen?: string;
}

/** A provider the wizard can set up: built in, authenticated with a plain API key. */
export interface ProviderOption {
  name: string;
  /** `{env_prefix}_API_KEY`, e.g. OPENAI_API_KEY. */
  defaultVar: string;
  apiBase: string;
  protocol: ResolvedProvider["api_protocol"];
  models: string[];
  /** A sensible first model for a virtual model. */
  suggestedModel: string;
}

const SUGGESTED: Record<string, string> = {
  openai: "gpt-4o",
  anthropic: "claude-sonnet-4-20250514",
  google: "gemini-2.5-flash",
  openrouter: "openai/gpt-4.1",
  deepseek: "deepseek-chat",
  minimax: "MiniMax-M2",
  zai: "glm-4.6",
  moonshot: "kimi-k2-0905-preview",
  qwen: "qwen-plus",
  bitrouter: "openai/gpt-4o",
};

/** Built-in providers with API-key auth (github-copilot signs in with OAuth instead). */
export function providerOptions(loaded: LoadedConfig): ProviderOption[] {
  const out: ProviderOption[] = [];
  for (const name of BUILTIN_PROVIDER_NAMES) {
    const p = loaded.config.providers[name];
    if (!p || p.api_base === undefined || p.auth.type === "oauth" || !p.env_prefix) continue;
    const models = Object.keys(p.models);
    const suggested = SUGGESTED[name];
    out.push({
      name,
      defaultVar: `${p.env_prefix}_API_KEY`,
      apiBase: p.api_base,
      protocol: p.api_protocol,
      models,
      suggestedModel: suggested !== undefined && models.includes(suggested) ? suggested : (models[0] ?? ""),
    });
  }
  return out;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MODEL_NAME = /^[A-Za-z0-9._\-/]+$/;

export function checkEnvName(name: string): string | undefined {
  return ENV_NAME.test(name) ? undefined : `'${name}' is not a valid environment variable name (letters, digits and _; not starting with a digit)`;
}

/** Never echoes the key: only what is wrong with it. */
export function checkKey(key: string): string | undefined {
  if (key.trim() === "") return "the API key is empty";
  if (/[\r\n]/.test(key)) return "the API key contains a line break";
  if (/\s/.test(key.trim())) return "the API key contains spaces";
  return undefined;
}

export function checkModelName(name: string): string | undefined {
  if (!MODEL_NAME.test(name) || name.includes(":")) return `model name '${name}' may only hold letters, digits and . _ - / (no ':' or spaces)`;
  return undefined;
}

/** `openai:gpt-4o, anthropic:claude-...` -> endpoints, or what is wrong. */
export function parseEndpoints(text: string, known: (provider: string) => boolean): string[] | string {
  const endpoints = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (endpoints.length === 0) return "give at least one endpoint as provider:model_id";
  for (const endpoint of endpoints) {
    const colon = endpoint.indexOf(":");
    if (colon <= 0 || colon === endpoint.length - 1) return `'${endpoint}' is not provider:model_id`;
    const provider = endpoint.slice(0, colon);
    if (!known(provider)) return `unknown provider '${provider}' in '${endpoint}'`;
  }
  return endpoints;
}

/** Endpoints whose model id the provider's catalog does not list (sent as is, without pricing). */
export function uncataloguedEndpoints(loaded: LoadedConfig, endpoints: string[]): string[] {
  return endpoints.filter((e) => {
    const colon = e.indexOf(":");
    const models = loaded.config.providers[e.slice(0, colon)]?.models;
    return models !== undefined && Object.keys(models).length > 0 && !Object.hasOwn(models, e.slice(colon + 1));
  });
}

export function checkApiBase(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") return undefined;
  } catch {
    // not a URL at all
  }
  return `'${url}' is not an http:// or https:// URL (e.g. http://127.0.0.1:11434/v1)`;
}

export function checkListen(listen: string): string | undefined {
  return parseListen(listen) ? undefined : `'${listen}' is not host:port (e.g. 127.0.0.1:8787)`;
}

/** One line per change, for the summary; keys appear only as "(hidden)". */
export function describePlan(plan: WizardPlan, files: { configFile: string; envFile: string }): string[] {
  const lines: string[] = [];
  const yaml: string[] = [];
  if (plan.listen !== undefined) yaml.push(`server.listen: ${plan.listen}`);
  for (const p of plan.providers) {
    if (p.apiBase !== undefined) yaml.push(`providers.${p.name}.api_base: ${p.apiBase}`);
    yaml.push(`providers.${p.name}.api_key: \${${p.keyVar}}`);
  }
  if (plan.model) {
    yaml.push(`models.${plan.model.name}: ${plan.model.strategy} -> ${plan.model.endpoints.join(", ")}`);
  }
  if (yaml.length > 0) lines.push(`${files.configFile}:`, ...yaml.map((l) => `  ${l}`));
  const secrets = plan.providers.filter((p) => p.key !== undefined);
  if (secrets.length > 0) lines.push(`${files.envFile} (mode 600):`, ...secrets.map((p) => `  ${p.keyVar}=(hidden)`));
  return lines;
}

/** Whether bitrouter.yaml already defines providers or models: then the wizard adds to them. */
export function hasExistingSetup(configText: string): boolean {
  const doc = parseDocument(configText);
  if (!isMap(doc.contents)) return false;
  return ["providers", "models"].some((section) => {
    const node = doc.get(section);
    return isMap(node) && node.items.length > 0;
  });
}

/** Apply the plan to the YAML text, keeping everything else (comments included) as it was. */
export function editConfigText(text: string, plan: WizardPlan): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`cannot edit the configuration: ${doc.errors[0]!.message}`);
  if (doc.contents !== null && !isMap(doc.contents)) throw new Error("cannot edit the configuration: its top level is not a mapping");
  if (plan.listen !== undefined) {
    ensureMap(doc, ["server"]);
    doc.setIn(["server", "listen"], plan.listen);
  }
  for (const p of plan.providers) {
    ensureMap(doc, ["providers"]);
    ensureMap(doc, ["providers", p.name]); // `openai:` with no value
    if (p.apiBase !== undefined) doc.setIn(["providers", p.name, "api_base"], p.apiBase);
    doc.setIn(["providers", p.name, "api_key"], `\${${p.keyVar}}`);
  }
  if (plan.model) {
    ensureMap(doc, ["models"]);
    const endpoints = plan.model.endpoints.map((e) => {
      const colon = e.indexOf(":");
      return { provider: e.slice(0, colon), model_id: e.slice(colon + 1) };
    });
    doc.setIn(["models", plan.model.name], doc.createNode({ strategy: plan.model.strategy, endpoints }));
  }
  return doc.toString();
}

/** `providers:` written with no value is null in YAML: make it a mapping before adding to it. */
function ensureMap(doc: Document, path: string[]): void {
  const node = doc.getIn(path, true);
  if (isMap(node)) return;
  if (node === undefined || node === null || (isScalar(node) && node.value === null)) {
    doc.setIn(path, doc.createNode({}));
    return;
  }
  throw new Error(`cannot edit the configuration: ${path.join(".")} is not a mapping`);
}

/** Lay the keys over the .env text: a variable already there is replaced in place, others appended. */
export function editEnvText(text: string, entries: Record<string, string>): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const pending = new Map(Object.entries(entries));
  const out = lines.map((line) => {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    const name = match?.[1];
    if (name === undefined || !pending.has(name)) return line;
    const value = pending.get(name)!;
    pending.delete(name);
    return `${name}=${quoteEnv(value)}`;
  });
  for (const [name, value] of pending) out.push(`${name}=${quoteEnv(value)}`);
  return `${out.join("\n")}\n`;
}

/** Single quotes keep a value literal for dotenv (no # comments, no expansion). */
function quoteEnv(value: string): string {
  if (/^[A-Za-z0-9_\-.:/+=@~]*$/.test(value)) return value;
  if (value.includes("'")) return JSON.stringify(value);
  return `'${value}'`;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw error;
  }
}

/** Write through a temporary file and rename, so a crash never leaves half a file. */
async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode); // the umask may have narrowed it
  await rename(tmp, path);
}

async function modeOf(path: string, fallback: number): Promise<number> {
  try {
    return (await stat(path)).mode & 0o777;
  } catch {
    return fallback;
  }
}

export interface WriteResult {
  configText: string;
  wroteConfig: boolean;
  wroteEnv: boolean;
  warnings: string[];
}

/**
 * Validate the edited configuration with the new keys in place, then write both files. Nothing is
 * written when the result would not load (the ConfigError is thrown as is).
 */
export async function writePlan(loaded: LoadedConfig, plan: WizardPlan, processEnv: NodeJS.ProcessEnv): Promise<WriteResult> {
  const { configFile, envFile, home } = loaded.paths;
  const configBefore = await readText(configFile);
  const envBefore = await readText(envFile);
  const secrets = Object.fromEntries(plan.providers.filter((p) => p.key !== undefined).map((p) => [p.keyVar, p.key!]));
  const configText = editConfigText(configBefore, plan);
  const envText = Object.keys(secrets).length > 0 ? editEnvText(envBefore, secrets) : envBefore;

  // The same merge loadConfig does: .env under the process environment.
  const env: Record<string, string> = { ...parseDotenv(envText) };
  for (const [k, v] of Object.entries(processEnv)) if (v !== undefined) env[k] = v;
  const parsed = parseConfig(configText, { env, file: configFile, home });
  const warnings = [...parsed.warnings];
  for (const name of Object.keys(secrets)) {
    if (processEnv[name] !== undefined && processEnv[name] !== secrets[name]) {
      warnings.push(`${name} is also set in this shell's environment, which takes precedence over ${envFile}: unset it to use the new key`);
    }
  }

  const wroteConfig = configText !== configBefore;
  if (wroteConfig) await writeAtomic(configFile, configText, await modeOf(configFile, 0o644));
  const wroteEnv = envText !== envBefore;
  if (wroteEnv) await writeAtomic(envFile, envText, 0o600);
  return { configText, wroteConfig, wroteEnv, warnings };
}
