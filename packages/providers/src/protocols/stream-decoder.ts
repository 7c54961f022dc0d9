/**
 * What every protocol's stream decoder shares: the canonical `start` event (once, before anything
 * else), the part index counter, the usage reported so far, and the end of the stream (a finish or
 * an error, after which upstream events are ignored).
 *
 * `created` (Unix seconds) is the upstream's own timestamp where its protocol sends one (OpenAI Chat
 * `created`, Responses `created_at`) and otherwise the time the stream started: Anthropic and Gemini
 * send none, nor do some OpenAI-compatible servers, and a stream that fails before its first event
 * has none either. Never 0, which clients would show as 1970.
 */
import type { ErrorInfo, StopReason, StreamEvent, Usage } from "@bitrouter/core";
import type { SseEvent, StreamDecoder } from "../codec.js";
import { nowSeconds, redactSecrets } from "./util.js";

/** How much of a malformed event its error message quotes. */
const SNIPPET_LENGTH = 100;

export abstract class BaseStreamDecoder implements StreamDecoder {
  /** Whether the `start` event went out. */
  protected started = false;
  /** Whether the stream ended (finish or error). */
  protected done = false;
  /** The canonical index the next new part gets. */
  protected nextIndex = 0;
  /** The usage the upstream reported so far. */
  protected usage: Usage | undefined;

  decode(event: SseEvent): StreamEvent[] {
    return this.done ? [] : this.decodeEvent(event);
  }

  end(): StreamEvent[] {
    return this.done ? [] : this.endOfStream();
  }

  /** Canonical events for one upstream event of a stream that has not ended. */
  protected abstract decodeEvent(event: SseEvent): StreamEvent[];

  /** Events owed when the upstream closes before the stream ended: an error, never a clean close. */
  protected endOfStream(): StreamEvent[] {
    return this.fail({ kind: "upstream", message: "stream ended early", status: 502 });
  }

  /** Pushes the `start` event unless it went out already; fields the upstream did not send stay empty. */
  protected start(out: StreamEvent[], fields: { id?: string | undefined; model?: string | undefined; created?: number | undefined } = {}): void {
    if (this.started) return;
    this.started = true;
    out.push({ type: "start", id: fields.id ?? "", model: fields.model ?? "", created: fields.created ?? nowSeconds() });
  }

  /** Ends the stream with an error (after a `start` if none went out). */
  protected fail(error: ErrorInfo): StreamEvent[] {
    const out: StreamEvent[] = [];
    this.start(out);
    this.done = true;
    out.push({ type: "error", error });
    return out;
  }

  /**
   * Ends the stream with the error for an event that is not JSON. The message quotes the event's
   * start, with anything that looks like a key masked: an upstream may echo the request's headers.
   */
  protected malformed(data: string): StreamEvent[] {
    // Redacted before it is cut (a key cut in half no longer looks like one), over a bounded prefix.
    const snippet = redactSecrets(data.slice(0, 4 * SNIPPET_LENGTH)).slice(0, SNIPPET_LENGTH);
    return this.fail({ kind: "upstream", message: `upstream sent a malformed stream event: ${snippet}`, status: 502 });
  }

  /** Ends the stream with a finish carrying the usage reported so far. */
  protected finish(stopReason: StopReason, stopSequence?: string): StreamEvent {
    this.done = true;
    const event: StreamEvent = { type: "finish", stopReason };
    if (stopSequence !== undefined) event.stopSequence = stopSequence;
    if (this.usage) event.usage = this.usage;
    return event;
  }
}

/**
 * Remembers the shape of a stream's text chunks, so that most of them are decoded without parsing.
 *
 * Upstreams send each token as the same JSON around a different string: the same id, model and
 * indices, only the text changes. Parsing every chunk whole is most of what decoding a stream
 * costs. So when a chunk decoded whole gave exactly one text delta, its bytes before and after
 * that text's string literal are kept, and a later chunk made of those same bytes around another
 * string literal is that text delta with the new text: its JSON is the same value but for one
 * string, and decoding the learned chunk again would change nothing in the decoder.
 *
 * What makes it sound:
 * - the literal taken for the text is checked once, before the first reuse, by parsing the learned
 *   bytes around a probe string and finding the probe where the decoder reads its text (and the
 *   learned literal equal to the delta's text: the delta came from that field alone);
 * - a later chunk matches only when what lies between the kept bytes is one whole JSON string
 *   token, so it parses to the learned value with another string in that place;
 * - any chunk decoded whole forgets the shape: the decoder's state is always the one the learned
 *   chunk left, so the delta's part index still holds.
 *
 * A decoder may use it only if a chunk that decodes to exactly one text delta leaves its state so
 * that decoding the chunk again gives the same delta (Chat and Anthropic: such a chunk opens no new
 * part). Responses and Gemini chunks change more than their text (sequence numbers, usage), so
 * those decoders do not use it.
 */
