import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig, resolvePaths, substituteVars } from "../src/index.js";
import { tempDir, thrown } from "./helpers.js";

const parse = (yaml: string, env: Record<string, string> = {}) => parseConfig(yaml, { env, home: "/h" }).config;
const errorOf = (yaml: string, env: Record<string, string> = {}) => {
  const error = thrown(() => parseConfig(yaml, { env, home: "/h" }));
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
};

describe("environment: .env under the process environment", () => {
  it("process variables win over .env; .env fills the rest; quotes and comments parsed by dotenv", async () => {
    const home = tempDir();
    writeFileSync(join(home, ".env"), "# comment\nOPENAI_API_KEY=from-dotenv\nANTHROPIC_API_KEY='dotenv-ant'\nEXTRA=x\n", { mode: 0o600 });
    writeFileSync(join(home, "bitrouter.yaml"), "server:\n  listen: ${LISTEN}\n");
    const loaded = await loadConfig({
      flags: { homeDir: home },
      env: { OPENAI_API_KEY: "from-process", LISTEN: "127.0.0.1:9000", HOME: home },
    });
    expect(loaded.config.providers.openai?.api_key).toBe("from-process");
    expect(loaded.config.providers.anthropic?.api_key).toBe("dotenv-ant");
    expect(loaded.config.server.listen).toBe("127.0.0.1:9000");
    expect(loaded.env.EXTRA).toBe("x");
    expect(loaded.warnings).toEqual([]);
  });

  it("a .env readable by others is a warning; --env-file elsewhere is read", async () => {
    const home = tempDir();
    const other = join(tempDir(), "custom.env");
    writeFileSync(other, "DEEPSEEK_API_KEY=ds\n", { mode: 0o644 });
    const loaded = await loadConfig({ flags: { homeDir: home, envFile: other }, env: {} });
    expect(loaded.config.providers.deepseek?.api_key).toBe("ds");
    expect(loaded.warnings.join("\n")).toContain("chmod 600");
  });

  it("no config file and an empty file are both the default config", async () => {
    const home = tempDir();
    const none = await loadConfig({ flags: { homeDir: home }, env: {} });
    writeFileSync(join(home, "bitrouter.yaml"), "");
    const empty = await loadConfig({ flags: { homeDir: home }, env: {} });
    writeFileSync(join(home, "bitrouter.yaml"), "# only a comment\n");
    const comment = await loadConfig({ flags: { homeDir: home }, env: {} });
    expect(empty.config).toEqual(none.config);
    expect(comment.config).toEqual(none.config);
    expect(none.config.server.listen).toBe("127.0.0.1:8787");
    expect(Object.keys(none.config.models)).toEqual([]);
  });

  it("an explicit --config-file that does not exist is a warning, not a silent default", async () => {
    const home = tempDir();
    const loaded = await loadConfig({ flags: { homeDir: home, configFile: join(home, "nope.yaml") }, env: {} });
    expect(loaded.warnings.join("\n")).toContain("nope.yaml does not exist");
  });
});

describe("${VAR} substitution", () => {
  it("replaces variables in nested objects and arrays; missing ones become empty", () => {
    expect(substituteVars("a-${X}-${MISSING}-b", { X: "1" })).toBe("a-1--b");
    const config = parse(
      `
guardrails:
  disabled_patterns: ["\${P1}", "static", "pre-\${P2}"]
  tools:
    providers:
      mcp1:
        filter:
          deny: ["\${TOOL}"]
providers:
  custom:
    api_protocol: anthropic
    api_base: https://\${HOST}/v1
    default_headers:
      x-team: "\${TEAM}"
      x-missing: "\${NOPE}"
`,
      { P1: "ip_addresses", P2: "x", TOOL: "delete_repo", HOST: "llm.internal", TEAM: "core" },
    );
    expect(config.guardrails?.disabled_patterns).toEqual(["ip_addresses", "static", "pre-x"]);
    expect(config.guardrails?.tools?.providers?.mcp1?.filter?.deny).toEqual(["delete_repo"]);
    expect(config.providers.custom?.api_base).toBe("https://llm.internal/v1");
    // A header whose variable is missing is unset, not sent empty.
    expect(config.providers.custom?.default_headers).toEqual({ "x-team": "core" });
  });

  it("a value containing YAML syntax cannot inject structure", () => {
    const config = parse("providers:\n  openai:\n    api_key: ${KEY}\n", { KEY: "x\ninherit_defaults: false\nmodels: {a: 1}" });
    expect(config.providers.openai?.api_key).toBe("x\ninherit_defaults: false\nmodels: {a: 1}");
    expect(config.inherit_defaults).toBe(true);
    expect(config.models).toEqual({});
  });

  it("numbers and booleans from variables are accepted", () => {
    const config = parse("mpp:\n  enabled: ${ON}\n  networks:\n    tempo:\n      default_deposit: ${DEP}\n", { ON: "true", DEP: "5000000" });
    expect(config.mpp?.enabled).toBe(true);
    expect(config.mpp?.networks?.tempo?.default_deposit).toBe(5000000);
  });
});

