import type { ActiveRule } from "./config.js";
import { GuardrailConfigError } from "./errors.js";
import { firstCharSource, prefixSource } from "./prefix.js";
import { requiredChars } from "./required.js";

/**
 * Texts from this long are remembered in the cache by default. Below it an answer's texts, new each
 * time and held by few patterns, are cheaper to scan than to hash for a lookup.
 */
const CACHE_MIN_CHARS = 2048;
/** Total characters of text kept as cache keys, per direction (at most 8 MB of UTF-16). */
const CACHE_MAX_CHARS = 4 * 1024 * 1024;

export interface Match {
  readonly start: number;
  readonly end: number;
  readonly rule: ActiveRule;
}

/** Texts up to this long found clean are remembered by `matches` ... */
const CLEAN_MAX_CHARS = 64;
/** ... this many (then forgotten all at once: a cheap bound whatever callers send). */
const CLEAN_MAX_ENTRIES = 4096;
/** Longer texts found clean that the cache does not take (see rememberFrom), remembered: the last this many. */
const RECENT_CLEAN = 8;
const NO_MATCHES: readonly Match[] = Object.freeze([]);
/** Rules that can be left out of a text's scan, at most: one bit each in a 32-bit mask. */
const MAX_FILTERED = 31;
/** Combined regexes kept for subsets of the rules; past this, a text uses the full one. */
const MAX_SUBSETS = 64;

export interface MatcherOptions {
  /**
   * Remember the matches of every text longer than the short ones kept in `clean`, not only of
   * long texts: for what callers send, where agents resend the whole conversation each turn and
   * most texts come back, and the six upgoing patterns cost ~18 µs per KB to scan against ~0.1
   * to look up.
   */
  rememberAll?: boolean;
}

/** A remembered verdict; `used`: looked up since it was last passed over for eviction (second chance). */
interface CacheEntry {
  readonly text: string;
  readonly matches: readonly Match[];
  used: boolean;
}

/** Texts from this long are looked up by a short key and then compared whole (see cacheKey). */
const KEYED_FROM = 256;
/** Characters of each end of such a text in its key. */
const KEY_END = 24;

/**
 * A text's key in the cache: the text itself, or for a long one its length and ends. A text parsed
 * from a new request body is a new string, which a Map hashes whole (~1.5 µs per KB); comparing it
 * with the remembered one costs ~0.05. Two texts with the same key share its entry: the other one
 * is scanned and takes the entry over.
 */
function cacheKey(text: string): string {
  return text.length < KEYED_FROM ? text : `${text.length}|${text.slice(0, KEY_END)}|${text.slice(-KEY_END)}`;
}

/** Some of the rules combined: the regex and each rule's capture index. */
interface Combined {
  readonly regex: RegExp;
  readonly groups: readonly { index: number; rule: ActiveRule }[];
}

/**
 * All enabled patterns of one direction combined into a single alternation, so each text is
 * scanned in one regex pass whatever the number of patterns. Each pattern is wrapped in its own
 * capturing group; the group that participated in a match names the rule.
 *
 * Most patterns need a character most texts lack (see requiredChars): one pass over the text's
 * characters tells which patterns it could match at all, and only those are run, combined alike
 * (none: no regex runs). A pattern left out cannot match the text, so the matches are the same.
 */
export class Matcher {
  readonly rules: readonly ActiveRule[];
  private readonly all: Combined;
  /** Per ASCII character, the bits of the filtered rules that need it. */
  private readonly needs = new Uint32Array(128);
  /** Bits of the rules with required characters (none when there are more than MAX_FILTERED rules). */
  private readonly filtered: number;
  /** Bits of the rules without: run on every text. */
  private readonly always: number;
  /** Any one of the filtered rules' characters: most texts hold none, which one native scan tells. */
  private readonly anyRequired: RegExp | null;
  private readonly subsets = new Map<number, Combined>();
  /** Matches any non-empty text that may still grow into a match: `(?=first chars)(?:prefix1|prefix2|…)$`. */
  private readonly tail: RegExp;
  /** Texts from this long go to `cache` (see MatcherOptions.rememberAll). */
  private readonly rememberFrom: number;
  /** Insertion order is eviction order, a looked-up entry getting a second chance (no Map churn per hit). */
  private readonly cache = new Map<string, CacheEntry>();
  private cachedChars = 0;
  #scans = 0;
  /**
   * Short texts no pattern matches. A wire body's keys and enum-like values ("role", "assistant",
   * "finish_reason") come back in every request; a lookup costs less than the scan of even a
   * five-character text.
   */
  private readonly clean = new Set<string>();
  /**
   * The last texts between CLEAN_MAX_CHARS and rememberFrom found clean. A guarded body's texts
   * are scanned twice, as the canonical request or answer and then as the wire body that goes on
   * unchanged, the same strings both times: comparing them is near free (the same string object,
   * or a length that differs), where hashing a text for a Set costs about what scanning it does.
   */
  private readonly recentClean: string[] = new Array<string>(RECENT_CLEAN).fill("");
  private recentAt = 0;
  /** Where `find` last filtered its text from, and the rules it could match there (see find). */
  private lastFrom = 0;
  private lastCombined: Combined | null = null;

