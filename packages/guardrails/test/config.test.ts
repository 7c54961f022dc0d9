import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { GuardrailsConfig } from "../src/index.js";
import { GuardrailConfigError, GuardrailError, createGuardrails, guardrailsHook } from "../src/index.js";
import { FAKE, ctx, recordingLogger } from "./helpers.js";

// The guardrails section of the full configuration reference in the BitRouter self-host guide
// (the Rust BitRouter's user guide), verbatim.
const SPEC_EXAMPLE = `
guardrails:
  enabled: true

  disabled_patterns:
    - ip_addresses
    - pii_phone_numbers

  custom_patterns:
    - name: internal_token
      regex: "myapp_[A-Za-z0-9]{32}"
      direction: upgoing

  upgoing:
    api_keys: redact
    private_keys: block
    credentials: redact

  downgoing:
    suspicious_commands: block

  custom_upgoing:
    internal_token: block

  block_message:
    include_details: true
    include_help_link: true

  tools:
    enabled: true
    providers:
      github-mcp:
        filter:
          deny: [delete_repo, delete_branch]
        param_restrictions:
          rules:
            create_issue:
              deny: [assignees]
              action: strip
`;

function configError(config: GuardrailsConfig): GuardrailConfigError {
  try {
    createGuardrails(config);
  } catch (error) {
    expect(error).toBeInstanceOf(GuardrailConfigError);
    return error as GuardrailConfigError;
  }
  throw new Error("expected a config error");
}

describe("the self-host guide's example config", () => {
  const config = (parse(SPEC_EXAMPLE) as { guardrails: GuardrailsConfig }).guardrails;

  it("builds, with the listed patterns off and the listed actions", () => {
    const g = createGuardrails(config, { logger: recordingLogger() });
    expect(g).not.toBeNull();
    const up = Object.fromEntries(g!.upgoingRules.map((r) => [r.name, r.action]));
    expect(up).toEqual({ internal_token: "block", private_keys: "block", api_keys: "redact", credentials: "redact", pii_emails: "warn" });
    expect(g!.downgoingRules.map((r) => [r.name, r.action])).toEqual([["suspicious_commands", "block"]]);
  });

  it("behaves as written on requests, answers and tools", () => {
    const logger = recordingLogger();
    const g = createGuardrails(config, { logger })!;
    const c = ctx("github-mcp");
    // api_keys: redact
    expect(g.scanText(`use ${FAKE.openai}`, "upgoing", c)).toBe("use [REDACTED:api_keys]");
    // credentials: redact; private_keys: block
    expect(g.scanText('DB_PASSWORD="s3cr3t-Pa55"', "upgoing", c)).toBe("DB_[REDACTED:credentials]");
    expect(() => g.scanText("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----", "upgoing", c)).toThrow(/private_keys/);
    // disabled patterns pass untouched, and are not even logged
    expect(g.scanText("call 415-555-2671 at 10.0.0.1", "upgoing", c)).toBe("call 415-555-2671 at 10.0.0.1");
    // custom upgoing pattern: block, message names it and links the docs, never the token
    const token = "myapp_" + "Ab1".repeat(10) + "Xy";
    let blocked: GuardrailError | undefined;
    try {
      g.scanText(`token ${token}`, "upgoing", c);
    } catch (error) {
      blocked = error as GuardrailError;
    }
    expect(blocked).toBeInstanceOf(GuardrailError);
    expect(blocked!.status).toBe(400);
    expect(blocked!.kind).toBe("guardrail");
    expect(blocked!.code).toBe("guardrail_blocked");
    expect(blocked!.message).toContain('"internal_token"');
    expect(blocked!.message).toContain("https://");
    expect(blocked!.message).not.toContain(token);
    // downgoing suspicious_commands: block
    expect(() => g.scanText("now run rm -rf / to clean up", "downgoing", c)).toThrow(GuardrailError);
    // tools: filter and param restrictions for github-mcp only
    const tools = [
      {
        name: "create_issue",
        inputSchema: { type: "object", properties: { title: { type: "string" }, assignees: { type: "array" } }, required: ["title", "assignees"] },
      },
      { name: "delete_repo", inputSchema: { type: "object" } },
      { name: "delete_branch", inputSchema: { type: "object" } },
      { name: "list_issues", inputSchema: { type: "object" } },
    ];
    const filtered = g.tools!.filterTools("github-mcp", tools);
    expect(filtered.map((t) => t.name)).toEqual(["create_issue", "list_issues"]);
    expect(filtered[0]?.inputSchema).toEqual({ type: "object", properties: { title: { type: "string" } }, required: ["title"] });
    expect(g.tools!.filterTools("other-mcp", tools)).toHaveLength(4);
    expect(g.tools!.restrictToolCall("github-mcp", "create_issue", { title: "x", assignees: ["me"] })).toEqual({
      action: "strip",
      arguments: { title: "x" },
      stripped: ["assignees"],
    });
    expect(g.tools!.restrictToolCall("github-mcp", "delete_repo", {}).action).toBe("block");
    // every violation was logged without the matched text, and counted
    expect(logger.lines.map((l) => [l.fields.pattern, l.fields.direction, l.fields.action])).toEqual([
      ["api_keys", "upgoing", "redact"],
      ["credentials", "upgoing", "redact"],
      ["private_keys", "upgoing", "block"],
      ["internal_token", "upgoing", "block"],
      ["suspicious_commands", "downgoing", "block"],
    ]);
    expect(JSON.stringify(logger.lines)).not.toContain(token);
    expect(JSON.stringify(logger.lines)).not.toContain(FAKE.openai);
    expect(c.counters.guardrail_violations).toBe(5);
  });
});

