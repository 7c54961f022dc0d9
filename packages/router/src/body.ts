/**
 * The fast path's upstream body: the caller's bytes with only the top-level `model` value replaced
 * (and, where the pipeline needs them, a top-level field added), spliced in place. Re-serialising
 * the parsed body instead costs about three times its parse and re-encodes every byte: the bulk of
 * the router's own CPU time for large requests (long prompts, images as base64).
 *
 * The scan below assumes valid JSON: the pipeline has already parsed the body (which is what
 * answers a malformed one with a clear 400).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Where the value of each top-level key sits in the text. */
export interface TopLevel {
  /** Byte offsets [start, end) of each top-level key's value. */
  values: Map<string, { start: number; end: number }>;
  /** Offset of the closing `}` of the top-level object. */
  close: number;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Offset just past the closing quote of the string whose opening quote is at `open`. */
function stringEnd(bytes: Buffer, open: number): number {
  let at = open;
  for (;;) {
    at = bytes.indexOf(QUOTE, at + 1);
    if (at === -1) throw new Error("unterminated string");
    // An escaped quote has an odd number of backslashes right before it.
    let slashes = 0;
    while (bytes[at - 1 - slashes] === BACKSLASH) slashes += 1;
    if (slashes % 2 === 0) return at + 1;
  }
}

/** Offset just past the value starting at `start` (a string, number, literal, object or array). */
function valueEnd(bytes: Buffer, start: number): number {
  const first = bytes[start];
  if (first === QUOTE) return stringEnd(bytes, start);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    let at = start;
    while (at < bytes.length) {
      const byte = bytes[at]!;
      if (byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || isSpace(byte)) break;
      at += 1;
    }
    return at;
  }
  // A container: count nesting, jumping over strings (where most of a request's bytes are).
  let depth = 0;
  let at = start;
  while (at < bytes.length) {
    const byte = bytes[at]!;
    if (byte === QUOTE) {
      at = stringEnd(bytes, at);
      continue;
    }
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth += 1;
    else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth -= 1;
      if (depth === 0) return at + 1;
    }
    at += 1;
  }
  throw new Error("unterminated container");
}

function skipSpace(bytes: Buffer, at: number): number {
  while (at < bytes.length && isSpace(bytes[at]!)) at += 1;
  return at;
}

/** Finds every top-level key's value in a JSON object text; undefined if it is not one (or repeats a key). */
export function scanTopLevel(bytes: Buffer): TopLevel | undefined {
  try {
    let at = skipSpace(bytes, 0);
    if (bytes[at] !== OPEN_BRACE) return undefined;
    at = skipSpace(bytes, at + 1);
    const values = new Map<string, { start: number; end: number }>();
    while (bytes[at] !== CLOSE_BRACE) {
      if (bytes[at] !== QUOTE) return undefined;
      const keyEnd = stringEnd(bytes, at);
      const rawKey = bytes.toString("utf8", at + 1, keyEnd - 1);
      // Keys with escapes are decoded the way JSON.parse would read them.
      const key = rawKey.includes("\\") ? (JSON.parse(`"${rawKey}"`) as string) : rawKey;
      at = skipSpace(bytes, keyEnd);
      if (bytes[at] !== COLON) return undefined;
      // A repeated key: JSON.parse keeps the last, an upstream may keep the first; leave it whole.
      if (values.has(key)) return undefined;
      const start = skipSpace(bytes, at + 1);
      const end = valueEnd(bytes, start);
      values.set(key, { start, end });
      at = skipSpace(bytes, end);
      if (bytes[at] === COMMA) at = skipSpace(bytes, at + 1);
      else if (bytes[at] !== CLOSE_BRACE) return undefined;
    }
    return { values, close: at };
  } catch {
    return undefined;
  }
}

/** How to change a body on its way upstream. */
export interface BodyEdit {
  /** Replaces the top-level `model` value (which must exist). */
  model?: string;
  /** Top-level fields to add; each must not exist yet. */
  add?: Record<string, unknown>;
}

/**
 * The body with `edit` applied by splicing, the caller's other bytes untouched; undefined when the
 * body is not a plain JSON object of that shape (the caller then re-serialises the parsed body).
 */
export function spliceBody(raw: string | Uint8Array, edit: BodyEdit): Buffer | undefined {
  const bytes = typeof raw === "string" ? Buffer.from(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const top = scanTopLevel(bytes);
  if (!top) return undefined;
  const parts: Buffer[] = [];
  let from = 0;
  if (edit.model !== undefined) {
    const span = top.values.get("model");
    if (!span) return undefined;
    parts.push(bytes.subarray(0, span.start), Buffer.from(JSON.stringify(edit.model)));
    from = span.end;
  }
  const added = Object.entries(edit.add ?? {});
  if (added.some(([key]) => top.values.has(key))) return undefined;
  if (added.length > 0) {
    const fields = added.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(",");
    parts.push(bytes.subarray(from, top.close), Buffer.from(`${top.values.size > 0 ? "," : ""}${fields}`));
    from = top.close;
  }
  if (parts.length === 0) return bytes;
  parts.push(bytes.subarray(from));
  return Buffer.concat(parts);
}
