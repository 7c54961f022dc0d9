/**
 * The fast path's stream: the upstream's SSE bytes go to the client as they came, usage and the
 * outcome decoded on the side (sniff.ts); the stage of a stream pipe (stream-pipe.ts).
 *
 * Until the first content event every event is decoded and the bytes are held back: an upstream
 * that breaks, answers an error event, sends no event or malformed ones before it fails the attempt
 * (`openFastStream` rejects), so the router can fail over. After it, a failure ends the stream with
 * an error event in the caller's protocol.
 */
import { createParser } from "eventsource-parser";
import type { ErrorInfo, Protocol, StreamEvent, Usage } from "@bitrouter/core";
import { BitrouterError, toErrorInfo } from "@bitrouter/core";
import type { Codec, ResponseBody, StreamDecoder } from "@bitrouter/providers";
import { MAX_SSE_EVENT_SIZE, NO_EVENTS, PROTOCOL_DESCRIPTORS, encodeStreamError, upstreamFailure } from "@bitrouter/providers";
import { asBuffer } from "./body.js";
import type { CompletionOutcome } from "./lifecycle.js";
import { clientClosed, isContentEvent } from "./lifecycle.js";
import { carriesOutcome, endsEvent, mayCarryOutcome } from "./sniff.js";
import type { Chunk, StageOptions, StreamBody, StreamStage } from "./stream-pipe.js";
import { openStreamPipe } from "./stream-pipe.js";

export interface FastStreamOptions extends StageOptions {
  protocol: Protocol;
  codec: Codec;
  /** Drop the usage-only chunk the router asked for on the caller's behalf (OpenAI chat's include_usage). */
  hideUsageChunk: boolean;
  /** The request's arrival, for the first token's time. */
  startedAt: number;
}

/**
 * Reads the upstream body until the first content event (or its end). Resolves with the stream to
 * answer, whose first chunk holds everything up to that event; rejects when the upstream failed
 * before it (the attempt fails over).
 */
export function openFastStream(body: ResponseBody, options: FastStreamOptions): Promise<StreamBody> {
  return openStreamPipe(body, new SniffedStream(options));
}

/**
 * The per-chunk work, with no I/O: what to send for each upstream chunk, and the outcome. Chunks of
 * whole events none of which metering reads go out as they came (no decoding, parsing or re-framing).
 */
class SniffedStream implements StreamStage {
  committed = false;
  readonly #options: FastStreamOptions;
  readonly #decoder: StreamDecoder;
  /** Decodes every event until the first content event; undefined once the answer is committed. */
  #headDecoder: StreamDecoder | undefined;
  #headError: ErrorInfo | undefined;
  #received = 0;
  #overflow = false;
  #ttfb: number | undefined;
  #usage: Usage | undefined;
  #failure: ErrorInfo | undefined;
  #outcome: CompletionOutcome | undefined;
  #completed = false;
  /** With hideUsageChunk: the events of the current chunk that go on, re-framed (the usage chunk left out). */
  #pending: string[] = [];
  /** Whether an event of the current chunk was left out (else its bytes go on as they came). */
  #dropped = false;
  #held: Chunk[] = [];
  #atBoundary = true; // the parser (and the text decoder) hold no part of an event
  readonly #text = new TextDecoder();
  readonly #parser;