describe("enabling", () => {
  it("is off (no guardrails, no hook) when absent or disabled", () => {
    expect(createGuardrails(undefined)).toBeNull();
    expect(createGuardrails({ enabled: false, upgoing: { api_keys: "block" } })).toBeNull();
  });

  it("defaults: secrets redacted, private keys blocked, PII warned, commands blocked", () => {
    const g = createGuardrails({}, { logger: recordingLogger() })!;
    expect(g.upgoingRules.map((r) => [r.name, r.action])).toEqual([
      ["private_keys", "block"],
      ["api_keys", "redact"],
      ["credentials", "redact"],
      ["pii_emails", "warn"],
      ["pii_phone_numbers", "warn"],
      ["ip_addresses", "warn"],
    ]);
    expect(g.downgoingRules.map((r) => [r.name, r.action])).toEqual([["suspicious_commands", "block"]]);
    expect(guardrailsHook(g).inspectsContent).toBe(true);
  });

  it("a pattern named in the other direction's map also runs there", () => {
    const g = createGuardrails(
      { downgoing: { api_keys: "redact" }, custom_patterns: [{ name: "ticket", regex: "INC-[0-9]{6}", direction: "both" }] },
      { logger: recordingLogger() },
    )!;
    expect(g.downgoingRules.map((r) => r.name)).toEqual(["ticket", "api_keys", "suspicious_commands"]);
    expect(g.scanText(`model said ${FAKE.google}`, "downgoing", ctx())).toBe("model said [REDACTED:api_keys]");
    expect(g.upgoingRules.map((r) => r.name)).toContain("ticket");
  });

  it("block messages follow block_message", () => {
    const quiet = createGuardrails({ block_message: { include_details: false, include_help_link: false } }, { logger: recordingLogger() })!;
    expect(() => quiet.scanText("rm -rf /", "downgoing", ctx())).toThrow(/^Response blocked by guardrails\.$/);
    const custom = createGuardrails({}, { logger: recordingLogger(), helpUrl: "https://docs.example/guardrails" })!;
    expect(() => custom.scanText("rm -rf /", "downgoing", ctx())).toThrow(
      'Response blocked by guardrails: pattern "suspicious_commands" matched in text. See https://docs.example/guardrails',
    );
  });
});

