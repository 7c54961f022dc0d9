/**
 * One request's lifecycle, shared by the library API (router.generate / router.stream) and the HTTP
 * pipeline (pipeline.ts), so both apply the same hooks, limits, failover and metering:
 *
 *   begin        onRequest hooks, then resolve ctx.model to a route
 *   tryTargets   each endpoint in strategy order (onAttempt hooks before each); the next one only
 *                after a retryable failure, and never once the request's deadline passed or its caller left
 *   prepare      per attempt: beforeDispatch hooks, fit to the target model's limits, refuse hosted tools
 *                the target cannot run
 *   generate     one non-stream call, then onResponse hooks
 *   stream       one stream call, held back until its first content event: a failure before it fails
 *                the attempt (so the next endpoint is tried); after it, it ends the stream with an
 *                error event. onStreamEvent hooks see every event.
 *   complete     the completion record (usage, cost, timing) to every onComplete hook, exactly once
 */
import type {
  CanonicalRequest,
  CanonicalResponse,
  CompletionRecord,
  ErrorInfo,
  HostedTool,
  RequestContext,
  RouterHook,
  StreamEvent,
  Usage,
} from "@bitrouter/core";
import { BitrouterError, toErrorInfo } from "@bitrouter/core";
import type { CodecTable, SendOptions } from "@bitrouter/providers";
import { ProviderError, upstreamCodec } from "@bitrouter/providers";
import type { Balancer } from "./balancer.js";
import { fitRequest } from "./limits.js";
import type { ResolvedRoute, RouteResolver, RouteTarget } from "./table.js";
import type { UpstreamClient } from "./upstream.js";
import { isRetryable } from "./upstream.js";

/** What every request of one router runs on. */
export interface RouterDeps {
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

/** How a request ended, as its completion record tells it. */
export interface CompletionOutcome {
  status: number;
  errorKind?: ErrorInfo["kind"];
  usage?: Usage | undefined;
  target?: RouteTarget;
  ttfbMs?: number | undefined;
}

/** How a held stream's events reach the caller: each batch (after hooks) in the caller's form, undefined for nothing to send. */
export interface StreamSink<T> {
  batch(events: StreamEvent[]): T | undefined;
  /** After the last event (e.g. a protocol's closing frame). */
  end?(): T | undefined;
}

/** Extra per-call options an attempt may add (the caller's protocol feature headers). */
export type AttemptOptions = Pick<SendOptions, "headers">;

/** One request from onRequest to onComplete. See the file comment for its steps. */
export class RequestLifecycle {
  route: ResolvedRoute | undefined;
  attempts = 0;
  /**
   * Whether onComplete hooks run on the next tick rather than at once (see
   * InboundRequest.completeAfterTurn): set by a host that writes the answer in the same task.
   */
  protected deferCompletion = false;
  #completed = false;
  readonly #deadline: RequestDeadline;

  constructor(
    readonly deps: RouterDeps,
    readonly ctx: RequestContext,
    /** Aborted when the caller goes away; the host's own controller, if it has one (see RequestDeadline). */
    caller?: AbortSignal | AbortController,
  ) {
    this.#deadline = new RequestDeadline(deps.requestTimeoutMs, caller);
  }

  /** Aborted once the request's time is up or its caller left: no endpoint is tried after that. */
  get signal(): AbortSignal {
    return this.#deadline.signal;
  }

  get callerLeft(): boolean {
    return this.#deadline.callerLeft;
  }

  /**
   * onRequest hooks (auth, budgets), then the route for ctx.model. A promise only when there are
   * onRequest hooks: without them a request goes on to its first attempt in the same turn.
   */
  begin(): Promise<ResolvedRoute> | ResolvedRoute {
    if (hookRoles(this.deps.hooks).onRequest.length === 0) return this.#resolve();
    return runRequestHooks(this.deps.hooks, this.ctx).then(() => this.#resolve());
  }

  #resolve(): ResolvedRoute {
    this.route = this.deps.resolver.resolve(this.ctx.model);
    return this.route;
  }

