/**
 * The path of one request, top to bottom. Each step says what it adds to the request context.
 *
 *  1. parse      scan the JSON body; read `model` and `stream` (Gemini: from the URL)  -> ctx.model, ctx.stream
 *                (the whole body is parsed only on the translated path; see body.ts)
 *  2. onRequest  hooks (auth, budgets)                                                -> ctx.principal
 *  3. resolve    the model to a route: dynamic | virtual | `provider:model_id`
 *  4. attempt    each endpoint in strategy order                                      -> ctx.target
 *       fast path   same protocol in and out, no content hooks: forward the body with only `model`
 *                   rewritten and pipe the answer's bytes, decoding usage on the side
 *       translated  decode to canonical once, beforeDispatch hooks, send through the endpoint's codec,
 *                   onStreamEvent/onResponse hooks, encode back to the inbound protocol
 *     Fail over (next endpoint) on connection errors, timeouts, 408/409/429/5xx, and only before the
 *     first byte of an answer is committed to the client.
 *  5. answer     in the inbound protocol's shape, errors included
 *  6. onComplete hooks with usage, cost and timing (metering)
 */
import { createParser } from "eventsource-parser";
import type {
  CanonicalRequest,
  CanonicalResponse,
  Codec,
  ErrorInfo,
  Protocol,
  StreamEvent,
  Usage,
} from "@bitrouter/providers";
import { BitrouterError, ProviderError, encodeStreamError, invalidRequest, isRetryableStatus, toErrorInfo } from "@bitrouter/providers";
import type { Balancer } from "./balancer.js";
import { RequestBody, scanTopLevel, spliceBody } from "./body.js";
import { endsEvent, mayCarryOutcome } from "./sniff.js";
import type { CompletionRecord, RequestContext, RouterHook } from "./hooks.js";
import type { ResolvedRoute, RouteResolver, RouteTarget } from "./table.js";
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
}

export type InboundResult =
  | { type: "json"; status: number; headers: Record<string, string>; body: string }
  | { type: "stream"; status: number; headers: Record<string, string>; body: AsyncIterable<string | Uint8Array> };

export interface PipelineDeps {
  resolver: RouteResolver;
  hooks: readonly RouterHook[];
  client: UpstreamClient;
  balancer: Balancer;
  codecs: Readonly<Record<Protocol, Codec>>;
  /** One overall deadline per request, shared by every failover attempt. */
  requestTimeoutMs: number;
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
    // 1. parse
    const body = new RequestBody(inbound.body);
    ctx.model = readModel(inbound, body);
    ctx.stream = inbound.protocol === "google" ? inbound.pathStream === true : body.get("stream") === true;
    // 2. onRequest hooks
    for (const hook of deps.hooks) await hook.onRequest?.(ctx);
    // 3. resolve
    const route = deps.resolver.resolve(ctx.model);
    run.route = route;
    // 4. attempts
    return await run.attempt(body);
  } catch (error) {
    // 5. answer errors in the inbound protocol's shape
    const info = toErrorInfo(error);
    run.complete({ status: info.status, errorKind: info.kind });
    const { status, body } = codec.encodeError(info);
    return { type: "json", status, headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
  }
}

/** State of one request across its attempts. */
class Run {
  route: ResolvedRoute | undefined;
  attempts = 0;
  #completed = false;
  #canonical: CanonicalRequest | undefined;
  readonly #deadline: Deadline;
  readonly #needsContent: boolean;

  constructor(
    readonly deps: PipelineDeps,
    readonly inbound: InboundRequest,
    readonly ctx: RequestContext,
  ) {
    this.#deadline = new Deadline(deps.requestTimeoutMs, inbound.signal);
    this.#needsContent = deps.hooks.some((h) => h.inspectsContent || h.beforeDispatch || h.onStreamEvent || h.onResponse);
  }

  async attempt(body: RequestBody): Promise<InboundResult> {
    return withFailover(this.deps, this.route!, this.ctx, this.inbound.signal, (target) => {
      this.attempts += 1;
      const fast = !this.#needsContent && target.endpoint.protocol === this.inbound.protocol;
      return fast ? this.#fastPath(target, body) : this.#translated(target, body);
    });
  }

