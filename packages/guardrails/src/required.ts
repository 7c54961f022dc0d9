import { type Node, derived } from "./prefix.js";

/**
 * Derives, from a regex source (compiled without flags, as every pattern is), a set of ASCII
 * characters at least one of which every match contains: a text holding none of them cannot
 * match, and the matcher then leaves the pattern out of that text's scan without running it.
 * Most texts (keys, roles, model names, prose) hold none of the characters the built-in patterns
 * need (`@` for an email, a digit for a phone number, `-` for a PEM block), and a character test
 * costs ~1 ns where the combined patterns cost ~20 ns per character.
 *
 * Where a sequence has several such elements, the one whose characters are rarest in ordinary text
 * is taken. Returns null when no such set can be told (a pattern that can match without consuming
 * a character it names, non-ASCII characters, syntax not modelled): that pattern is always run.
 */
export function requiredChars(source: string): number[] | null {
  return derived(source, (ast) => {
    const set = required(ast);
    return set ? [...set].sort((a, b) => a - b) : null;
  });
}

/**
 * The fewest characters a match of the source can consume (lookarounds, anchors and backreferences
 * count none); null when the source does not parse here. A pattern that can match an empty string
 * somewhere (`(?=x)`, `\\b`) is refused by the configuration: it would match everywhere, and a
 * scan that moves on from the end of each match would never move on from it.
 */
export function minMatchLength(source: string): number | null {
  return derived(source, minLength);
}

function minLength(node: Node): number {
  switch (node.type) {
    case "value":
    case "characterClass":
    case "characterClassEscape":
    case "dot":
      return 1;
    case "alternative":
      return node.body.reduce((sum, child) => sum + minLength(child), 0);
    case "disjunction":
      return Math.min(...node.body.map(minLength));
    case "group":
      return node.behavior === "normal" || node.behavior === "ignore" ? node.body.reduce((sum, child) => sum + minLength(child), 0) : 0;
    case "quantifier":
      return node.min * minLength(node.body[0]);
    case "anchor":
    case "reference":
      return 0;
    default:
      throw new Error(`unsupported regex node ${(node as { type: string }).type}`);
  }
}

type CharSet = Set<number>;

/** Classes wider than this are not worth naming: they hold common letters anyway. */
const MAX_RANGE = 64;

function required(node: Node): CharSet | null {
  switch (node.type) {
    case "value":
      return node.codePoint < 0x80 ? new Set([node.codePoint]) : null;
    case "characterClass":
      return node.negative ? null : classChars(node.body as unknown as ClassItem[]);
    case "characterClassEscape":
      return node.value === "d" ? digits() : null;
    case "alternative":
      return rarest(node.body.map(required));
    case "disjunction": {
      const union: CharSet = new Set();
      for (const branch of node.body) {
        const set = required(branch);
        if (!set) return null; // a branch that can match without any named character
        for (const c of set) union.add(c);
      }
      return union;
    }
    case "group":
      // A lookaround consumes nothing: what it names need not be in the match.
      if (node.behavior !== "normal" && node.behavior !== "ignore") return null;
      return rarest(node.body.map(required));
    case "quantifier":
      return node.min >= 1 ? required(node.body[0]) : null;
    default:
      // anchors, backreferences (may match ""), `.`, and anything not modelled
      return null;
  }
}

/** What a class holds, as regjsparser gives it (nested classes and the rest are not modelled). */
type ClassItem =
  | { type: "value"; codePoint: number }
  | { type: "characterClassRange"; min: { codePoint: number }; max: { codePoint: number } }
  | { type: "characterClassEscape"; value: string }
  | { type: "other" };

function classChars(body: ClassItem[]): CharSet | null {
  const out: CharSet = new Set();
  for (const item of body) {
    if (item.type === "value") {
      if (item.codePoint >= 0x80) return null;
      out.add(item.codePoint);
    } else if (item.type === "characterClassRange") {
      const { min, max } = item;
      if (max.codePoint >= 0x80 || max.codePoint - min.codePoint >= MAX_RANGE) return null;
      for (let c = min.codePoint; c <= max.codePoint; c++) out.add(c);
    } else if (item.type === "characterClassEscape" && item.value === "d") {
      for (const c of digits()) out.add(c);
    } else {
      return null;
    }
  }
  return out.size > 0 ? out : null;
}

function digits(): CharSet {
  const out: CharSet = new Set();
  for (let c = 0x30; c <= 0x39; c++) out.add(c);
  return out;
}

/** Of the sets each required in a sequence, the one least likely to occur in ordinary text. */
function rarest(sets: (CharSet | null)[]): CharSet | null {
  let best: CharSet | null = null;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const set of sets) {
    if (!set) continue;
    let score = 0;
    for (const c of set) score += commonness(c);
    if (score < bestScore) {
      best = set;
      bestScore = score;
    }
  }
  return best;
}

/** A rough weight of how often an ASCII character occurs in prompts, keys and model names. */
function commonness(c: number): number {
  if (c === 0x20 || c === 0x0a) return 100;
  if (c === 0x2e) return 60; // . ends most sentences
  if (c >= 0x61 && c <= 0x7a) return 30; // a-z
  if (c === 0x2c) return 20; // ,
  if (c >= 0x41 && c <= 0x5a) return 8; // A-Z
  if (c >= 0x30 && c <= 0x39) return 6; // 0-9
  if ("-_:/'\"()".includes(String.fromCharCode(c))) return 5;
  return 2;
}
