// Provider packages named in bitrouter.yaml (`providers.<name>.package`): installed in the home's
// node_modules (written here as npm would lay them out), loaded on every loadConfig, and every
// mistake reported at `providers.<name>.package` with what to do.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig } from "../src/index.js";
import { tempDir, thrown } from "./helpers.js";

/** A package in <home>/node_modules/<name>: package.json and an ES module entry. */
function install(home: string, name: string, source: string, version = "1.0.0"): void {
  const dir = join(home, "node_modules", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name, version, type: "module", exports: { ".": { types: "./index.d.ts", default: "./index.js" } } }),
  );
  writeFileSync(join(dir, "index.js"), source);
}

const ACME = `export const provider = { api_protocol: "openai", api_base: "https://api.acme.example/v1", env_prefix: "ACME", models: { "acme-large": { pricing: { input_tokens: { no_cache: 3 } } } } };`;

/** A codec whose outbound methods exist (never called here). */
const codec = (name: string) => `{ protocol: ${JSON.stringify(name)}, encodeRequest() {}, decodeResponse() {}, createStreamDecoder() {}, decodeError() {} }`;

function home(yaml: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, "bitrouter.yaml"), yaml);
  return dir;
}

const load = (dir: string) => loadConfig({ flags: { homeDir: dir }, env: {}, cwd: dir });

async function loadError(dir: string): Promise<ConfigError> {
  const error = await load(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe("providers.<name>.package", () => {
  it("is the base definition; the entry's other fields override it, even with inherit_defaults: false", async () => {
    const dir = home(
      "inherit_defaults: false\nproviders:\n  acme:\n    package: '@acme/bitrouter-provider'\n    api_key: k\n    models:\n      acme-mini: {}\n",
    );
    install(dir, "@acme/bitrouter-provider", ACME);
    const { config } = await load(dir);
    expect(config.providers.acme).toMatchObject({ api_protocol: "openai", api_base: "https://api.acme.example/v1", api_key: "k", builtin: false });
    expect(Object.keys(config.providers.acme!.models).sort()).toEqual(["acme-large", "acme-mini"]);
    expect(Object.keys(config.providers)).toEqual(["acme"]);
  });

  it("may be a path to the package, relative to bitrouter.yaml", async () => {
    const dir = home("providers:\n  acme:\n    package: ./vendor/acme\n");
    install(dir, "../vendor/acme", ACME);
    const { config } = await load(dir);
    expect(config.providers.acme?.api_base).toBe("https://api.acme.example/v1");
  });

  it("is imported anew on each load: a package updated in place is picked up by a reload", async () => {
    const dir = home("providers:\n  acme:\n    package: acme-provider\n");
    install(dir, "acme-provider", ACME);
    expect(Object.keys((await load(dir)).config.providers.acme!.models)).toEqual(["acme-large"]);
    install(dir, "acme-provider", ACME.replace('"acme-large"', '"acme-xl"'), "1.1.0");
    expect(Object.keys((await load(dir)).config.providers.acme!.models)).toEqual(["acme-xl"]);
  });

  it("missing: says where it was looked for and the command that installs it", async () => {
    const dir = home("providers:\n  acme:\n    package: '@acme/bitrouter-provider'\n");
    const error = await loadError(dir);
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: "providers.acme.package",
        line: 3,
        message: `"@acme/bitrouter-provider" is not installed in ${join(dir, "node_modules")}; run: npm install --prefix ${dir} @acme/bitrouter-provider`,
      }),
    ]);
  });

  it("not a provider package: no provider export, an invalid definition, a module that fails to import", async () => {
    const dir = home("providers:\n  a:\n    package: no-export\n  b:\n    package: bad-definition\n  c:\n    package: broken\n");
    install(dir, "no-export", "export const something = 1;");
    install(dir, "bad-definition", `export default { api_base: "not a url", models: { m: { max_output_tokens: -1 } } };`);
    install(dir, "broken", `import "not-installed-anywhere";`);
    const error = await loadError(dir);
    const messages = error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    expect(messages[0]).toBe(
      'providers.a.package: "no-export" does not export a provider definition: expected `export const provider = defineProvider({...})` (or a default export)',
    );
    expect(messages).toContain('providers.b.package: "bad-definition" exports an invalid provider definition: api_base: expected an http:// or https:// URL');
    expect(
      messages.some((m) => m.startsWith('providers.b.package: "bad-definition" exports an invalid provider definition: models.m.max_output_tokens:')),
    ).toBe(true);
    expect(messages.at(-1)).toMatch(/^providers\.c\.package: "broken" could not be imported \(.*index\.js\): .*not-installed-anywhere/);
  });

  it("adds a protocol a provider can use as api_protocol; a built-in name or a clash is refused", async () => {
    const dir = home("providers:\n  acme:\n    package: acme-protocol\n");
    install(
      dir,
      "acme-protocol",
      `export const provider = { api_protocol: "acme-v1", api_base: "https://api.acme.example" };\nexport const protocols = { "acme-v1": ${codec("acme-v1")} };`,
    );
    const { config } = await load(dir);
    expect(config.providers.acme?.api_protocol).toBe("acme-v1");
    expect(Object.keys(config.protocols ?? {})).toEqual(["acme-v1"]);

    const clash = home("providers:\n  a:\n    package: takes-openai\n  b:\n    package: acme-protocol\n  c:\n    package: acme-again\n");
    install(clash, "takes-openai", `export const provider = {};\nexport const protocols = { openai: ${codec("openai")} };`);
    install(clash, "acme-protocol", `export const provider = {};\nexport const protocols = { "acme-v1": ${codec("acme-v1")} };`);
    install(clash, "acme-again", `export const provider = {};\nexport const protocols = { "acme-v1": ${codec("acme-v1")} };`);
    const messages = (await loadError(clash)).issues.map((issue) => `${issue.path}: ${issue.message}`);
    expect(messages).toEqual([
      'providers.a.package: "takes-openai": protocol "openai" is built in and cannot be replaced: give the package\'s protocol another name',
      'providers.c.package: "acme-again": protocol "acme-v1" is already registered by another provider package',
    ]);
  });

  it("an api_protocol nobody registered is refused with the known names", () => {
    const error = thrown(() => parseConfig("providers:\n  acme:\n    api_protocol: acme-v1\n    api_base: https://x.example\n")) as ConfigError;
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: "providers.acme.api_protocol",
        line: 3,
        message: 'expected openai|anthropic|google|mcp|rest or a protocol a provider package registers, got "acme-v1"',
      }),
    ]);
  });

  it("parseConfig (synchronous) does not load packages: an entry naming one says so", () => {
    const error = thrown(() => parseConfig("providers:\n  acme:\n    package: acme-provider\n")) as ConfigError;
    expect(error.message).toContain('providers.acme.package: "acme-provider" was not loaded: provider packages are loaded by loadConfig');
  });
});