  // ── Fast path: same protocol in and out ────────────────────────────────────────────────────
  async #fastPath(target: RouteTarget, body: RequestBody): Promise<InboundResult> {
    const protocol = this.inbound.protocol;
    const codec = this.deps.codecs[protocol];
    // Metering needs usage on OpenAI chat streams; ask for it and hide it from callers who did not.
    const add: Record<string, unknown> = {};
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
    const path = passthroughPath(protocol, target.modelId, this.ctx.stream);
    const response = await this.deps.client.request({
      endpoint: target.endpoint,
      path,
      body: fastPathBody(body, protocol === "google" ? undefined : target.modelId, add),
      signal: this.#deadline.signal,
    });
    if (response.status < 200 || response.status >= 300) {
      // An upstream may echo our key back in its error; it must never reach the caller.
      const text = scrubKey(await response.body.text(), target.endpoint.apiKey);
      const info = codec.decodeError(response.status, safeJson(text));
      if (response.status === 401 || response.status === 403) throw providerAuthFailed(target, response.status, info.message);
      if (isRetryableStatus(response.status)) throw new BitrouterError({ ...info, message: `${target.provider}: ${info.message}` });
      // Same protocol: the upstream's own error body is already in the caller's shape.
      this.complete({ status: response.status, errorKind: info.kind });
      return { type: "json", status: response.status, headers: { ...JSON_HEADERS }, body: text };
    }
    if (!this.ctx.stream) {
      const bytes = Buffer.from(await response.body.arrayBuffer());
      const usage = answerUsage(codec, bytes);
      this.complete({ status: response.status, usage, target });
      return { type: "json", status: response.status, headers: { ...JSON_HEADERS }, body: UTF8.decode(bytes) };
    }
    return { type: "stream", status: 200, headers: { ...SSE_HEADERS }, body: this.#pipe(target, response.body, hideUsageChunk) };
  }