export class TextChunkShape {
  readonly #marker: string;
  readonly #textOf: TextOf;
  #prefix: string | undefined;
  #suffix = "";
  #event: string | undefined;
  #index = 0;
  /** The learned chunk's text and literal, for the check before the first reuse. */
  #text = "";
  #literal = "";
  #checked = false;
  /** Set when a check failed: this upstream's chunks are not what this expects; decode them whole. */
  #off = false;

  /**
   * @param key the field holding the text (its last occurrence in a chunk is taken)
   * @param textOf what the decoder takes for a text delta's text in a parsed chunk (undefined when
   *   the chunk is not a text delta for it): the probe must land there
   */
  constructor(key: string, textOf: TextOf) {
    this.#marker = `"${key}"`;
    this.#textOf = textOf;
  }

  /** The events of `data` when it is the learned chunk around another text; undefined when it must be decoded whole. */
  reuse(data: string, event: string | undefined): StreamEvent[] | undefined {
    const prefix = this.#prefix;
    if (prefix === undefined || event !== this.#event) return undefined;
    const end = data.length - this.#suffix.length;
    // Compared as slices: V8's startsWith is several times slower on some string representations.
    if (end < prefix.length + 2 || data.slice(0, prefix.length) !== prefix || data.slice(end) !== this.#suffix) return undefined;
    const text = stringToken(data, prefix.length, end);
    if (text === undefined || (!this.#checked && !this.#check())) return undefined;
    return text === "" ? [] : [{ type: "text_delta", index: this.#index, text }];
  }

  /** After a chunk decoded whole: learns its shape if it gave exactly one text delta, else forgets. */
  learn(data: string, event: string | undefined, events: StreamEvent[]): void {
    this.#prefix = undefined;
    const only = events.length === 1 ? events[0]! : undefined;
    if (this.#off || only?.type !== "text_delta") return;
    const literal = lastStringValue(data, this.#marker);
    if (literal === undefined) return;
    this.#prefix = data.slice(0, literal.start);
    this.#suffix = data.slice(literal.end);
    this.#literal = data.slice(literal.start, literal.end);
    this.#event = event;
    this.#index = only.index;
    this.#text = only.text;
    this.#checked = false;
  }

  #check(): boolean {
    const prefix = this.#prefix!;
    try {
      this.#checked =
        JSON.parse(this.#literal) === this.#text &&
        this.#text !== PROBE &&
        this.#textOf(JSON.parse(prefix + PROBE_LITERAL + this.#suffix), this.#event) === PROBE;
    } catch {
      this.#checked = false;
    }
    if (!this.#checked) {
      this.#off = true;
      this.#prefix = undefined;
    }
    return this.#checked;
  }
}

/** Reads a parsed chunk (and its SSE event name) the way the decoder does, down to a text delta's text. */
export type TextOf = (parsed: unknown, event: string | undefined) => unknown;

const PROBE = "\u0000bitrouter text probe\u0000";
const PROBE_LITERAL = JSON.stringify(PROBE);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
/** A string literal without escapes or control characters, from `lastIndex` on (sticky). */
const PLAIN_STRING = /"[^"\\\u0000-\u001f]*"/y;

/** The string whose literal is exactly `data[start, end)`, or undefined when that is not one whole JSON string token. */
function stringToken(data: string, start: number, end: number): string | undefined {
  if (data.charCodeAt(start) !== QUOTE || data.charCodeAt(end - 1) !== QUOTE) return undefined;
  PLAIN_STRING.lastIndex = start;
  if (PLAIN_STRING.test(data)) return PLAIN_STRING.lastIndex === end ? data.slice(start + 1, end - 1) : undefined;
  try {
    // Starts and ends with a quote: it parses only when it is a single string token.
    return JSON.parse(data.slice(start, end)) as string;
  } catch {
    return undefined;
  }
}

/** Where the string literal of the last `"key": "…"` in `data` lies, or undefined. */
function lastStringValue(data: string, marker: string): { start: number; end: number } | undefined {
  const at = data.lastIndexOf(marker);
  if (at < 0) return undefined;
  let i = skipSpace(data, at + marker.length);
  if (data.charCodeAt(i) !== COLON) return undefined;
  i = skipSpace(data, i + 1);
  if (data.charCodeAt(i) !== QUOTE) return undefined;
  const start = i;
  for (i++; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return { start, end: i + 1 };
  }
  return undefined;
}

function skipSpace(data: string, i: number): number {
  let c = data.charCodeAt(i);
  while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) c = data.charCodeAt(++i);
  return i;
}
