/**
 * A stream answer driven by the upstream body's `data` events straight into the client's socket
 * (`pipeTo`), like a bare proxy's pipe: no async iterator and no promise per chunk. What each chunk
 * becomes is the stage's business: the fast path's bytes as they came (fast-stream.ts), or a
 * translated stream's events encoded for the caller (translated-stream.ts). Hosts that want an
 * AsyncIterable (the Web `Response`, the tests) still get one.
 */
import type { ResponseBody } from "@bitrouter/providers";
import type { CompletionOutcome } from "./lifecycle.js";
import type { RouteTarget } from "./table.js";

export type Chunk = string | Uint8Array;

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

/** What every stage is given by the attempt it serves. */
export interface StageOptions {
  target: RouteTarget;
  /** The request's signal: an abort is the deadline or the caller leaving. */
  signal: AbortSignal;
  callerLeft(): boolean;
  /** Reports the outcome (once). */
  complete(outcome: CompletionOutcome): void;
}

/**
 * What a stream pipe does with each upstream chunk, without I/O. Until `committed` the answer is
 * held: a throw then fails the attempt (`headFailure`; the router may fail over). After it, a
 * failure ends the stream with what `failed` returns.
 */
export interface StreamStage {
  readonly committed: boolean;
  /** The stage sent its last frame (an error event ended the stream): the pipe stops reading. */
  readonly ended?: boolean;
  /** One upstream chunk: what to send now (nothing while held). */
  push(chunk: Uint8Array): Chunk | undefined;
  /** The upstream ended: what is left to send. */
  end(): Chunk | undefined;
  /** The failure of an attempt that is not committed, as the router should see it. */
  headFailure(error: unknown): unknown;
  /** The upstream (or the stage) failed after the commit: the last frame to send, if any. */
  failed(error: unknown): Chunk | undefined;
  /** The stream is over: reports the outcome, once. */
  complete(): void;
}

/**
 * Reads the upstream body through `stage` until it commits (or the body ends). Resolves with the
 * stream to answer, whose first chunk holds everything up to then; rejects when the attempt failed
 * before it.
 */
export function openStreamPipe(body: ResponseBody, stage: StreamStage): Promise<StreamBody> {
  return new StreamPipe(body, stage).opened;
}

/**
 * The I/O around a stage: one set of listeners on the upstream body for the stream's life.
 * Output goes to the consumer's writer (`pipeTo`), or into a queue for the async iterator (and while
 * nobody consumes yet, between the commit and the host taking the answer).
 */
class StreamPipe implements StreamBody {
  readonly opened: Promise<StreamBody>;
  #open!: { resolve(body: StreamBody): void; reject(error: unknown): void };
  readonly #body: ResponseBody;
  readonly #stream: StreamStage;
  #queue: Chunk[] = [];
  /** The upstream ended or failed: everything left to send is in the queue (or written). */
  #ended = false;
  #finished = false;
  #out: ChunkWriter | undefined;
  #settle: (() => void) | undefined;
  /** The iterator's pending next(). */
  #waiting: ((result: IteratorResult<Chunk>) => void) | undefined;

  constructor(body: ResponseBody, stream: StreamStage) {
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
      if (this.#stream.ended) this.#end(undefined);
      this.#open.resolve(this);
      return;
    }
    this.#emit(out);
    if (this.#stream.ended) this.#end(undefined);
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
      // Encoded frames go to the socket as bytes: Node's chunked write of a string goes through
      // writev with its encoding name parsed per piece, dearer than one utf8 conversion here.
      if (!this.#out.write(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk) && !this.#ended) {
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