  /** Pipes upstream SSE bytes to the client, decoding usage on the side. */
  async *#pipe(target: RouteTarget, body: AsyncIterable<Uint8Array>, hideUsageChunk: boolean): AsyncIterable<string | Uint8Array> {
    const protocol = this.inbound.protocol;
    const decoder = this.deps.codecs[protocol].createStreamDecoder();
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
      onEvent: (message) => {
        if (message.data === "[DONE]") {
          if (hideUsageChunk) pending.push("data: [DONE]\n\n");
          return;
        }
        if (carriesOutcome(protocol, message.event, message.data)) {
          const sse = message.event === undefined ? { data: message.data } : { event: message.event, data: message.data };
          try {
            observe(decoder.decode(sse));
          } catch {
            // metering is best effort; the bytes still reach the client
          }
        }
        if (hideUsageChunk && !isUsageOnlyChunk(message.data)) pending.push(formatEvent(message.event, message.data));
      },
    });
    const text = new TextDecoder();
    let atBoundary = true; // the parser holds no part of an event
    try {
      for await (const chunk of body) {
        ttfb ??= Date.now() - this.ctx.startedAt; // from the request's arrival, as the caller sees it
        // Whole content events, nothing in them to read or hide: on to the client as they came.
        const bytes = asBuffer(chunk);
        if (atBoundary && endsEvent(bytes) && !mayCarryOutcome(protocol, bytes)) {
          yield chunk;
          continue;
        }
        atBoundary = endsEvent(bytes);
        parser.feed(text.decode(chunk, { stream: true }));
        if (hideUsageChunk) {
          if (pending.length > 0) {
            yield pending.join("");
            pending = [];
          }
        } else {
          yield chunk;
        }
      }
      try {
        observe(decoder.end());
      } catch {
        // ignore: see above
      }
      this.complete({ status: 200, usage, target, ttfbMs: ttfb, ...(failure ? { errorKind: failure.kind } : {}) });
    } catch (error) {
      const info = toErrorInfo(this.inbound.signal.aborted ? abortedError() : error);
      if (!this.inbound.signal.aborted) yield encodeStreamError(this.deps.codecs[protocol], info);
      this.complete({ status: 200, usage, target, ttfbMs: ttfb, errorKind: info.kind });
    }
  }

  // ── Translated path ────────────────────────────────────────────────────────────────────────
  async #translated(target: RouteTarget, body: RequestBody): Promise<InboundResult> {
    const inboundCodec = this.deps.codecs[this.inbound.protocol];
    const upstreamCodec = this.deps.codecs[target.endpoint.protocol];
    const request = await this.#canonicalRequest(body.parsed());
    const options = {
      model: target.modelId,
      ...(target.maxOutputTokens === undefined ? {} : { defaultMaxTokens: target.maxOutputTokens }),
      ...(target.maxTokensField === undefined ? {} : { maxTokensField: target.maxTokensField }),
      signal: this.#deadline.signal,
    };
    if (!this.ctx.stream) {
      let response = await this.deps.client.send(upstreamCodec, target.endpoint, request, options);
      for (const hook of this.deps.hooks) response = (await hook.onResponse?.(this.ctx, response)) ?? response;
      const encoded = inboundCodec.encodeResponse(response, request);
      this.complete({ status: 200, usage: response.usage, target });
      return { type: "json", status: 200, headers: { ...JSON_HEADERS }, body: JSON.stringify(encoded) };
    }
    const events = (await this.deps.client.stream(upstreamCodec, target.endpoint, request, options))[Symbol.asyncIterator]();
    // Hold the status until the first content event: an error before it can still fail over.
    const head: StreamEvent[] = [];
    for (;;) {
      const next = await events.next();
      if (next.done) break;
      if (next.value.type === "error") {
        await events.return?.();
        throw new BitrouterError({ ...next.value.error, message: `${target.provider}: ${next.value.error.message}` });
      }
      head.push(next.value);
      if (next.value.type !== "start" && next.value.type !== "usage") break;
    }
    return { type: "stream", status: 200, headers: { ...SSE_HEADERS }, body: this.#encodeStream(target, request, head, events) };
  }

  async *#encodeStream(target: RouteTarget, request: CanonicalRequest, head: StreamEvent[], rest: AsyncIterator<StreamEvent>): AsyncIterable<string> {
    const encoder = this.deps.codecs[this.inbound.protocol].createStreamEncoder(request);
    const hooks = this.deps.hooks.filter((h) => h.onStreamEvent);
    let ttfb: number | undefined;
    let usage: Usage | undefined;
    let errorKind: ErrorInfo["kind"] | undefined;
    const encode = (event: StreamEvent): string => {
      const events = hooks.length === 0 ? [event] : applyStreamHooks(hooks, this.ctx, event);
      let text = "";
      for (const e of events) {
        if (e.type === "usage") usage = e.usage;
        else if (e.type === "finish" && e.usage) usage = e.usage;
        else if (e.type === "error") errorKind = e.error.kind;
        text += encoder.encode(e);
      }
      return text;
    };
    try {
      for (const event of head) {
        const text = encode(event);
        if (text) {
          ttfb ??= Date.now() - this.ctx.startedAt; // from the request's arrival, as the caller sees it
          yield text;
        }
      }
      for (;;) {
        const next = await rest.next();
        if (next.done) break;
        const text = encode(next.value);
        if (text) {
          ttfb ??= Date.now() - this.ctx.startedAt; // from the request's arrival, as the caller sees it
          yield text;
        }
        if (next.value.type === "error") break;
      }
      yield encoder.end();
    } catch (error) {
      const info = toErrorInfo(this.inbound.signal.aborted ? abortedError() : error);
      errorKind = info.kind;
      if (!this.inbound.signal.aborted) yield encoder.encode({ type: "error", error: info }) + encoder.end();
    } finally {
      await rest.return?.();
      this.complete({ status: 200, usage, target, ttfbMs: ttfb, ...(errorKind ? { errorKind } : {}) });
    }
  }

  /** Decodes the inbound body once; beforeDispatch hooks run per attempt (they may depend on ctx.target). */
  async #canonicalRequest(body: Record<string, unknown>): Promise<CanonicalRequest> {
    this.#canonical ??= this.deps.codecs[this.inbound.protocol].decodeRequest(body, { model: this.ctx.model, stream: this.ctx.stream });
    let request = this.#canonical;
    for (const hook of this.deps.hooks) request = (await hook.beforeDispatch?.(this.ctx, request)) ?? request;
    return request;
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
      const error = caught instanceof ProviderError && (caught.upstreamStatus === 401 || caught.upstreamStatus === 403) ? providerAuthFailed(target, caught.upstreamStatus, caught.message) : caught;
      lastError = error;
      if (signal.aborted || !isRetryable(error)) throw error;
      deps.balancer.markFailure(targetKey(target));
    }
  }
  throw failoverExhausted(lastError, tried);
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

/**
 * The fast path's upstream body: the caller's bytes with `model` replaced and `add` appended,
 * spliced in place (see body.ts); re-serialised from the parsed body when splicing cannot apply
 * (e.g. `stream_options` given without include_usage, which is then merged into it).
 */
