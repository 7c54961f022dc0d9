/**
 * Guardrails cost: µs per KB of text (one combined regex pass) and µs per streamed chunk
 * (bounded look-behind scanner), for each built-in pattern alone and for all of them together.
 * Run: pnpm --filter @bitrouter/guardrails bench   (numbers printed as a table)
 */
import { it } from "vitest";
import { createGuardrails } from "../src/index.js";
import type { Direction, GuardrailsConfig, Guardrails } from "../src/index.js";
import { BUILTIN_PATTERN_NAMES } from "../src/patterns.js";

const key = "sk-" + "ant-api03-" + "Qw9-".repeat(24);
const PARAGRAPH =
  "The quick brown fox jumps over the lazy dog. To deploy, run `npm ci && npm run build` in ./app, " +
  "then check the logs at /var/log/app.log (version 1.2.3, released 2024-01-15). Ask the task-force " +
  `if anything fails; the config has token_count = 5 and the key ${key} must be rotated. ` +
  "Contact ops at ops@example.com or +1 415 555 2671; the server 10.0.0.12 is behind a proxy.\n";
const TEXT = PARAGRAPH.repeat(Math.ceil((256 * 1024) / PARAGRAPH.length)); // ~256 KB
const CHUNK = 24; // a typical streamed text delta is a few tokens

const ctx = () => ({ requestId: "bench", counters: {} as Record<string, number> });
const quiet = { logger: { warn() {} } };

function measure(label: string, g: Guardrails, direction: Direction = "downgoing"): void {
  // whole-text scan: a fresh text each run (the same text again is a cache hit, measured apart)
  let run = 0;
  const fresh = () => `${run++} ${TEXT}`;
  for (let i = 0; i < 3; i++) g.scanText(fresh(), direction, ctx()); // warm up
  // Best of N: the machine may be shared, the minimum is the cost of the code itself.
  const runs = 10;
  const best = (fn: (i: number) => void): number => {
    let min = Infinity;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      fn(i);
      min = Math.min(min, performance.now() - t);
    }
    return min;
  };
  const texts = Array.from({ length: runs }, fresh);
  const perKb = (best((i) => g.scanText(texts[i] ?? fresh(), direction, ctx())) * 1000) / (TEXT.length / 1024);
  const cachedPerKb = (best(() => g.scanText(texts[0] ?? fresh(), direction, ctx())) * 1000) / (TEXT.length / 1024);
  const scan = `${perKb.toFixed(1).padStart(6)} µs/KB (resent: ${cachedPerKb.toFixed(2)})`;

  if (direction === "upgoing") {
    console.log(`${label.padEnd(22)} ${scan}   (streams are checked downgoing only)`);
    return;
  }
  const stream = () => {
    const guard = g.createStreamGuard(ctx());
    let maxHeld = 0;
    for (let i = 0; i < TEXT.length; i += CHUNK) {
      guard.push({ type: "text_delta", index: 0, text: TEXT.slice(i, i + CHUNK) });
      if (guard.heldChars > maxHeld) maxHeld = guard.heldChars;
    }
    guard.push({ type: "finish", stopReason: "stop" });
    return maxHeld;
  };
  let maxHeld = 0;
  const chunks = Math.ceil(TEXT.length / CHUNK);
  const perChunk = (best(() => (maxHeld = stream())) * 1000) / chunks;
  console.log(`${label.padEnd(22)} ${scan}   ${perChunk.toFixed(2).padStart(6)} µs/chunk (${CHUNK} chars)   max held ${maxHeld} chars`);
}

it("guardrails cost per KB and per streamed chunk", () => {
  console.log(`text: ${(TEXT.length / 1024).toFixed(0)} KB of prose with a secret, an email, a phone number and an IP per ${PARAGRAPH.length} chars`);
  for (const name of BUILTIN_PATTERN_NAMES) {
    const config: GuardrailsConfig = { disabled_patterns: BUILTIN_PATTERN_NAMES.filter((n) => n !== name), downgoing: { [name]: "redact" } };
    measure(name, createGuardrails(config, quiet)!);
  }
  measure("defaults (upgoing)", createGuardrails({}, quiet)!, "upgoing");
  measure("defaults (downgoing)", createGuardrails({}, quiet)!, "downgoing");
  const all: GuardrailsConfig = { downgoing: Object.fromEntries(BUILTIN_PATTERN_NAMES.map((n) => [n, "redact"])) };
  measure("all 7 (combined)", createGuardrails(all, quiet)!);
}, 300_000);
