/**
 * The HTTP path of one request, top to bottom: the wire-protocol side of the request lifecycle
 * (lifecycle.ts, which the library API's generate/stream run on too). Each step says what it adds to
 * the request context.
 *
 *  1. parse      scan the JSON body; read `model` and `stream` (Gemini: from the URL)  -> ctx.model, ctx.stream
 *                (the whole body is parsed only where needed, e.g. the translated path; see body.ts)
 *  2. begin      onRequest hooks (auth, budgets), then resolve the model to a route    -> ctx.principal
 *                (dynamic | virtual | `provider:model_id`)
 *  3. attempt    each endpoint in strategy order (RequestLifecycle.tryTargets)         -> ctx.target
 *       fast path   same protocol in and out, no content hooks: forward the caller's bytes with only
 *                   `model` spliced in and pipe the answer's bytes, decoding usage on the side
 *       checked     same protocol, non-stream, content hooks that can vouch for wire bodies (guardrails
 *                   without tool rules): the hooks run on the canonical form; when they change nothing
 *                   and admit the whole wire body, the fast path goes on with the caller's bytes, and
 *                   the answer is checked the same way; anything else continues as translated
 *       translated  decode to canonical once, then the lifecycle's prepare (beforeDispatch hooks, limits)
 *                   and generate (onResponse hooks), encoded back to the inbound protocol; a stream is
 *                   decoded, hooked (onStreamEvent) and encoded chunk by chunk as the upstream's bytes
 *                   come (translated-stream.ts), or through the lifecycle's stream when a hook has a
 *                   beforeCommit
 *     Both fit the request to the target model's catalog limits (limits.ts). A Responses request to an
 *     OpenAI provider that serves the Responses API goes to it (targetFor in table.ts).
 *     Fail over (next endpoint) on connection errors, timeouts, 408/409/429/5xx, and only before the
 *     first byte of an answer is committed to the client.
 *  4. answer     in the inbound protocol's shape, errors included
 *  5. complete   onComplete hooks with usage, cost and timing (metering), once
 */
import type { CanonicalRequest, CanonicalResponse, ErrorInfo, Protocol, RequestContext, Usage, WireDirection } from "@bitrouter/core";
import { BitrouterError, invalidRequest } from "@bitrouter/core";
import type { Codec, StreamEncoder, UpstreamCodec } from "@bitrouter/providers";
import { PROTOCOL_DESCRIPTORS, readErrorBody, upstreamCodec, upstreamErrorFrom, upstreamFailure } from "@bitrouter/providers";
import { featureHeaders } from "./http.js";
import type { RawBody } from "./body.js";
import { RequestBody, scanTopLevel, spliceBody } from "./body.js";
import type { StreamBody } from "./stream-pipe.js";
import { openFastStream } from "./fast-stream.js";
import { bodyLimitFields, fitBody, hasLimits } from "./limits.js";
import type { HookRoles, RouterDeps, StreamSink } from "./lifecycle.js";
import { HeldEvents, hookRoles, RequestLifecycle } from "./lifecycle.js";
import type { RouteTarget } from "./table.js";
import { targetFor } from "./table.js";
import { openTranslatedStream } from "./translated-stream.js";

/** One inbound HTTP request, already split from its transport (Node or Web `Request`). */
export interface InboundRequest {
  protocol: Protocol;
  /**
   * The raw request body: text, bytes, or the bytes of its socket reads in order. Parts are never
   * joined on the fast path (the upstream gets views of them), which spares a large body's copy.
   */
  body: RawBody;
  /** Gemini puts the model and the streaming choice in the URL. */
  pathModel?: string | undefined;
  pathStream?: boolean | undefined;
  headers: Headers;
  /** The caller's credential, from Authorization / x-api-key / x-goog-api-key. */
  credential?: string | undefined;
  requestId: string;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /**
   * The controller behind `signal`, when the host owns it: the request's deadline then aborts it
   * too (reason: a TimeoutError) instead of making a second controller per request.
   */
  controller?: AbortController;
  /**
   * The host already refused the request (a malformed URL, a cross-site request): it is answered
   * with this error in the caller's protocol, and recorded like any other request.
   */
  refusal?: ErrorInfo | undefined;
  /**
   * The host writes the answer as soon as the result comes in, with no I/O wait in between (the
   * Node server does): onComplete hooks (log line, metrics, ledger) then run right after that write
   * (a next tick), off the response's critical path. Left out, they have run by the time the
   * result is returned.
   */
  completeAfterTurn?: boolean;
}