function fastPathBody(body: RequestBody, model: string | undefined, add: Record<string, unknown>): string | Uint8Array {
  const spliced = body.top && spliceBody(body.top, { ...(model === undefined ? {} : { model }), add });
  return spliced || JSON.stringify({ ...body.parsed(), ...(model === undefined ? {} : { model }), ...add });
}

function readModel(inbound: InboundRequest, body: RequestBody): string {
  if (inbound.protocol === "google") {
    if (!inbound.pathModel) throw invalidRequest("missing model in the URL path (models/{model}:generateContent)", "model");
    return inbound.pathModel;
  }
  const model = body.get("model");
  if (model === undefined) throw invalidRequest("missing required field 'model'", "model");
  if (typeof model !== "string" || model.trim() === "") throw invalidRequest("'model' must be a non-empty string", "model");
  return model;
}

/** Upstream path for a same-protocol forward. */
function passthroughPath(protocol: Protocol, modelId: string, stream: boolean): string {
  switch (protocol) {
    case "openai-chat":
      return "/chat/completions";
    case "openai-responses":
      return "/responses";
    case "anthropic":
      return "/v1/messages";
    case "google":
      return `/v1beta/models/${encodeURIComponent(modelId)}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`;
  }
}

function targetKey(target: RouteTarget): string {
  return `${target.provider}\u0000${target.modelId}\u0000${target.endpoint.apiBase}\u0000${target.keyId ?? ""}`;
}

const USAGE = /"usage"\s*:\s*\{/;
const FINISH = /"finish_reason"\s*:\s*"/;
const RESPONSES_OUTCOME = new Set(["response.created", "response.completed", "response.incomplete", "response.failed", "error"]);
const ANTHROPIC_OUTCOME = new Set(["message_start", "message_delta", "message_stop", "error"]);

/**
 * Whether a piped upstream event says something metering needs (usage, the finish, an error).
 * Only those are decoded on the side; content deltas, the bulk of a stream, pass unparsed.
 */
export function carriesOutcome(protocol: Protocol, event: string | undefined, data: string): boolean {
  switch (protocol) {
    case "openai-chat":
      return USAGE.test(data) || FINISH.test(data) || data.startsWith('{"error"');
    case "openai-responses":
      return RESPONSES_OUTCOME.has(event ?? "");
    case "anthropic":
      return ANTHROPIC_OUTCOME.has(event ?? "");
    case "google":
      return data.includes('"usageMetadata"') || data.includes('"finishReason"') || data.includes('"error"');
  }
}

const UTF8 = new TextDecoder();

/** Below this size one JSON.parse of an answer costs less than the scan (~1 vs ~2.5 µs at 400 bytes). */
const SCAN_ANSWERS_FROM = 2048;

/**
 * The usage of a same-protocol non-stream answer. For a large answer with the codec's
 * `responseUsage`, only that top-level field is parsed (see body.ts), not the whole answer.
 */
function answerUsage(codec: Codec, bytes: Buffer): Usage | undefined {
  try {
    const top = codec.responseUsage && bytes.length >= SCAN_ANSWERS_FROM && scanTopLevel(bytes);
    if (codec.responseUsage && top) {
      const span = top.values.get(codec.responseUsage.field);
      return codec.responseUsage.decode(span ? JSON.parse(bytes.toString("utf8", span.start, span.end)) : undefined);
    }
    return codec.decodeResponse(safeJson(UTF8.decode(bytes))).usage;
  } catch {
    return undefined; // an answer we cannot read is still the caller's answer
  }
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function scrubKey(text: string, key: string | undefined): string {
  return key && key.length >= 6 ? text.replaceAll(key, "[redacted]") : text;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
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
  const lines = data.split("\n").map((line) => `data: ${line}\n`).join("");
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

function abortedError(): BitrouterError {
  return new BitrouterError({ kind: "invalid_request", status: 499, message: "client closed the request", code: "client_closed" });
}

function failoverExhausted(lastError: unknown, attempts: number): BitrouterError {
  const info = toErrorInfo(lastError);
  const suffix = attempts > 1 ? ` (after trying ${attempts} endpoints)` : "";
  // Rate limits and overloads keep their status so SDKs back off; other failures are a bad gateway.
  const status = info.status === 429 || info.status === 503 || info.status === 529 ? info.status : info.kind === "timeout" ? 504 : 502;
  return new BitrouterError({ kind: info.kind === "timeout" ? "timeout" : info.kind === "rate_limit" ? "rate_limit" : info.kind === "overloaded" ? "overloaded" : "upstream", status, message: `${info.message}${suffix}`, ...(info.code ? { code: info.code } : {}) });
}
