/**
 * Server-sent events from a response body, parsed incrementally with eventsource-parser: events
 * split across network chunks, multi-byte characters split across chunks, CRLF / CR / LF line
 * endings and multi-line `data:` fields all come out whole.
 */
import { StringDecoder } from "node:string_decoder";
import { createParser, type ParseError } from "eventsource-parser";
import type { SseEvent } from "./codec.js";
import { BitrouterError } from "@bitrouter/core";

/** Bound on one buffered event (characters): a stream that never ends its event cannot eat memory. */
export const MAX_SSE_EVENT_SIZE = 16 * 1024 * 1024;

/** Anything that yields the bytes (or text) of a body: undici's body, a Node stream, a web stream. */
export type ByteSource = AsyncIterable<Uint8Array | string>;

/**
 * Yields each event of an SSE body as soon as its terminating blank line arrives. A final event
 * without the blank line is still delivered when the body ends (some upstreams omit it).
 * An event larger than `maxEventSize` characters throws. Aborting `signal` stops the iteration with
 * the signal's reason; breaking out of the loop (or an
 * abort) destroys the body when it can be destroyed, which releases the connection.
 */
export async function* sseEvents(body: ByteSource, signal?: AbortSignal, maxEventSize = MAX_SSE_EVENT_SIZE): AsyncGenerator<SseEvent> {
  const destroy = (): void => {
    const d = (body as { destroy?: (error?: Error) => void }).destroy;
    if (typeof d === "function") d.call(body);
  };
  const onAbort = (): void => destroy();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    signal?.throwIfAborted();
    const parser = new SseParser(maxEventSize);
    for await (const chunk of body) {
      yield* parser.feed(chunk);
      signal?.throwIfAborted();
    }
    yield* parser.end();
  } catch (error) {
    // An abort surfaces as the signal's reason, whatever error the destroyed body threw.
    signal?.throwIfAborted();
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    destroy();
  }
}

/** SSE parsing without I/O: each chunk of the body in, the events it completed out (synchronous). */
export class SseParser {
  #events: SseEvent[] = [];
  #overflow: ParseError | undefined;
  /** Node's decoder: a quarter of TextDecoder's cost per chunk; it keeps a character split across chunks for the next. */
  readonly #decoder = new StringDecoder("utf8");
  /** No character seen yet: a byte order mark there is not part of the text (TextDecoder's rule, and the SSE format's). */
  #atStart = true;
  readonly #parser;

  constructor(readonly maxEventSize = MAX_SSE_EVENT_SIZE) {
    this.#parser = createParser({
      maxBufferSize: maxEventSize,
      onEvent: (e) => {
        const event: SseEvent = { data: e.data };
        if (e.event !== undefined) event.event = e.event;
        this.#events.push(event);
      },
      // Other parse errors (an unknown field, a bad `retry`) are ignored, as the SSE format says.
      onError: (error) => {
        if (error.type === "max-buffer-size-exceeded") this.#overflow = error;
      },
    });
  }

  /** The events this chunk completed (often none). Throws once an event exceeds maxEventSize characters. */
  feed(chunk: Uint8Array | string): SseEvent[] {
    this.#parser.feed(this.#text(typeof chunk === "string" ? chunk : this.#decoder.write(chunk)));
    return this.#take();
  }

  /**
   * The body ended cleanly: a last event that lacks its blank line still counts (the WHATWG
   * event-stream format would drop it, but some upstreams omit it). A cut connection must not call
   * this, so no half event leaks.
   */
  end(): SseEvent[] {
    this.#parser.feed(`${this.#text(this.#decoder.end())}\n\n`);
    return this.#take();
  }

  #text(decoded: string): string {
    if (!this.#atStart || decoded === "") return decoded;
    this.#atStart = false;
    return decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded;
  }

  #take(): SseEvent[] {
    if (this.#overflow) {
      throw new BitrouterError({ kind: "upstream", message: `an SSE event exceeds ${this.maxEventSize} characters`, cause: this.#overflow });
    }
    if (this.#events.length === 0) return NONE;
    const events = this.#events;
    this.#events = [];
    return events;
  }
}

const NONE: SseEvent[] = [];
