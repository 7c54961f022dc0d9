import { describe, expect, it } from "vitest";
import type { ActiveRule } from "../src/config.js";
import { BUILTIN_PATTERNS, createGuardrails } from "../src/index.js";
import { Matcher } from "../src/matcher.js";
import { ctx, recordingLogger } from "./helpers.js";

const RULES: ActiveRule[] = BUILTIN_PATTERNS.map((p) => ({ name: p.name, source: p.source, action: "warn", custom: false }));
/** A text of `length` characters that holds digits and a colon, as code and tool output do: most upgoing patterns run on it. */
const text = (seed: number, length: number) => `step ${seed}: call f(${seed}) at 10:3${seed % 10}; `.repeat(Math.ceil(length / 30)).slice(0, length);

describe("remembered verdicts (what agents resend every turn is not scanned again)", () => {
  it("with rememberAll, a resent text of any length past the short ones is answered from memory, matches included", () => {
    const matcher = new Matcher(RULES, { rememberAll: true });
    const texts = [text(1, 100), text(2, 700), text(3, 1900), `${text(4, 400)} mail jane@example.com`];
    const first = texts.map((t) => matcher.findAll(t));
    const scanned = matcher.scans;
    expect(scanned).toBe(texts.length);
    // The next turn: the same texts (new string objects, as a new request body parses to).
    const again = texts.map((t) => matcher.findAll(`${t} `.slice(0, -1)));
    expect(again).toEqual(first);
    expect(first[3]!.map((m) => m.rule.name)).toEqual(["pii_emails"]);
    for (const t of texts) expect(matcher.matches(`${t} `.slice(0, -1))).toBe(t.includes("@"));
    expect(matcher.scans).toBe(scanned);
  });

  it("tells apart long texts that differ only in the middle (same length, same ends)", () => {
    const matcher = new Matcher(RULES, { rememberAll: true });
    const email = `${text(5, 400)} write to jane@example.com ${text(5, 400)}`;
    const clean = email.replace("@", "#");
    for (let i = 0; i < 3; i++) {
      expect(matcher.findAll(clean)).toEqual([]);
      expect(matcher.findAll(email).map((m) => m.rule.name)).toEqual(["pii_emails"]);
      expect(matcher.matches(clean)).toBe(false);
      expect(matcher.matches(email)).toBe(true);
    }
  });

  it("without it (answers, new each time), texts under 2 KB are scanned each time they come", () => {
    const matcher = new Matcher(RULES);
    matcher.findAll(text(1, 700));
    matcher.findAll(text(1, 700));
    expect(matcher.scans).toBe(2);
    matcher.findAll(text(2, 3000));
    matcher.findAll(text(2, 3000));
    expect(matcher.scans).toBe(3);
  });

  it("stays bounded, and keeps the texts that keep coming back over those that do not", () => {
    const matcher = new Matcher(RULES, { rememberAll: true });
    const system = text(0, 50_000);
    matcher.findAll(system);
    // 6 M characters of texts seen once (the cache holds 4 M), the system prompt resent meanwhile.
    for (let i = 1; i <= 120; i++) {
      matcher.findAll(`${i} ${text(i, 50_000)}`);
      matcher.findAll(system);
    }
    const scans = matcher.scans;
    matcher.findAll(system);
    expect(matcher.scans).toBe(scans);
    // The first texts seen once were evicted: scanned again.
    matcher.findAll(`1 ${text(1, 50_000)}`);
    expect(matcher.scans).toBe(scans + 1);
  });

  it("reports a resent text's violations on every request, from memory as from a scan", () => {
    const logger = recordingLogger();
    const g = createGuardrails({ enabled: true }, { logger })!;
    const turn = `${text(7, 600)} write to jane@example.com`;
    for (let i = 0; i < 3; i++) {
      const c = ctx();
      expect(g.scanText(`${turn} `.slice(0, -1), "upgoing", c)).toBe(turn);
      expect(c.counters.guardrail_violations).toBe(1);
    }
    expect(logger.lines.map((l) => l.fields.pattern)).toEqual(["pii_emails", "pii_emails", "pii_emails"]);
  });
});
