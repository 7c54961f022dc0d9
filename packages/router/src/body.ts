/**
 * The request body without parsing it whole. A scan checks the JSON structure and finds where each
 * top-level field sits; the few fields the router reads (`model`, `stream`, ...) are parsed alone,
 * and the fast path's upstream body is the caller's bytes with only `model` replaced (plus any
 * field the pipeline adds), spliced in place. The whole body is parsed only where it is needed (the
 * translated path, hooks that inspect content). For a 100 KB prompt, parsing and re-serialising
 * it were most of the router's own CPU time.
 *
 * The scan jumps over long strings with a native byte search (where nearly all of a request's bytes
 * are; short ones are read in JS, cheaper than the call) and does not check what is inside them
 * (escapes, control characters): a body that is malformed only there reaches the provider on the
 * fast path, which answers it in the caller's protocol. Anything else malformed is answered here
 * with a 400, as a full parse would.
 */
import { invalidRequest } from "@bitrouter/core";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const TRUE = Buffer.from("true");
const FALSE = Buffer.from("false");
const NULL = Buffer.from("null");

/**
 * A request body as the host read it: text, one buffer, or the buffers of its socket reads in order
 * (a body larger than one read, ~64 KB: the router never joins them, see scanTopLevel).
 */
export type RawBody = string | Uint8Array | readonly Uint8Array[];

/** Where each top-level field's value sits in the body (byte offsets [start, end) of the whole). */
export interface TopLevel {
  /** The body's bytes: one buffer, or its parts in order (the offsets run across them). */
  parts: readonly Buffer[];
  values: Map<string, { start: number; end: number }>;
  /** Offset of the closing `}` of the top-level object. */
  close: number;
}

class Malformed extends Error {}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function skipSpace(bytes: Buffer, at: number): number {
  while (isSpace(bytes[at])) at += 1;
  return at;
}

function expect(bytes: Buffer, at: number, byte: number): void {
  if (bytes[at] !== byte) throw new Malformed();
}

/** Strings are searched byte by byte this far before the native search takes over (a call into C++ costs more than a short loop). */
const SHORT_STRING = 48;

/** Offset just past the closing quote of the string whose opening quote is at `open`. */
function stringEnd(bytes: Buffer, open: number): number {
  const near = Math.min(bytes.length, open + 1 + SHORT_STRING);
  for (let i = open + 1; i < near; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) return i + 1;
    if (byte === BACKSLASH) i += 1; // the escaped byte is never the end
  }
  let at = near - 1;
  for (;;) {
    at = bytes.indexOf(QUOTE, at + 1);
    if (at === -1) throw new Malformed();
    // An escaped quote has an odd number of backslashes right before it.
    let slashes = 0;
    while (bytes[at - 1 - slashes] === BACKSLASH) slashes += 1;
    if (slashes % 2 === 0) return at + 1;
  }
}

/** Offset just past the JSON value starting at `at` (no leading space); throws Malformed. */
function valueEnd(bytes: Buffer, at: number): number {
  const first = bytes[at];
  if (first === QUOTE) return stringEnd(bytes, at);
  if (first === OPEN_BRACE) {
    at = skipSpace(bytes, at + 1);
    if (bytes[at] === CLOSE_BRACE) return at + 1;
    for (;;) {
      expect(bytes, at, QUOTE);
      at = skipSpace(bytes, stringEnd(bytes, at));
      expect(bytes, at, COLON);
      at = skipSpace(bytes, valueEnd(bytes, skipSpace(bytes, at + 1)));
      if (bytes[at] === CLOSE_BRACE) return at + 1;
      expect(bytes, at, COMMA);
      at = skipSpace(bytes, at + 1);
    }
  }
  if (first === OPEN_BRACKET) {
    at = skipSpace(bytes, at + 1);
    if (bytes[at] === CLOSE_BRACKET) return at + 1;
    for (;;) {
      at = skipSpace(bytes, valueEnd(bytes, at));
      if (bytes[at] === CLOSE_BRACKET) return at + 1;
      expect(bytes, at, COMMA);
      at = skipSpace(bytes, at + 1);
    }
  }
  if (first === 0x74) return literalEnd(bytes, at, TRUE);
  if (first === 0x66) return literalEnd(bytes, at, FALSE);
  if (first === 0x6e) return literalEnd(bytes, at, NULL);
  return numberEnd(bytes, at);
}