  /** Runs `attempt` on the route's endpoints in strategy order until one answers (see tryTargetsInOrder). */
  tryTargets<T>(attempt: (target: RouteTarget) => Promise<T>): Promise<T> {
    if (!this.route) throw new Error("tryTargets before begin");
    const { onAttempt } = hookRoles(this.deps.hooks);
    return tryTargetsInOrder(this.deps, this.route, this.ctx, this.signal, (target) => {
      this.attempts += 1;
      for (const hook of onAttempt) hook.onAttempt!(this.ctx);
      return attempt(target);
    });
  }

  /** The request as it goes to `target`: beforeDispatch hooks (per attempt: they may depend on ctx.target), then fitted to its limits. */
  async prepare(request: CanonicalRequest, target: RouteTarget): Promise<CanonicalRequest> {
    const hooked = this.dispatchHooks(request);
    return this.fit(hooked instanceof Promise ? await hooked : hooked, target);
  }

  /** The beforeDispatch hooks' request (the same object when none changed it); a promise only when a hook returned one. */
  dispatchHooks(request: CanonicalRequest): CanonicalRequest | Promise<CanonicalRequest> {
    return this.#chain(request, (hook, value) => hook.beforeDispatch?.(this.ctx, value));
  }

  /** The onResponse hooks' answer (the same object when none changed it); a promise only when a hook returned one. */
  responseHooks(response: CanonicalResponse): CanonicalResponse | Promise<CanonicalResponse> {
    return this.#chain(response, (hook, value) => hook.onResponse?.(this.ctx, value));
  }

  /**
   * Passes `value` through each hook in order (from hook `from` on). Synchronous until a hook
   * returns a promise: each await is a turn of the microtask queue, and a guarded request would
   * otherwise take two for hooks that answer at once.
   */
  #chain<T>(value: T, step: (hook: RouterHook, value: T) => T | void | Promise<T | void>, from = 0): T | Promise<T> {
    const hooks = this.deps.hooks;
    let out = value;
    for (let i = from; i < hooks.length; i++) {
      const next = step(hooks[i]!, out);
      if (next instanceof Promise) return this.#chainAfter(next, out, step, i + 1);
      out = next ?? out;
    }
    return out;
  }

