/** Parsers for the `keygen` flags, and the glob matching of model / tool patterns. */
import { invalidInput } from "./errors.js";
import type { BudgetRange, BudgetScope, Scope } from "./token.js";

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

function durationSeconds(text: string, flag: string): number {
  const m = /^(\d+)([smhd])?$/.exec(text.trim());
  const n = m ? Number(m[1]) * (UNIT_SECONDS[m[2] ?? "s"] ?? NaN) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw invalidInput("bad_duration", `${flag}: "${text}" is not a positive duration like 30s, 5m, 1h or 30d`, flag);
  }
  return n;
}

/**
 * `--exp`: "5m" | "1h" | "30d" | "90s" | "never" -> seconds from now, or null for never. The unit
 * is required: a bare "3" reads as days to some and seconds to others, and a key that dies in 3 s
 * is never what was meant.
 */
export function parseExpiry(text: string): number | null {
  if (text.trim().toLowerCase() === "never") return null;
  if (/^\d+$/.test(text.trim())) {
    throw invalidInput("bad_duration", `--exp: "${text}" has no unit: write ${text.trim()}s, ${text.trim()}m, ${text.trim()}h or ${text.trim()}d`, "--exp");
  }
  return durationSeconds(text, "--exp");
}

/** The `exp` claim for an `--exp` value: epoch seconds, or undefined for "never". */
export function expiryToExp(text: string, now: number = Date.now()): number | undefined {
  const seconds = parseExpiry(text);
  return seconds === null ? undefined : Math.floor(now / 1000) + seconds;
}

/** `--budget-range`: "rounds:10" | "duration:3600s" (also 60m, 1h, 1d, or plain seconds). */
export function parseBudgetRange(text: string): BudgetRange {
  const [kind, value, ...rest] = text.trim().split(":");
  if (rest.length === 0 && kind === "rounds" && /^\d+$/.test(value ?? "")) {
    const count = Number(value);
    if (Number.isSafeInteger(count) && count > 0) return { type: "rounds", count };
  }
  if (rest.length === 0 && kind === "duration" && value !== undefined) {
    return { type: "duration", seconds: durationSeconds(value, "--budget-range") };
  }
  throw invalidInput("bad_budget_range", `--budget-range: "${text}" is not rounds:<N> or duration:<N>s (e.g. rounds:10, duration:3600s)`, "--budget-range");
}

/** `--budget`: integer micro-USD (1 USD = 1_000_000). */
export function parseBudget(text: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n))
    throw invalidInput("bad_budget", `--budget: "${text}" is not a whole number of micro-USD (0 or more; 1 USD = 1000000)`, "--budget");
  return n;
}

export function parseScope(text: string): Scope {
  if (text === "api" || text === "admin") return text;
  throw invalidInput("bad_scope", `--scope: "${text}" is not api or admin`, "--scope");
}

export function parseBudgetScope(text: string): BudgetScope {
  if (text === "session" || text === "account") return text;
  throw invalidInput("bad_budget_scope", `--budget-scope: "${text}" is not session or account`, "--budget-scope");
}

/**
 * `--models` / `--tools`: a comma-separated pattern list. Whitespace around items is trimmed, empty
 * items (a trailing comma) are dropped, duplicates removed; a pattern with inner whitespace or an
 * empty list is an error.
 */
export function parsePatterns(text: string, flag = "--models"): string[] {
  const items = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length === 0) throw invalidInput("bad_patterns", `${flag}: no patterns given`, flag);
  const bad = items.find((s) => /\s/.test(s));
  if (bad !== undefined) throw invalidInput("bad_patterns", `${flag}: pattern "${bad}" contains whitespace`, flag);
  return [...new Set(items)];
}

/**
 * Glob match: `*` matches any run of characters (including none), and it DOES cross `:` and `/`
 * (`openrouter:*` matches `openrouter:meta-llama/llama-3`, `*` matches everything). Every other
 * character matches itself, case-sensitively. Linear time: no regular expressions, no backtracking
 * blow-up on hostile patterns.
 */
export function globMatch(pattern: string, name: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === name;
  const first = parts[0] ?? "";
  const last = parts.at(-1) ?? "";
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  let pos = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] ?? "";
    const at = name.indexOf(part, pos);
    if (at < 0 || at + part.length > end) return false;
    pos = at + part.length;
  }
  return true;
}

/**
 * Whether a token's `models` claim allows a model name (a virtual model name, a dynamic route, or
 * `provider:model_id`). No `models` claim means every model is allowed; an empty list allows none.
 */
export function matchesModel(patterns: readonly string[] | undefined, model: string): boolean {
  if (patterns === undefined) return true;
  return patterns.some((p) => globMatch(p, model));
}

/** Same rule for the `tools` claim (tool names like `github/create_issue`). */
export function matchesTool(patterns: readonly string[] | undefined, tool: string): boolean {
  return matchesModel(patterns, tool);
}