function literalEnd(bytes: Buffer, at: number, literal: Buffer): number {
  // Compared here rather than with bytes.compare: a call into C++ costs more than 4 or 5 bytes.
  for (let i = 0; i < literal.length; i++) if (bytes[at + i] !== literal[i]) throw new Malformed();
  return at + literal.length;
}

const isDigit = (byte: number | undefined): boolean => byte !== undefined && byte >= 0x30 && byte <= 0x39;

/** JSON's number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
function numberEnd(bytes: Buffer, at: number): number {
  if (bytes[at] === 0x2d) at += 1;
  if (bytes[at] === 0x30) at += 1;
  else if (isDigit(bytes[at])) while (isDigit(bytes[at])) at += 1;
  else throw new Malformed();
  if (bytes[at] === 0x2e) {
    at += 1;
    if (!isDigit(bytes[at])) throw new Malformed();
    while (isDigit(bytes[at])) at += 1;
  }
  if (bytes[at] === 0x65 || bytes[at] === 0x45) {
    at += 1;
    if (bytes[at] === 0x2b || bytes[at] === 0x2d) at += 1;
    if (!isDigit(bytes[at])) throw new Malformed();
    while (isDigit(bytes[at])) at += 1;
  }
  return at;
}

/**
 * Scans a JSON object and finds its top-level fields; undefined when the text is not a JSON object
 * or repeats a top-level key (JSON.parse keeps the last, a provider may keep the first), or when
 * it nests too deep for the scan (the caller then parses it whole).
 *
 * A body in parts is scanned as one run of bytes copied into a buffer kept for scanning (the scan is
 * synchronous, so one buffer serves every request) and kept as its parts: no joined copy per request.
 * Each such copy is new memory outside V8's heap that only a collection frees, and V8 counts it
 * toward its next full collection: with 100 KB bodies at 500 req/s the joined copies doubled the
 * bytes a request left behind, and with them the full collections (performance.md, Round 16).
 */
export function scanTopLevel(body: Buffer | readonly Buffer[]): TopLevel | undefined {
  if (Buffer.isBuffer(body)) return topLevelOf(body, [body]);
  if (body.length === 1) return topLevelOf(body[0]!, body);
  const { bytes, shared } = inOneRun(body);
  // Rare: a body too large for the shared buffer is kept joined.
  return topLevelOf(bytes, shared ? body : [bytes]);
}

/** Bodies in parts up to this size are read in the shared buffer; it grows to the largest such body. */
const SCAN_BUFFER_MAX = 4 * 1024 * 1024;
let scanBuffer = Buffer.alloc(0);

/**
 * A body's parts as one run of bytes for a synchronous read (a scan, a decode): copied into the
 * shared buffer, whose view is valid until the next call, or joined into a new buffer when the
 * body is larger than the shared one may grow.
 */
function inOneRun(parts: readonly Uint8Array[]): { bytes: Buffer; shared: boolean } {
  let size = 0;
  for (const part of parts) size += part.length;
  if (size > SCAN_BUFFER_MAX) return { bytes: Buffer.concat(parts, size), shared: false };
  if (scanBuffer.length < size) scanBuffer = Buffer.allocUnsafeSlow(Math.min(SCAN_BUFFER_MAX, 2 ** Math.ceil(Math.log2(size))));
  let at = 0;
  for (const part of parts) {
    scanBuffer.set(part, at);
    at += part.length;
  }
  return { bytes: scanBuffer.subarray(0, size), shared: true };
}

