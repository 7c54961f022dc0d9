/**
 * The path of one request, top to bottom. Each step says what it adds to the request context.
 *
 *  1. parse      scan the JSON body; read `model` and `stream` (Gemini: from the URL)  -> ctx.model, ctx.stream
 *                (the whole body is parsed only where needed, e.g. the translated path; see body.ts)
 *  2. onRequest  hooks (auth, budgets)                                                -> ctx.principal
 *  3. resolve    the model to a route: dynamic | virtual | `provider:model_id`
 *  4. attempt    each endpoint in strategy order                                      -> ctx.target
 *       fast path   same protocol in and out, no content hooks: forward the caller's bytes with only
 *                   `model` spliced in and pipe the answer's bytes, decoding usage on the side
 *       translated  decode to canonical once, beforeDispatch hooks, send through the endpoint's codec,
 *                   onStreamEvent/onResponse hooks, encode back to the inbound protocol
 *     Both fit the request to the target model's catalog limits (limits.ts). A Responses request to an
 *     OpenAI provider that serves the Responses API goes to it (targetFor in table.ts).
 *     Fail over (next endpoint) on connection errors, timeouts, 408/409/429/5xx, and only before the
 *     first byte of an answer is committed to the client.
 *  5. answer     in the inbound protocol's shape, errors included
 *  6. onComplete hooks with usage, cost and timing (metering)
 */
import { createParser } from "eventsource-parser";
import type { CanonicalRequest, CompletionRecord, ErrorInfo, HostedTool, Protocol, RequestContext, RouterHook, StreamEvent, Usage } from "@bitrouter/core";
import { BitrouterError, invalidRequest, toErrorInfo } from "@bitrouter/core";
import type { CodecTable, ResponseBody, StreamDecoder } from "@bitrouter/providers";
import {
  MAX_SSE_EVENT_SIZE,
  NO_EVENTS,
  PROTOCOL_DESCRIPTORS,
  ProviderError,
  encodeStreamError,
  readAnswer,
  readErrorBody,
  upstreamErrorFrom,
  upstreamFailure,
} from "@bitrouter/providers";
import type { Balancer } from "./balancer.js";
import { featureHeaders } from "./http.js";
import { RequestBody, asBuffer, spliceBody } from "./body.js";
import { BODY_LIMIT_FIELDS, fitBody, fitRequest } from "./limits.js";
import { carriesOutcome, endsEvent, mayCarryOutcome } from "./sniff.js";
import type { ResolvedRoute, RouteResolver, RouteTarget } from "./table.js";
import { targetFor } from "./table.js";
import type { UpstreamClient } from "./upstream.js";
import { isRetryable } from "./upstream.js";

/** One inbound HTTP request, already split from its transport (Node or Web `Request`). */
export interface InboundRequest {
  protocol: Protocol;
  /** The raw request body. */
  body: string | Uint8Array;
  /** Gemini puts the model and the streaming choice in the URL. */
  pathModel?: string;
  pathStream?: boolean;
  headers: Headers;
  /** The caller's credential, from Authorization / x-api-key / x-goog-api-key. */
  credential?: string;
  requestId: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /**
   * The host already refused the request (a malformed URL, a cross-site request): it is answered
   * with this error in the caller's protocol, and recorded like any other request.
   */
  refusal?: ErrorInfo;
}

export type InboundResult =
  | { type: "json"; status: number; headers: Record<string, string>; body: string }
  | { type: "stream"; status: number; headers: Record<string, string>; body: AsyncIterable<string | Uint8Array> };

export interface PipelineDeps {
  resolver: RouteResolver;
  hooks: readonly RouterHook[];
  client: UpstreamClient;
  balancer: Balancer;
  /** The built-in codecs and the protocols provider packages registered (outbound only). */
  codecs: CodecTable;
  /** One overall deadline per request, shared by every failover attempt. */
  requestTimeoutMs: number;
  /** Per attempt: the longest wait for a stream's response head before failing over (within the deadline). */
  firstByteTimeoutMs: number;
  /** Largest non-stream upstream answer read, in bytes. */
  maxResponseBytes: number;
  /** Integer micro-USD for a target's usage, if its pricing is known. */
  cost(target: RouteTarget, usage: Usage): number | undefined;
}

const JSON_HEADERS = { "content-type": "application/json" } as const;
const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" } as const;