describe("YAML features", () => {
  it("anchors, aliases and merge keys work", () => {
    const config = parse(`
models:
  a: &route
    strategy: load_balance
    endpoints: [{ provider: openai, model_id: gpt-4o }]
  b:
    <<: *route
    name: B
`);
    expect(config.models.b).toEqual({ strategy: "load_balance", endpoints: [{ provider: "openai", model_id: "gpt-4o" }], name: "B" });
  });

  it("paths with dots in keys are quoted in errors", () => {
    const error = errorOf("providers:\n  openai:\n    models:\n      gpt-4.1:\n        max_input_tokens: lots\n");
    expect(error.issues[0]?.path).toBe('providers.openai.models["gpt-4.1"].max_input_tokens');
  });
});

describe("built-in providers", () => {
  it("a user's fields override only those fields; user models merge into the catalog", () => {
    const config = parse(`
providers:
  openai:
    default_headers: { x-org: acme }
    models:
      gpt-4o:
        pricing:
          input_tokens:
            no_cache: 2.0
      my-finetune:
        max_input_tokens: 1000
`);
    const openai = config.providers.openai;
    expect(openai?.api_base).toBe("https://api.openai.com/v1");
    expect(openai?.env_prefix).toBe("OPENAI");
    expect(openai?.default_headers).toEqual({ "x-org": "acme" });
    expect(openai?.models["gpt-4o"]?.pricing?.input_tokens).toEqual({ no_cache: 2.0, cache_read: 1.25 });
    expect(openai?.models["gpt-4o"]?.max_input_tokens).toBe(128000);
    expect(openai?.models["my-finetune"]).toEqual({ max_input_tokens: 1000 });
    expect(openai?.models["gpt-4.1"]).toBeDefined();
  });

  it("inherit_defaults: false with no providers leaves none", () => {
    expect(parse("inherit_defaults: false\n", { OPENAI_API_KEY: "k" }).providers).toEqual({});
  });

  it("inherit_defaults: false keeps only declared providers (built-ins still serve as derives parents)", () => {
    const config = parse(`
inherit_defaults: false
providers:
  mine:
    derives: anthropic
    api_base: https://a.example/v1
`);
    expect(Object.keys(config.providers)).toEqual(["mine"]);
    expect(config.providers.mine?.api_protocol).toBe("anthropic");
    const error = errorOf("inherit_defaults: false\nmodels:\n  m:\n    endpoints:\n      - {provider: openai, model_id: gpt-4o}\n");
    expect(error.message).toContain('unknown provider "openai"');
  });
});

