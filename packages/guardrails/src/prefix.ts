import regjsparser from "regjsparser";
import type { RootNode } from "regjsparser";

type Features = { lookbehind: true; namedGroups: true };
/** A parsed pattern, as the derivations here and in required.ts walk it. */
export type Node = RootNode<Features>;

/**
 * Derives, from a regex source, a regex source matching every non-empty string that is a prefix
 * of some match (a complete match included). The stream scanner uses it to decide how much of the
 * tail of a text could still grow into a match once more chunks arrive: that tail is held back,
 * everything before it is released at once.
 *
 * The result is a superset (never misses a live prefix): lookaheads are dropped, a backreference
 * stands for its group's body, capturing groups become non-capturing (the alternatives repeat them).
 * A source whose matches are all empty gives `(?!)` (nothing to hold). Returns null when the source
 * uses syntax this derivation does not model; callers then hold back the whole window.
 */
export function prefixSource(source: string): string | null {
  return derived(source, (ast) => new PrefixDeriver(collectGroups(ast)).pre(ast) ?? "(?!)");
}

/**
 * Derives, from a regex source, a regex source matching one character: every character a
 * non-empty match can begin with (a superset: lookarounds and anchors are passed over). The stream
 * scanner puts it in front of the prefix regex as a lookahead, so the many positions where no
 * pattern can begin are passed over with one character test instead of trying every pattern's
 * prefixes there. Returns null when it cannot tell (syntax not modelled, a group referring to itself).
 */
export function firstCharSource(source: string): string | null {
  return derived(source, (ast) => {
    const chars = new Set<string>();
    firstChars(ast, chars, collectGroups(ast), new Set());
    return chars.size === 0 ? null : `(?:${[...chars].join("|")})`;
  });
}

/** `derive` applied to the parsed source; null when the source does not parse or `derive` throws (syntax it does not model). */
export function derived<T>(source: string, derive: (ast: Node) => T | null): T | null {
  try {
    return derive(regjsparser.parse(source, "", { lookbehind: true, namedGroups: true }));
  } catch {
    return null;
  }
}

/**
 * Adds the sources of the characters a match of `node` can begin with; returns whether it can
 * match "". `following` holds the groups whose backreferences are being followed (one that
 * refers to itself has no first character to tell).
 */
function firstChars(node: Node, out: Set<string>, groups: GroupBodies, following: Set<Node[]>): boolean {
  switch (node.type) {
    case "alternative":
      for (const child of node.body) if (!firstChars(child, out, groups, following)) return false;
      return true;
    case "disjunction": {
      let empty = false;
      for (const child of node.body) if (firstChars(child, out, groups, following)) empty = true;
      return empty;
    }
    case "group":
      // Assertions consume nothing: what follows them begins the match.
      if (node.behavior !== "normal" && node.behavior !== "ignore") return true;
      return firstChars({ type: "alternative", body: node.body, raw: node.raw, range: node.range } as Node, out, groups, following);
    case "quantifier":
      return firstChars(node.body[0], out, groups, following) || node.min === 0;
    case "reference": {
      // What its group matched, or "" when the group did not take part.
      const body = node.name ? groups.byName.get(node.name.value) : groups.byIndex[(node.matchIndex ?? 0) - 1];
      if (!body || following.has(body)) throw new Error("a backreference with no first character to tell");
      following.add(body);
      firstChars({ type: "alternative", body, raw: node.raw, range: node.range } as Node, out, groups, following);
      following.delete(body);
      return true;
    }
    case "anchor":
      return true;
    case "dot":
      out.add("[\\s\\S]");
      return false;
    case "characterClass":
    case "characterClassEscape":
    case "value":
      out.add(node.raw);
      return false;
    default:
      throw new Error(`unsupported regex node ${(node as { type: string }).type}`);
  }
}

/** Capturing groups of the regex being derived, so a backreference can stand for its group's body. */
type GroupBodies = { byIndex: Node[][]; byName: Map<string, Node[]> };

function collectGroups(root: Node): GroupBodies {
  const out: GroupBodies = { byIndex: [], byName: new Map() };
  const walk = (node: Node): void => {
    if (node.type === "group" && node.behavior === "normal") {
      out.byIndex.push(node.body);
      if (node.name) out.byName.set(node.name.value, node.body);
    }
    if (node.type === "alternative" || node.type === "disjunction" || node.type === "group" || node.type === "quantifier") {
      for (const child of node.body) walk(child);
    }
  };
  walk(root);
  return out;
}