export function newContext(inbound: InboundRequest): RequestContext {
  return {
    requestId: inbound.requestId,
    inboundProtocol: inbound.protocol,
    startedAt: Date.now(),
    model: "",
    stream: false,
    ...(inbound.credential === undefined ? {} : { credential: inbound.credential }),
    headers: inbound.headers,
    counters: {},
    state: new Map(),
  };
}

/** Handles one inbound request end to end. Never throws: failures become protocol-shaped answers. */
export async function handleInbound(deps: PipelineDeps, inbound: InboundRequest, ctx = newContext(inbound)): Promise<InboundResult> {
  const codec = deps.codecs[inbound.protocol];
  const run = new Run(deps, inbound, ctx);
  try {
    if (inbound.refusal) throw inbound.refusal;
    // 1. parse
    const body = new RequestBody(inbound.body);
    ctx.model = readModel(inbound, body.get("model"));
    ctx.stream = inbound.protocol === "google" ? inbound.pathStream === true : body.get("stream") === true;
    // 2. onRequest hooks
    for (const hook of deps.hooks) await hook.onRequest?.(ctx);
    // 3. resolve
    const route = deps.resolver.resolve(ctx.model);
    run.route = route;
    // 4. attempts
    const result = await run.attempt(body);
    if (ctx.responseHeaders) result.headers = { ...result.headers, ...ctx.responseHeaders };
    return result;
  } catch (error) {
    // 5. answer errors in the inbound protocol's shape
    const info = inbound.signal.aborted ? abortedError().toInfo() : isStackOverflow(error) ? tooDeep : toErrorInfo(error);
    run.complete({ status: info.status, errorKind: info.kind });
    const { status, body } = codec.encodeError(info);
    const headers: Record<string, string> = { ...JSON_HEADERS, ...ctx.responseHeaders, ...errorHeaders(error) };
    // An upstream's Retry-After (429/503) tells the caller's SDK when to come back.
    const retryAfterMs = error instanceof BitrouterError ? error.retryAfterMs : undefined;
    if (retryAfterMs !== undefined) headers["retry-after"] = String(Math.ceil(retryAfterMs / 1000));
    return { type: "json", status, headers, body: JSON.stringify(body) };
  }
}

