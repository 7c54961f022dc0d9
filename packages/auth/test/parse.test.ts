import { describe, expect, it } from "vitest";
import {
  AuthError,
  expiryToExp,
  globMatch,
  isLoopbackAddress,
  matchesModel,
  matchesTool,
  parseBudget,
  parseBudgetRange,
  parseBudgetScope,
  parseExpiry,
  parsePatterns,
  parseScope,
} from "../src/index.js";

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return (error as AuthError).code;
  }
  return undefined;
}

describe("flag parsers", () => {
  it("parses --exp", () => {
    expect(parseExpiry("5m")).toBe(300);
    expect(parseExpiry("1h")).toBe(3600);
    expect(parseExpiry("30d")).toBe(30 * 86_400);
    expect(parseExpiry("90s")).toBe(90);
    expect(parseExpiry("never")).toBeNull();
    expect(expiryToExp("1h", 1_000_500)).toBe(1000 + 3600);
    expect(expiryToExp("never")).toBeUndefined();
    for (const bad of ["", "0m", "5y", "-1h", "1.5h", "h", "3"]) expect(code(() => parseExpiry(bad))).toBe("bad_duration");
  });

  it("parses --budget-range", () => {
    expect(parseBudgetRange("rounds:10")).toEqual({ type: "rounds", count: 10 });
    expect(parseBudgetRange("duration:3600s")).toEqual({ type: "duration", seconds: 3600 });
    expect(parseBudgetRange("duration:1h")).toEqual({ type: "duration", seconds: 3600 });
    expect(parseBudgetRange("duration:120")).toEqual({ type: "duration", seconds: 120 });
    for (const bad of ["rounds:0", "rounds:x", "rounds", "minutes:5", "duration:", "rounds:1:2"]) {
      expect(code(() => parseBudgetRange(bad))).toMatch(/^bad_(budget_range|duration)$/);
    }
  });

  it("parses --budget, --scope, --budget-scope", () => {
    expect(parseBudget("5000000")).toBe(5_000_000);
    expect(code(() => parseBudget("1.5"))).toBe("bad_budget");
    expect(code(() => parseBudget("-3"))).toBe("bad_budget");
    expect(parseScope("admin")).toBe("admin");
    expect(code(() => parseScope("root"))).toBe("bad_scope");
    expect(parseBudgetScope("account")).toBe("account");
    expect(code(() => parseBudgetScope("team"))).toBe("bad_budget_scope");
  });

  it("parses pattern lists", () => {
    expect(parsePatterns(" openai:* , anthropic:claude-*,openai:*,")).toEqual(["openai:*", "anthropic:claude-*"]);
    expect(code(() => parsePatterns(" , "))).toBe("bad_patterns");
    expect(code(() => parsePatterns("open ai:*", "--tools"))).toBe("bad_patterns");
  });
});

describe("model and tool patterns", () => {
  it("matches provider wildcards, prefixes and exact virtual model names", () => {
    const patterns = ["openai:*", "anthropic:claude-*", "my-model"];
    expect(matchesModel(patterns, "openai:gpt-4o")).toBe(true);
    expect(matchesModel(patterns, "anthropic:claude-sonnet-4-20250514")).toBe(true);
    expect(matchesModel(patterns, "anthropic:claude")).toBe(false);
    expect(matchesModel(patterns, "my-model")).toBe(true);
    expect(matchesModel(patterns, "my-model-2")).toBe(false);
    expect(matchesModel(patterns, "google:gemini-2.5-pro")).toBe(false);
    expect(matchesModel(patterns, "OpenAI:gpt-4o")).toBe(false);
  });

  it("lets * cross ':' and '/'", () => {
    expect(globMatch("openrouter:*", "openrouter:meta-llama/llama-3")).toBe(true);
    expect(globMatch("*", "anything:at/all")).toBe(true);
    expect(globMatch("*:gpt-*", "openai:gpt-4o")).toBe(true);
    expect(globMatch("a*b*c", "abc")).toBe(true);
    expect(globMatch("a*b*c", "acb")).toBe(false);
    expect(globMatch("ab*ba", "aba")).toBe(false);
  });

  it("no models claim allows all; an empty list allows none", () => {
    expect(matchesModel(undefined, "openai:gpt-4o")).toBe(true);
    expect(matchesModel([], "openai:gpt-4o")).toBe(false);
  });

  it("matches tool patterns the same way", () => {
    expect(matchesTool(["github/*", "jira/search"], "github/create_issue")).toBe(true);
    expect(matchesTool(["github/*", "jira/search"], "jira/delete")).toBe(false);
  });

  it("stays linear on a hostile pattern", () => {
    const start = performance.now();
    expect(globMatch(`${"*a".repeat(200)}*b*`, "a".repeat(20_000))).toBe(false);
    expect(performance.now() - start).toBeLessThan(5_000); // exponential backtracking would take minutes
  });
});

describe("isLoopbackAddress", () => {
  it.each(["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"])("%s is loopback", (h) => {
    expect(isLoopbackAddress(h)).toBe(true);
  });
  it.each(["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com", "foo.localhost", "::ffff:10.0.0.1", ""])("%s is not", (h) => {
    expect(isLoopbackAddress(h)).toBe(false);
  });
});