export type InboundResult =
  | { type: "json"; status: number; headers: Record<string, string>; body: string }
  | { type: "stream"; status: number; headers: Record<string, string>; body: StreamBody };

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
export async function handleInbound(deps: RouterDeps, inbound: InboundRequest, ctx = newContext(inbound)): Promise<InboundResult> {
  const codec = deps.codecs[inbound.protocol];
  const request = new InboundLifecycle(deps, inbound, ctx);
  try {
    if (inbound.refusal) throw inbound.refusal;
    // 1. parse
    // Where every attempt is translated the body is parsed whole anyway; the checked path keeps the
    // scan, so a body its hooks admit goes on as the caller's bytes.
    const body = new RequestBody(inbound.body, request.needsContent && !request.wireChecked);
    ctx.model = readModel(inbound, body.get("model"));
    ctx.stream = PROTOCOL_DESCRIPTORS[inbound.protocol].modelInPath ? inbound.pathStream === true : body.get("stream") === true;
    // 2. onRequest hooks, 3. resolve (awaited only when a hook made it a promise: each await is a
    // turn of the microtask queue before the upstream write)
    const begun = request.begin();
    if (begun instanceof Promise) await begun;
    // 4. attempts
    const result = await request.attempt(body);
    if (ctx.responseHeaders) result.headers = { ...result.headers, ...ctx.responseHeaders };
    return result;
  } catch (error) {
    // 5. answer errors in the inbound protocol's shape
    const info = request.fail(error);
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

/**
 * The lifecycle of a request that came in one of the wire protocols: each attempt takes the fast path
 * (the caller's bytes forwarded, the answer's bytes piped) or the translated path (decoded to
 * canonical, through the shared lifecycle's generate/stream, encoded back).
 */
class InboundLifecycle extends RequestLifecycle {
  #canonical: CanonicalRequest | undefined;
  readonly #roles: HookRoles;
  /** The caller's protocol feature headers (betas, API version), for upstreams of the same protocol. */
  readonly #featureHeaders: Record<string, string> | undefined;

  constructor(
    deps: RouterDeps,
    readonly inbound: InboundRequest,
    ctx: RequestContext,
  ) {
    super(deps, ctx, inbound.controller ?? inbound.signal);
    this.deferCompletion = inbound.completeAfterTurn === true;
    this.#roles = hookRoles(deps.hooks);
    this.#featureHeaders = featureHeaders(inbound.protocol, inbound.headers);
  }

  /** Whether the hooks read the request's content: every attempt is translated or checked. */
  get needsContent(): boolean {
    return this.#roles.needsContent;
  }

  /** Whether the content hooks can vouch for wire bodies (see #checkedPath). */
  get wireChecked(): boolean {
    return this.#roles.wireChecked;
  }

  attempt(body: RequestBody): Promise<InboundResult> {
    return this.tryTargets((routeTarget) => {
      const target = targetFor(routeTarget, this.inbound.protocol);
      if (target.endpoint.protocol !== this.inbound.protocol) return this.#translated(target, body);
      if (!this.#roles.needsContent) return this.#fastPath(target, body);
      return this.#roles.wireChecked && !this.ctx.stream ? this.#checkedPath(target, body) : this.#translated(target, body);
    });
  }

  /** The caller's body as canonical (decoded once: prepare runs per attempt). */
  #canonicalOf(body: RequestBody): CanonicalRequest {
    this.#canonical ??= this.deps.codecs[this.inbound.protocol].decodeRequest(body.parsed(), { model: this.ctx.model, stream: this.ctx.stream });
    return this.#canonical;
  }

  /**
   * A same-protocol non-stream request whose content hooks can vouch for wire bodies (guardrails
   * without tool rules): the hooks run on the canonical form as on the translated path, and when
   * they changed nothing and admit the caller's whole body, fields the canonical form leaves out
   * included, the caller's bytes go on by the fast path. The answer is checked the same way. Any
   * change, match or refusal takes the translated path, which alone applies and reports them.
   */
  async #checkedPath(target: RouteTarget, body: RequestBody): Promise<InboundResult> {
    const canonical = this.#canonicalOf(body);
    const dispatched = this.dispatchHooks(canonical);
    const hooked = dispatched instanceof Promise ? await dispatched : dispatched;
    if (hooked !== canonical || !this.#admitsWire("request", body.parsed())) return this.#translated(target, body, hooked);
    return this.#fastPath(target, body, hooked);
  }

  #admitsWire(direction: WireDirection, wire: unknown): boolean {
    for (const hook of this.deps.hooks) if (hook.admitsWire && !hook.admitsWire(this.ctx, direction, wire)) return false;
    return true;
  }

  // ── Fast path: same protocol in and out ────────────────────────────────────────────────────
  /** `checked`: the request as the content hooks passed it (#checkedPath); its answer is checked too. */
  async #fastPath(target: RouteTarget, body: RequestBody, checked?: CanonicalRequest): Promise<InboundResult> {
    const protocol = this.inbound.protocol;
    const codec = this.deps.codecs[protocol];
    const endpoint = target.endpoint;
    // Fields the router adds to the caller's body.
    const add: Record<string, unknown> = {};
    // Metering needs usage on streams that carry it only when asked (OpenAI chat): ask for it, and
    // hide it from callers who did not.
    const askUsage = this.ctx.stream ? PROTOCOL_DESCRIPTORS[protocol].streamUsage?.ask((field) => body.get(field)) : undefined;
    if (askUsage) Object.assign(add, askUsage);
    const hideUsageChunk = askUsage !== undefined;
    const required = PROTOCOL_DESCRIPTORS[protocol].requiredOutputLimit;
    if (required !== undefined && !body.has(required) && target.maxOutputTokens !== undefined) add[required] = target.maxOutputTokens;
    const upstream = fastPathBody(protocol, body, target, add);
    this.adjusted(upstream.changes);
    const signal = this.signal;
    const call = {
      endpoint,
      path: PROTOCOL_DESCRIPTORS[protocol].passthroughPath(target.modelId, this.ctx.stream),
      body: upstream.bytes,
      signal,
      ...(this.ctx.stream ? { timeoutMs: this.deps.firstByteTimeoutMs } : {}),
      ...(this.#featureHeaders === undefined ? {} : { headers: this.#featureHeaders }),
    };
    if (!this.ctx.stream) {
      // Read whole by the client (no stream per request); transport failures come as ProviderErrors.
      const response = await this.deps.client.requestWhole(call, this.deps.maxResponseBytes);
      if (response.status < 200 || response.status >= 300) {
        return this.#upstreamRefused(codec, endpoint, response, { text: response.body.toString("utf8"), truncated: response.truncated });
      }
      const text = response.body.toString("utf8");
      if (checked) return this.#checkedAnswer(codec, target, checked, response.status, text);
      let usage: Usage;
      try {
        usage = answerUsage(codec, protocol, response.body, text);
      } catch (error) {
        // Same rules as the translated path: a 2xx we cannot read is a retryable upstream failure.
        throw upstreamFailure(error, endpoint, signal);
      }
      this.complete({ status: response.status, usage, target });
      return { type: "json", status: response.status, headers: { ...JSON_HEADERS }, body: text };
    }
    const response = await this.deps.client.request(call);
    if (response.status < 200 || response.status >= 300) return this.#upstreamRefused(codec, endpoint, response, await readErrorBody(response));
    const stream = await openFastStream(response.body, {
      protocol,
      codec,
      target,
      hideUsageChunk,
      signal,
      callerLeft: () => this.callerLeft,
      startedAt: this.ctx.startedAt,
      complete: (outcome) => this.complete(outcome),
    });
    return { type: "stream", status: 200, headers: { ...SSE_HEADERS }, body: stream };
  }

  /**
   * A 2xx answer to a checked request: decoded, through the onResponse hooks, and passed on as the
   * upstream's bytes when they changed nothing and admit its whole body; otherwise the hooks'
   * answer, encoded as on the translated path.
   */
  async #checkedAnswer(codec: Codec, target: RouteTarget, request: CanonicalRequest, status: number, text: string): Promise<InboundResult> {
    let wire: unknown;
    let decoded: CanonicalResponse;
    try {
      wire = parseAnswer(text);
      decoded = codec.decodeResponse(wire);
    } catch (error) {
      throw upstreamFailure(error, target.endpoint, this.signal);
    }
    const answered = this.responseHooks(decoded);
    const answer = answered instanceof Promise ? await answered : answered;
    this.complete({ status, usage: answer.usage, target });
    if (answer === decoded && this.#admitsWire("response", wire)) return { type: "json", status, headers: { ...JSON_HEADERS }, body: text };
    return { type: "json", status: 200, headers: { ...JSON_HEADERS }, body: JSON.stringify(codec.encodeResponse(answer, request)) };
  }

  /**
   * A same-protocol upstream's non-2xx answer: thrown to fail over when retryable (401/403 become
   * provider_auth_failed, see tryTargetsInOrder), else passed to the caller, whose shape it already
   * has unless it was cut or is not JSON.
   */
  #upstreamRefused(
    codec: RouterDeps["codecs"][Protocol],
    endpoint: RouteTarget["endpoint"],
    response: { status: number; headers: Record<string, string | string[] | undefined>; sentKey?: string | undefined },
    read: { text: string; truncated: boolean },
  ): InboundResult {
    // An upstream may echo our key back in its error; it must never reach the caller.
    const text = scrubKey(read.text, response.sentKey);
    const error = upstreamErrorFrom(codec, endpoint, response, { text, truncated: read.truncated });
    if (error.retryable || response.status === 401 || response.status === 403) throw error;
    this.complete({ status: response.status, errorKind: error.kind });
    if (!read.truncated && isJson(text)) return { type: "json", status: response.status, headers: { ...JSON_HEADERS }, body: text };
    const encoded = codec.encodeError(error.toInfo());
    return { type: "json", status: encoded.status, headers: { ...JSON_HEADERS }, body: JSON.stringify(encoded.body) };
  }

  // ── Translated path ────────────────────────────────────────────────────────────────────────
  /** `hooked`: the request after this attempt's beforeDispatch hooks, when #checkedPath ran them. */
  async #translated(target: RouteTarget, body: RequestBody, hooked?: CanonicalRequest): Promise<InboundResult> {
    const inboundCodec = this.deps.codecs[this.inbound.protocol];
    const request = hooked ? this.fit(hooked, target) : await this.prepare(this.#canonicalOf(body), target);
    // The caller's feature headers (betas, API version) only mean something to an upstream of its protocol.
    const options = target.endpoint.protocol === this.inbound.protocol && this.#featureHeaders !== undefined ? { headers: this.#featureHeaders } : {};
    if (!this.ctx.stream) {
      const response = await this.generate(target, request, options);
      const encoded = inboundCodec.encodeResponse(response, request);
      this.complete({ status: 200, usage: response.usage, target });
      return { type: "json", status: 200, headers: { ...JSON_HEADERS }, body: JSON.stringify(encoded) };
    }
    const encoder = inboundCodec.createStreamEncoder(request);
    if (this.#roles.beforeCommit) {
      // A beforeCommit may wait (a payment settling): the lifecycle's pulled stream awaits it.
      const frames = await this.stream(target, request, encodedFor(encoder), options);
      return { type: "stream", status: 200, headers: { ...SSE_HEADERS }, body: frames };
    }
    const codec = upstreamCodec(this.deps.codecs, target.endpoint.protocol);
    const upstream = await this.deps.client.openStream(codec, target.endpoint, request, this.sendOptions(target, options));
    const stream = await openTranslatedStream(upstream, {
      codec,
      encoder,
      held: new HeldEvents(target, this.#roles.onStreamEvent, this.ctx),
      target,
      signal: this.signal,
      callerLeft: () => this.callerLeft,
      complete: (outcome) => this.complete(outcome),
    });
    return { type: "stream", status: 200, headers: { ...SSE_HEADERS }, body: stream };
  }
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

/**
 * The fast path's upstream body: the caller's bytes with `model` replaced (unless the protocol has
 * the model in the URL: Gemini) and `add` appended, spliced in place (see body.ts). Re-serialised from the
 * parsed body only when splicing cannot apply: a field to fit to the model's limits (limits.ts),
 * a field to add that is there already (`stream_options` without include_usage, merged), or a body
 * the scan did not take.
 */
function fastPathBody(
  protocol: Protocol,
  body: RequestBody,
  target: RouteTarget,
  add: Record<string, unknown>,
): { bytes: string | Uint8Array | Uint8Array[]; changes: string[] } {
  const model = PROTOCOL_DESCRIPTORS[protocol].modelInPath ? undefined : target.modelId;
  if (body.top && !needsFitting(protocol, body, target)) {
    const spliced = spliceBody(body.top, { model, add });
    if (spliced) return { bytes: spliced, changes: [] };
  }
  const whole: Record<string, unknown> = { ...body.parsed(), ...(model === undefined ? {} : { model }) };
  const changes = fitBody(protocol, whole, target);
  return { bytes: JSON.stringify({ ...whole, ...add }), changes };
}

/** Whether fitBody would change the body: tried on its limit fields alone, each parsed alone. */
function needsFitting(protocol: Protocol, body: RequestBody, target: RouteTarget): boolean {
  if (!hasLimits(target)) return false;
  const fields: Record<string, unknown> = {};
  for (const field of bodyLimitFields(protocol)) if (body.has(field)) fields[field] = body.get(field);
  return fitBody(protocol, fields, target).length > 0;
}

/** The request's model: `model` from the body, or from the URL for a protocol with the model in its path (Gemini). */
export function readModel(inbound: InboundRequest, model: unknown): string {
  if (PROTOCOL_DESCRIPTORS[inbound.protocol].modelInPath) {
    if (!inbound.pathModel) throw invalidRequest("missing model in the URL path (models/{model}:generateContent)", "model");
    return inbound.pathModel;
  }
  if (model === undefined) throw invalidRequest("missing required field 'model'", "model");
  if (typeof model !== "string" || model.trim() === "") throw invalidRequest("'model' must be a non-empty string", "model");
  return model;
}

export function scrubKey(text: string, key: string | undefined): string {
  return key && key.length >= 6 ? text.replaceAll(key, "[redacted]") : text;
}

/** A held stream's events as the caller's protocol frames (see RequestLifecycle.stream). */
function encodedFor(encoder: StreamEncoder): StreamSink<string> {
  return {
    batch(events) {
      let text = "";
      for (const event of events) text += encoder.encode(event);
      return text || undefined;
    },
    end: () => encoder.end() || undefined,
  };
}

/** Below this size a whole decode costs no more than the scan (measured break-even ~4 KB). */
const SCAN_ANSWER_FROM = 4096;

/**
 * The usage of a same-protocol 2xx answer, for metering. From the usage field alone when the scanned
 * top level has the protocol's answer fields and no `error` object (a parse of a large answer costs
 * more than the rest of the fast path); otherwise the whole answer is decoded, which throws for a
 * 2xx that is not an answer. The scan does not check inside strings: a body malformed only there
 * is metered and passed on as the upstream sent it.
 */
function answerUsage(codec: UpstreamCodec, protocol: Protocol, bytes: Buffer, text: string): Usage {
  const usage = codec.responseUsage;
  if (usage && bytes.length >= SCAN_ANSWER_FROM) {
    const top = scanTopLevel(bytes);
    if (top && isAnswer(bytes, top.values, PROTOCOL_DESCRIPTORS[protocol].answerFields)) {
      const at = top.values.get(usage.field);
      return usage.decode(at === undefined ? undefined : JSON.parse(bytes.toString("utf8", at.start, at.end)));
    }
  }
  return codec.decodeResponse(parseAnswer(text)).usage;
}

function isAnswer(bytes: Buffer, values: Map<string, { start: number; end: number }>, fields: Readonly<Record<string, string>>): boolean {
  const error = values.get("error");
  if (error !== undefined && bytes.toString("latin1", error.start, error.end) !== "null") return false;
  for (const [field, starts] of Object.entries(fields)) {
    const at = values.get(field);
    if (at === undefined || !bytes.toString("latin1", at.start, Math.min(at.end, at.start + starts.length)).startsWith(starts)) return false;
  }
  return true;
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