/** Headers a hook's error asks for on the answer (e.g. `WWW-Authenticate` on a 401 or 402). */
function errorHeaders(error: unknown): Record<string, string> {
  const headers = error && typeof error === "object" ? (error as { headers?: unknown }).headers : undefined;
  if (!headers || typeof headers !== "object") return {};
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

/** State of one request across its attempts. */
class Run {
  route: ResolvedRoute | undefined;
  attempts = 0;
  #completed = false;
  #canonical: CanonicalRequest | undefined;
  readonly #deadline: Deadline;
  readonly #needsContent: boolean;
  /** The caller's protocol feature headers (betas, API version), for upstreams of the same protocol. */
  readonly #featureHeaders: Record<string, string> | undefined;

  constructor(
    readonly deps: PipelineDeps,
    readonly inbound: InboundRequest,
    readonly ctx: RequestContext,
  ) {
    this.#deadline = new Deadline(deps.requestTimeoutMs, inbound.signal);
    this.#needsContent = deps.hooks.some((h) => h.inspectsContent || h.beforeDispatch || h.onStreamEvent || h.onResponse || h.beforeCommit);
    this.#featureHeaders = featureHeaders(inbound.protocol, inbound.headers);
  }

  async attempt(body: RequestBody): Promise<InboundResult> {
    // The deadline's signal: once the request's time is up (or the caller left), no endpoint is tried next.
    return withFailover(this.deps, this.route!, this.ctx, this.#deadline.signal, (routeTarget) => {
      this.attempts += 1;
      const target = targetFor(routeTarget, this.inbound.protocol);
      const fast = !this.#needsContent && target.endpoint.protocol === this.inbound.protocol;
      return fast ? this.#fastPath(target, body) : this.#translated(target, body);
    });
  }

  // ── Fast path: same protocol in and out ────────────────────────────────────────────────────
  async #fastPath(target: RouteTarget, body: RequestBody): Promise<InboundResult> {
    const protocol = this.inbound.protocol;
    const codec = this.deps.codecs[protocol];
    const endpoint = target.endpoint;
    // Fields the router adds to the caller's body.
    const add: Record<string, unknown> = {};
    // Metering needs usage on OpenAI chat streams; ask for it and hide it from callers who did not.
    let hideUsageChunk = false;
    if (protocol === "openai-chat" && this.ctx.stream) {
      const options = body.get("stream_options") as { include_usage?: unknown } | undefined;
      if (options?.include_usage !== true) {
        hideUsageChunk = true;
        add.stream_options = { ...(options ?? {}), include_usage: true };
      }
    }
    if (protocol === "anthropic" && !body.has("max_tokens") && target.maxOutputTokens !== undefined) {
      add.max_tokens = target.maxOutputTokens;
    }
    const upstream = fastPathBody(protocol, body, target, add);
    this.#adjusted(upstream.changes);
    const signal = this.#deadline.signal;
    const response = await this.deps.client.request({
      endpoint,
      path: PROTOCOL_DESCRIPTORS[protocol].passthroughPath(target.modelId, this.ctx.stream),
      body: upstream.bytes,
      signal,
      ...this.#attemptLimits(),
      ...(this.#featureHeaders === undefined ? {} : { headers: this.#featureHeaders }),
    });
    if (response.status < 200 || response.status >= 300) {
      const read = await readErrorBody(response);
      // An upstream may echo our key back in its error; it must never reach the caller.
      const text = scrubKey(read.text, endpoint.apiKey);
      const error = upstreamErrorFrom(codec, endpoint, response, { text, truncated: read.truncated });
      // Retryable statuses fail over; 401/403 become provider_auth_failed (see withFailover).
      if (error.retryable || response.status === 401 || response.status === 403) throw error;
      this.complete({ status: response.status, errorKind: error.kind });
      // Same protocol: the upstream's own error body is already in the caller's shape, unless it was cut or is not JSON.
      if (!read.truncated && isJson(text)) return { type: "json", status: response.status, headers: { ...JSON_HEADERS }, body: text };
      const encoded = codec.encodeError(error.toInfo());
      return { type: "json", status: encoded.status, headers: { ...JSON_HEADERS }, body: JSON.stringify(encoded.body) };
    }
    if (!this.ctx.stream) {
      let text: string;
      let usage: Usage;
      try {
        text = await readAnswer(response, endpoint, this.deps.maxResponseBytes);
        usage = codec.decodeResponse(parseAnswer(text)).usage;
      } catch (error) {
        if (!response.body.destroyed) response.body.destroy();
        // Same rules as the translated path: a 2xx we cannot read is a retryable upstream failure.
        throw upstreamFailure(error, endpoint, signal);
      }
      this.complete({ status: response.status, usage, target });
      return { type: "json", status: response.status, headers: { ...JSON_HEADERS }, body: text };
    }
    const piped = this.#pipe(target, response.body, hideUsageChunk);
    // Runs until the first content event: a failure before it still fails over.
    const head = await piped.next();
    return { type: "stream", status: 200, headers: { ...SSE_HEADERS }, body: resumed(head, piped) };
  }

  /**
   * Pipes upstream SSE bytes to the client, decoding usage on the side. The bytes are held back until
   * the first content event (every event until then is decoded): an upstream that breaks, answers
   * an error event, sends no event or malformed ones before it throws, and the attempt fails over.
   */
  async *#pipe(target: RouteTarget, body: ResponseBody, hideUsageChunk: boolean): AsyncGenerator<string | Uint8Array> {
    const protocol = this.inbound.protocol;
    const codec = this.deps.codecs[protocol];
    const decoder = codec.createStreamDecoder();
    // Decodes every event until the first content event; undefined once the answer is committed.
    let headDecoder: StreamDecoder | undefined = codec.createStreamDecoder();
    let headError: ErrorInfo | undefined;
    let received = 0;
    let overflow = false;
    let ttfb: number | undefined;
    let usage: Usage | undefined;
    let failure: ErrorInfo | undefined;
    let pending: string[] = [];
    const observe = (events: StreamEvent[]) => {
      for (const event of events) {
        if (event.type === "usage") usage = event.usage;
        else if (event.type === "finish" && event.usage) usage = event.usage;
        else if (event.type === "error") failure = event.error;
      }
    };
    const parser = createParser({
      maxBufferSize: MAX_SSE_EVENT_SIZE,
      onError: (error) => {
        if (error.type === "max-buffer-size-exceeded") overflow = true;
      },
      onEvent: (message) => {
        received++;
        const sse = message.event === undefined ? { data: message.data } : { event: message.event, data: message.data };
        if (headDecoder && !headError) {
          for (const event of headDecoder.decode(sse)) {
            if (event.type === "error") headError = event.error;
            else if (isContentEvent(event)) headDecoder = undefined;
            if (headError || !headDecoder) break;
          }
        }
        if (message.data === "[DONE]") {
          if (hideUsageChunk) pending.push("data: [DONE]\n\n");
          return;
        }
        if (carriesOutcome(protocol, message.event, message.data)) {
          try {
            observe(decoder.decode(sse));
          } catch {
            // metering is best effort; the bytes still reach the client
          }
        }
        if (hideUsageChunk && !isUsageOnlyChunk(message.data)) pending.push(formatEvent(message.event, message.data));
      },
    });
    const fail = (message: string, info?: ErrorInfo) =>
      new BitrouterError({ ...(info ?? { kind: "upstream" as const, status: 502 }), message: `${target.provider}: ${message}` });
    const text = new TextDecoder();
    let held: Array<string | Uint8Array> = [];
    let committed = false;
    let outcome: Outcome | undefined;
    const commit = (): string | Uint8Array => {
      committed = true;
      ttfb = Date.now() - this.ctx.startedAt; // from the request's arrival, as the caller sees it
      const out = joinChunks(held);
      held = [];
      return out;
    };
    let atBoundary = true; // the parser (and the text decoder) hold no part of an event
    try {
      for await (const chunk of body) {
        const bytes = asBuffer(chunk as Uint8Array);
        // Once committed, a chunk of whole events none of which metering reads (sniff.ts) goes to the
        // client as it came: no decoding, no SSE parsing, no re-framing. Until then every event is decoded.
        if (committed && atBoundary && endsEvent(bytes) && !mayCarryOutcome(protocol, bytes)) {
          yield bytes;
          continue;
        }
        atBoundary = endsEvent(bytes);
        parser.feed(text.decode(bytes, { stream: true }));
        if (overflow) throw fail(`an SSE event exceeds ${MAX_SSE_EVENT_SIZE} characters`);
        if (headError) throw fail(headError.message, headError);
        let out: string | Uint8Array = chunk as Uint8Array;
        if (hideUsageChunk) {
          out = pending.join("");
          pending = [];
        }
        if (committed) {
          if (out.length > 0) yield out;
        } else {
          if (out.length > 0) held.push(out);
          if (headDecoder === undefined) yield commit();
        }
      }
      parser.feed(`${text.decode()}\n\n`); // a last event without its blank line still counts
      if (headError) throw fail(headError.message, headError);
      if (received === 0) throw fail(NO_EVENTS);
      try {
        observe(decoder.end());
      } catch {
        // ignore: see above
      }
      if (hideUsageChunk && pending.length > 0) held.push(pending.join(""));
      if (!committed) yield commit();
      else if (held.length > 0) yield joinChunks(held);
      outcome = { status: 200, usage, target, ttfbMs: ttfb, ...(failure ? { errorKind: failure.kind } : {}) };
    } catch (error) {
      // Before the first byte: the attempt fails (and may fail over); errors of our own making pass as they are.
      if (!committed) throw error instanceof BitrouterError ? error : upstreamFailure(error, target.endpoint, this.#deadline.signal);
      if (this.inbound.signal.aborted) {
        outcome = { ...clientClosed(), usage, target, ttfbMs: ttfb };
      } else {
        const info = toErrorInfo(error instanceof BitrouterError ? error : upstreamFailure(error, target.endpoint, this.#deadline.signal, received));
        outcome = { status: 200, usage, target, ttfbMs: ttfb, errorKind: info.kind };
        yield encodeStreamError(codec, info);
      }
    } finally {
      // An early exit (the client left) closes the upstream connection: the provider stops generating.
      if (!body.destroyed) body.destroy();
      if (committed) this.complete(outcome ?? { ...clientClosed(), usage, target, ttfbMs: ttfb });
    }
  }

  // ── Translated path ────────────────────────────────────────────────────────────────────────
  async #translated(target: RouteTarget, body: RequestBody): Promise<InboundResult> {
    const inboundCodec = this.deps.codecs[this.inbound.protocol];
    const upstreamCodec = this.deps.codecs[target.endpoint.protocol];
    const fitted = fitRequest(await this.#canonicalRequest(body.parsed()), target);
    this.#adjusted(fitted.changes);
    const request = fitted.value;
    if (request.hostedTools && target.endpoint.protocol !== "openai-responses") throw hostedToolRefused(request.hostedTools[0]!, target, this.route!.name);
    const sameProtocol = target.endpoint.protocol === this.inbound.protocol;
    const options = {
      model: target.modelId,
      ...(target.maxOutputTokens === undefined ? {} : { defaultMaxTokens: target.maxOutputTokens }),
      ...(target.maxTokensField === undefined ? {} : { maxTokensField: target.maxTokensField }),
      signal: this.#deadline.signal,
      maxResponseBytes: this.deps.maxResponseBytes,
      ...this.#attemptLimits(),
      ...(sameProtocol && this.#featureHeaders !== undefined ? { headers: this.#featureHeaders } : {}),
    };
    if (!this.ctx.stream) {
      let response = await this.deps.client.send(upstreamCodec, target.endpoint, request, options);
      for (const hook of this.deps.hooks) response = (await hook.onResponse?.(this.ctx, response)) ?? response;
      await beforeCommit(this.deps.hooks, this.ctx);
      const encoded = inboundCodec.encodeResponse(response, request);
      this.complete({ status: 200, usage: response.usage, target });
      return { type: "json", status: 200, headers: { ...JSON_HEADERS }, body: JSON.stringify(encoded) };
    }
    const events = (await this.deps.client.stream(upstreamCodec, target.endpoint, request, options))[Symbol.asyncIterator]();
    const encoded = this.#encodeStream(target, request, events);
    // Runs until the first content event: an error before it can still fail over.
    const head = await encoded.next();
    return { type: "stream", status: 200, headers: { ...SSE_HEADERS }, body: resumed(head, encoded) };
  }

  /** Encodes upstream events for the caller, holding them back until the first content event. */
  async *#encodeStream(target: RouteTarget, request: CanonicalRequest, events: AsyncIterator<StreamEvent>): AsyncGenerator<string> {
    const encoder = this.deps.codecs[this.inbound.protocol].createStreamEncoder(request);
    const hooks = this.deps.hooks.filter((h) => h.onStreamEvent);
    let ttfb: number | undefined;
    let usage: Usage | undefined;
    let errorKind: ErrorInfo["kind"] | undefined;
    const encode = (event: StreamEvent): string => {
      const out = hooks.length === 0 ? [event] : applyStreamHooks(hooks, this.ctx, event);
      let text = "";
      for (const e of out) {
        if (e.type === "usage") usage = e.usage;
        else if (e.type === "finish" && e.usage) usage = e.usage;
        else if (e.type === "error") errorKind = e.error.kind;
        text += encoder.encode(e);
      }
      if (text) ttfb ??= Date.now() - this.ctx.startedAt; // from the request's arrival, as the caller sees it
      return text;
    };
    const head: StreamEvent[] = [];
    let committed = false;
    let outcome: Outcome | undefined;
    const commit = (): string => {
      committed = true;
      return head.map(encode).join("");
    };
    try {
      for (;;) {
        const next = await events.next();
        if (next.done) break;
        if (!committed) {
          if (next.value.type === "error") throw new BitrouterError({ ...next.value.error, message: `${target.provider}: ${next.value.error.message}` });
          head.push(next.value);
          if (!isContentEvent(next.value)) continue;
          await beforeCommit(this.deps.hooks, this.ctx);
          const text = commit();
          if (text) yield text;
          continue;
        }
        const text = encode(next.value);
        if (text) yield text;
        if (next.value.type === "error") break;
      }
      if (!committed) await beforeCommit(this.deps.hooks, this.ctx);
      const tail = (committed ? "" : commit()) + encoder.end();
      if (tail) ttfb ??= Date.now() - this.ctx.startedAt;
      outcome = { status: 200, usage, target, ttfbMs: ttfb, ...(errorKind ? { errorKind } : {}) };
      yield tail;
    } catch (error) {
      if (!committed) throw error;
      if (this.inbound.signal.aborted) {
        outcome = { ...clientClosed(), usage, target, ttfbMs: ttfb };
      } else {
        const info = toErrorInfo(error);
        outcome = { status: 200, usage, target, ttfbMs: ttfb, errorKind: info.kind };
        yield encoder.encode({ type: "error", error: info }) + encoder.end();
      }
    } finally {
      await events.return?.();
      if (committed) this.complete(outcome ?? { ...clientClosed(), usage, target, ttfbMs: ttfb });
    }
  }

  /** Per-attempt limits: a stream's response head must come within first_byte_timeout (a non-stream head comes with the whole answer). */
  #attemptLimits(): { timeoutMs?: number } {
    return this.ctx.stream ? { timeoutMs: this.deps.firstByteTimeoutMs } : {};
  }

  /** Decodes the inbound body once; beforeDispatch hooks run per attempt (they may depend on ctx.target). */
  async #canonicalRequest(body: Record<string, unknown>): Promise<CanonicalRequest> {
    this.#canonical ??= this.deps.codecs[this.inbound.protocol].decodeRequest(body, { model: this.ctx.model, stream: this.ctx.stream });
    let request = this.#canonical;
    for (const hook of this.deps.hooks) request = (await hook.beforeDispatch?.(this.ctx, request)) ?? request;
    return request;
  }

  /** Records what was changed to fit the target model (the last attempt's changes win). */
  #adjusted(changes: string[]): void {
    if (changes.length > 0) this.ctx.adjusted = changes;
    else delete this.ctx.adjusted;
  }

  /** Reports the outcome to onComplete hooks, once. */
  complete(outcome: Outcome): void {
    if (this.#completed) return;
    this.#completed = true;
    this.#deadline.clear();
    reportCompletion(this.deps, this.ctx, this.route?.name ?? this.ctx.model, this.attempts, outcome);
  }
}