  /** #chain once `pending` (a hook's answer) settles, from hook `from` on. */
  async #chainAfter<T>(pending: Promise<T | void>, value: T, step: (hook: RouterHook, value: T) => T | void | Promise<T | void>, from: number): Promise<T> {
    return this.#chain((await pending) ?? value, step, from);
  }

  /** A request after its beforeDispatch hooks, fitted to the target model's limits; hosted tools it cannot run refused. */
  fit(prepared: CanonicalRequest, target: RouteTarget): CanonicalRequest {
    const fitted = fitRequest(prepared, target);
    this.adjusted(fitted.changes);
    if (fitted.value.hostedTools && target.endpoint.protocol !== "openai-responses") {
      throw hostedToolRefused(fitted.value.hostedTools[0]!, target, this.route?.name ?? this.ctx.model);
    }
    return fitted.value;
  }

  /** Records what was changed to fit the target model (the last attempt's changes win). */
  adjusted(changes: string[]): void {
    if (changes.length > 0) this.ctx.adjusted = changes;
    else delete this.ctx.adjusted;
  }

  /** One non-stream attempt: the upstream's answer after onResponse hooks. The caller completes. */
  async generate(target: RouteTarget, request: CanonicalRequest, options: AttemptOptions = {}): Promise<CanonicalResponse> {
    const codec = upstreamCodec(this.deps.codecs, target.endpoint.protocol);
    const answered = this.responseHooks(await this.deps.client.send(codec, target.endpoint, request, this.sendOptions(target, options)));
    const response = answered instanceof Promise ? await answered : answered;
    await this.beforeCommitHooks();
    return response;
  }

  /** Each hook's beforeCommit, in order: the answer is ready and not yet sent (e.g. a payment settles here). */
  protected async beforeCommitHooks(): Promise<void> {
    for (const hook of this.deps.hooks) await hook.beforeCommit?.(this.ctx);
  }

  /**
   * One stream attempt. Resolves once the first content event arrived (a failure before it rejects,
   * so the next endpoint can be tried); then yields the events, after onStreamEvent hooks, in the
   * caller's form (`sink`), batch by batch: the first holds everything up to that content event.
   * Completes the request when it ends.
   */
  async stream<T>(target: RouteTarget, request: CanonicalRequest, sink: StreamSink<T>, options: AttemptOptions = {}): Promise<AsyncIterable<T>> {
    const codec = upstreamCodec(this.deps.codecs, target.endpoint.protocol);
    const batches = (await this.deps.client.streamBatches(codec, target.endpoint, request, this.sendOptions(target, options)))[Symbol.asyncIterator]();
    const held = this.#holdUntilContent(target, batches, sink);
    return startedStream(await held.next(), held);
  }

  /** Events come a batch per upstream read, and go out a batch per read: one async hop and one write per read, not per event. */
  async *#holdUntilContent<T>(target: RouteTarget, batches: AsyncIterator<StreamEvent[]>, sink: StreamSink<T>): AsyncGenerator<T> {
    const held = new HeldEvents(target, hookRoles(this.deps.hooks).onStreamEvent, this.ctx);
    let outcome: CompletionOutcome | undefined;
    try {
      for (;;) {
        const next = await batches.next();
        if (next.done) break;
        const events = next.value;
        let from = 0;
        let observed: StreamEvent[] = [];
        if (!held.committed) {
          from = held.hold(events);
          if (from < 0) continue;
          await this.beforeCommitHooks();
          observed = held.commit();
        }
        const failed = held.pass(events, from, observed);
        const out = sink.batch(observed);
        if (out !== undefined) yield out;
        if (failed) break;
      }
      if (!held.committed) await this.beforeCommitHooks();
      const tail = sink.batch(held.committed ? [] : held.commit());
      outcome = held.outcome();
      if (tail !== undefined) yield tail;
      const end = sink.end?.();
      if (end !== undefined) yield end;
    } catch (error) {
      if (!held.committed) throw error;
      if (this.callerLeft) {
        outcome = held.left();
      } else {
        const info = toErrorInfo(error);
        outcome = held.outcome(info.kind);
        const out = sink.batch([{ type: "error", error: info }]);
        if (out !== undefined) yield out;
        const end = sink.end?.();
        if (end !== undefined) yield end;
      }
    } finally {
      await batches.return?.();
      // A consumer that stops reading early is a caller that went away (499).
      if (held.committed) this.complete(outcome ?? held.left());
    }
  }

  /** The options of one upstream call to `target`. */
  protected sendOptions(target: RouteTarget, options: AttemptOptions): SendOptions {
    return {
      model: target.modelId,
      ...(target.maxOutputTokens === undefined ? {} : { defaultMaxTokens: target.maxOutputTokens }),
      ...(target.maxTokensField === undefined ? {} : { maxTokensField: target.maxTokensField }),
      signal: this.signal,
      maxResponseBytes: this.deps.maxResponseBytes,
      // A stream's response head must come within first_byte_timeout (a non-stream head comes with the whole answer).
      ...(this.ctx.stream ? { timeoutMs: this.deps.firstByteTimeoutMs } : {}),
      ...options,
    };
  }

  /**
   * Reports the outcome to onComplete hooks, once. Deferred (see deferCompletion), the record is
   * made after the answer is written too: nothing of it is needed to write the answer.
   */
  complete(outcome: CompletionOutcome): void {
    if (this.#completed) return;
    this.#completed = true;
    const endedAt = Date.now();
    if (this.deferCompletion) afterThisTurn(() => this.#notify(outcome, endedAt));
    else this.#notify(outcome, endedAt);
  }

  #notify(outcome: CompletionOutcome, endedAt: number): void {
    this.#deadline.clear();
    const record = completionRecord(this.deps, this.ctx, this.route?.name ?? this.ctx.model, this.attempts, outcome, endedAt);
    notifyCompletion(this.deps.hooks, record, this.ctx);
  }

  /** The request failed without an answer: completes it and returns the error as the caller should get it. */
  fail(error: unknown): ErrorInfo {
    const info = this.callerLeft ? clientClosedError().toInfo() : isStackOverflow(error) ? tooDeep : toErrorInfo(error);
    this.complete({ status: info.status, errorKind: info.kind });
    return info;
  }
}

