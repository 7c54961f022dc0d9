import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { availableProviders, BUILTIN_PROVIDER_NAMES, builtinProviders, findModel, loadCatalogYaml, parseConfig, parseDirectModel } from "../src/index.js";

describe("built-in catalog", () => {
  it("ships every built-in with protocol, base, env prefix and models", () => {
    const builtins = builtinProviders();
    expect(Object.keys(builtins)).toEqual([...BUILTIN_PROVIDER_NAMES]);
    expect(builtins.anthropic).toMatchObject({ api_protocol: "anthropic", api_base: "https://api.anthropic.com", env_prefix: "ANTHROPIC" });
    expect(builtins.google).toMatchObject({ api_protocol: "google", env_prefix: "GOOGLE" });
    expect(builtins.qwen?.env_prefix).toBe("DASHSCOPE");
    expect(builtins["github-copilot"]?.auth).toMatchObject({ type: "oauth", grant: "device_code" });
    for (const name of BUILTIN_PROVIDER_NAMES) expect(Object.keys(builtins[name]?.models ?? {}).length).toBeGreaterThan(0);
    expect(Object.keys(builtins.bitrouter?.models ?? {}).length).toBeGreaterThan(200);
    expect(Object.isFrozen(builtins.openai)).toBe(true);
  });

  it("the compiled catalog read at start-up matches catalog/*.yaml", () => {
    expect(JSON.parse(JSON.stringify(builtinProviders()))).toEqual(loadCatalogYaml());
  });

  it("a resolved config never shares objects with the catalog", () => {
    const { config } = parseConfig("providers:\n  openai:\n    models:\n      gpt-4o:\n        max_output_tokens: 1\n", { env: {} });
    expect(config.providers.openai?.models["gpt-4o"]?.max_output_tokens).toBe(1);
    expect(builtinProviders().openai?.models?.["gpt-4o"]?.max_output_tokens).toBe(16384);
  });
});

describe("zero-config", () => {
  it("every built-in whose key is in the env is available, and only those", () => {
    const { config } = parseConfig("", { env: { OPENAI_API_KEY: "a", DEEPSEEK_API_KEY: "b", DASHSCOPE_API_KEY: "c" } });
    expect(
      availableProviders(config)
        .map((p) => p.name)
        .sort(),
    ).toEqual(["deepseek", "openai", "qwen"]);
    expect(availableProviders(parseConfig("", { env: {} }).config)).toEqual([]);
  });

  it("github-copilot (OAuth) is available once its token is set", () => {
    const names = (env: Record<string, string>) => availableProviders(parseConfig("", { env }).config).map((p) => p.name);
    expect(names({})).not.toContain("github-copilot");
    expect(names({ GITHUB_COPILOT_API_KEY: "gho_x" })).toEqual(["github-copilot"]);
  });

  it("header auth keys, mpp providers and providers without api_base", () => {
    const { config } = parseConfig(
      `
inherit_defaults: false
providers:
  hdr:
    api_base: https://h.example
    auth: { type: header, header_name: x-api-key, api_key: k }
  paid:
    derives: openai
    api_base: https://paid.example/v1
    auth: { type: mpp }
  nobase:
    api_key: k
`,
      { env: {} },
    );
    expect(availableProviders(config).map((p) => p.name)).toEqual(["hdr", "paid"]);
  });
});

describe("lookups", () => {
  const { config } = parseConfig("", { env: {} });
  it("findModel returns a catalog entry", () => {
    expect(findModel(config, "openai", "gpt-4o")?.max_input_tokens).toBe(128000);
    expect(findModel(config, "openai", "no-such-model")).toBeUndefined();
    expect(findModel(config, "nope", "gpt-4o")).toBeUndefined();
    expect(findModel(config, "openai", "constructor")).toBeUndefined();
  });

  it("parseDirectModel splits at the first colon", () => {
    expect(parseDirectModel("openai:gpt-4o")).toEqual({ provider: "openai", modelId: "gpt-4o" });
    expect(parseDirectModel("openrouter:meta-llama/llama-3.3-70b-instruct:free")).toEqual({
      provider: "openrouter",
      modelId: "meta-llama/llama-3.3-70b-instruct:free",
    });
    expect(parseDirectModel("gpt-4o")).toBeUndefined();
    expect(parseDirectModel(":gpt-4o")).toBeUndefined();
    expect(parseDirectModel("openai:")).toBeUndefined();
  });
});

describe("the compiled catalog", () => {
  // A copy of dist/ and catalog/ inside the package (so its imports still resolve), where the
  // compiled catalog carries a marker provider the YAML does not have.
  const root = fileURLToPath(new URL("..", import.meta.url));
  const probe = (dir: string) =>
    execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { builtinProviders } from ${JSON.stringify(pathToFileURL(join(dir, "dist", "catalog.js")).href)}; console.log(Object.keys(builtinProviders()).join(","))`,
      ],
      { encoding: "utf8" },
    ).trim();

  it("is used while its YAML has the same text, even when a checkout made the files newer; not once the text changed", () => {
    const dir = mkdtempSync(join(root, ".test-catalog-"));
    try {
      cpSync(join(root, "dist"), join(dir, "dist"), { recursive: true });
      cpSync(join(root, "catalog"), join(dir, "catalog"), { recursive: true });
      const compiled = JSON.parse(readFileSync(join(dir, "dist", "catalog.json"), "utf8")) as { sources: string; providers: Record<string, unknown> };
      compiled.providers = { marker: compiled.providers.openai };
      writeFileSync(join(dir, "dist", "catalog.json"), JSON.stringify(compiled));
      const future = new Date(Date.now() + 3_600_000);
      for (const name of BUILTIN_PROVIDER_NAMES) utimesSync(join(dir, "catalog", `${name}.yaml`), future, future);
      expect(probe(dir)).toBe("marker");
      appendFileSync(join(dir, "catalog", "zai.yaml"), "\n# edited\n");
      expect(probe(dir)).toBe(BUILTIN_PROVIDER_NAMES.join(","));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