export interface Outcome {
  status: number;
  errorKind?: ErrorInfo["kind"];
  usage?: Usage | undefined;
  target?: RouteTarget;
  ttfbMs?: number | undefined;
}

/** Runs each hook's beforeCommit, in order: the answer is ready and not yet sent. */
export async function beforeCommit(hooks: readonly RouterHook[], ctx: RequestContext): Promise<void> {
  for (const hook of hooks) await hook.beforeCommit?.(ctx);
}

/** Runs each hook's onStreamEvent over one event; hooks may drop, replace or split it. */
export function applyStreamHooks(hooks: readonly RouterHook[], ctx: RequestContext, event: StreamEvent): StreamEvent[] {
  let events: StreamEvent[] = [event];
  for (const hook of hooks) {
    if (!hook.onStreamEvent) continue;
    const next: StreamEvent[] = [];
    for (const e of events) {
      const out = hook.onStreamEvent(ctx, e);
      if (out === null) continue;
      if (out === undefined) next.push(e);
      else if (Array.isArray(out)) next.push(...out);
      else next.push(out);
    }
    events = next;
  }
  return events;
}

/** Builds the completion record (usage, cost, timing) and hands it to every onComplete hook. */
export function reportCompletion(deps: Pick<PipelineDeps, "hooks" | "cost">, ctx: RequestContext, route: string, attempts: number, outcome: Outcome): void {
  const record: CompletionRecord = {
    requestId: ctx.requestId,
    inboundProtocol: ctx.inboundProtocol,
    model: ctx.model,
    route,
    stream: ctx.stream,
    status: outcome.status,
    startedAt: ctx.startedAt,
    latencyMs: Date.now() - ctx.startedAt,
    attempts,
    counters: ctx.counters,
  };
  if (ctx.target) {
    record.provider = ctx.target.provider;
    record.modelId = ctx.target.modelId;
  }
  if (outcome.errorKind) record.errorKind = outcome.errorKind;
  if (outcome.ttfbMs !== undefined) record.ttfbMs = outcome.ttfbMs;
  if (outcome.usage) {
    record.usage = outcome.usage;
    if (outcome.target) {
      const cost = deps.cost(outcome.target, outcome.usage);
      if (cost !== undefined) record.costMicroUsd = cost;
    }
  }
  if (ctx.principal) record.principal = ctx.principal;
  if (ctx.adjusted) record.adjusted = ctx.adjusted;
  for (const hook of deps.hooks) {
    try {
      hook.onComplete?.(record, ctx);
    } catch {
      // onComplete must not throw; a faulty hook must not break the answer
    }
  }
}