class PrefixDeriver {
  constructor(private readonly groups: GroupBodies) {}

  /** A backreference matches what its group matched: the group's body is a superset. */
  private referenced(node: Node & { type: "reference" }): Node | null {
    const body = node.name ? this.groups.byName.get(node.name.value) : this.groups.byIndex[(node.matchIndex ?? 0) - 1];
    return body ? ({ type: "alternative", body, raw: node.raw, range: node.range } as Node) : null;
  }

  /** Source matching the same strings as the node, with groups made non-capturing (for repetition). */
  private plain(node: Node): string {
    switch (node.type) {
      case "alternative":
        return node.body.map((n) => this.plain(n)).join("");
      case "disjunction":
        return `(?:${node.body.map((n) => this.plain(n)).join("|")})`;
      case "group":
        if (node.behavior === "lookahead" || node.behavior === "negativeLookahead") return ""; // superset
        if (node.behavior === "lookbehind") return `(?<=${node.body.map((n) => this.plain(n)).join("")})`;
        if (node.behavior === "negativeLookbehind") return `(?<!${node.body.map((n) => this.plain(n)).join("")})`;
        return `(?:${node.body.map((n) => this.plain(n)).join("")})`;
      case "quantifier":
        return `(?:${this.plain(node.body[0])})${quantifier(node.min, node.max)}`;
      case "reference": {
        const target = this.referenced(node);
        return target ? `(?:${this.plain(target)})` : "[\\s\\S]*";
      }
      case "anchor":
      case "characterClass":
      case "characterClassEscape":
      case "dot":
      case "value":
        return node.raw;
      default:
        throw new Error(`unsupported regex node ${(node as { type: string }).type}`);
    }
  }

  /**
   * Source matching every non-empty prefix (possibly complete) of a match of the node; null when
   * there is none (the node matches only ""). Non-empty, so that every alternative must take a
   * character first: where it cannot, the engine leaves it at once instead of trying its empty
   * branches (the stream scanner only asks where a non-empty tail could still grow into a match).
   */
  pre(node: Node): string | null {
    switch (node.type) {
      case "alternative":
        return this.sequence(node.body, 0);
      case "disjunction":
        return either(node.body.map((n) => this.pre(n)));
      case "group":
        // Assertions consume nothing: no non-empty prefix ends inside them.
        if (node.behavior !== "normal" && node.behavior !== "ignore") return null;
        return this.pre({ type: "alternative", body: node.body, raw: node.raw, range: node.range });
      case "quantifier": {
        const body = node.body[0];
        if (node.max === 0) return null;
        // One character per repetition: a prefix is just fewer repetitions.
        if (isCharacter(body)) return `${this.plain(body)}${quantifier(1, node.max)}`;
        // Complete repetitions, then a non-empty prefix of one more (which may be complete).
        const last = this.pre(body);
        if (last === null) return null;
        if (node.max === 1) return last;
        return `(?:${this.plain(body)})${quantifier(0, node.max === undefined ? undefined : node.max - 1)}(?:${last})`;
      }
      case "anchor":
        return null;
      case "reference": {
        const target = this.referenced(node);
        return target ? this.pre(target) : "[\\s\\S]+";
      }
      case "characterClass":
      case "characterClassEscape":
      case "dot":
      case "value":
        return node.raw;
      default:
        throw new Error(`unsupported regex node ${(node as { type: string }).type}`);
    }
  }

  /**
   * Non-empty prefixes of the sequence body[i…]: a non-empty prefix of body[i], or body[i] complete
   * (possibly empty) followed by a non-empty prefix of the rest. Nested rather than flattened, so
   * the common head is written (and tried by the engine) once: at most positions the first element
   * already fails.
   */
  private sequence(body: Node[], i: number): string | null {
    const node = body[i];
    if (node === undefined) return null;
    const rest = this.sequence(body, i + 1);
    return either([this.pre(node), rest === null ? null : this.plain(node) + rest]);
  }
}

function isCharacter(node: Node): boolean {
  return node.type === "characterClass" || node.type === "characterClassEscape" || node.type === "dot" || node.type === "value";
}

function quantifier(min: number, max: number | undefined): string {
  if (max === undefined) return min === 0 ? "*" : `{${min},}`;
  return `{${min},${max}}`;
}

/** One of the alternatives (null for none); null when there is none. */
function either(alts: (string | null)[]): string | null {
  const unique = [...new Set(alts.filter((a) => a !== null))];
  return unique.length === 0 ? null : `(?:${unique.join("|")})`;
}
