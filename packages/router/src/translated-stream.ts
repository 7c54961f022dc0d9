/**
 * A translated stream pushed through a stream pipe (stream-pipe.ts): each upstream chunk is decoded
 * (EventStreamDecoder), held until the first content event and passed through the onStreamEvent
 * hooks (HeldEvents, shared with the lifecycle's pulled stream), encoded in the caller's protocol and
 * written, all in the body's `data` event: no async generator and no promise per chunk. The HTTP
 * pipeline takes it for a translated (or guarded) stream unless a hook has a beforeCommit, which
 * may wait: those streams take the lifecycle's pulled path.
 */
import type { CompletionOutcome, HeldEvents } from "./lifecycle.js";
import type { StreamEvent } from "@bitrouter/core";
import { BitrouterError, toErrorInfo } from "@bitrouter/core";
import type { ResponseBody, StreamEncoder, UpstreamCodec } from "@bitrouter/providers";
import { EventStreamDecoder, upstreamFailure } from "@bitrouter/providers";
import type { Chunk, StageOptions, StreamBody, StreamStage } from "./stream-pipe.js";
import { openStreamPipe } from "./stream-pipe.js";

export interface TranslatedStreamOptions extends StageOptions {
  /** The upstream's codec (its stream decoder). */
  codec: UpstreamCodec;
  /** The caller's protocol encoder for this request. */
  encoder: StreamEncoder;
  held: HeldEvents;
}

/** Reads the upstream body until the first content event; rejects when the attempt failed before it (see openStreamPipe). */
export function openTranslatedStream(body: ResponseBody, options: TranslatedStreamOptions): Promise<StreamBody> {
  return openStreamPipe(body, new TranslatedStream(options));
}

class TranslatedStream implements StreamStage {
  ended = false;
  readonly #options: TranslatedStreamOptions;
  readonly #decoder: EventStreamDecoder;
  #outcome: CompletionOutcome | undefined;
  #completed = false;
  /** Events decoded so far (a connection lost after some is a broken stream, not a failed connect). */
  #decoded = 0;

  constructor(options: TranslatedStreamOptions) {
    this.#options = options;
    this.#decoder = new EventStreamDecoder(options.codec);
  }

  get committed(): boolean {
    return this.#options.held.committed;
  }

  push(chunk: Uint8Array): Chunk | undefined {
    let events: StreamEvent[];
    try {
      events = this.#decoder.feed(chunk);
    } catch (error) {
      throw this.#unreadable(error);
    }
    return this.#take(events, false);
  }

  end(): Chunk | undefined {
    let events: StreamEvent[];
    try {
      events = this.#decoder.end();
    } catch (error) {
      throw this.#unreadable(error);
    }
    return this.#take(events, true);
  }

  /** What the codec cannot read (or a 2xx without a single event) is an unreadable upstream answer, as in the client's own streams. */
  #unreadable(error: unknown): unknown {
    return upstreamFailure(error, this.#options.target.endpoint, this.#options.signal, this.#decoded);
  }

  /** Events to frames. Before the commit a throw fails the attempt; after it a hook's throw ends the stream here. */
  #take(events: StreamEvent[], last: boolean): Chunk | undefined {
    const { held } = this.#options;
    this.#decoded += events.length;
    let from = 0;
    let observed: StreamEvent[] = [];
    try {
      if (!held.committed) {
        from = held.hold(events);
        if (from < 0 && !last) return undefined;
        observed = held.commit();
        if (from < 0) from = events.length;
      }
      const failed = held.pass(events, from, observed);
      let out = this.#encode(observed);
      if (failed || last) {
        this.#outcome = held.outcome();
        this.ended = failed;
        out += this.#options.encoder.end();
      }
      return out === "" ? undefined : out;
    } catch (error) {
      if (!held.committed) throw error;
      return this.#fail(toErrorInfo(error));
    }
  }

  #encode(events: StreamEvent[]): string {
    let text = "";
    for (const event of events) text += this.#options.encoder.encode(event);
    return text;
  }

  /** Errors of our own making (an error event before the commit, a decoded failure) pass as they are; the body's own are mapped. */
  #upstreamError(error: unknown): unknown {
    const { target, signal } = this.#options;
    return error instanceof BitrouterError ? error : upstreamFailure(error, target.endpoint, signal, this.#decoded);
  }

  headFailure(error: unknown): unknown {
    return this.#upstreamError(error);
  }

  failed(error: unknown): Chunk | undefined {
    if (this.#options.callerLeft()) {
      this.#outcome = this.#options.held.left();
      return undefined;
    }
    return this.#fail(toErrorInfo(this.#upstreamError(error)));
  }

  /** Ends the committed stream with an error event in the caller's protocol. */
  #fail(info: ReturnType<typeof toErrorInfo>): Chunk | undefined {
    this.#outcome = this.#options.held.outcome(info.kind);
    this.ended = true;
    const out = this.#encode([{ type: "error", error: info }]) + this.#options.encoder.end();
    return out === "" ? undefined : out;
  }

  complete(): void {
    if (this.#completed || !this.committed) return;
    this.#completed = true;
    this.#options.complete(this.#outcome ?? this.#options.held.left());
  }
}