/** What a router's hooks take part in, worked out once per hook list rather than per request. */
export interface HookRoles {
  /** The hooks with an onRequest. */
  onRequest: readonly RouterHook[];
  /** The hooks with an onAttempt. */
  onAttempt: readonly RouterHook[];
  /** The hooks with an onStreamEvent. */
  onStreamEvent: readonly RouterHook[];
  /** Some hook has a beforeCommit (it may wait: a stream's first content event is held until it resolves). */
  beforeCommit: boolean;
  /** Some hook reads or changes content: requests then take the translated path (no byte forwarding). */
  needsContent: boolean;
  /**
   * Every hook that reads content can vouch for wire bodies (admitsWire) and none has a beforeCommit:
   * a same-protocol non-stream request may then keep its bytes when they pass (pipeline.ts).
   */
  wireChecked: boolean;
}

const roles = new WeakMap<readonly RouterHook[], HookRoles>();

export function hookRoles(hooks: readonly RouterHook[]): HookRoles {
  let found = roles.get(hooks);
  if (!found) {
    const content = hooks.filter((h) => h.inspectsContent || h.beforeDispatch || h.onStreamEvent || h.onResponse || h.beforeCommit);
    found = {
      onRequest: hooks.filter((h) => h.onRequest),
      onAttempt: hooks.filter((h) => h.onAttempt),
      onStreamEvent: hooks.filter((h) => h.onStreamEvent),
      beforeCommit: hooks.some((h) => h.beforeCommit),
      needsContent: content.length > 0,
      wireChecked: content.length > 0 && content.every((h) => h.admitsWire && !h.beforeCommit),
    };
    roles.set(hooks, found);
  }
  return found;
}

/** Each hook's onRequest in order (auth, budgets); only a hook that returns a promise costs an await. */
export async function runRequestHooks(hooks: readonly RouterHook[], ctx: RequestContext): Promise<void> {
  for (const hook of hookRoles(hooks).onRequest) {
    const pending = hook.onRequest!(ctx);
    if (pending) await pending;
  }
}

/**
 * One stream attempt's decoded events on their way to the caller, without I/O: held until the
 * first content event (an error event before it fails the attempt, so the next endpoint can be
 * tried), then each through the onStreamEvent hooks; the outcome (usage, an error event, the time
 * of the first event sent) noted as they pass. Used by the lifecycle's stream (pulled, with
 * beforeCommit hooks awaited between hold and commit) and by the HTTP pipeline's translated stream
 * (pushed, translated-stream.ts).
 */
export class HeldEvents {
  committed = false;
  usage: Usage | undefined;
  #errorKind: ErrorInfo["kind"] | undefined;
  #ttfb: number | undefined;
  readonly #head: StreamEvent[] = [];

  constructor(
    private readonly target: RouteTarget,
    /** The hooks with an onStreamEvent (hookRoles). */
    private readonly hooks: readonly RouterHook[],
    private readonly ctx: RequestContext,
  ) {}