/** The scan of `bytes`, kept as `parts` (the same bytes: `bytes` itself, or the parts it was copied from). */
function topLevelOf(bytes: Buffer, parts: readonly Buffer[]): TopLevel | undefined {
  try {
    let at = skipSpace(bytes, 0);
    expect(bytes, at, OPEN_BRACE);
    at = skipSpace(bytes, at + 1);
    const values = new Map<string, { start: number; end: number }>();
    if (bytes[at] !== CLOSE_BRACE) {
      for (;;) {
        expect(bytes, at, QUOTE);
        const keyEnd = stringEnd(bytes, at);
        const key = keyAt(bytes, at + 1, keyEnd - 1);
        if (values.has(key)) return undefined;
        at = skipSpace(bytes, keyEnd);
        expect(bytes, at, COLON);
        const start = skipSpace(bytes, at + 1);
        const end = valueEnd(bytes, start);
        values.set(key, { start, end });
        at = skipSpace(bytes, end);
        if (bytes[at] === CLOSE_BRACE) break;
        expect(bytes, at, COMMA);
        at = skipSpace(bytes, at + 1);
      }
    }
    if (skipSpace(bytes, at + 1) !== bytes.length) return undefined;
    return { parts, values, close: at };
  } catch {
    return undefined; // malformed, a bad escape in a key, or nested deeper than the stack
  }
}

/** Keys up to this many bytes are read in JS: cheaper than a call into C++ for the string. */
const SHORT_KEY = 32;

/** The key whose quoted bytes are [start, end): JSON escapes decoded (a bad escape throws). */
function keyAt(bytes: Buffer, start: number, end: number): string {
  if (end - start <= SHORT_KEY) {
    let key = "";
    for (let i = start; i < end; i++) {
      const byte = bytes[i]!;
      if (byte >= 0x80 || byte === BACKSLASH) return decodedKey(bytes, start, end);
      key += String.fromCharCode(byte);
    }
    return key;
  }
  return decodedKey(bytes, start, end);
}

function decodedKey(bytes: Buffer, start: number, end: number): string {
  const raw = bytes.toString("utf8", start, end);
  return raw.includes("\\") ? (JSON.parse(`"${raw}"`) as string) : raw;
}

/** Whether [start, end) holds a backslash: a loop for short spans, a native search over a view for long ones. */
function hasBackslash(bytes: Buffer, start: number, end: number): boolean {
  if (end - start > 256) return bytes.subarray(start, end).includes(BACKSLASH);
  for (let i = start; i < end; i++) if (bytes[i] === BACKSLASH) return true;
  return false;
}

