import { describe, expect, it } from "vitest";
import type { Guardrails } from "../src/index.js";
import { createGuardrails } from "../src/index.js";
import { recordingLogger } from "./helpers.js";

// Inputs built to make a backtracking regex go quadratic or worse (each ~200 KB). A linear scan
// takes milliseconds; a quadratic one takes minutes, so the generous bounds only catch real blowups.
const CASES: Record<string, string> = {
  "unterminated PEM headers": "-----BEGIN PRIVATE KEY-----\n!\n".repeat(6000),
  "PEM headers, base64 only": "-----BEGIN PRIVATE KEY-----\nAAAA\n".repeat(6000),
  "password= and a long value": "password=" + "a".repeat(200_000),
  "many @": "a@".repeat(100_000),
  "dotted numbers": "1.1.1.1.".repeat(25_000),
  "hex and colons": "ab12:".repeat(40_000),
  "plus digits": "+1 ".repeat(60_000),
  "URL schemes without host": "http://a:".repeat(20_000),
  "curl without pipe": "curl ".repeat(40_000),
  "rm flags": "rm -r ".repeat(30_000),
  "key prefixes": "sk-".repeat(60_000),
  "authorization headers": "Authorization: Bearer ".repeat(9000),
};

const all = (): Guardrails => {
  const every = {
    api_keys: "redact",
    private_keys: "redact",
    credentials: "redact",
    pii_emails: "redact",
    pii_phone_numbers: "redact",
    ip_addresses: "redact",
    suspicious_commands: "redact",
  } as const;
  return createGuardrails({ upgoing: every, downgoing: every }, { logger: recordingLogger() })!;
};

describe("pathological inputs stay linear", () => {
  it.each(Object.entries(CASES))("%s", (_name, text) => {
    const g = all();
    let t = performance.now();
    g.scanText(text, "upgoing", { requestId: "r", counters: {} });
    expect(performance.now() - t).toBeLessThan(3_000);
    const guard = g.createStreamGuard({ requestId: "r", counters: {} });
    t = performance.now();
    for (let i = 0; i < text.length; i += 50) guard.push({ type: "text_delta", index: 0, text: text.slice(i, i + 50) });
    guard.push({ type: "finish", stopReason: "stop" });
    expect(performance.now() - t).toBeLessThan(15_000);
    expect(guard.heldChars).toBe(0);
  });

  it.each([
    ["commands", "rm -rf / ".repeat(40_000)],
    ["emails", "a@b.co ".repeat(50_000)],
  ])("many matches in one chunk of a stream: %s", (_name, text) => {
    // The stream scanner looks for the next match from the end of the last one, in the same text.
    const guard = all().createStreamGuard({ requestId: "r", counters: {} });
    const t = performance.now();
    guard.push({ type: "text_delta", index: 0, text });
    guard.push({ type: "finish", stopReason: "stop" });
    expect(performance.now() - t).toBeLessThan(5_000);
  });
});
