/**
 * Server-sent events from a response body, parsed incrementally with eventsource-parser: events
 * split across network chunks, multi-byte characters split across chunks, CRLF / CR / LF line
 * endings and multi-line `data:` fields all come out whole.
 */
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
  const queue: SseEvent[] = [];
  let overflow: ParseError | undefined;
  const parser = createParser({
    maxBufferSize: maxEventSize,
    onEvent: (e) => {
      const event: SseEvent = { data: e.data };
      if (e.event !== undefined) event.event = e.event;
      queue.push(event);
    },
    onError: (error) => {
      overflow = error;
    },
  });
  const checkOverflow = (): void => {
    if (overflow) throw new BitrouterError({ kind: "upstream", message: `an SSE event exceeds ${maxEventSize} characters`, cause: overflow });
  };
  const decoder = new TextDecoder();
  const destroy = (): void => {
    const d = (body as { destroy?: (error?: Error) => void }).destroy;
    if (typeof d === "function") d.call(body);
  };
  const onAbort = (): void => destroy();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    signal?.throwIfAborted();
    for await (const chunk of body) {
      parser.feed(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
      checkOverflow();
      while (queue.length > 0) yield queue.shift() as SseEvent;
      signal?.throwIfAborted();
    }
    // A clean end also ends a last event that lacks its blank line (the WHATWG event-stream format would drop it,
    // but some upstreams omit it). A cut connection throws above instead, so no half event leaks.
    parser.feed(`${decoder.decode()}\n\n`);
    while (queue.length > 0) yield queue.shift() as SseEvent;
  } catch (error) {
    // An abort surfaces as the signal's reason, whatever error the destroyed body threw.
    signal?.throwIfAborted();
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    destroy();
  }
}