  constructor(options: FastStreamOptions) {
    this.#options = options;
    this.#decoder = options.codec.createStreamDecoder();
    this.#headDecoder = options.codec.createStreamDecoder();
    const protocol = options.protocol;
    const usageOnly = PROTOCOL_DESCRIPTORS[protocol].streamUsage?.isUsageOnly;
    this.#parser = createParser({
      maxBufferSize: MAX_SSE_EVENT_SIZE,
      onError: (error) => {
        if (error.type === "max-buffer-size-exceeded") this.#overflow = true;
      },
      onEvent: (message) => {
        this.#received++;
        const sse = message.event === undefined ? { data: message.data } : { event: message.event, data: message.data };
        if (this.#headDecoder && !this.#headError) {
          for (const event of this.#headDecoder.decode(sse)) {
            if (event.type === "error") this.#headError = event.error;
            else if (isContentEvent(event)) this.#headDecoder = undefined;
            if (this.#headError || !this.#headDecoder) break;
          }
        }
        if (message.data === "[DONE]") {
          if (options.hideUsageChunk) this.#pending.push("data: [DONE]\n\n");
          return;
        }
        if (carriesOutcome(protocol, message.event, message.data)) {
          try {
            this.#observe(this.#decoder.decode(sse));
          } catch {
            // metering is best effort; the bytes still reach the client
          }
        }
        if (!options.hideUsageChunk) return;
        if (usageOnly?.(message.data)) this.#dropped = true;
        else this.#pending.push(formatEvent(message.event, message.data));
      },
    });
  }

  #observe(events: StreamEvent[]): void {
    for (const event of events) {
      if (event.type === "usage") this.#usage = event.usage;
      else if (event.type === "finish" && event.usage) this.#usage = event.usage;
      else if (event.type === "error") this.#failure = event.error;
    }
  }

  #fail(message: string, info?: ErrorInfo): BitrouterError {
    return new BitrouterError({ ...(info ?? { kind: "upstream" as const, status: 502 }), message: `${this.#options.target.provider}: ${message}` });
  }

  #commit(): Chunk {
    this.committed = true;
    this.#ttfb = Date.now() - this.#options.startedAt; // from the request's arrival, as the caller sees it
    const out = joinChunks(this.#held);
    this.#held = [];
    return out;
  }

  /** One upstream chunk: what to send now (nothing while held). Throws before the commit when the upstream failed. */
  push(chunk: Uint8Array): Chunk | undefined {
    const bytes = asBuffer(chunk);
    const fromBoundary = this.#atBoundary;
    if (this.committed && fromBoundary && endsEvent(bytes) && !mayCarryOutcome(this.#options.protocol, bytes)) return bytes;
    this.#atBoundary = endsEvent(bytes);
    this.#parser.feed(this.#text.decode(bytes, { stream: true }));
    if (this.#overflow) throw this.#fail(`an SSE event exceeds ${MAX_SSE_EVENT_SIZE} characters`);
    if (this.#headError) throw this.#fail(this.#headError.message, this.#headError);
    let out: Chunk = bytes;
    if (this.#options.hideUsageChunk) {
      // The chunk's own bytes when they are whole events and none was left out; else its events re-framed.
      if (this.#dropped || !fromBoundary || !this.#atBoundary) out = this.#pending.join("");
      this.#pending = [];
      this.#dropped = false;
    }
    if (this.committed) return out.length > 0 ? out : undefined;
    if (out.length > 0) this.#held.push(out);
    return this.#headDecoder === undefined ? this.#commit() : undefined;
  }

  /** The upstream ended: what is left to send. Throws when it failed before the commit. */
  end(): Chunk | undefined {
    this.#parser.feed(`${this.#text.decode()}\n\n`); // a last event without its blank line still counts
    if (this.#headError) throw this.#fail(this.#headError.message, this.#headError);
    if (this.#received === 0) throw this.#fail(NO_EVENTS);
    try {
      this.#observe(this.#decoder.end());
    } catch {
      // metering is best effort
    }
    if (this.#options.hideUsageChunk && this.#pending.length > 0) this.#held.push(this.#pending.join(""));
    const out = this.committed ? (this.#held.length > 0 ? joinChunks(this.#held) : undefined) : this.#commit();
    this.#outcome = {
      status: 200,
      usage: this.#usage,
      target: this.#options.target,
      ttfbMs: this.#ttfb,
      ...(this.#failure ? { errorKind: this.#failure.kind } : {}),
    };
    return out;
  }

  /** The failure of an attempt that is not committed: errors of our own making pass as they are. */
  headFailure(error: unknown): unknown {
    return error instanceof BitrouterError ? error : upstreamFailure(error, this.#options.target.endpoint, this.#options.signal);
  }

  /** The upstream failed after the commit: the error event to end the stream with (none when the caller left). */
  failed(error: unknown): Chunk | undefined {
    const { target, signal } = this.#options;
    if (this.#options.callerLeft()) {
      this.#outcome = { ...clientClosed(), usage: this.#usage, target, ttfbMs: this.#ttfb };
      return undefined;
    }
    const info = toErrorInfo(error instanceof BitrouterError ? error : upstreamFailure(error, target.endpoint, signal, this.#received));
    this.#outcome = { status: 200, usage: this.#usage, target, ttfbMs: this.#ttfb, errorKind: info.kind };
    return encodeStreamError(this.#options.codec, info);
  }

  /** Reports the outcome once; a stream that stopped without one is a caller that went away. */
  complete(): void {
    if (this.#completed || !this.committed) return;
    this.#completed = true;
    this.#options.complete(this.#outcome ?? { ...clientClosed(), usage: this.#usage, target: this.#options.target, ttfbMs: this.#ttfb });
  }
}

function formatEvent(event: string | undefined, data: string): string {
  const lines = data
    .split("\n")
    .map((line) => `data: ${line}\n`)
    .join("");
  return `${event === undefined ? "" : `event: ${event}\n`}${lines}\n`;
}

function joinChunks(chunks: Chunk[]): Chunk {
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks.map((chunk) => (typeof chunk === "string" ? Buffer.from(chunk) : chunk)));
}
