import type { ActiveRule } from "./config.js";
import { GuardrailConfigError } from "./errors.js";
import { firstCharSource, prefixSource } from "./prefix.js";

/** Texts shorter than this are cheaper to scan than to look up. */
const CACHE_MIN_CHARS = 2048;
/** Total characters of text kept as cache keys, per direction (at most 8 MB of UTF-16). */
const CACHE_MAX_CHARS = 4 * 1024 * 1024;

export interface Match {
  readonly start: number;
  readonly end: number;
  readonly rule: ActiveRule;
}

/**
 * All enabled patterns of one direction combined into a single alternation, so each text is
 * scanned in one regex pass whatever the number of patterns. Each pattern is wrapped in its own
 * capturing group; the group that participated in a match names the rule.
 */
export class Matcher {
  readonly rules: readonly ActiveRule[];
  private readonly regex: RegExp;
  /** Each rule with the capture index of its wrapping group. */
  private readonly groups: { index: number; rule: ActiveRule }[];
  /** Matches any non-empty text that may still grow into a match: `(?=first chars)(?:prefix1|prefix2|…)$`. */
  private readonly tail: RegExp;
  private readonly cache = new Map<string, readonly Match[]>();
  private cachedChars = 0;

  constructor(rules: readonly ActiveRule[]) {
    this.rules = rules;
    this.groups = [];
    let next = 1;
    for (const rule of rules) {
      this.groups.push({ index: next, rule });
      next += 1 + countGroups(rule.source);
    }
    try {
      this.regex = new RegExp(rules.map((r) => `(${r.source})`).join("|") || "(?!)", "g");
    } catch (error) {
      // Each pattern compiled alone; combined, the only failure left is a duplicate group name.
      throw new GuardrailConfigError("guardrails.custom_patterns", `patterns cannot be combined (${(error as Error).message}); rename the named groups`);
    }
    const tails = rules.map((r) => prefixSource(r.source) ?? "[\\s\\S]+");
    // Where no pattern can begin, one character test rejects the position (see firstCharSource).
    const firsts = rules.map((r) => firstCharSource(r.source));
    const head = firsts.includes(null) ? "" : `(?=${firsts.join("|")})`;
    this.tail = new RegExp(`${head}(?:${tails.join("|") || "(?!)"})$`, "g");
  }

  /**
   * Every match in a whole text, left to right. Long texts are remembered (bounded LRU): agents
   * resend the whole conversation each turn, so the same system prompt, tool list and tool
   * results are scanned again and again; a hit costs a hash lookup instead of a regex pass.
   */
  findAll(text: string): readonly Match[] {
    const cacheable = text.length >= CACHE_MIN_CHARS && text.length <= CACHE_MAX_CHARS / 8;
    if (cacheable) {
      const hit = this.cache.get(text);
      if (hit) {
        this.cache.delete(text); // refresh its LRU position
        this.cache.set(text, hit);
        return hit;
      }
    }
    const matches: Match[] = [];
    let pos = 0;
    for (let m = this.find(text, pos); m; m = this.find(text, pos)) {
      matches.push(m);
      pos = m.end;
    }
    if (cacheable) {
      this.cache.set(text, matches);
      this.cachedChars += text.length;
      for (const [old] of this.cache) {
        if (this.cachedChars <= CACHE_MAX_CHARS) break;
        this.cache.delete(old);
        this.cachedChars -= old.length;
      }
    }
    return matches;
  }

  /** Whether any pattern matches anywhere in `text` (long texts through findAll's cache). */
  matches(text: string): boolean {
    return text.length >= CACHE_MIN_CHARS ? this.findAll(text).length > 0 : this.find(text, 0) !== null;
  }

  /** The leftmost match starting at or after `from`, or null. */
  find(text: string, from: number): Match | null {
    this.regex.lastIndex = from;
    const m = this.regex.exec(text);
    if (!m) return null;
    for (const { index, rule } of this.groups) {
      if (m[index] !== undefined) return { start: m.index, end: m.index + m[0].length, rule };
    }
    throw new Error("guardrails: a match with no pattern group"); // unreachable: every alternative is a group
  }

  /**
   * The leftmost position at or after `from` where the rest of the text could still be the
   * beginning of a match (text.length when none): text from there on must wait for more input.
   */
  holdStart(text: string, from: number): number {
    if (from >= text.length) return text.length;
    this.tail.lastIndex = from;
    const m = this.tail.exec(text);
    return m ? m.index : text.length;
  }
}

/** Number of capturing groups in a regex source: an empty alternative matches "" with every group unset. */
function countGroups(source: string): number {
  return (new RegExp(`(?:${source})|`).exec("") as RegExpExecArray).length - 1;
}
