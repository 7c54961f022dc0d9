import type { ActiveRule } from "./config.js";
import { GuardrailConfigError } from "./errors.js";
import { prefixSource } from "./prefix.js";

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
  /** Capture index of each rule's wrapping group. */
  private readonly groupIndex: number[];
  /** Matches any text that may still grow into a match: `(?:prefix1|prefix2|…)$`. */
  private readonly tail: RegExp;

  constructor(rules: readonly ActiveRule[]) {
    this.rules = rules;
    this.groupIndex = [];
    let next = 1;
    for (const rule of rules) {
      this.groupIndex.push(next);
      next += 1 + countGroups(rule.source);
    }
    try {
      this.regex = new RegExp(rules.map((r) => `(${r.source})`).join("|") || "(?!)", "g");
    } catch (error) {
      // Each pattern compiled alone; combined, the only failure left is a duplicate group name.
      throw new GuardrailConfigError("guardrails.custom_patterns", `patterns cannot be combined (${(error as Error).message}); rename the named groups`);
    }
    const tails = rules.map((r) => prefixSource(r.source) ?? "[\\s\\S]*").filter((t) => t !== "");
    this.tail = new RegExp(`(?:${tails.join("|") || "(?!)"})$`, "g");
  }

  /** The leftmost match starting at or after `from`, or null. */
  find(text: string, from: number): Match | null {
    this.regex.lastIndex = from;
    const m = this.regex.exec(text);
    if (!m) return null;
    for (let i = 0; i < this.rules.length; i++) {
      if (m[this.groupIndex[i]] !== undefined) return { start: m.index, end: m.index + m[0].length, rule: this.rules[i] };
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
