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
