// The configuration examples of the BitRouter self-host guide (the user guide of the Rust
// BitRouter, whose bitrouter.yaml this one accepts), copied verbatim into fixtures/spec-*.yaml, load
// as written with their env vars unset.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/index.js";
import { fixture } from "./helpers.js";

const home = "/srv/bitrouter";
const load = (name: string, env: Record<string, string> = {}) => parseConfig(fixture(name), { env, file: name, home });

describe("the self-host guide's full configuration reference", () => {
  const { config, warnings } = load("spec-full-reference.yaml");

  it("resolves the server and database sections", () => {
    expect(config.server).toEqual({
      listen: "127.0.0.1:8787",
      log_level: "info",
      control: { socket: "bitrouter.sock" },
      body_limit: 10 * 1024 * 1024,
      request_timeout: 600_000,
      first_byte_timeout: 60_000,
      response_limit: 64 * 1024 * 1024,
      cors_origins: [],
    });
    expect(config.database.url).toBe("sqlite:///srv/bitrouter/bitrouter.db?mode=rwc");
    expect(config.inherit_defaults).toBe(true);
  });

  it("keeps the built-ins and resolves the custom providers", () => {
    expect(Object.keys(config.providers)).toEqual(expect.arrayContaining(["openai", "anthropic", "google", "deepseek", "my-proxy", "custom-llm"]));
    // ${OPENAI_API_KEY} is unset: the override leaves openai as the built-in, without a key.
    expect(config.providers.openai).toMatchObject({ api_protocol: "openai", api_base: "https://api.openai.com/v1", builtin: true });
    expect(config.providers.openai?.api_key).toBeUndefined();

    const proxy = config.providers["my-proxy"];
    expect(proxy).toMatchObject({ derives: "openai", api_protocol: "openai", api_base: "https://api.mycompany.com/v1", builtin: false });
    expect(proxy?.api_key).toBeUndefined();
    expect(proxy?.env_prefix).toBeUndefined();
    expect(proxy?.models["gpt-4o"]?.max_input_tokens).toBe(128000);

    const custom = config.providers["custom-llm"];
    expect(custom).toMatchObject({
      api_protocol: "openai",
      api_base: "https://llm.example.com/v1",
      env_prefix: "CUSTOM_LLM",
      default_headers: { "x-project-id": "my-project" },
      auth: { type: "bearer" },
      bridge: false,
    });
    expect(custom?.models["my-model-7b"]).toEqual({
      name: "My Model 7B",
      description: "Custom fine-tuned model",
      max_input_tokens: 32768,
      max_output_tokens: 4096,
      input_modalities: ["text"],
      output_modalities: ["text"],
      pricing: {
        input_tokens: { no_cache: 0.5, cache_read: 0.25, cache_write: 0.75 },
        output_tokens: { text: 1.5, reasoning: 3.0 },
      },
    });
    expect(config.providers["github-mcp"]).toMatchObject({ api_protocol: "mcp", bridge: true, api_base: "https://api.githubcopilot.com/mcp" });
    expect(config.providers["header-auth-provider"]?.auth).toEqual({ type: "header", header_name: "x-api-key" });
    expect(config.providers["header-auth-provider"]?.api_protocol).toBe("openai");
    expect(config.providers["paid-provider"]?.auth).toEqual({ type: "mpp" });
  });

  it("normalises service_id to model_id in model endpoints", () => {
    expect(config.models.smart).toEqual({
      strategy: "priority",
      endpoints: [
        { provider: "anthropic", model_id: "claude-sonnet-4-20250514" },
        { provider: "openai", model_id: "gpt-4o" },
      ],
      name: "Smart",
      max_input_tokens: 200000,
      max_output_tokens: 16384,
    });
    expect(config.models.fast?.strategy).toBe("load_balance");
    expect(config.models.fast?.endpoints).toEqual([
      { provider: "openai", model_id: "gpt-4o-mini" },
      { provider: "openai", model_id: "gpt-4o-mini" },
    ]);
    expect(config.models.coding?.endpoints.map((e) => e.provider)).toEqual(["anthropic", "openai", "google"]);
  });

  it("keeps tools, guardrails, wallet, mpp and solana_rpc_url typed", () => {
    expect(config.tools.create_issue).toMatchObject({
      strategy: "priority",
      endpoints: [{ provider: "github-mcp", service_id: "create_issue" }],
      skill: "github-issues",
      input_schema: { type: "object", required: ["repo", "title"] },
    });
    expect(config.tools.web_search?.pricing).toEqual({ default: 0.001, overrides: { search: 0.002 } });
    expect(warnings.some((w) => w.includes('provider "exa" is not configured'))).toBe(true);

    expect(config.guardrails).toMatchObject({
      enabled: true,
      disabled_patterns: ["ip_addresses", "pii_phone_numbers"],
      custom_patterns: [{ name: "internal_token", regex: "myapp_[A-Za-z0-9]{32}", direction: "upgoing" }],
      upgoing: { api_keys: "redact", private_keys: "block", credentials: "redact" },
      downgoing: { suspicious_commands: "block" },
      custom_upgoing: { internal_token: "block" },
      block_message: { include_details: true, include_help_link: true },
    });
    expect(config.guardrails?.tools?.providers?.["github-mcp"]).toEqual({
      filter: { deny: ["delete_repo", "delete_branch"] },
      param_restrictions: { rules: { create_issue: { deny: ["assignees"], action: "strip" } } },
    });
    expect(config.wallet).toEqual({
      name: "my-wallet",
      vault_path: "~/.ows",
      payment: {
        tempo_rpc_url: "https://rpc.moderato.tempo.xyz",
        solana_rpc_url: "https://api.mainnet-beta.solana.com",
        session_max_deposit: 10000000,
        session_default_deposit: 1000000,
      },
    });
    // default_deposit is a string in the guide's example: accepted as a number. Unset ${VAR}s are absent.
    expect(config.mpp).toEqual({
      enabled: true,
      realm: "bitrouter.example.com",
      networks: { tempo: { recipient: "0x1234...", escrow_contract: "0xabcd...", fee_payer: false, default_deposit: 5000000 } },
    });
    expect(config.solana_rpc_url).toBe("https://api.mainnet-beta.solana.com");
    expect(warnings.some((w) => w.includes("MY_PROXY_API_KEY"))).toBe(true);
  });

  it("fills the ${VAR}s when they are set", () => {
    const env = {
      OPENAI_API_KEY: "sk-openai",
      MY_PROXY_API_KEY: "sk-proxy",
      HEADER_AUTH_KEY: "hk",
      OPENAI_KEY_POOL_A: "pool-a",
      OPENAI_KEY_POOL_B: "pool-b",
      MPP_SECRET_KEY: "mpp-secret",
      TEMPO_RPC_URL: "https://tempo.example",
    };
    const { config: full } = load("spec-full-reference.yaml", env);
    expect(full.providers.openai?.api_key).toBe("sk-openai");
    expect(full.providers["my-proxy"]?.api_key).toBe("sk-proxy");
    expect(full.providers["header-auth-provider"]?.auth).toEqual({ type: "header", header_name: "x-api-key", api_key: "hk" });
    expect(full.models.fast?.endpoints.map((e) => e.api_key)).toEqual(["pool-a", "pool-b"]);
    expect(full.mpp?.secret_key).toBe("mpp-secret");
    expect(full.mpp?.networks?.tempo?.rpc_url).toBe("https://tempo.example");
  });
});

