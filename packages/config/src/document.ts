// YAML parsing with positions, and ${VAR} substitution on the parsed document's string scalars
// (never on the raw text, so a value containing YAML syntax cannot inject structure).
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from "yaml";
import { ConfigError, formatPath, type ConfigIssue, type PathSegment } from "./errors.js";

export type Env = Record<string, string | undefined>;

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface ParsedDocument {
  doc: Document.Parsed;
  lines: LineCounter;
  file: string;
  /** Names referenced as ${VAR} but unset (replaced with ""). */
  missingVars: string[];
}

/** Replace `${VAR}` in a string; unset variables become "". */
export function substituteVars(value: string, env: Env, missing?: Set<string>): string {
  return value.replace(VAR, (_, name: string) => {
    const found = env[name];
    if (found === undefined) missing?.add(name);
    return found ?? "";
  });
}

/** Parse YAML, then substitute variables in every string value (keys are left alone). */
export function parseYaml(text: string, file: string, env: Env): ParsedDocument {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => {
        // Only the first line of yaml's message: the rest quotes source text, which may hold a key.
        const pos = lines.linePos(error.pos[0]);
        return { path: "", message: `invalid YAML: ${firstLine(error.message)}`, file, line: pos.line, column: pos.col };
      }),
    );
  }
  const missing = new Set<string>();
  visit(doc, {
    Scalar(key, node) {
      if (key !== "key" && typeof node.value === "string" && node.value.includes("${")) {
        node.value = substituteVars(node.value, env, missing);
      }
    },
  });
  return { doc, lines, file, missingVars: [...missing].sort() };
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}

/**
 * Plain data from the document, with empty strings and nulls removed from mappings: a value that
 * came from a missing variable (or `key:` with nothing after it) counts as unset.
 */
export function toData(parsed: ParsedDocument): unknown {
  let data: unknown;
  try {
    // mapAsMap: keys come back as they are, so a key that resolved to a collection (through an alias
    // or a tag) is refused below instead of being stringified with a process warning.
    data = parsed.doc.toJS({ maxAliasCount: 100, mapAsMap: true });
  } catch (error) {
    // Resolution errors surface only here: an alias before its anchor, a merge (<<) of a non-mapping,
    // too many aliases (a "billion laughs" document).
    throw new ConfigError([{ path: "", message: `invalid YAML: ${firstLine(error instanceof Error ? error.message : String(error))}`, file: parsed.file }]);
  }
  return plain(data, [], parsed);
}

/** Maps to plain objects, with empty strings and nulls dropped from mappings; non-scalar keys refused. */
function plain(value: unknown, path: PathSegment[], parsed: ParsedDocument): unknown {
  if (Array.isArray(value)) return value.map((item, i) => plain(item, [...path, i], parsed));
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of value) {
      if (key !== null && typeof key === "object") {
        const message = "invalid YAML: a mapping key must be a plain value, not a mapping, list or binary";
        throw new ConfigError([{ path: formatPath(path), message, file: parsed.file, ...locate(parsed, path) }]);
      }
      if (inner === "" || inner === null || inner === undefined) continue;
      const name = String(key);
      // defineProperty: a key named "__proto__" stays a key instead of replacing the prototype.
      Object.defineProperty(out, name, { value: plain(inner, [...path, name], parsed), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

/** The raw (substituted) value at a path, before empty values were dropped. */
export function rawValueAt(parsed: ParsedDocument, path: readonly PathSegment[]): unknown {
  const node = parsed.doc.getIn(path, true);
  if (node === undefined) return undefined;
  return isScalar(node) ? node.value : node;
}

/**
 * Line and column of the node at `path` (of its key when `atKey`); falls back to the deepest
 * existing ancestor, so a missing field points at the mapping that should hold it.
 */
export function locate(parsed: ParsedDocument, path: readonly PathSegment[], atKey = false): { line: number; column: number } | undefined {
  let node: unknown = parsed.doc.contents;
  let offset = offsetOf(node);
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      const keyOffset = offsetOf(pair.key);
      if (last && atKey && keyOffset !== undefined) {
        offset = keyOffset;
        break;
      }
      node = pair.value;
      offset = offsetOf(node) ?? keyOffset ?? offset;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
      if (node === undefined) break;
      offset = offsetOf(node) ?? offset;
    } else {
      break;
    }
  }
  if (offset === undefined) return undefined;
  const pos = parsed.lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function offsetOf(node: unknown): number | undefined {
  if (node && typeof node === "object" && "range" in node) {
    const range = (node as Node).range;
    if (range) return range[0];
  }
  return undefined;
}

/** A located issue for a path in the user's file. */
export function issueAt(parsed: ParsedDocument | undefined, path: readonly PathSegment[], message: string, atKey = false): ConfigIssue {
  const issue: ConfigIssue = { path: formatPath(path), message };
  if (parsed) {
    issue.file = parsed.file;
    const pos = locate(parsed, path, atKey);
    if (pos) {
      issue.line = pos.line;
      issue.column = pos.column;
    }
  }
  return issue;
}
