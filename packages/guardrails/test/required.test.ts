import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ActiveRule } from "../src/config.js";
import { BUILTIN_PATTERNS } from "../src/index.js";
import { Matcher } from "../src/matcher.js";
import { requiredChars } from "../src/required.js";
import { FAKE } from "./helpers.js";

const chars = (source: string) => {
  const codes = requiredChars(source);
  return codes && String.fromCharCode(...codes);
};

const rule = (name: string, source: string): ActiveRule => ({ name, source, action: "redact", custom: true });
const BUILTIN_RULES = BUILTIN_PATTERNS.map((p) => rule(p.name, p.source));
/** Custom patterns of every shape the derivation meets, some with nothing it can require. */
const CUSTOM_RULES = [
  rule("ticket", "\\bTICKET-\\d{3,}"),
  rule("optional", "x?y+"),
  rule("anchored", "^secret$"),
  rule("lookaround", "(?<=#)[a-z]{3}(?=!)"),
  rule("backref", "(?<q>['\"])[a-z]+\\k<q>"),
  rule("negated", "[^a-z ]{5}"),
  rule("unicode", "ü+ber"),
];

/** The rules combined in one regex, as the matcher ran them all before the filter. */
function combined(rules: readonly ActiveRule[]): { regex: RegExp; names: Array<[number, string]> } {
  const names: Array<[number, string]> = [];
  let next = 1;
  for (const r of rules) {
    names.push([next, r.name]);
    next += 1 + ((new RegExp(`(?:${r.source})|`).exec("") as RegExpExecArray).length - 1);
  }
  return { regex: new RegExp(rules.map((r) => `(${r.source})`).join("|"), "g"), names };
}

/** The leftmost match at or after `from` of the full combined regex. */
function referenceFind(rules: readonly ActiveRule[], text: string, from: number): [number, number, string] | null {
  const { regex, names } = combined(rules);
  regex.lastIndex = from;
  const m = regex.exec(text);
  return m && [m.index, m.index + m[0].length, names.find(([i]) => m[i] !== undefined)![1]];
}

/** Every match, left to right, as findAll walks them. */
function reference(rules: readonly ActiveRule[], text: string): Array<[number, number, string]> {
  const out: Array<[number, number, string]> = [];
  for (let m = referenceFind(rules, text, 0); m; m = referenceFind(rules, text, m[1])) out.push(m);
  return out;
}

function viaMatcher(matcher: Matcher, text: string): Array<[number, number, string]> {
  return matcher.findAll(text).map((m) => [m.start, m.end, m.rule.name]);
}

/** Texts built from pieces of matches and of near misses, so that matches are common. */
const pieces = [
  "sk-",
  "proj-",
  FAKE.openaiProject,
  FAKE.aws,
  "AKIA",
  "-----BEGIN PRIVATE KEY-----",
  "-----END PRIVATE KEY-----",
  "MIIEvQ",
  "password",
  ": ",
  "=",
  '"hunter22"',
  "postgres://app:pa55@db",
  "eyJhbGciOi",
  ".",
  "jane@example.com",
  "@",
  "+44 20 7946 0958",
  "(555) 123-4567",
  "10.0.0.1",
  "2001:db8::1",
  "rm -rf /",
  "curl x | sh",
  "TICKET-",
  "123",
  "#abc!",
  "'quoted'",
  "ü",
  "über",
  "secret",
  "xyy",
  "hello world",
  " ",
  "\n",
];
const texts = fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 6 })), { maxLength: 12 }).map((parts) => parts.join(""));

describe("required characters (which patterns a text could match at all)", () => {
  it("names, for each built-in pattern, characters every match holds", () => {
    expect(chars(BUILTIN_PATTERNS.find((p) => p.name === "pii_emails")!.source)).toBe("@");
    expect(chars(BUILTIN_PATTERNS.find((p) => p.name === "private_keys")!.source)).toBe("-");
    expect(chars(BUILTIN_PATTERNS.find((p) => p.name === "credentials")!.source)).toBe(":=@J");
    for (const p of BUILTIN_PATTERNS) expect(chars(p.source), p.name).not.toBeNull();
  });

  it("passes over what a match need not consume, and gives up where nothing is required", () => {
    expect(chars("(?<=#)[0-4]{3}(?=!)")).toBe("01234"); // what the lookarounds name need not be in the match
    expect(chars("(?<=#)(?=!)")).toBeNull(); // consumes nothing
    expect(chars("\\bfoo")).toBe("f"); // a word boundary consumes nothing
    expect(chars("x?y*")).toBeNull(); // may match ""
    expect(chars("(?:ab|c)d?")).toBe("ac"); // one of each branch (a tie: the first), nothing from the optional d
    expect(chars("a-b")).toBe("-"); // the rarest of a sequence
    expect(chars("[^a]")).toBeNull();
    expect(chars("ü+")).toBeNull(); // not ASCII
    expect(chars("(")).toBeNull(); // does not parse
  });

  it("finds exactly the matches of the full combined patterns, built-in and custom (property)", () => {
    const builtin = new Matcher(BUILTIN_RULES);
    const mixed = new Matcher([...BUILTIN_RULES.slice(0, 3), ...CUSTOM_RULES, ...BUILTIN_RULES.slice(3)]);
    const remembering = new Matcher(mixed.rules, { rememberAll: true });
    fc.assert(
      fc.property(texts, fc.nat({ max: 20 }), (text, from) => {
        expect(viaMatcher(builtin, text)).toEqual(reference(BUILTIN_RULES, text));
        expect(viaMatcher(mixed, text)).toEqual(reference(mixed.rules, text));
        // Twice: the second answer may come from what the first remembered.
        for (let i = 0; i < 2; i++) expect(builtin.matches(text)).toBe(reference(BUILTIN_RULES, text).length > 0);
        for (let i = 0; i < 2; i++) {
          expect(remembering.matches(text)).toBe(reference(mixed.rules, text).length > 0);
          expect(viaMatcher(remembering, text)).toEqual(reference(mixed.rules, text));
        }
        // From inside the text, as the stream scanner asks: lookbehinds still see what is before.
        const start = Math.min(from, text.length);
        const found = mixed.find(text, start);
        expect(found && [found.start, found.end, found.rule.name]).toEqual(referenceFind(mixed.rules, text, start));
      }),
      { numRuns: 2000 },
    );
  });

  it("finds nothing in a text that holds none of the characters, and a match that holds them", () => {
    const matcher = new Matcher(BUILTIN_RULES);
    expect(matcher.findAll("Say hello to the model")).toEqual([]);
    expect(viaMatcher(matcher, "write to jane@example.com")).toEqual([[9, 25, "pii_emails"]]);
  });

  it("with more rules than a mask holds, runs them all and still finds every match", () => {
    const many = Array.from({ length: 40 }, (_, i) => rule(`word${i}`, `\\bW${i}X\\b`));
    const matcher = new Matcher(many);
    expect(viaMatcher(matcher, "a W7X and W39X")).toEqual([
      [2, 5, "word7"],
      [10, 14, "word39"],
    ]);
  });
});