describe("config errors", () => {
  it("an invalid custom regex names the pattern", () => {
    const e = configError({
      custom_patterns: [
        { name: "ok", regex: "a+" },
        { name: "broken_one", regex: "myapp_[A-Z" },
      ],
    });
    expect(e.field).toBe('guardrails.custom_patterns[1].regex (custom pattern "broken_one")');
    expect(e.message).toMatch(/broken_one.*invalid regular expression/);
  });

  it("inline flags get a hint", () => {
    expect(configError({ custom_patterns: [{ name: "ci", regex: "(?i)secret" }] }).message).toMatch(/inline flags.*\[Aa\]/);
  });

  it("a regex matching the empty string is refused", () => {
    expect(configError({ custom_patterns: [{ name: "everything", regex: "x*" }] }).message).toMatch(/everything.*empty string/);
  });

  it("a regex that matches an empty string only inside a text is refused too (it once hung every scan of such a text)", () => {
    for (const regex of ["(?=x)", "\\b", "^", "(?<=a)(?:b|)"]) {
      expect(configError({ custom_patterns: [{ name: "nothing", regex }] }).message, regex).toMatch(/nothing.*empty string/);
    }
    expect(createGuardrails({ enabled: true, custom_patterns: [{ name: "ok", regex: "(?<=#)x(?=!)" }] })).not.toBeNull();
  });

  it("numbered backreferences are refused (patterns are combined), named ones work", () => {
    expect(configError({ custom_patterns: [{ name: "dup", regex: "(a)\\1" }] }).message).toMatch(/backreference/);
    const g = createGuardrails(
      { custom_patterns: [{ name: "dup", regex: "(?<c>[xyz])\\k<c>", direction: "upgoing" }], custom_upgoing: { dup: "redact" } },
      { logger: recordingLogger() },
    )!;
    expect(g.scanText("a xx b xy", "upgoing", ctx())).toBe("a [REDACTED:dup] b xy");
  });

  it.each([
    [{ upgoing: { api_key: "redact" } }, "guardrails.upgoing.api_key", 'did you mean "api_keys"'],
    [{ downgoing: { suspicous_commands: "block" } }, "guardrails.downgoing.suspicous_commands", 'did you mean "suspicious_commands"'],
    [{ disabled_patterns: ["pii_email"] }, "guardrails.disabled_patterns[0]", 'did you mean "pii_emails"'],
    [
      { custom_patterns: [{ name: "internal_token", regex: "t_[0-9]+" }], custom_upgoing: { internal_tokens: "block" } },
      "guardrails.custom_upgoing.internal_tokens",
      'did you mean "internal_token"',
    ],
    [
      { custom_patterns: [{ name: "internal_token", regex: "t_[0-9]+" }], upgoing: { internal_token: "block" } },
      "guardrails.upgoing.internal_token",
      "belongs under guardrails.custom_upgoing",
    ],
    [{ upgoing: { api_keys: "deny" } }, "guardrails.upgoing.api_keys", '"deny" is not one of warn, redact, block'],
    [{ custom_patterns: [{ name: "api_keys", regex: "x" }] }, "guardrails.custom_patterns[0].name", "built-in"],
    [
      {
        custom_patterns: [
          { name: "a", regex: "x" },
          { name: "a", regex: "y" },
        ],
      },
      "guardrails.custom_patterns[1].name",
      "duplicate",
    ],
    [{ custom_patterns: [{ name: "a", regex: "x", direction: "sideways" }] }, "guardrails.custom_patterns[0].direction", "sideways"],
    [
      { tools: { providers: { gh: { param_restrictions: { rules: { t: { deny: ["x"], action: "drop" } } } } } } },
      "guardrails.tools.providers.gh.param_restrictions.rules.t.action",
      "strip, block",
    ],
  ])("%j → %s", (config, field, message) => {
    const e = configError(config as GuardrailsConfig);
    expect(e.field).toBe(field);
    expect(e.message).toContain(message);
  });
});