  constructor(rules: readonly ActiveRule[], options: MatcherOptions = {}) {
    this.rules = rules;
    this.rememberFrom = options.rememberAll ? CLEAN_MAX_CHARS + 1 : CACHE_MIN_CHARS;
    try {
      this.all = combine(rules);
    } catch (error) {
      // Each pattern compiled alone; combined, the only failure left is a duplicate group name.
      throw new GuardrailConfigError("guardrails.custom_patterns", `patterns cannot be combined (${(error as Error).message}); rename the named groups`);
    }
    let filtered = 0;
    let always = 0;
    // One bit per rule: with more rules than a mask holds, every text runs them all.
    if (rules.length <= MAX_FILTERED) {
      rules.forEach((rule, i) => {
        const chars = requiredChars(rule.source);
        if (!chars) {
          always |= 1 << i;
          return;
        }
        filtered |= 1 << i;
        for (const c of chars) this.needs[c]! |= 1 << i;
      });
    }
    this.filtered = filtered;
    this.always = always;
    const required: string[] = [];
    this.needs.forEach((bits, c) => {
      if (bits !== 0) required.push(`\\x${c.toString(16).padStart(2, "0")}`);
    });
    this.anyRequired = required.length > 0 ? new RegExp(`[${required.join("")}]`, "g") : null;
    const tails = rules.map((r) => prefixSource(r.source) ?? "[\\s\\S]+");
    // Where no pattern can begin, one character test rejects the position (see firstCharSource).
    const firsts = rules.map((r) => firstCharSource(r.source));
    const head = firsts.includes(null) ? "" : `(?=${firsts.join("|")})`;
    this.tail = new RegExp(`${head}(?:${tails.join("|") || "(?!)"})$`, "g");
  }

  /**
   * Every match in a whole text, left to right. Texts from `rememberFrom` on are remembered
   * (bounded, about the least recently used first out): agents resend the whole conversation each turn, so
   * the same system prompt, tool list and tool results are scanned again and again; a hit costs a
   * lookup and a comparison instead of a regex pass.
   */
  findAll(text: string): readonly Match[] {
    if (text.length < this.rememberFrom) {
      // Only short texts: a longer one is scanned here first (recentClean serves the wire walk after).
      if (text.length <= CLEAN_MAX_CHARS && this.clean.has(text)) return NO_MATCHES;
      const matches = this.scanAll(text);
      if (matches.length === 0) this.rememberClean(text);
      return matches;
    }
    if (text.length > CACHE_MAX_CHARS / 8) return this.scanAll(text);
    const key = cacheKey(text);
    const hit = this.cache.get(key);
    if (hit?.text === text) {
      hit.used = true;
      return hit.matches;
    }
    const matches = this.scanAll(text);
    this.remember(key, text, matches);
    return matches;
  }

  /** Texts scanned so far, rather than answered from memory (tests and benchmarks read it). */
  get scans(): number {
    return this.#scans;
  }

  /** Whether any pattern matches anywhere in `text` (remembered texts through findAll's cache, short ones through `clean`). */
  matches(text: string): boolean {
    if (text.length >= this.rememberFrom) return this.findAll(text).length > 0;
    if (text.length <= CLEAN_MAX_CHARS ? this.clean.has(text) : this.recentlyClean(text)) return false;
    this.#scans++;
    if (this.find(text, 0) !== null) return true;
    this.rememberClean(text);
    return false;
  }

