/**
 * The fast path's stream: the upstream's SSE bytes go to the client as they came, usage and the
 * outcome decoded on the side (sniff.ts). Driven by the body's `data` events straight into the
 * client's socket (`pipeTo`), like a bare proxy's pipe: no async iterator and no promise per chunk.
 * Hosts that want an AsyncIterable (the Web `Response`, the tests) still get one.
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
import type { RouteTarget } from "./table.js";

type Chunk = string | Uint8Array;

/** Where `pipeTo` writes: a Node `ServerResponse` (or any writable) fits. */
export interface ChunkWriter {
  /** False: wait for `drain` before writing more. */
  write(chunk: Chunk): boolean;
  readonly destroyed: boolean;
  once(event: "drain" | "close", listener: () => void): unknown;
  off(event: "drain" | "close", listener: () => void): unknown;
}

/** A stream answer's body: iterable by anyone; `pipeTo`, when there, is the cheaper way to send it. */
export interface StreamBody extends AsyncIterable<Chunk> {
  /** Writes the whole stream to `out`; settles once it ended or `out` closed. Call it at most once, instead of iterating. */
  pipeTo?(out: ChunkWriter): Promise<void>;
}

export interface FastStreamOptions {
  protocol: Protocol;
  codec: Codec;
  target: RouteTarget;
  /** Drop the usage-only chunk the router asked for on the caller's behalf (OpenAI chat's include_usage). */
  hideUsageChunk: boolean;
  /** The request's signal: an abort is the deadline or the caller leaving. */
  signal: AbortSignal;
  callerLeft(): boolean;
  /** The request's arrival, for the first token's time. */
  startedAt: number;
  /** Reports the outcome (once). */
  complete(outcome: CompletionOutcome): void;
}

/**
 * Reads the upstream body until the first content event (or its end). Resolves with the stream to
 * answer, whose first chunk holds everything up to that event; rejects when the upstream failed
 * before it (the attempt fails over).
 */
export function openFastStream(body: ResponseBody, options: FastStreamOptions): Promise<StreamBody> {
  const pipe = new FastStreamPipe(body, new SniffedStream(options));
  return pipe.opened;
}

/**
 * The per-chunk work, with no I/O: what to send for each upstream chunk, and the outcome. Chunks of
 * whole events none of which metering reads go out as they came (no decoding, parsing or re-framing).
 */
class SniffedStream {
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

/**
 * The I/O around SniffedStream: one set of listeners on the upstream body for the stream's life.
 * Output goes to the consumer's writer (`pipeTo`), or into a queue for the async iterator (and while
 * nobody consumes yet, between the commit and the host taking the answer).
 */
class FastStreamPipe implements StreamBody {
  readonly opened: Promise<StreamBody>;
  #open!: { resolve(body: StreamBody): void; reject(error: unknown): void };
  readonly #body: ResponseBody;
  readonly #stream: SniffedStream;
  #queue: Chunk[] = [];
  /** The upstream ended or failed: everything left to send is in the queue (or written). */
  #ended = false;
  #finished = false;
  #out: ChunkWriter | undefined;
  #settle: (() => void) | undefined;
  /** The iterator's pending next(). */
  #waiting: ((result: IteratorResult<Chunk>) => void) | undefined;

  constructor(body: ResponseBody, stream: SniffedStream) {
    this.#body = body;
    this.#stream = stream;
    this.opened = new Promise((resolve, reject) => {
      this.#open = { resolve, reject };
    });
    body.on("data", this.#onData);
    body.once("end", this.#onEnd);
    body.on("error", this.#onError);
  }

  readonly #onData = (chunk: Uint8Array): void => {
    if (this.#ended) return;
    const committed = this.#stream.committed;
    let out: Chunk | undefined;
    try {
      out = this.#stream.push(chunk);
    } catch (error) {
      if (committed) return this.#end(this.#stream.failed(error));
      return this.#refuse(this.#stream.headFailure(error));
    }
    if (!committed) {
      if (!this.#stream.committed) return;
      // Held until the host takes the answer: nothing else is read meanwhile.
      this.#body.pause();
      this.#emit(out);
      this.#open.resolve(this);
      return;
    }
    this.#emit(out);
  };

  readonly #onEnd = (): void => {
    if (this.#ended) return;
    const committed = this.#stream.committed;
    let out: Chunk | undefined;
    try {
      out = this.#stream.end();
    } catch (error) {
      return committed ? this.#end(this.#stream.failed(error)) : this.#refuse(this.#stream.headFailure(error));
    }
    this.#end(out);
    if (!committed) this.#open.resolve(this);
  };

  readonly #onError = (error: Error): void => {
    if (this.#ended) return;
    if (this.#stream.committed) this.#end(this.#stream.failed(error));
    else this.#refuse(this.#stream.headFailure(error));
  };

  /** Failed before the commit: the attempt fails, the upstream connection is closed. */
  #refuse(error: unknown): void {
    this.#ended = true;
    this.#detach();
    if (!this.#body.destroyed) this.#body.destroy();
    this.#open.reject(error);
  }

  #end(last: Chunk | undefined): void {
    this.#ended = true;
    this.#emit(last);
    if (this.#out || this.#waiting) this.#finish();
  }

  #emit(chunk: Chunk | undefined): void {
    if (chunk === undefined || chunk.length === 0) return;
    if (this.#out) {
      if (!this.#out.write(chunk) && !this.#ended) {
        this.#body.pause();
        this.#out.once("drain", this.#onDrain);
      }
      return;
    }
    if (this.#waiting) {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting({ done: false, value: chunk });
      return;
    }
    this.#queue.push(chunk);
    this.#body.pause();
  }

  readonly #onDrain = (): void => {
    if (!this.#ended) this.#body.resume();
  };

  /** The stream is over (ended, or its consumer left): the upstream is closed and the outcome reported, once. */
  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#ended = true;
    this.#detach();
    // An early exit (the client left) closes the upstream connection: the provider stops generating.
    if (!this.#body.destroyed) this.#body.destroy();
    this.#stream.complete();
    this.#settle?.();
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.({ done: true, value: undefined });
  }

  #detach(): void {
    this.#body.off("data", this.#onData);
    this.#body.off("end", this.#onEnd);
    // An error after the end (a late socket error) must not be unhandled.
    this.#body.off("error", this.#onError);
    this.#body.on("error", ignore);
    if (this.#out) {
      this.#out.off("drain", this.#onDrain);
      this.#out.off("close", this.#onClose);
    }
  }

  readonly #onClose = (): void => this.#finish();

  pipeTo(out: ChunkWriter): Promise<void> {
    return new Promise((resolve) => {
      this.#settle = resolve;
      if (this.#finished) return resolve();
      this.#out = out;
      out.once("close", this.#onClose);
      for (const chunk of this.#queue.splice(0)) this.#emit(chunk);
      if (out.destroyed || this.#ended) return this.#finish();
      this.#body.resume();
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<Chunk> {
    return {
      next: () => {
        const chunk = this.#queue.shift();
        if (chunk !== undefined) return Promise.resolve({ done: false, value: chunk });
        if (this.#ended) {
          this.#finish();
          return Promise.resolve({ done: true, value: undefined });
        }
        return new Promise((resolve) => {
          this.#waiting = resolve;
          this.#body.resume();
        });
      },
      // The host stopped reading (even before the first chunk): the upstream is closed, the outcome recorded.
      return: () => {
        this.#finish();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}

function ignore(): void {}

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