  /**
   * Before the commit: holds `events` up to the first content event. Returns the index just past
   * it once it came (commit next, then `pass` the rest from there), or -1 while everything is held.
   * Throws on an error event: the attempt failed.
   */
  hold(events: StreamEvent[]): number {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      if (event.type === "error") throw new BitrouterError({ ...event.error, message: `${this.target.provider}: ${event.error.message}` });
      this.#head.push(event);
      if (isContentEvent(event)) return i + 1;
    }
    return -1;
  }

  /** Commits the answer: the held events, after hooks. Committed first: a hook that throws here ends the stream, it does not fail the attempt over. */
  commit(): StreamEvent[] {
    this.committed = true;
    const out: StreamEvent[] = [];
    for (const event of this.#head) for (const e of this.#observe(event)) out.push(e);
    this.#head.length = 0;
    return out;
  }

  /** After the commit: `events` from `from` on, after hooks, appended to `out`, up to an error event, which ends the stream: returns whether one came. */
  pass(events: StreamEvent[], from: number, out: StreamEvent[]): boolean {
    for (let i = from; i < events.length; i++) {
      for (const e of this.#observe(events[i]!)) out.push(e);
      if (events[i]!.type === "error") return true;
    }
    return false;
  }

  /** The outcome of a stream that ended (`errorKind`: how it failed after the commit, if it did). */
  outcome(errorKind = this.#errorKind): CompletionOutcome {
    return { status: 200, usage: this.usage, target: this.target, ttfbMs: this.#ttfb, ...(errorKind ? { errorKind } : {}) };
  }

  /** The outcome of a stream whose caller went away. */
  left(): CompletionOutcome {
    return { ...clientClosed(), usage: this.usage, target: this.target, ttfbMs: this.#ttfb };
  }

  #observe(event: StreamEvent): StreamEvent[] {
    const out = this.hooks.length === 0 ? [event] : applyStreamHooks(this.hooks, this.ctx, event);
    for (const e of out) {
      if (e.type === "usage") this.usage = e.usage;
      else if (e.type === "finish" && e.usage) this.usage = e.usage;
      else if (e.type === "error") this.#errorKind = e.error.kind;
    }
    if (out.length > 0) this.#ttfb ??= Date.now() - this.ctx.startedAt; // from the request's arrival, as the caller sees it
    return out;
  }
}

/** Runs each hook's onStreamEvent over one event; hooks may drop, replace or split it. */
export function applyStreamHooks(hooks: readonly RouterHook[], ctx: RequestContext, event: StreamEvent): StreamEvent[] {
  let events: StreamEvent[] = [event];
  for (const hook of hooks) {
    if (!hook.onStreamEvent) continue;
    // One event in (the usual case, once per token): the hook's answer is the list, no copying.
    if (events.length === 1) {
      const out = hook.onStreamEvent(ctx, events[0]!);
      if (out === null) events = [];
      else if (out !== undefined) events = Array.isArray(out) ? out : [out];
      continue;
    }
    const next: StreamEvent[] = [];
    for (const e of events) {
      const out = hook.onStreamEvent(ctx, e);
      if (out === null) continue;
      if (out === undefined) next.push(e);
      else if (Array.isArray(out)) for (const o of out) next.push(o);
      else next.push(out);
    }
    events = next;
  }
  return events;
}

/** The completion record (usage, cost, timing) of a request as it ends. */
export function completionRecord(
  deps: Pick<RouterDeps, "cost">,
  ctx: RequestContext,
  route: string,
  attempts: number,
  outcome: CompletionOutcome,
  endedAt = Date.now(),
): CompletionRecord {
  const record: CompletionRecord = {
    requestId: ctx.requestId,
    inboundProtocol: ctx.inboundProtocol,
    model: ctx.model,
    route,
    stream: ctx.stream,
    status: outcome.status,
    startedAt: ctx.startedAt,
    latencyMs: endedAt - ctx.startedAt,
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
  return record;
}

/** Hands a completion record to every onComplete hook. */
export function notifyCompletion(hooks: readonly RouterHook[], record: CompletionRecord, ctx: RequestContext): void {
  for (const hook of hooks) {
    try {
      hook.onComplete?.(record, ctx);
    } catch {
      // onComplete must not throw; a faulty hook must not break the answer
    }
  }
}

/**
 * Completions waiting for the current task's promise chain to run out: Node runs next-tick callbacks
 * only once the microtasks queued before them (the host's `await`s up to its write) have run, so
 * the answer is written first, and still in the same task as before (no later event-loop turn in
 * which a client could see its answer but not its record). One tick serves every completion queued.
 */
let deferred: (() => void)[] = [];

function afterThisTurn(notify: () => void): void {
  if (deferred.push(notify) === 1) process.nextTick(notifyDeferred);
}

function notifyDeferred(): void {
  const batch = deferred;
  deferred = [];
  for (const notify of batch) notify();
}

/**
 * One request's overall deadline, shared by every attempt: a single AbortController fired by the
 * caller going away or by a timer, released when the request completes. (Cheaper than combining
 * AbortSignal.timeout with AbortSignal.any per request, which Node tracks for the GC.) A host that
 * owns the caller's controller passes it instead of its signal: the deadline then aborts that one
 * too, so a request needs one controller and no listener, and "the caller left" is an abort whose
 * reason is not the deadline's.
 */
export class RequestDeadline {
  readonly #controller: AbortController;
  readonly #timer: NodeJS.Timeout;
  readonly #caller: AbortSignal | undefined;
  #expired: unknown;
  readonly #onCallerAbort = () => this.#controller.abort(this.#caller?.reason);

  constructor(ms: number, caller?: AbortSignal | AbortController) {
    // One function for every request's timer, rather than a closure per request.
    this.#timer = setTimeout(RequestDeadline.#expire, ms, this, ms);
    this.#timer.unref();
    if (caller instanceof AbortController) {
      this.#controller = caller;
      this.#caller = caller.signal;
      return;
    }
    this.#controller = new AbortController();
    this.#caller = caller;
    if (caller?.aborted) this.#controller.abort(caller.reason);
    else caller?.addEventListener("abort", this.#onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The caller went away (not the deadline aborting a shared controller). */
  get callerLeft(): boolean {
    return this.#caller?.aborted === true && (this.#expired === undefined || this.#caller.reason !== this.#expired);
  }

  static #expire(deadline: RequestDeadline, ms: number): void {
    deadline.#expired = new DOMException(`no answer within ${ms} ms`, "TimeoutError");
    deadline.#controller.abort(deadline.#expired);
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
export async function tryTargetsInOrder<T>(
  deps: Pick<RouterDeps, "balancer">,
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
export function startedStream<T>(head: IteratorResult<T>, rest: AsyncGenerator<T>): AsyncIterable<T> {
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

/** The outcome of a request whose caller went away before its answer was complete. */
export function clientClosed(): Pick<CompletionOutcome, "status" | "errorKind"> {
  return { status: 499, errorKind: "cancelled" };
}

function clientClosedError(): BitrouterError {
  return new BitrouterError({ kind: "cancelled", status: 499, message: "client closed the request", code: "client_closed" });
}

/**
 * JSON.parse accepts any depth, but the codecs and JSON.stringify recurse: a body nested thousands
 * deep overflows the stack there. That is the caller's malformed input, not a server fault.
 */
function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && error.message.includes("call stack");
}

const tooDeep: ErrorInfo = { kind: "invalid_request", status: 400, message: "request body is nested too deeply to process" };

function targetKey(target: RouteTarget): string {
  return `${target.provider}\u0000${target.modelId}\u0000${target.endpoint.apiBase}\u0000${target.keyId ?? ""}`;
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