  /**
   * Adds a text to the cache, then evicts from the oldest end down to CACHE_MAX_CHARS: an entry
   * looked up since it was last passed over goes to the newest end instead, once (second chance,
   * an approximation of LRU that leaves the Map alone on a hit).
   */
  private remember(key: string, text: string, matches: readonly Match[]): void {
    const replaced = this.cache.get(key);
    if (replaced) this.cachedChars -= replaced.text.length;
    const added: CacheEntry = { text, matches, used: false };
    this.cache.set(key, added);
    this.cachedChars += text.length;
    for (const [old, entry] of this.cache) {
      if (this.cachedChars <= CACHE_MAX_CHARS) break;
      this.cache.delete(old);
      if (entry.used && entry !== added) {
        entry.used = false;
        this.cache.set(old, entry);
      } else {
        this.cachedChars -= entry.text.length;
      }
    }
  }

  /** Every match in `text`, left to right, scanned now. */
  private scanAll(text: string): Match[] {
    this.#scans++;
    const matches: Match[] = [];
    const combined = this.combinedFor(text, 0);
    let pos = 0;
    for (let m = combined && findIn(combined, text, pos); m; m = findIn(combined!, text, pos)) {
      matches.push(m);
      pos = m.end;
    }
    return matches;
  }

  /** Remembers a text shorter than rememberFrom that no pattern matches. */
  private rememberClean(text: string): void {
    if (text.length > CLEAN_MAX_CHARS) {
      this.recentClean[this.recentAt] = text;
      this.recentAt = (this.recentAt + 1) % RECENT_CLEAN;
      return;
    }
    if (this.clean.size >= CLEAN_MAX_ENTRIES) this.clean.clear();
    this.clean.add(text);
  }

  private recentlyClean(text: string): boolean {
    for (const seen of this.recentClean) if (seen === text) return true;
    return false;
  }

  /**
   * The leftmost match starting at or after `from`, or null. `again`: the caller's previous call
   * was about this same text, from no further on (the stream scanner asks again from the end of
   * each match): the rules found for the rest of it then hold for any later `from`, so each text's
   * characters are passed over once, not once per match. Said by the caller rather than found by
   * comparing texts: no comparison and no memo object per search.
   */
  find(text: string, from: number, again = false): Match | null {
    if (!again || from < this.lastFrom) {
      this.lastFrom = from;
      this.lastCombined = this.combinedFor(text, from);
    }
    const combined = this.lastCombined;
    return combined && findIn(combined, text, from);
  }

  /** The rules that could match text[from…], combined; null when none could. */
  private combinedFor(text: string, from: number): Combined | null {
    const filtered = this.filtered;
    let found = 0;
    const any = this.anyRequired;
    if (any) {
      any.lastIndex = from;
      // From the first such character on (test leaves lastIndex just past it), character by
      // character: which rules' characters are there.
      for (let i = any.test(text) ? any.lastIndex - 1 : text.length; i < text.length && found !== filtered; i++) {
        const c = text.charCodeAt(i);
        if (c < 128) found |= this.needs[c]!;
      }
    }
    if (found === filtered) return this.all;
    const mask = found | this.always;
    if (mask === 0) return null;
    let combined = this.subsets.get(mask);
    if (!combined) {
      if (this.subsets.size >= MAX_SUBSETS) return this.all;
      combined = combine(this.rules.filter((_, i) => (mask & (1 << i)) !== 0));
      this.subsets.set(mask, combined);
    }
    return combined;
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

/** The rules as one alternation, each in its own capturing group (throws when they do not combine). */
function combine(rules: readonly ActiveRule[]): Combined {
  const groups: { index: number; rule: ActiveRule }[] = [];
  let next = 1;
  for (const rule of rules) {
    groups.push({ index: next, rule });
    next += 1 + countGroups(rule.source);
  }
  return { regex: new RegExp(rules.map((r) => `(${r.source})`).join("|") || "(?!)", "g"), groups };
}

/** The leftmost match of the combined rules starting at or after `from`, or null. */
function findIn({ regex, groups }: Combined, text: string, from: number): Match | null {
  regex.lastIndex = from;
  const m = regex.exec(text);
  if (!m) return null;
  for (const { index, rule } of groups) {
    if (m[index] !== undefined) return { start: m.index, end: m.index + m[0].length, rule };
  }
  throw new Error("guardrails: a match with no pattern group"); // unreachable: every alternative is a group
}

/** Number of capturing groups in a regex source: an empty alternative matches "" with every group unset. */
function countGroups(source: string): number {
  return (new RegExp(`(?:${source})|`).exec("") as RegExpExecArray).length - 1;
}