/** The bytes as a Buffer, without a copy when they are bytes already. */
export function asBuffer(raw: string | Uint8Array): Buffer {
  if (typeof raw === "string") return Buffer.from(raw);
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** A body's bytes: one buffer, or its parts (each a Buffer, none copied). */
function bytesOf(raw: RawBody): Buffer | Buffer[] {
  return typeof raw === "string" || raw instanceof Uint8Array ? asBuffer(raw) : raw.map(asBuffer);
}

/** The bytes [start, end) of a scanned body: a view when they lie in one part, else a copy of just them. */
function bytesAt(parts: readonly Buffer[], start: number, end: number): Buffer {
  if (parts.length === 1) return parts[0]!.subarray(start, end);
  const views: Buffer[] = [];
  pushRange(views, parts, start, end);
  return views.length === 1 ? views[0]! : Buffer.concat(views, end - start);
}

/** Pushes views of `parts` covering the bytes [start, end) of their whole (end may be Infinity). */
function pushRange(out: Buffer[], parts: readonly Buffer[], start: number, end: number): void {
  let offset = 0;
  for (const part of parts) {
    const next = offset + part.length;
    if (next > start && offset < end) out.push(part.subarray(Math.max(start - offset, 0), Math.min(end, next) - offset));
    if (next >= end) return;
    offset = next;
  }
}

/** Shared: a decode without `stream` keeps no state between calls. It drops a leading byte order mark, as JSON needs. */
const UTF8 = new TextDecoder();

/**
 * The body as text, in one decode of all its bytes: a decoder used with `stream` (part by part)
 * leaves Node's UTF-8 fast path for ICU's converter and makes two-byte strings, which took an 86 KB
 * body twice as long to decode and parse (performance.md, Round 23).
 */
function textOf(raw: RawBody): string {
  if (typeof raw === "string") return raw;
  return UTF8.decode(raw instanceof Uint8Array ? raw : inOneRun(raw).bytes);
}

/** The full parse, with the errors a caller sees for a body that is not a JSON object. */
export function parseJsonBody(raw: RawBody): Record<string, unknown> {
  const text = textOf(raw);
  if (text.trim() === "") throw invalidRequest("request body is empty; expected a JSON object");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalidRequest(`request body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalidRequest("request body must be a JSON object");
  return parsed as Record<string, unknown>;
}

/** One request's JSON body: top-level fields on demand, the whole of it only when asked. */
export class RequestBody {
  /** The scan, when it succeeded (a body it cannot handle is parsed whole at once instead). */
  readonly top: TopLevel | undefined;
  #parsed: Record<string, unknown> | undefined;

  /** @param whole parse it whole at once: every route will need it (the scan would be extra work) */
  constructor(
    readonly raw: RawBody,
    whole = false,
  ) {
    this.top = whole ? undefined : scanTopLevel(bytesOf(raw));
    if (!this.top) this.#parsed = parseJsonBody(raw); // throws the caller's 400
  }

  has(key: string): boolean {
    return this.#parsed ? key in this.#parsed : this.top!.values.has(key);
  }

  /** A top-level field's value (parsed alone when the body was only scanned). */
  get(key: string): unknown {
    if (this.#parsed) return this.#parsed[key];
    const { parts, values } = this.top!;
    const span = values.get(key);
    if (!span) return undefined;
    // In one buffer the span is read in place; across parts, its bytes alone are copied out.
    const single = parts.length === 1;
    const bytes = single ? parts[0]! : bytesAt(parts, span.start, span.end);
    const start = single ? span.start : 0;
    const end = single ? span.end : span.end - span.start;
    // The common cases without JSON.parse: a string without escapes, and true / false (checked by the scan).
    if (bytes[start] === QUOTE && !hasBackslash(bytes, start + 1, end - 1)) return bytes.toString("utf8", start + 1, end - 1);
    if (end - start === 4 && bytes[start] === 0x74) return true;
    if (end - start === 5 && bytes[start] === 0x66) return false;
    try {
      return JSON.parse(bytes.toString("utf8", start, end));
    } catch (error) {
      throw invalidRequest(`request body is not valid JSON: ${(error as Error).message} (in '${key}')`);
    }
  }

  /** The whole body, parsed on first use. */
  parsed(): Record<string, unknown> {
    this.#parsed ??= parseJsonBody(this.raw);
    return this.#parsed;
  }
}

/** How to change a body on its way upstream. */
export interface BodyEdit {
  /** Replaces the top-level `model` value (which must exist); undefined leaves it. */
  model?: string | undefined;
  /** Top-level fields to add; each must not exist yet. */
  add?: Record<string, unknown>;
}

/**
 * From this size a spliced body is sent as its parts (views of the caller's bytes) instead of one
 * joined copy: every large copy is new off-heap memory, and at a few hundred 100 KB requests a
 * second that is what makes V8 run its full collections many times a second (measured: 182 in
 * 9 s with the copy). Below it one buffer is cheaper to write than several.
 */
export const SPLICE_IN_PARTS_FROM = 16 * 1024;

/**
 * The scanned body with `edit` applied by splicing, the caller's other bytes untouched: one buffer,
 * or for a large body its parts in order (see SPLICE_IN_PARTS_FROM); undefined when the edit does
 * not fit its shape (no `model`, or a field to add is there already).
 */
export function spliceBody(top: TopLevel, edit: BodyEdit): Buffer | Buffer[] | undefined {
  const parts: Buffer[] = [];
  let from = 0;
  if (edit.model !== undefined) {
    const span = top.values.get("model");
    if (!span) return undefined;
    pushRange(parts, top.parts, 0, span.start);
    parts.push(Buffer.from(JSON.stringify(edit.model)));
    from = span.end;
  }
  const added = Object.entries(edit.add ?? {});
  if (added.some(([key]) => top.values.has(key))) return undefined;
  if (added.length > 0) {
    const fields = added.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(",");
    pushRange(parts, top.parts, from, top.close);
    parts.push(Buffer.from(`${top.values.size > 0 ? "," : ""}${fields}`));
    from = top.close;
  }
  if (parts.length === 0) return top.parts.length === 1 ? top.parts[0]! : [...top.parts];
  pushRange(parts, top.parts, from, Infinity);
  let size = 0;
  for (const part of top.parts) size += part.length;
  return size < SPLICE_IN_PARTS_FROM ? Buffer.concat(parts) : parts;
}
