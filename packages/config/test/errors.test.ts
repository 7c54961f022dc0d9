import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../src/index.js";
import { thrown } from "./helpers.js";

function errorOf(yaml: string, env: Record<string, string> = {}): ConfigError {
  const error = thrown(() => parseConfig(yaml, { env, file: "/etc/bitrouter/bitrouter.yaml", home: "/h" }));
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe("ConfigError", () => {
  it("reports an unknown key with file:line:col and the nearest valid key", () => {
    const error = errorOf("server:\n  listen: 127.0.0.1:8787\n  log_levle: debug\n");
    expect(error.issues).toEqual([
      {
        path: "server.log_levle",
        message: 'unknown key "log_levle" (did you mean "log_level"?)',
        file: "/etc/bitrouter/bitrouter.yaml",
        line: 3,
        column: 3,
      },
    ]);
    expect(error.message).toBe(
      'Invalid configuration:\n  /etc/bitrouter/bitrouter.yaml:3:3: server.log_levle: unknown key "log_levle" (did you mean "log_level"?)',
    );
  });

  it("lists the valid keys when nothing is close", () => {
    const error = errorOf("database:\n  zzzzzzzz: 1\n");
    expect(error.issues[0]?.message).toBe('unknown key "zzzzzzzz" (valid keys: url)');
  });

  it("reports unknown keys deep inside records, arrays and auth variants", () => {
    const error = errorOf(`
providers:
  openai:
    models:
      gpt-4o:
        pricing:
          input_tokens:
            no_cahce: 1
    auth:
      type: header
      header_name: x-api-key
      api_kye: k
models:
  m:
    endpoints:
      - provider: openai
        model: gpt-4o
`);
    expect(error.issues.map((i) => [i.path, i.message, i.line])).toEqual([
      ["providers.openai.models.gpt-4o.pricing.input_tokens.no_cahce", 'unknown key "no_cahce" (did you mean "no_cache"?)', 8],
      ["providers.openai.auth.api_kye", 'unknown key "api_kye" (did you mean "api_key"?)', 12],
      ["models.m.endpoints[0].model_id", "required (service_id is accepted as a synonym)", 16],
      ["models.m.endpoints[0].model", 'unknown key "model" (did you mean "model_id"?)', 17],
    ]);
  });

  it("reports a misspelt enum value with a suggestion and its position", () => {
    const error = errorOf("server:\n  log_level: warning\nmodels:\n  m:\n    strategy: load-balance\n    endpoints: [{provider: openai, model_id: x}]\n");
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: "server.log_level",
        line: 2,
        column: 14,
        message: 'expected trace|debug|info|warn|error, got "warning" (did you mean "warn"?)',
      }),
      expect.objectContaining({
        path: "models.m.strategy",
        line: 5,
        column: 15,
        message: 'expected priority|load_balance, got "load-balance" (did you mean "load_balance"?)',
      }),
    ]);
  });

  it("reports a misspelt auth type", () => {
    const error = errorOf("providers:\n  p:\n    auth:\n      type: baerer\n");
    expect(error.issues[0]).toMatchObject({
      path: "providers.p.auth.type",
      line: 4,
      message: 'expected bearer|header|custom|mpp|oauth|wallet, got "baerer" (did you mean "bearer"?)',
    });
  });

  it("says what was expected and what was found, by type", () => {
    const error = errorOf("server: [a, b]\nproviders:\n  openai:\n    api_key: [sk-live-123]\n    bridge: maybe\n");
    expect(error.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "server: expected a mapping, got a list",
      "providers.openai.api_key: expected a string, got a list",
      "providers.openai.bridge: expected true or false, got a string",
    ]);
  });

  it("an empty value from a missing variable is explained", () => {
    const error = errorOf("models:\n  m:\n    endpoints:\n      - provider: ${PROVIDER}\n        model_id: x\n");
    expect(error.issues[0]).toMatchObject({
      path: "models.m.endpoints[0].provider",
      message: "expected a string, got an empty value (is the environment variable set?)",
      line: 4,
    });
  });

  it("never prints a secret value", () => {
    const secret = "sk-proj-SECRET0123456789";
    const error = errorOf(
      "providers:\n  p:\n    api_base: ${KEY}\n    auth:\n      type: header\n      api_key: ${KEY}\n  q:\n    api_key:\n      nested: ${KEY}\nmpp:\n  secret_key: 12\nserver:\n  log_level: ${KEY}\n",
      { KEY: secret },
    );
    expect(error.issues.map((i) => i.path)).toEqual([
      "providers.p.api_base",
      "providers.p.auth.header_name",
      "providers.q.api_key",
      "mpp.secret_key",
      "server.log_level",
    ]);
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain("SECRET");
  });

  it("reports YAML syntax errors with their position", () => {
    const error = errorOf("server:\n  listen: [unclosed\n");
    expect(error.issues[0]?.message).toMatch(/^invalid YAML: /);
    expect(error.issues[0]?.line).toBeGreaterThanOrEqual(2);
    const duplicate = errorOf("server:\n  listen: a:1\n  listen: b:2\n");
    expect(duplicate.issues[0]).toMatchObject({ line: 3 });
    expect(duplicate.issues[0]?.message).toContain("unique");
  });

  it("rejects a document that is not a mapping", () => {
    expect(errorOf("- a\n- b\n").message).toContain("(root): expected a mapping of sections");
  });

  it("reports every problem at once", () => {
    const error = errorOf("servr: {}\nmodels:\n  m:\n    endpoints: []\nsolana_rpc_url: ftp://x\n");
    expect(error.issues.map((i) => i.path)).toEqual(["servr", "models.m.endpoints", "solana_rpc_url"]);
    expect(error.issues[0]?.message).toBe('unknown key "servr" (did you mean "server"?)');
    expect(error.issues[1]?.message).toBe("expected at least 1 item");
  });
  // Found by the fuzz drill: these threw plain errors (or printed a process warning) instead of a
  // ConfigError, so `serve` and `reload` crashed or mangled the config.
  it.each([
    ["an alias before its anchor", "server:\n  listen: *addr\n", /invalid YAML: Unresolved alias/],
    ["a merge of a non-mapping", "a: &x 1\nserver:\n  <<: *x\n", /invalid YAML: Merge sources must be maps/],
    [
      "too many aliases",
      `a: &a [1,2,3,4,5,6,7,8,9]\nb: &b [${Array(12).fill("*a").join(",")}]\nc: [${Array(12).fill("*b").join(",")}]\n`,
      /invalid YAML: Excessive alias count/,
    ],
    ["a mapping as a key", "models:\n  ? {a: 1}\n  : {}\n", /models: invalid YAML: a mapping key must be a plain value/],
    ["an alias to a list as a key", "x: &l [1]\nmodels:\n  *l : {}\n", /models: invalid YAML: a mapping key must be a plain value/],
  ])("refuses %s with a ConfigError", (_, yaml, message) => {
    expect(errorOf(yaml).message).toMatch(message);
  });

  it("keeps a key named __proto__ a key (it cannot reach an object's prototype)", () => {
    const error = errorOf("server:\n  __proto__: { listen: 1 }\n");
    expect(error.issues[0]?.path).toBe("server.__proto__");
  });
});