describe("derives", () => {
  it("flattens chains: protocol, base, auth, headers and catalog come from the ancestors", () => {
    const config = parse(`
providers:
  base:
    derives: anthropic
    api_base: https://gw.example/anthropic
    default_headers: { x-a: "1" }
    auth: { type: header, header_name: x-api-key, api_key: parent-secret }
  child:
    derives: base
    default_headers: { x-b: "2" }
  grandchild:
    derives: child
    api_base: https://other.example
`);
    const child = config.providers.child;
    expect(child).toMatchObject({ api_protocol: "anthropic", api_base: "https://gw.example/anthropic", derives: "base" });
    expect(child?.default_headers).toEqual({ "x-a": "1", "x-b": "2" });
    // The auth scheme is inherited; the parent's key is not.
    expect(child?.auth).toEqual({ type: "header", header_name: "x-api-key" });
    expect(child?.models["claude-sonnet-4-20250514"]).toBeDefined();
    expect(config.providers.grandchild?.api_base).toBe("https://other.example");
    expect(config.providers.grandchild?.api_protocol).toBe("anthropic");
  });

  it("a cycle is an error naming the chain", () => {
    const error = errorOf("providers:\n  a:\n    derives: b\n  b:\n    derives: a\n");
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ path: "providers.b.derives", message: "derives cycle: a -> b -> a", line: 5 });
    expect(errorOf("providers:\n  self:\n    derives: self\n").message).toContain("self -> self");
  });

  it("an unknown parent is an error naming the chain and the nearest provider", () => {
    const error = errorOf("providers:\n  a:\n    derives: b\n  b:\n    derives: antropic\n");
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.message).toBe('unknown provider "antropic" in derives chain a -> b -> antropic (did you mean "anthropic"?)');
    expect(error.issues[0]).toMatchObject({ path: "providers.b.derives", line: 5, column: 14 });
  });
});

describe("env_prefix", () => {
  it("reads {PREFIX}_API_KEY and {PREFIX}_BASE_URL when the user's field is unset or empty", () => {
    const yaml = `
providers:
  custom:
    api_protocol: openai
    env_prefix: CUSTOM_LLM
    api_key: \${CUSTOM_LLM_KEY}
`;
    expect(parse(yaml, { CUSTOM_LLM_API_KEY: "k1", CUSTOM_LLM_BASE_URL: "https://c.example/v1" }).providers.custom).toMatchObject({
      api_key: "k1",
      api_base: "https://c.example/v1",
    });
    expect(parse(yaml, { CUSTOM_LLM_KEY: "explicit", CUSTOM_LLM_API_KEY: "k1" }).providers.custom?.api_key).toBe("explicit");
  });

  it("{PREFIX}_BASE_URL overrides a built-in's default base; an explicit api_base wins over it", () => {
    expect(parse("", { OPENAI_BASE_URL: "http://127.0.0.1:1234/v1" }).providers.openai?.api_base).toBe("http://127.0.0.1:1234/v1");
    const explicit = parse("providers:\n  openai:\n    api_base: https://proxy.example/v1\n", { OPENAI_BASE_URL: "http://127.0.0.1:1234/v1" });
    expect(explicit.providers.openai?.api_base).toBe("https://proxy.example/v1");
  });

  it("qwen keeps its DASHSCOPE prefix", () => {
    const config = parse("", { DASHSCOPE_API_KEY: "dash" });
    expect(config.providers.qwen).toMatchObject({ env_prefix: "DASHSCOPE", api_key: "dash" });
  });

  it("an invalid {PREFIX}_BASE_URL is an error that does not print the value", () => {
    const error = errorOf("", { OPENAI_BASE_URL: "sk-looks-secret" });
    expect(error.message).toContain("providers.openai.api_base: OPENAI_BASE_URL: expected an http:// or https:// URL");
    expect(error.message).not.toContain("sk-looks-secret");
  });
});

describe("cross-references", () => {
  it("a model endpoint naming an unknown provider names the model, the index and the nearest provider", () => {
    const error = errorOf(`
models:
  smart:
    endpoints:
      - provider: anthropic
        model_id: claude-sonnet-4-20250514
      - provider: opnai
        model_id: gpt-4o
`);
    expect(error.issues).toEqual([
      {
        path: "models.smart.endpoints[1].provider",
        message: 'model "smart" endpoint 1: unknown provider "opnai" (did you mean "openai"?)',
        file: "bitrouter.yaml",
        line: 7,
        column: 19,
      },
    ]);
  });

  it("model_id and service_id: one is required, both must agree", () => {
    expect(errorOf("models:\n  m:\n    endpoints:\n      - provider: openai\n").message).toContain(
      "models.m.endpoints[0].model_id: required (service_id is accepted as a synonym)",
    );
    expect(errorOf("models:\n  m:\n    endpoints:\n      - {provider: openai, model_id: a, service_id: b}\n").message).toContain("conflicts with model_id");
  });
});