describe("the self-host guide's smaller examples", () => {
  it("minimal bitrouter.yaml", () => {
    const { config } = load("spec-minimal.yaml", {});
    expect(config.server.listen).toBe("127.0.0.1:8787");
    expect(config.models.default).toEqual({ strategy: "priority", endpoints: [{ provider: "openai", model_id: "gpt-4o" }] });
    expect(config.providers.openai?.api_key).toBeUndefined();
    expect(load("spec-minimal.yaml", { OPENAI_API_KEY: "sk-1" }).config.providers.openai?.api_key).toBe("sk-1");
  });

  it("environment variable example", () => {
    const { config } = load("spec-env-vars.yaml", {});
    expect(config.providers.openai?.api_base).toBe("https://api.openai.com/v1");
    const withEnv = load("spec-env-vars.yaml", { OPENAI_API_KEY: "sk-2", OPENAI_BASE_URL: "http://127.0.0.1:9999/v1" }).config;
    expect(withEnv.providers.openai).toMatchObject({ api_key: "sk-2", api_base: "http://127.0.0.1:9999/v1" });
  });

  it("custom providers with derives (moonshot re-defined on top of anthropic)", () => {
    const { config } = load("spec-custom-providers.yaml", { ANTHROPIC_API_KEY: "sk-ant", OPENAI_API_KEY: "sk-oai" });
    expect(config.providers["my-company"]).toMatchObject({ api_protocol: "openai", api_base: "https://api.mycompany.com/v1" });
    expect(config.providers.moonshot).toMatchObject({ api_protocol: "anthropic", api_base: "https://api.moonshot.ai/anthropic", derives: "anthropic" });
    // Credentials are never inherited: neither key may travel to the derived provider's host.
    expect(config.providers["my-company"]?.api_key).toBeUndefined();
    expect(config.providers.moonshot?.api_key).toBeUndefined();
    expect(config.providers.moonshot?.models["claude-sonnet-4-20250514"]).toBeDefined();
  });

  it("auth modes", () => {
    expect(load("spec-auth-bearer.yaml").config.providers["example-bearer"]).toMatchObject({ api_key: "sk-...", auth: { type: "bearer" } });
    expect(load("spec-auth-header.yaml").config.providers["example-header"]?.auth).toEqual({
      type: "header",
      header_name: "x-api-key",
      api_key: "key-...",
    });
    expect(load("spec-auth-custom.yaml").config.providers["example-custom"]?.auth).toEqual({
      type: "custom",
      method: "siwx",
      params: { chain_id: 1 },
    });
    expect(load("spec-auth-bearer.yaml").warnings).toContain('provider "example-bearer" has no api_base: requests cannot be routed to it');
  });

  it("model routing", () => {
    const { config } = load("spec-model-routing.yaml");
    expect(config.models.default?.endpoints).toEqual([
      { provider: "openai", model_id: "gpt-4o" },
      { provider: "anthropic", model_id: "claude-sonnet-4-20250514" },
    ]);
    expect(config.models.fast).toEqual({
      strategy: "load_balance",
      endpoints: [
        { provider: "openai", model_id: "gpt-4o-mini", api_key: "sk-key-a" },
        { provider: "openai", model_id: "gpt-4o-mini", api_key: "sk-key-b" },
      ],
    });
  });
});
