import regjsparser from "regjsparser";
import type { RootNode } from "regjsparser";

type Features = { lookbehind: true; namedGroups: true };
type Node = RootNode<Features>;

/**
 * Derives, from a regex source, a regex source matching every string that is a prefix of some
 * match (a complete match included). The stream scanner uses it to decide how much of the tail
 * of a text could still grow into a match once more chunks arrive: that tail is held back,
 * everything before it is released at once.
 *
 * The result is a superset (never misses a live prefix): lookaheads are dropped, backreferences
 * become "anything", capturing groups become non-capturing (the alternatives repeat them).
 * Returns null when the source uses syntax this derivation does not model; callers then hold
 * back the whole window.
 */
export function prefixSource(source: string): string | null {
  let ast: Node;
  try {
    ast = regjsparser.parse(source, "", { lookbehind: true, namedGroups: true });
  } catch {
    return null;
  }
  try {
    return pre(ast);
  } catch {
    return null;
  }
}

/** Source matching the same strings as the node, with groups made non-capturing (for repetition). */
function plain(node: Node): string {
  switch (node.type) {
    case "alternative":
      return node.body.map(plain).join("");
    case "disjunction":
      return `(?:${node.body.map(plain).join("|")})`;
    case "group":
      if (node.behavior === "lookahead" || node.behavior === "negativeLookahead") return ""; // superset
      if (node.behavior === "lookbehind") return `(?<=${node.body.map(plain).join("")})`;
      if (node.behavior === "negativeLookbehind") return `(?<!${node.body.map(plain).join("")})`;
      return `(?:${node.body.map(plain).join("")})`;
    case "quantifier":
      return `(?:${plain(node.body[0])})${quantifier(node.min, node.max)}`;
    case "reference":
      return "[\\s\\S]*"; // superset: the referenced text is unknown here
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

/** Source matching every prefix (possibly empty, possibly complete) of a match of the node. */
function pre(node: Node): string {
  switch (node.type) {
    case "alternative": {
      // A prefix of e1 e2 … en is: e1 … ek complete, then a prefix of e(k+1).
      const alts: string[] = [];
      let done = "";
      for (const child of node.body) {
        alts.push(done + pre(child));
        done += plain(child);
      }
      alts.push(done);
      return group(alts);
    }
    case "disjunction":
      return group(node.body.map(pre));
    case "group":
      // Assertions consume nothing: the cut lies before them (the empty prefix covers it).
      if (node.behavior !== "normal" && node.behavior !== "ignore") return "";
      return pre({ type: "alternative", body: node.body, raw: node.raw, range: node.range });
    case "quantifier": {
      const body = node.body[0];
      // Any number of complete repetitions, then a prefix of one more.
      return `(?:${plain(body)})${quantifier(0, node.max)}${wrap(pre(body))}`;
    }
    case "anchor":
      return "";
    case "reference":
      return "[\\s\\S]*";
    case "characterClass":
    case "characterClassEscape":
    case "dot":
    case "value":
      return `(?:${node.raw})?`;
    default:
      throw new Error(`unsupported regex node ${(node as { type: string }).type}`);
  }
}

function quantifier(min: number, max: number | undefined): string {
  if (max === undefined) return min === 0 ? "*" : `{${min},}`;
  return `{${min},${max}}`;
}

function group(alts: string[]): string {
  const unique = [...new Set(alts.filter((a) => a !== ""))];
  if (unique.length === 0) return "";
  return `(?:${unique.join("|")})?`;
}

function wrap(source: string): string {
  return source === "" ? "" : `(?:${source})`;
}