/**
 * One request's overall deadline, shared by every attempt: a single AbortController fired by the
 * caller going away or by a timer, released when the request completes. (Cheaper than combining
 * AbortSignal.timeout with AbortSignal.any per request, which Node tracks for the GC.)
 */
export class Deadline {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #caller: AbortSignal | undefined;
  readonly #onCallerAbort = () => this.#controller.abort(this.#caller?.reason);

  constructor(ms: number, caller?: AbortSignal) {
    this.#caller = caller;
    this.#timer = setTimeout(() => this.#controller.abort(new DOMException(`no answer within ${ms} ms`, "TimeoutError")), ms);
    this.#timer.unref();
    if (caller?.aborted) this.#controller.abort(caller.reason);
    else caller?.addEventListener("abort", this.#onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#caller?.removeEventListener("abort", this.#onCallerAbort);
  }
}

/**
 * Tries a route's targets in strategy order until one answers. Moves on only for retryable
 * failures (see isRetryable) and never once the caller has gone away.
 */
export async function withFailover<T>(
  deps: Pick<PipelineDeps, "balancer">,
  route: ResolvedRoute,
  ctx: RequestContext,
  signal: AbortSignal,
  attempt: (target: RouteTarget) => Promise<T>,
): Promise<T> {
  const order = deps.balancer.order(route.name, route.strategy, route.targets.length, (i) => targetKey(route.targets[i]!));
  let lastError: unknown;
  let tried = 0;
  for (const index of order) {
    const target = route.targets[index]!;
    ctx.target = { route: route.name, provider: target.provider, modelId: target.modelId, endpointIndex: index };
    tried += 1;
    try {
      const result = await attempt(target);
      deps.balancer.markSuccess(targetKey(target));
      return result;
    } catch (caught) {
      const error =
        caught instanceof ProviderError && (caught.upstreamStatus === 401 || caught.upstreamStatus === 403)
          ? providerAuthFailed(target, caught.upstreamStatus, caught.message)
          : caught;
      lastError = error;
      if (signal.aborted || !isRetryable(error)) throw error;
      deps.balancer.markFailure(targetKey(target));
    }
  }
  throw failoverExhausted(lastError, tried);
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

/**
 * JSON.parse accepts any depth, but the codecs and JSON.stringify recurse: a body nested thousands
 * deep overflows the stack there. That is the caller's malformed input, not a server fault.
 */
function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && error.message.includes("call stack");
}

const tooDeep: ErrorInfo = { kind: "invalid_request", status: 400, message: "request body is nested too deeply to process" };

/**
 * The fast path's upstream body: the caller's bytes with `model` replaced (not for Gemini, whose
 * model is in the URL) and `add` appended, spliced in place (see body.ts). Re-serialised from the
 * parsed body only when splicing cannot apply: a field to fit to the model's limits (limits.ts),
 * a field to add that is there already (`stream_options` without include_usage, merged), or a body
 * the scan did not take.
 */
function fastPathBody(
  protocol: Protocol,
  body: RequestBody,
  target: RouteTarget,
  add: Record<string, unknown>,
): { bytes: string | Uint8Array; changes: string[] } {
  const model = protocol === "google" ? undefined : target.modelId;
  if (body.top && !needsFitting(protocol, body, target)) {
    const spliced = spliceBody(body.top, { ...(model === undefined ? {} : { model }), add });
    if (spliced) return { bytes: spliced, changes: [] };
  }
  const whole: Record<string, unknown> = { ...body.parsed(), ...(model === undefined ? {} : { model }) };
  const changes = fitBody(protocol, whole, target);
  return { bytes: JSON.stringify({ ...whole, ...add }), changes };
}

/** Whether fitBody would change the body: tried on its limit fields alone, each parsed alone. */
function needsFitting(protocol: Protocol, body: RequestBody, target: RouteTarget): boolean {
  const fields: Record<string, unknown> = {};
  for (const field of BODY_LIMIT_FIELDS[protocol]) if (body.has(field)) fields[field] = body.get(field);
  return fitBody(protocol, fields, target).length > 0;
}

/** The request's model: `model` from the body, or for Gemini from the URL. */
export function readModel(inbound: InboundRequest, model: unknown): string {
  if (inbound.protocol === "google") {
    if (!inbound.pathModel) throw invalidRequest("missing model in the URL path (models/{model}:generateContent)", "model");
    return inbound.pathModel;
  }
  if (model === undefined) throw invalidRequest("missing required field 'model'", "model");
  if (typeof model !== "string" || model.trim() === "") throw invalidRequest("'model' must be a non-empty string", "model");
  return model;
}

function targetKey(target: RouteTarget): string {
  return `${target.provider}\u0000${target.modelId}\u0000${target.endpoint.apiBase}\u0000${target.keyId ?? ""}`;
}

export function scrubKey(text: string, key: string | undefined): string {
  return key && key.length >= 6 ? text.replaceAll(key, "[redacted]") : text;
}

function isUsageOnlyChunk(data: string): boolean {
  if (!data.includes('"usage"')) return false;
  try {
    const chunk = JSON.parse(data) as { choices?: unknown[]; usage?: unknown };
    return Array.isArray(chunk.choices) && chunk.choices.length === 0 && chunk.usage != null;
  } catch {
    return false;
  }
}

function formatEvent(event: string | undefined, data: string): string {
  const lines = data
    .split("\n")
    .map((line) => `data: ${line}\n`)
    .join("");
  return `${event === undefined ? "" : `event: ${event}\n`}${lines}\n`;
}

/**
 * The provider refused BitRouter's own key: the caller's credentials are fine, so answer 502 (not the
 * upstream's 401, which SDKs read as "your API key is wrong"), and let failover try another endpoint.
 */
export function providerAuthFailed(target: RouteTarget, status: number, detail: string): BitrouterError & { retryable: true } {
  const error = new BitrouterError({
    kind: "upstream",
    status: 502,
    code: "provider_auth_failed",
    message: `provider '${target.provider}' rejected its configured API key (HTTP ${status}): ${detail}`,
  }) as BitrouterError & { retryable: true };
  (error as { retryable: boolean }).retryable = true;
  return error;
}

/** A hosted OpenAI tool (web_search, …) on a route to a provider that cannot run it: the route's limit, said so. */
function hostedToolRefused(hosted: HostedTool, target: RouteTarget, route: string): BitrouterError {
  const type = String(hosted.tool.type);
  return new BitrouterError({
    kind: "invalid_request",
    status: 400,
    code: "unsupported_tool",
    param: hosted.param,
    message: `${hosted.param}: "${type}" is a hosted tool that only OpenAI's Responses API runs, and route '${route}' sends this request to provider '${target.provider}' (${target.endpoint.protocol}), which has no equivalent; remove the tool or route the model to an OpenAI provider`,
  });
}

function abortedError(): BitrouterError {
  return new BitrouterError({ kind: "invalid_request", status: 499, message: "client closed the request", code: "client_closed" });
}

/** The outcome of a request whose caller went away before its answer was complete. */
function clientClosed(): Pick<Outcome, "status" | "errorKind"> {
  return { status: 499, errorKind: "invalid_request" };
}

/**
 * Whether a stream event is content (anything but the start and usage): until the first one, an
 * answer's status is held back, so a failure can still fail over.
 */
export function isContentEvent(event: StreamEvent): boolean {
  return event.type !== "start" && event.type !== "usage";
}

/**
 * A started generator as an answer's body: `head` (its first result, already read) comes first.
 * Because the generator already runs, a host that stops reading, even before the first chunk, still
 * reaches its `finally` (upstream closed, outcome recorded) through `return()`.
 */
export function resumed<T>(head: IteratorResult<T>, rest: AsyncGenerator<T>): AsyncIterable<T> {
  let first: IteratorResult<T> | undefined = head;
  const iterator: AsyncIterator<T> = {
    next: () => {
      const result = first;
      first = undefined;
      return result ? Promise.resolve(result) : rest.next();
    },
    return: (value?: unknown) => rest.return(value as T),
  };
  return { [Symbol.asyncIterator]: () => iterator };
}

function joinChunks(chunks: Array<string | Uint8Array>): string | Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  return typeof chunks[0] === "string" ? chunks.join("") : Buffer.concat(chunks as Uint8Array[]);
}

/** A 2xx answer's JSON; anything else is an unreadable answer (a BitrouterError, mapped like the translated path's). */
function parseAnswer(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BitrouterError({ kind: "upstream", message: `the body is not JSON (${(error as Error).message})` });
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function failoverExhausted(lastError: unknown, attempts: number): BitrouterError {
  const info = toErrorInfo(lastError);
  const suffix = attempts > 1 ? ` (after trying ${attempts} endpoints)` : "";
  // Rate limits and overloads keep their status so SDKs back off; other failures are a bad gateway.
  const status = info.status === 429 || info.status === 503 || info.status === 529 ? info.status : info.kind === "timeout" ? 504 : 502;
  const retryAfterMs = lastError instanceof BitrouterError ? lastError.retryAfterMs : undefined;
  return new BitrouterError({
    kind: info.kind === "timeout" ? "timeout" : info.kind === "rate_limit" ? "rate_limit" : info.kind === "overloaded" ? "overloaded" : "upstream",
    status,
    message: `${info.message}${suffix}`,
    ...(info.code ? { code: info.code } : {}),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}