describe("paths in the loaded config", () => {
  it("keeps the caller's paths, extra fields included (the CLI's run directory), and the control socket name as configured", async () => {
    const home = tempDir();
    writeFileSync(join(home, "bitrouter.yaml"), "server:\n  control:\n    socket: ctl.sock\n");
    const loaded = await loadConfig({ paths: { ...resolvePaths({ homeDir: home }, {}, "/"), runDir: join(home, "r") }, env: {} });
    expect(loaded.paths).toMatchObject({ home, runDir: join(home, "r"), databaseUrlSource: "default" });
    expect(loaded.config.server.control.socket).toBe("ctl.sock");
  });

  it("server.cors_origins takes web origins only", () => {
    expect(parse('server:\n  cors_origins: ["https://app.example.com", "http://localhost:3000"]\n').server.cors_origins).toEqual([
      "https://app.example.com",
      "http://localhost:3000",
    ]);
    expect(parse("server: {}\n").server.cors_origins).toEqual([]);
    const error = errorOf('server:\n  cors_origins: ["https://app.example.com/path", "*"]\n');
    expect(error.issues.map((i) => i.path)).toEqual(["server.cors_origins[0]", "server.cors_origins[1]"]);
  });

  it("server extensions: body_limit and request_timeout accept sizes and durations", () => {
    const config = parse('server:\n  body_limit: "2mb"\n  request_timeout: "60s"\n');
    expect(config.server.body_limit).toBe(2 * 1024 * 1024);
    expect(config.server.request_timeout).toBe(60_000);
    expect(parse("server:\n  body_limit: 1000\n  request_timeout: 250\n").server).toMatchObject({ body_limit: 1000, request_timeout: 250 });
    const error = errorOf('server:\n  body_limit: "lots"\n  request_timeout: "soon"\n');
    expect(error.issues.map((i) => i.path)).toEqual(["server.body_limit", "server.request_timeout"]);
  });

  it("server extensions: first_byte_timeout is a slice of request_timeout; response_limit is a size", () => {
    expect(parse("").server).toMatchObject({ first_byte_timeout: 60_000, response_limit: 64 * 1024 * 1024 });
    expect(parse('server:\n  first_byte_timeout: "5s"\n  response_limit: "1mb"\n').server).toMatchObject({
      first_byte_timeout: 5_000,
      response_limit: 1024 * 1024,
    });
    // The default shrinks to a shorter request_timeout; an explicit larger value is refused, naming the field.
    expect(parse('server:\n  request_timeout: "20s"\n').server.first_byte_timeout).toBe(20_000);
    const error = errorOf('server:\n  request_timeout: "20s"\n  first_byte_timeout: "30s"\n');
    expect(error.issues.map((i) => i.path)).toEqual(["server.first_byte_timeout"]);
    expect(error.message).toContain("must not exceed request_timeout");
  });
});

describe("guardrails: the section's shape is @bitrouter/core's GuardrailsConfig", () => {
  it("accepts every custom-pattern direction the guardrails accept, including both", () => {
    const config = parse("guardrails:\n  custom_patterns:\n    - name: ticket\n      regex: T-[0-9]+\n      direction: both\n");
    expect(config.guardrails?.custom_patterns).toEqual([{ name: "ticket", regex: "T-[0-9]+", direction: "both" }]);
  });

  it("names the field and the valid words when a direction or action is misspelt", () => {
    const error = errorOf(
      "guardrails:\n  custom_patterns:\n    - name: ticket\n      regex: T-[0-9]+\n      direction: sideways\n  upgoing:\n    api_keys: deny\n",
    );
    expect(error.message).toContain('guardrails.custom_patterns[0].direction: expected upgoing|downgoing|both, got "sideways"');
    expect(error.message).toContain('guardrails.upgoing.api_keys: expected warn|redact|block, got "deny"');
  });
});
